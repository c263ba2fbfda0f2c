// `npm run example -- rbm [epochs] [--pcd] [--compare]`: a 784×100 RBM trained by CD-1 (persistent CD with --pcd) on the binarised
// MNIST digits; writes its filters (rbm-filters.png), reconstructions of held-out digits
// (rbm-reconstructions.png) and fantasies from long Gibbs chains (rbm-samples.png) to
// examples/rbm/out/. With --compare it also runs greedy layer-wise pretraining against random
// initialisation with 500 labels over 3 seeds (a larger setting than the test's).
import { mkdirSync } from 'node:fs';
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../mnist-data.mjs';
import { squareTiles, writeImageGrid } from '../shared/images';
import { comparePretraining } from './pretraining';

const args = process.argv.slice(2);
const epochs = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
const out = 'examples/rbm/out';
mkdirSync(out, { recursive: true });

const { x } = loadAllDigits();
const gen = new sg.RandomGenerator(7);
const n = x.length / PIXELS;
const perm = gen.permutation(n);
const binary = (i: number, into: Float32Array, at: number): void => {
  for (let p = 0; p < PIXELS; p++) into[at * PIXELS + p] = x[i * PIXELS + p] > 0.5 ? 1 : 0;
};
const held = 100;
const train = new Float32Array((n - held) * PIXELS);
for (let k = held; k < n; k++) binary(perm[k], train, k - held);
const test = new Float32Array(held * PIXELS);
for (let k = 0; k < held; k++) binary(perm[k], test, k);

const rbm = new sg.energy.RBM(PIXELS, 100, { generator: gen });
const pcd = args.includes('--pcd');
console.log(`RBM 784×100, ${pcd ? 'persistent CD-1' : 'CD-1'}, batch 20, ε 0.05, momentum ${pcd ? "0.5" : "0.5 → 0.9"}, weight decay 2e-4, ${n - held} binarised digits`);
for (let e = 1; e <= epochs; e++) {
  const [h] = rbm.fit(train, { epochs: 1, batchSize: 20, lr: 0.05, momentum: e <= 5 || pcd ? 0.5 : 0.9, weightDecay: 2e-4, persistent: pcd });
  const fe = sg.scope(() => {
    const t = sg.tensor(test, [held, PIXELS]);
    const f = sg.mean(rbm.freeEnergy(t)).item();
    const ft = sg.mean(rbm.freeEnergy(sg.tensor(train.subarray(0, held * PIXELS), [held, PIXELS]))).item();
    return { f, ft };
  });
  console.log(`epoch ${e}: reconstruction error ${h.reconstructionError.toFixed(4)}, mean free energy train ${fe.ft.toFixed(1)} / held-out ${fe.f.toFixed(1)} (${h.seconds.toFixed(1)} s)`);
}

writeImageGrid(`${out}/rbm-filters.png`, squareTiles(rbm.weight.data(), 100), { columns: 10, range: 'symmetric', gap: 1, gapShade: 128 });
const recon = rbm.reconstruct(sg.tensor(test.subarray(0, 20 * PIXELS), [20, PIXELS]), 1);
const both = new Float32Array(40 * PIXELS);
both.set(test.subarray(0, 20 * PIXELS), 0);
both.set(recon.data(), 20 * PIXELS);
writeImageGrid(`${out}/rbm-reconstructions.png`, squareTiles(both, 40), { columns: 20, gap: 1, gapShade: 128 });
const samples = rbm.generate(20, 1000);
writeImageGrid(`${out}/rbm-samples.png`, squareTiles(samples.data(), 20), { columns: 10, gap: 1, gapShade: 128 });
console.log(`wrote ${out}/rbm-filters.png (the 100 hidden units' weights, white positive, black negative),`);
console.log(`      ${out}/rbm-reconstructions.png (top: 20 held-out digits, bottom: p(v|h) one Gibbs step later),`);
console.log(`      ${out}/rbm-samples.png (p(v|h) after 1000 Gibbs steps from random states)`);

if (args.includes('--compare')) {
  const r = comparePretraining({
    hidden: [500, 200], labelled: 500, test: 2000, seeds: [1, 2, 3], pretrainEpochs: 5, fineTuneEpochs: 30, log: (l) => console.log(l),
  });
  const mean = (k: 'pretrained' | 'random') => r.reduce((s, v) => s + v[k], 0) / r.length;
  console.log(`mean held-out accuracy over ${r.length} seeds: pretrained ${(100 * mean('pretrained')).toFixed(1)}%, random init ${(100 * mean('random')).toFixed(1)}%`);
}
