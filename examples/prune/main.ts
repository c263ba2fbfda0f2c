// `npm run example -- prune [--epochs N] [--retrain N]`: every pruning method of the notes (§1.11) on an MNIST
// CNN, one line each: `method: NAME  sparsity: S%  test accuracy: A%  dense: D%  bytes: B  samples/s: R`.
//
// The CNN is `npm start`'s (--model npm-start, the default) or one at half its width without
// dropout (--model small, a quicker run); the data split (8,000 / 1,000 / 1,000 digits, seed 1) and the augmentation are
// the same. `bytes` counts float32 values for dense tensors and, for masked ones, the non-zero
// values plus a 1-bit mask (the size of a compact file); `samples/s` is inference on the test set.
import { parseArgs } from 'node:util';
import * as sg from '../../src/index';
import { mnistImages } from '../mnist-cnn';
import { makeCnn as makeNpmStartCnn } from '../mnist-models';

const { values } = parseArgs({ options: {
  epochs: { type: 'string', default: '4' }, retrain: { type: 'string', default: '1' }, model: { type: 'string', default: 'npm-start' },
} });
if (values.model !== 'npm-start' && values.model !== 'small') throw new Error(`prune: --model must be npm-start or small, got ${values.model}`);
const epochs = Number(values.epochs);
const retrainEpochs = Number(values.retrain);
const { compress, nn } = sg;

// --model npm-start: the CNN of `npm start` (examples/mnist-models.ts: 16/32 filters, a 128-unit
// head with dropout); --model small: the same at half width without dropout, for a quick run.
// The distillation student is half the teacher's width either way.
const full = values.model === 'npm-start';
function smallCnn(width = 1): sg.nn.Sequential {
  const c1 = Math.round(8 * width), c2 = Math.round(16 * width), h = Math.round(64 * width);
  return new nn.Sequential(
    new nn.Conv2d(1, c1, 3, { padding: 1, init: 'he' }), new nn.BatchNorm2d(c1), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(c1, c2, 3, { padding: 1, init: 'he' }), new nn.BatchNorm2d(c2), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(c2 * 7 * 7, h, { init: 'he' }), new nn.ReLU(),
    new nn.Linear(h, 10),
  );
}
const makeCnn = (): sg.nn.Sequential => (full ? makeNpmStartCnn(nn) : smallCnn());
const makeStudent = (): sg.nn.Sequential => smallCnn(full ? 1 : 0.5);

sg.manualSeed(1);
const data = mnistImages(1);
const standardize = new sg.Standardizer().fit(data.train);
const trainLoader = new sg.DataLoader(data.train, { batchSize: 64, shuffle: true, transform: sg.compose(sg.randomShift(2), standardize) });
const testLoader = new sg.DataLoader(data.test, { batchSize: 500, transform: standardize });
const calib = new sg.DataLoader(data.val, { batchSize: 256, transform: standardize });
let batch: { x: sg.Tensor; y: sg.Tensor } | null = null;
for (const b of calib) {
  batch = { x: sg.keep(b.x as sg.Tensor), y: sg.keep(b.y as sg.Tensor) };
  break;
}
if (batch === null) throw new Error('no calibration batch');
// OBD's per-example pass and skeletonization's per-unit losses need only a sample.
const small = { x: sg.keep(sg.slice(batch.x, [0, 0, 0, 0], [128, 1, 28, 28])), y: sg.keep(sg.tensor((batch.y.data() as Int32Array).slice(0, 128), [128], { dtype: 'int32' })) };

const ctx = (b = batch!): sg.compress.PruneContext => ({
  data: trainLoader, batch: b, epochs: retrainEpochs,
  optimizer: (p, o) => new sg.optim.Adam(p, { lr: 1e-3, weightDecay: o.weightDecay }),
});

function accuracy(m: sg.nn.Module): number {
  m.eval();
  return sg.evaluate(m, testLoader, { metrics: ['accuracy'] }).accuracy;
}
function speed(m: sg.nn.Module): number {
  m.eval();
  sg.evaluate(m, testLoader, {}); // warm-up: the first pass pays for compilation and allocation
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    sg.evaluate(m, testLoader, {});
    best = Math.max(best, data.test.length / ((performance.now() - t0) / 1000));
  }
  return best;
}
function bytes(m: sg.nn.Module): number {
  const masked = new Set(compress.maskedParameters(m).map((e) => e.param));
  let b = 0;
  for (const p of m.parameters()) {
    if (!masked.has(p)) { b += 4 * p.size; continue; }
    let nz = 0;
    for (const v of p.data()) if (v !== 0) nz++;
    b += 4 * nz + Math.ceil(p.size / 8);
  }
  return b;
}
function copyOf(m: sg.nn.Sequential): sg.nn.Sequential {
  const c = makeCnn();
  c.loadStateDict(m.stateDict());
  return c;
}

const t0 = performance.now();
console.log(`simdgrad ${sg.build()} build: pruning a small LeNet (8/16 filters, 64 hidden) on ${data.train.length} MNIST digits; dense training ${epochs} epochs, retraining ${retrainEpochs} epoch per round`);
sg.manualSeed(2);
const init = makeCnn();
const initState = Object.fromEntries(Object.entries(init.stateDict()).map(([k, t]) => [k, { shape: t.shape.slice(), data: t.data() }]));
const dense = copyOf(init);
compress.retrain(dense, { ...ctx(), epochs });
const denseAcc = accuracy(dense);
const fromInit = (): sg.nn.Sequential => { const c = makeCnn(); c.loadStateDict(initState); return c; };

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
function report(name: string, r: sg.compress.PruneResult): void {
  console.log(`method: ${name}  sparsity: ${pct(r.sparsity)}  test accuracy: ${pct(accuracy(r.model))}  dense: ${pct(denseAcc)}  bytes: ${bytes(r.model)}  samples/s: ${Math.round(speed(r.model))}`);
}
report('dense baseline', { model: dense, sparsity: 0, summary: '' });

const runs: [string, () => sg.compress.PruneResult][] = [
  ['iterative magnitude + L2 (Han)', () => compress.iterativeMagnitude({ schedule: [0.5, 0.75, 0.85, 0.9, 0.93], weightDecay: 1e-5 }).prune(copyOf(dense), ctx())],
  ['optimal brain damage (Fisher diagonal)', () => compress.optimalBrainDamage({ schedule: [0.5, 0.75, 0.9], hessian: 'fisher' }).prune(copyOf(dense), ctx(small))],
  ['skeletonization', () => compress.skeletonization({ fraction: 0.4, rounds: 2 }).prune(copyOf(dense), ctx(small))],
  ['lottery ticket (rewind to init)', () => compress.lotteryTicket({ sparsity: 0.9, rounds: 2, epochs }).prune(fromInit(), ctx())],
  ['lottery ticket (rewind to epoch 1)', () => compress.lotteryTicket({ sparsity: 0.9, rounds: 2, epochs, rewindEpochs: 1 }).prune(fromInit(), ctx())],
  ['SNIP', () => compress.snip({ sparsity: 0.9, epochs }).prune(fromInit(), ctx())],
  ['RigL', () => compress.rigl({ sparsity: 0.9, epochs, deltaT: 50 }).prune(fromInit(), ctx())],
  ['structured (neurons + filters)', () => compress.structuredPruning({ fraction: 0.5, rounds: 2 }).prune(copyOf(dense), ctx())],
  ['layer folding', () => compress.layerFolding({ epochs: 2 }).prune(copyOf(dense), ctx())],
  ['distillation (student at half width)', () => { sg.manualSeed(3); return compress.distillation({ teacher: dense, temperature: 4, alpha: 0.9, epochs }).prune(makeStudent(), ctx()); }],
];
for (const [name, run] of runs) {
  const t = performance.now();
  const r = run();
  report(name, r);
  console.log(`  (${r.summary}; ${((performance.now() - t) / 1000).toFixed(0)} s)`);
}
{
  // int8: post-training quantisation of the dense model, calibrated on validation digits; its
  // batch norms fold into the convolutions before them.
  const t = performance.now();
  const q = compress.quantizeModel(dense, [batch.x]);
  q.eval();
  console.log(`method: int8 (post-training, per-channel)  sparsity: 0.00%  test accuracy: ${pct(accuracy(q))}  dense: ${pct(denseAcc)}  bytes: ${q.weightBytes}  samples/s: ${Math.round(speed(q))}`);
  console.log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  q.dispose();
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
