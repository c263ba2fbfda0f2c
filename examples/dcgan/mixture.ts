// `npm run example -- dcgan --mixture`: a WGAN (weight clipping 0.1, n_critic 5) and a plain
// GAN (non-saturating cost, k = 1) with the same MLPs on the 2-D mixture of 8 Gaussians, as in
// test/generative/gan-mixture.test.ts; prints the modes each covers (samples within 3σ of a
// centre) and writes both sample clouds over the data as examples/dcgan/out/mixture-*.png.
import * as sg from '../../src/index';
import { writeScatter } from '../shared/images';

const MODES = 8, RADIUS = 2, SIGMA = 0.05, LATENT = 4, BATCH = 128;
const centre = (m: number): [number, number] => [RADIUS * Math.cos((2 * Math.PI * m) / MODES), RADIUS * Math.sin((2 * Math.PI * m) / MODES)];

function mixture(n: number, gen: sg.RandomGenerator): Float32Array {
  const v = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = centre(gen.int(MODES));
    v[2 * i] = cx + SIGMA * gen.normal();
    v[2 * i + 1] = cy + SIGMA * gen.normal();
  }
  return v;
}

export function runMixture(out: string, generatorSteps = 1500): void {
  const data = mixture(2000, new sg.RandomGenerator(9));
  for (const wasserstein of [true, false]) {
    sg.manualSeed(51);
    const gen = new sg.RandomGenerator(52);
    const { mlp } = sg.generative;
    const G = mlp([LATENT, 128, 128, 2]), D = mlp([2, 128, 128, 1]);
    const lr = wasserstein ? 5e-4 : 1e-3;
    const gOpt = new sg.optim.Adam(G.parameters(), { lr, betas: [0.5, 0.9] });
    const dOpt = new sg.optim.Adam(D.parameters(), { lr, betas: [0.5, 0.9] });
    const t0 = performance.now();
    for (let step = 0; step < generatorSteps; step++) {
      for (let j = 0; j < (wasserstein ? 5 : 1); j++) {
        const real = sg.tensor(mixture(BATCH, gen), [BATCH, 2]);
        const fake = sg.noGrad(() => G.forward(sg.randn([BATCH, LATENT])));
        const loss = wasserstein ? sg.generative.criticLoss(D.forward(real), D.forward(fake)) : sg.generative.discriminatorLoss(D.forward(real), D.forward(fake));
        dOpt.zeroGrad(); loss.backward(); dOpt.step();
        if (wasserstein) sg.generative.clipWeights(D, 0.1);
        real.dispose();
      }
      const scores = D.forward(G.forward(sg.randn([BATCH, LATENT])));
      const gLoss = wasserstein ? sg.generative.wganGeneratorLoss(scores) : sg.generative.nonSaturatingGeneratorLoss(scores);
      gOpt.zeroGrad(); gLoss.backward(); gOpt.step();
    }
    const pts = sg.noGrad(() => G.forward(sg.randn([2000, LATENT]))).data();
    const perMode = new Array<number>(MODES).fill(0);
    for (let i = 0; i < 2000; i++) {
      for (let m = 0; m < MODES; m++) {
        const [cx, cy] = centre(m);
        if (Math.hypot(pts[2 * i] - cx, pts[2 * i + 1] - cy) < 3 * SIGMA) { perMode[m]++; break; }
      }
    }
    const name = wasserstein ? 'wgan' : 'gan';
    const covered = perMode.filter((c) => c >= 10).length;
    console.log(`${name}: ${covered}/8 modes covered (≥ 0.5% of 2000 samples within 3σ), per mode ${perMode.join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    writeScatter(`${out}/mixture-${name}.png`, [{ name: 'data', points: data }, { name: `${name} samples: ${covered}/8 modes`, points: pts }], { range: 3 });
  }
  console.log(`wrote ${out}/mixture-wgan.png and mixture-gan.png`);
}
