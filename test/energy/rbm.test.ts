// Restricted Boltzmann machines (notes §1.4.2) on the worked exercises §2.3.2, §2.3.3 and on MNIST.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../../examples/mnist-data.mjs';

const { RBM } = sg.energy;

describe('§2.3.2: p(h1 = 1) from v = [1, 0], w11 = 0.01, w21 = 0.02', () => {
  it('ΔE = 0.01 and p = σ(0.01) = 0.50251 (to the notes\' rounding)', () => {
    const rbm = new RBM(2, 1).setParameters([[0.01, 0.02]]);
    const p = rbm.hiddenProbabilities(sg.tensor([[1, 0]])).item();
    // σ(0.01) = 0.5024999...; the notes print 0.50251, equal to 4 decimals.
    expect(p).toBeCloseTo(0.50251, 4);
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-0.01)), 6);
  });
  it('the temperature divides the energy gap: p = σ(ΔE/T)', () => {
    const rbm = new RBM(2, 1, { temperature: 0.5 }).setParameters([[1, 0.02]]);
    expect(rbm.hiddenProbabilities(sg.tensor([[1, 0]])).item()).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
  });
});

describe('§2.3.3: one CD step learning [1, 0] from w = [1, 1], ε = 0.1, threshold-0.5 sampling', () => {
  it('gives w_h1v1 = 1 and w_h1v2 = 0.9', () => {
    const rbm = new RBM(2, 1).setParameters([[1, 1]]);
    const v0 = sg.tensor([[1, 0]]);
    // The notes' intermediate values: p(h1) = 0.73 at t = 0, p(v1) = p(v2) = 0.73, p(h1) = 0.88 at t = 1.
    expect(rbm.hiddenProbabilities(v0).item()).toBeCloseTo(0.73, 2);
    expect(Array.from(rbm.visibleProbabilities(sg.tensor([[1]])).data()).map((p) => +p.toFixed(2))).toEqual([0.73, 0.73]);
    expect(rbm.hiddenProbabilities(sg.tensor([[1, 1]])).item()).toBeCloseTo(0.88, 2);
    rbm.update(v0, { lr: 0.1, k: 1, sampling: 0.5, useProbabilities: false });
    const w = Array.from(rbm.weight.data());
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(0.9, 6);
    // The notes leave the biases out; with them, Δb = ε(v⁰ − v¹) = [0, -0.1] and Δc = ε(h⁰ − h¹) = 0.
    expect(Array.from(rbm.visibleBias.data()).map((b) => +b.toFixed(6))).toEqual([0, -0.1]);
    expect(rbm.hiddenBias.item()).toBe(0);
  });
});

describe('sampling, free energy, chains', () => {
  it('binary stochastic units fire with probability p (seeded)', () => {
    const rbm = new RBM(1, 1, { generator: new sg.RandomGenerator(9) });
    const p = sg.full([20000], 0.3);
    const s = Array.from(rbm.sample(p).data());
    const m = s.reduce((a, b) => a + b, 0) / s.length;
    expect(m).toBeGreaterThan(0.29);
    expect(m).toBeLessThan(0.31);
    const again = Array.from(new RBM(1, 1, { generator: new sg.RandomGenerator(9) }).sample(p).data());
    expect(again).toEqual(s);
  });
  it('free energy equals −log Σ_h e^{−E(v,h)} (enumerated, 3 visible × 2 hidden)', () => {
    const rbm = new RBM(3, 2).setParameters([[0.5, -1, 0.3], [0.2, 0.7, -0.4]], [0.1, -0.2, 0.3], [-0.5, 0.25]);
    const w = [[0.5, -1, 0.3], [0.2, 0.7, -0.4]], b = [0.1, -0.2, 0.3], c = [-0.5, 0.25];
    const vs = [[1, 0, 1], [0, 1, 1], [1, 1, 1]];
    const got = Array.from(rbm.freeEnergy(sg.tensor(vs)).data());
    vs.forEach((v, r) => {
      let z = 0;
      for (const h of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        let e = 0;
        for (let i = 0; i < 3; i++) e -= b[i] * v[i];
        for (let j = 0; j < 2; j++) { e -= c[j] * h[j]; for (let i = 0; i < 3; i++) e -= w[j][i] * v[i] * h[j]; }
        z += Math.exp(-e);
      }
      expect(got[r]).toBeCloseTo(-Math.log(z), 5);
    });
  });
  it('Gibbs chains for reconstruction and generation are reproducible from the seed', () => {
    const make = () => new RBM(6, 4, { generator: new sg.RandomGenerator(21), initStd: 1 });
    const v = sg.tensor([[1, 0, 1, 0, 1, 0], [0, 0, 1, 1, 1, 1]]);
    expect(make().reconstruct(v, 5).data()).toEqual(make().reconstruct(v, 5).data());
    const g = make().generate(3, 20);
    expect(g.shape).toEqual([3, 6]);
    expect(g.data()).toEqual(make().generate(3, 20).data());
  });
});

describe('memory', () => {
  it('CD-k and PCD updates leave no tensors behind', () => {
    const rbm = new RBM(20, 8, { generator: new sg.RandomGenerator(4) });
    const v = sg.bernoulli(sg.full([10, 20], 0.3), 0.2);
    for (const opts of [{}, { k: 2, momentum: 0.5, weightDecay: 0.01 }, { persistent: true }]) {
      rbm.update(v, opts);
      const before = sg.memory().tensors;
      for (let i = 0; i < 20; i++) rbm.update(v, opts);
      expect(sg.memory().tensors).toBe(before);
    }
  });
});

describe('MNIST', () => {
  const { x } = loadAllDigits();
  const g = new sg.RandomGenerator(1);
  const idx = g.permutation(x.length / PIXELS).subarray(0, 2000);
  const data = new Float32Array(idx.length * PIXELS);
  idx.forEach((i, k) => { for (let p = 0; p < PIXELS; p++) data[k * PIXELS + p] = x[i * PIXELS + p] > 0.5 ? 1 : 0; });

  it('CD-1 with momentum and weight decay: the reconstruction error falls every epoch', () => {
    const rbm = new RBM(PIXELS, 64, { generator: new sg.RandomGenerator(2) });
    const h = rbm.fit(data, { epochs: 5, batchSize: 20, lr: 0.1, momentum: 0.5, weightDecay: 1e-4 });
    console.log(`784x64 RBM, 2000 binarised digits, CD-1: reconstruction error per epoch ${h.map((e) => e.reconstructionError.toFixed(4)).join(' ')} (${h.map((e) => e.seconds.toFixed(2)).join(', ')} s)`);
    for (let e = 1; e < h.length; e++) expect(h[e].reconstructionError).toBeLessThan(h[e - 1].reconstructionError);
    expect(h[h.length - 1].reconstructionError).toBeLessThan(0.06);
    // Free energy: training rows sit lower than shuffled-pixel noise of the same density.
    const real = sg.tensor(data.subarray(0, 100 * PIXELS), [100, PIXELS]);
    const pixels = Array.from(data.subarray(0, 100 * PIXELS));
    g.shuffle(pixels);
    const noise = sg.tensor(pixels, [100, PIXELS]);
    expect(sg.mean(rbm.freeEnergy(real)).item()).toBeLessThan(sg.mean(rbm.freeEnergy(noise)).item());
  });

  it('CD-3 and persistent CD train too', () => {
    for (const opts of [{ k: 3 }, { persistent: true }]) {
      const rbm = new RBM(PIXELS, 32, { generator: new sg.RandomGenerator(3) });
      const h = rbm.fit(data.subarray(0, 1000 * PIXELS), { epochs: 3, batchSize: 20, lr: 0.1, ...opts });
      console.log(`${JSON.stringify(opts)}: ${h.map((e) => e.reconstructionError.toFixed(4)).join(' ')}`);
      expect(h[2].reconstructionError).toBeLessThan(h[0].reconstructionError);
    }
  });
});
