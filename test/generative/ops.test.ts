// The generative ops beyond their registry checks: gradient reversal flips the gradient's
// sign exactly, InfoNCE behaves as a contrastive loss and passes gradient checks, and the
// closed-form KL of the VAE agrees with a Monte-Carlo estimate.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

describe('gradReverse', () => {
  it('is the identity forward and multiplies the gradient by exactly −λ', () => {
    sg.manualSeed(1);
    const x = sg.randn([4, 6], 0, 1, { requiresGrad: true });
    const w = sg.randn([4, 6]);
    const y = sg.gradReverse(x, 0.75);
    expect(Array.from(y.data())).toEqual(Array.from(x.data()));
    sg.sum(sg.mul(y, w)).backward();
    const g = x.grad!.data();
    const wd = w.data();
    // Bit-exact: −0.75·w is one float multiplication either way.
    for (let i = 0; i < g.length; i++) expect(g[i]).toBe(Math.fround(-0.75 * wd[i]));
  });

  it('in a layer: features below it get the negated gradient of the head above it', () => {
    sg.manualSeed(2);
    const feat = new sg.nn.Linear(3, 4);
    const head = new sg.nn.Linear(4, 1);
    const x = sg.randn([5, 3]);
    const plain = sg.sum(head.forward(feat.forward(x)));
    feat.weight.grad = null;
    plain.backward();
    const direct = feat.weight.grad!.data().slice();
    const headGrad = head.weight.grad!.data().slice();
    feat.weight.grad = null; head.weight.grad = null;
    const rev = new sg.generative.GradientReversal(1);
    sg.sum(head.forward(rev.forward(feat.forward(x)))).backward();
    expect(Array.from(feat.weight.grad!.data())).toEqual(Array.from(direct, (v) => -v));
    expect(Array.from(head.weight.grad!.data())).toEqual(Array.from(headGrad));
  });
});

describe('infoNce', () => {
  it('passes a gradient check at several temperatures', () => {
    sg.manualSeed(3);
    for (const tau of [0.1, 0.5, 2]) {
      const a = sg.randn([5, 4], 0, 1, { requiresGrad: true });
      const b = sg.randn([5, 4], 0, 1, { requiresGrad: true });
      const r = sg.gradcheck((p, q) => sg.infoNce(p, q, tau), [a, b], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
      expect(r.worst).toBe('');
      expect(r.ok).toBe(true);
    }
  });

  it('is lower for aligned pairs than for random ones, and depends only on directions', () => {
    sg.manualSeed(4);
    const a = sg.randn([8, 16]);
    const aligned = sg.infoNce(a, sg.add(a, sg.randn([8, 16], 0, 0.05)), 0.2).item();
    const random = sg.infoNce(a, sg.randn([8, 16]), 0.2).item();
    expect(aligned).toBeLessThan(random - 1);
    // Lower bound of NT-Xent: the positive can at best take all the weight, so the loss > 0.
    expect(aligned).toBeGreaterThan(0);
    expect(sg.infoNce(sg.mul(a, 3), a, 0.2).item()).toBeCloseTo(sg.infoNce(a, a, 0.2).item(), 4);
  });
});

describe('gaussianKl (the VAE regulariser)', () => {
  it('matches a Monte-Carlo estimate of E_q[log q(h) − log p(h)]', () => {
    const gen = new sg.RandomGenerator(5);
    const mu = [0.5, -1.2, 0, 2];
    const logVar = [-1, 0.3, 0, -2.5];
    const closed = sg.gaussianKl(sg.tensor([mu]), sg.tensor([logVar])).item();
    const S = 200_000;
    let total = 0;
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < mu.length; j++) {
        const sigma = Math.exp(logVar[j] / 2);
        const z = gen.normal();
        const h = mu[j] + sigma * z;
        // log q − log p; the 2π terms cancel.
        total += (-0.5 * z * z - Math.log(sigma)) - (-0.5 * h * h);
      }
    }
    const mc = total / S;
    expect(Math.abs(mc - closed)).toBeLessThan(0.02 * closed);
  });

  it('is zero exactly at q = N(0, I) and positive elsewhere', () => {
    expect(sg.gaussianKl(sg.zeros([3, 5]), sg.zeros([3, 5])).item()).toBe(0);
    expect(sg.gaussianKl(sg.full([1, 2], 0.1), sg.zeros([1, 2])).item()).toBeCloseTo(0.01, 6);
  });
});
