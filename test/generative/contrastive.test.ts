// Contrastive representation learning (notes §1.8.4.1) on MNIST: SimCLR (two augmentations
// of each digit, an encoder with a projection head, InfoNCE) learns features on which a linear
// probe beats a probe on the same encoder's random features by a wide margin; MoCo (queue +
// momentum encoder) keeps its key encoder an EMA of the query encoder and fills its queue.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { digits } from './helpers';

const FEATURES = 16;

/** A random shift of up to ±3 pixels and masking of 20% of the pixels, per image, from `gen`. */
function augment(x: Float32Array, n: number, gen: sg.RandomGenerator): sg.Tensor {
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) {
    const dx = gen.int(7) - 3, dy = gen.int(7) - 3;
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) {
      const sr = r - dy, sc = c - dx;
      const v = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? x[i * 784 + sr * 28 + sc] : 0;
      out[i * 784 + r * 28 + c] = gen.uniform() < 0.2 ? 0 : v;
    }
  }
  return sg.tensor(out, [n, 784]);
}

const encoder = (): sg.nn.Sequential => new sg.nn.Sequential(new sg.nn.Linear(784, 256, { init: 'he' }), new sg.nn.ReLU(), new sg.nn.Linear(256, FEATURES));

/** Test accuracy of a softmax regression trained on frozen features. */
function linearProbe(features: (x: sg.Tensor) => sg.Tensor, train: { x: Float32Array; y: Int32Array }, test: { x: Float32Array; y: Int32Array }): number {
  const ftr = sg.keep(sg.noGrad(() => features(sg.tensor(train.x, [train.y.length, 784]))));
  const fte = sg.keep(sg.noGrad(() => features(sg.tensor(test.x, [test.y.length, 784]))));
  // Standardise with the training features' statistics so one learning rate suits both encoders.
  const mu = sg.keep(sg.mean(ftr, 0, true));
  const sd = sg.keep(sg.sqrt(sg.add(sg.mean(sg.square(sg.sub(ftr, mu)), 0, true), 1e-6)));
  const norm = (f: sg.Tensor): sg.Tensor => sg.div(sg.sub(f, mu), sd);
  sg.manualSeed(71);
  const probe = new sg.nn.Linear(FEATURES, 10);
  const opt = new sg.optim.Adam(probe.parameters(), { lr: 1e-2 });
  const xs = sg.keep(sg.noGrad(() => norm(ftr)));
  const ys = sg.tensor(train.y, [train.y.length], { dtype: 'int32' });
  for (let s = 0; s < 300; s++) {
    const loss = sg.crossEntropy(probe.forward(xs), ys);
    opt.zeroGrad(); loss.backward(); opt.step();
  }
  const pred = sg.noGrad(() => sg.argmax(probe.forward(norm(fte)), 1)).data();
  return pred.filter((p, i) => p === test.y[i]).length / test.y.length;
}

describe('contrastive learning on MNIST', () => {
  it('a linear probe on SimCLR features beats one on random features of the same encoder by a wide margin', () => {
    const unlabelled = digits(4000, 81);
    const labelled = digits(1000, 81, { offset: 4000 });
    const test = digits(1000, 81, { offset: 5000 });
    sg.manualSeed(82);
    const random = encoder();
    sg.manualSeed(82);
    const model = new sg.generative.SimClr(encoder(), sg.generative.projectionHead(FEATURES, 64, 32), 0.5);
    const opt = new sg.optim.Adam(model.parameters(), { lr: 2e-3 });
    const gen = new sg.RandomGenerator(83);
    const B = 128, n = unlabelled.y.length;
    const t0 = performance.now();
    for (let epoch = 0; epoch < 4; epoch++) {
      const perm = gen.permutation(n);
      for (let s = 0; s + B <= n; s += B) {
        const batch = new Float32Array(B * 784);
        for (let i = 0; i < B; i++) batch.set(unlabelled.x.subarray(perm[s + i] * 784, (perm[s + i] + 1) * 784), i * 784);
        const loss = model.loss(augment(batch, B, gen), augment(batch, B, gen));
        opt.zeroGrad(); loss.backward(); opt.step();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const learned = linearProbe((x) => model.features(x), labelled, test);
    const baseline = linearProbe((x) => random.forward(x), labelled, test);
    console.log(`linear probe (1000 labels, ${FEATURES}-d features): SimCLR ${(100 * learned).toFixed(1)}%, random encoder ${(100 * baseline).toFixed(1)}% (SimCLR trained ${seconds.toFixed(1)} s)`);
    expect(learned).toBeGreaterThan(baseline + 0.1);
  });

  it('MoCo: the key encoder is the EMA of the query encoder, keys fill the queue', () => {
    sg.manualSeed(91);
    const q = new sg.nn.Linear(6, 4), k = new sg.nn.Linear(6, 4);
    const moco = new sg.generative.Moco(q, k, 4, 8, 0.9, 0.2);
    expect(Array.from(k.weight.data())).toEqual(Array.from(q.weight.data()));
    const before = k.weight.data().slice();
    const opt = new sg.optim.SGD(q.parameters(), { lr: 0.5 });
    const loss = moco.loss(sg.randn([5, 6]), sg.randn([5, 6]));
    opt.zeroGrad(); loss.backward(); opt.step();
    expect(k.weight.grad ?? null).toBe(null);
    const qNow = q.weight.data();
    moco.momentumUpdate();
    const kNow = k.weight.data();
    for (let i = 0; i < kNow.length; i++) expect(kNow[i]).toBeCloseTo(0.9 * before[i] + 0.1 * qNow[i], 6);
    expect(moco.queued).toBe(5);
    moco.loss(sg.randn([5, 6]), sg.randn([5, 6]));
    expect(moco.queued).toBe(8);
    expect(Number.isFinite(loss.item())).toBe(true);
  });
});
