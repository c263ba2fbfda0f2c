// Hopfield networks (notes §1.4.1) and the worked exercise §2.3.1.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../../examples/mnist-data.mjs';

const { Hopfield, toBipolar, corrupt, overlap, capacityCurve } = sg.energy;

describe('§2.3.1: storage phase', () => {
  it('one memory f1 = [1, -1, 1]: w12 = -1, w23 = -1, w13 = 1', () => {
    expect(Hopfield.store([[1, -1, 1]]).weights.toArray()).toEqual([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]);
  });
  it('f1 = [1, -1, 1] and f2 = [1, 1, 1]: w12 = 0, w23 = 0, w13 = 1', () => {
    expect(Hopfield.store([[1, -1, 1], [1, 1, 1]]).weights.toArray()).toEqual([[0, 0, 1], [0, 0, 0], [1, 0, 0]]);
  });
  it('[1, -1, 1] and its opposite: the same weights as [1, -1, 1] alone', () => {
    expect(Hopfield.store([[1, -1, 1], [-1, 1, -1]]).weights.toArray()).toEqual([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]);
  });
});

describe('§2.3.1: retrieval phase with the figure\'s weights (±0.6)', () => {
  // w12 = -0.6, w13 = 0.6, w23 = -0.6, read off the notes' net inputs.
  const net = new Hopfield([[0, -0.6, 0.6], [-0.6, 0, -0.6], [0.6, -0.6, 0]]);
  it('from [-1, -1, 1] in the order 1, 2, 3, 1 the stable state is [1, -1, 1]', () => {
    const states: number[][] = [];
    let y = sg.tensor([-1, -1, 1]);
    for (const j of [0, 1, 2, 0]) {
      y = net.step(y, [j]);
      states.push(Array.from(y.data()));
    }
    // The notes compute v3(3) as "0.6·1 + -0.6·-1 = 0 → -1" but print the state [1, -1, 1];
    // the sum is 1.2 (and a 0 would keep y3 = 1 by the rule), so y3 stays 1 either way.
    expect(states).toEqual([[1, -1, 1], [1, -1, 1], [1, -1, 1], [1, -1, 1]]);
    const r = net.recall([-1, -1, 1], { order: [0, 1, 2] });
    expect(r.stable).toBe(true);
    expect(Array.from(r.states.data())).toEqual([1, -1, 1]);
    expect(r.sweeps).toBe(2);
  });
  it('the opposite [-1, 1, -1] is stable too, and both have the lowest energy', () => {
    const r = net.recall([-1, 1, -1], { order: [0, 1, 2] });
    expect(r.sweeps).toBe(1);
    expect(Array.from(r.states.data())).toEqual([-1, 1, -1]);
    const e = net.energy([[1, -1, 1], [-1, 1, -1], [-1, -1, 1], [1, 1, 1]]);
    expect(e[0]).toBeCloseTo(-1.8, 5);
    expect(e[1]).toBeCloseTo(-1.8, 5);
    for (const x of e.slice(2)) expect(x).toBeGreaterThan(-1.8);
  });
  it('keeps a unit whose net input is exactly 0', () => {
    // w from [1,-1,1] and [1,1,1]: unit 2 has no connections, so its net input is always 0.
    const w = Hopfield.store([[1, -1, 1], [1, 1, 1]]);
    expect(Array.from(w.step([1, 1, 1], [1]).data())).toEqual([1, 1, 1]);
    expect(Array.from(w.step([1, -1, 1], [1]).data())).toEqual([1, -1, 1]);
  });
});

describe('energy never increases along a run (property, random symmetric nets)', () => {
  it('for every asynchronous update, E after <= E before', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (n, seed) => {
        const g = new sg.RandomGenerator(seed);
        const w: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) w[i][j] = w[j][i] = 2 * g.uniform() - 1;
        const y = Array.from({ length: n }, () => (g.uniform() < 0.5 ? -1 : 1));
        const r = new Hopfield(w).recall(y, { generator: g, traceEnergy: true });
        const e = r.energies[0];
        for (let t = 1; t < e.length; t++) expect(e[t]).toBeLessThanOrEqual(e[t - 1] + 1e-5);
        expect(r.stable).toBe(true);
      },
    ), { numRuns: 60, seed: 15 });
  });
});

describe('stored patterns, their negations, digits and capacity', () => {
  it('the negation of a stored pattern is stable', () => {
    const g = new sg.RandomGenerator(4);
    const N = 64;
    const f = Array.from({ length: 3 * N }, () => (g.uniform() < 0.5 ? -1 : 1));
    const net = Hopfield.store(f, N);
    const negated = f.map((v) => -v);
    const r = net.recall(negated, { generator: g });
    expect(r.sweeps).toBe(1); // the first pass changes nothing
    expect(Array.from(r.states.data())).toEqual(negated);
  });

  it('completes corrupted binarised MNIST digits', () => {
    const { x, y } = loadAllDigits();
    const g = new sg.RandomGenerator(11);
    // Binarised digits are far from the random patterns of the capacity rule: they share most of
    // their (background) pixels, so the Hebbian crosstalk grows fast; with the first digit of
    // each class, three stored digits already stop being fixed points (overlaps 0.85-0.95), so
    // the net here holds pairs, as a 784-unit net reliably does.
    for (const pair of [[0, 1], [2, 7], [3, 6]]) {
      const picks = pair.map((d) => y.indexOf(d));
      const stored = new Float32Array(pair.length * PIXELS);
      picks.forEach((i, k) => stored.set(toBipolar(x.subarray(i * PIXELS, (i + 1) * PIXELS)), k * PIXELS));
      const net = Hopfield.store(Array.from(stored), PIXELS);
      const noisy = corrupt(stored, PIXELS, 0.25, g);
      const before = overlap(noisy, stored, PIXELS);
      const r = net.recall(Array.from(noisy), { generator: g });
      const after = overlap(r.states.data(), stored, PIXELS);
      console.log(`digits ${pair}, 25% of pixels flipped: overlap before ${before.map((o) => o.toFixed(3))}, after ${after.map((o) => o.toFixed(3))} (${r.sweeps} passes)`);
      expect(r.stable).toBe(true);
      for (const o of after) expect(o).toBe(1);
    }
  });

  it('recall breaks down near 0.14·N stored random patterns', () => {
    const N = 200;
    const counts = [6, 12, 20, 28, 40, 60];
    const curve = capacityCurve(N, counts, { trials: 2, generator: new sg.RandomGenerator(3) });
    console.log(curve.map((c) => `M = ${c.patterns} (${c.load.toFixed(2)}·N): overlap ${c.meanOverlap.toFixed(3)}, recalled ${(100 * c.recalled).toFixed(0)}%`).join('\n'));
    const at = (m: number) => curve.find((c) => c.patterns === m)!;
    expect(at(6).recalled).toBe(1); // 0.03·N
    expect(at(20).recalled).toBe(1); // 0.10·N
    expect(at(28).recalled).toBeLessThan(1); // 0.14·N: the first losses
    expect(at(40).recalled).toBeLessThan(0.5); // 0.2·N
    expect(at(60).meanOverlap).toBeLessThan(0.9); // 0.3·N
  });
});
