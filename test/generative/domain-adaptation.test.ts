// Domain adaptation by gradient reversal (notes §1.8.2.2, Ganin & Lempitsky 2015): labelled
// MNIST digits (source) and unlabelled digits on a random-noise background (target, in the
// spirit of MNIST-M: x_t = min(1, x + 0.7u), u uniform per pixel). A shared convolutional
// feature extractor feeds a digit classifier (source labels only) and, through a
// GradientReversal layer, a domain classifier; the extractor climbs the domain loss, so its
// features stop telling the domains apart and the digit classifier carries over. Compared with
// the same network trained on the source alone. The paper's schedule: SGD with momentum 0.9,
// η_p = 0.01/(1 + 10p)^0.75 and λ_p = 2/(1 + e^(−10p)) − 1 over training progress p (with Adam
// and a constant λ the target features collapsed instead in our runs).
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { digits } from './helpers';

class ToImages extends sg.nn.Module {
  forward(x: sg.Tensor): sg.Tensor {
    return sg.reshape(x, [x.shape[0], 1, 28, 28]);
  }
}

function run(adapt: boolean): { source: number; target: number; domainAcc: number } {
  const N = 3000, B = 64, steps = 600;
  const src = digits(N, 101);
  const tgt = digits(N, 101, { offset: N });
  const test = digits(1000, 101, { offset: 2 * N });
  const noise = new sg.RandomGenerator(104);
  const shifted = (x: Float32Array): Float32Array => Float32Array.from(x, (v) => Math.min(1, v + 0.7 * noise.uniform()));
  const tgtX = shifted(tgt.x);
  const testShifted = shifted(test.x);
  sg.manualSeed(102);
  const features = new sg.nn.Sequential(
    new ToImages(), new sg.nn.Conv2d(1, 16, 5, { stride: 2, init: 'he' }), new sg.nn.ReLU(),
    new sg.nn.Conv2d(16, 32, 5, { stride: 2, init: 'he' }), new sg.nn.ReLU(), new sg.nn.Flatten(), new sg.nn.Linear(512, 64, { init: 'he' }), new sg.nn.ReLU(),
  );
  const classifier = new sg.nn.Linear(64, 10);
  const reversal = new sg.generative.GradientReversal(0);
  const domain = new sg.nn.Sequential(reversal, new sg.nn.Linear(64, 64, { init: 'he' }), new sg.nn.ReLU(), new sg.nn.Linear(64, 1));
  const params = [...features.parameters(), ...classifier.parameters(), ...(adapt ? domain.parameters() : [])];
  const opt = new sg.optim.SGD(params, { lr: 0.01, momentum: 0.9 });
  const gen = new sg.RandomGenerator(103);
  const rows = (x: Float32Array, idx: Int32Array, from: number): Float32Array => {
    const out = new Float32Array(B * 784);
    for (let i = 0; i < B; i++) out.set(x.subarray(idx[(from + i) % N] * 784, (idx[(from + i) % N] + 1) * 784), i * 784);
    return out;
  };
  let ps = gen.permutation(N), pt = gen.permutation(N);
  const domainLabels = sg.tensor(Array.from({ length: 2 * B }, (_, i) => (i < B ? 0 : 1)), [2 * B, 1]);
  for (let s = 0; s < steps; s++) {
    const at = (s * B) % N;
    if (at < B && s > 0) { ps = gen.permutation(N); pt = gen.permutation(N); }
    const p = s / steps;
    opt.lr = 0.01 / (1 + 10 * p) ** 0.75;
    const xs = sg.tensor(rows(src.x, ps, at), [B, 784]);
    const ys = sg.tensor(Int32Array.from({ length: B }, (_, i) => src.y[ps[(at + i) % N]]), [B], { dtype: 'int32' });
    let loss = sg.crossEntropy(classifier.forward(features.forward(xs)), ys);
    if (adapt) {
      reversal.lambda = 2 / (1 + Math.exp(-10 * p)) - 1;
      const both = features.forward(sg.concat([xs, sg.tensor(rows(tgtX, pt, at), [B, 784])], 0));
      loss = sg.add(loss, sg.binaryCrossEntropyWithLogits(domain.forward(both), domainLabels));
    }
    opt.zeroGrad(); loss.backward(); opt.step();
  }
  const acc = (x: Float32Array): number => {
    const pred = sg.noGrad(() => sg.argmax(classifier.forward(features.forward(sg.tensor(x, [1000, 784]))), 1)).data();
    return pred.filter((v, i) => v === test.y[i]).length / 1000;
  };
  const domainAcc = sg.noGrad(() => {
    const mixed = new Float32Array(1000 * 784);
    mixed.set(test.x.subarray(0, 500 * 784));
    mixed.set(testShifted.subarray(500 * 784), 500 * 784);
    const logits = domain.forward(features.forward(sg.tensor(mixed, [1000, 784]))).data();
    let right = 0;
    for (let i = 0; i < 1000; i++) if ((logits[i] > 0 ? 1 : 0) === (i < 500 ? 0 : 1)) right++;
    return right / 1000;
  });
  return { source: acc(test.x), target: acc(testShifted), domainAcc };
}

describe('domain adaptation with a gradient-reversal layer (MNIST → MNIST on a noise background)', () => {
  it('raises accuracy on the unlabelled target domain over source-only training', () => {
    const plain = run(false);
    const dann = run(true);
    console.log(`source only: MNIST ${(100 * plain.source).toFixed(1)}%, noisy-background MNIST ${(100 * plain.target).toFixed(1)}%`);
    console.log(`gradient reversal: MNIST ${(100 * dann.source).toFixed(1)}%, noisy-background MNIST ${(100 * dann.target).toFixed(1)}%, domain classifier ${(100 * dann.domainAcc).toFixed(1)}% (50%: domains indistinguishable)`);
    expect(dann.target).toBeGreaterThan(plain.target + 0.1);
    expect(dann.source).toBeGreaterThan(0.85);
  });
});
