// The worked exercises of part 2 of the course notes, reproduced number for number.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

const sigma = (a: number): number => 1 / (1 + Math.exp(-a));

describe('§2.1.3 partial derivatives by autograd', () => {
  it('z = x²y² with (x, y) = (t², t) has dz/dt = 6t⁵', () => {
    for (const tv of [-1.5, -0.5, 0.3, 1, 1.2, 2]) {
      const t = sg.tensor([tv], { requiresGrad: true });
      const x = sg.square(t);
      const y = sg.mul(t, 1);
      const z = sg.mul(sg.square(x), sg.square(y));
      z.backward();
      expect(z.item()).toBeCloseTo(tv ** 6, 4);
      expect(t.grad!.item()).toBeCloseTo(6 * tv ** 5, 3);
    }
  });
});

describe('§2.2.1 perceptrons computing OR and AND', () => {
  const X = sg.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 0, 0]]); // x0 = 1 is the bias input
  const perceptron = (w: number[]): number[] => {
    const a = sg.matmul(X, sg.tensor([w]).transpose()).data();
    return Array.from(a, (v) => (v > 0 ? 1 : -1));
  };
  it('w = [0, 0.5, 0.5] computes OR, w = [-1, 1, 1] and [-0.8, 0.5, 0.5] compute AND', () => {
    expect(perceptron([0, 0.5, 0.5])).toEqual([1, 1, 1, -1]);
    expect(perceptron([-1, 1, 1])).toEqual([1, -1, -1, -1]);
    expect(perceptron([-0.8, 0.5, 0.5])).toEqual([1, -1, -1, -1]);
  });
});

// §2.2.3: the binary adder with carry (Figure 8): every neuron has weight -2 per input
// (on2: -4) and bias 3; in1(x1, x2), in2(x1, in1), in3(x2, in1), on1(in2, in3), on2(in1).
function adder(x1: number, x2: number, c: number, act: (t: sg.Tensor) => sg.Tensor): Record<string, number> {
  const neuron = (inputs: sg.Tensor[], w: number): sg.Tensor => {
    const x = sg.concat(inputs.map((t) => t.reshape([1, 1])), 1);
    const W = sg.full([1, inputs.length], w * c);
    const b = sg.full([1], 3 * c);
    return act(sg.linear(x, W, b));
  };
  const x1t = sg.tensor([x1]);
  const x2t = sg.tensor([x2]);
  const in1 = neuron([x1t, x2t], -2);
  const in2 = neuron([x1t, in1], -2);
  const in3 = neuron([x2t, in1], -2);
  const on1 = neuron([in2, in3], -2);
  const on2 = neuron([in1], -4);
  return { in1: in1.item(), in2: in2.item(), in3: in3.item(), on1: on1.item(), on2: on2.item() };
}
const step = (t: sg.Tensor): sg.Tensor => sg.tensor(Array.from(t.data(), (v) => (v > 0 ? 1 : 0)), t.shape.slice());

describe('§2.2.3 sigmoid neurons approach perceptrons as c grows', () => {
  it('the perceptron adder scaled by c = 4 still adds (all four inputs, neuron by neuron)', () => {
    expect(adder(0, 1, 4, step)).toEqual({ in1: 1, in2: 1, in3: 0, on1: 1, on2: 0 });
    expect(adder(1, 1, 4, step)).toEqual({ in1: 0, in2: 1, in3: 1, on1: 0, on2: 1 });
    expect(adder(1, 0, 4, step)).toEqual({ in1: 1, in2: 0, in3: 1, on1: 1, on2: 0 });
    // The notes print "y = [1, 0]" for (0, 0) but list on1 = 0 and on2 = 0: the sum and carry of 0 + 0.
    expect(adder(0, 0, 4, step)).toEqual({ in1: 1, in2: 1, in3: 1, on1: 0, on2: 0 });
  });

  // The notes give three decimals (sometimes truncated): allow 1e-3.
  const close = (got: Record<string, number>, want: Record<string, number>): void => {
    for (const k of Object.keys(want)) expect(Math.abs(got[k] - want[k]), k).toBeLessThanOrEqual(1e-3);
  };
  it('c = 1 gives y = [0.641, 0.518] for x = (0, 1)', () => {
    close(adder(0, 1, 1, sg.sigmoid), { in1: 0.731, in2: 0.823, in3: 0.386, on1: 0.641, on2: 0.518 });
  });
  it('c = 4 gives y = [0.981, 0.024]', () => {
    close(adder(0, 1, 4, sg.sigmoid), { in1: 0.982, in2: 0.984, in3: 0.020, on1: 0.981, on2: 0.024 });
  });
  it('c = 123456 gives y = [1, 0], the perceptron output', () => {
    const r = adder(0, 1, 123456, sg.sigmoid);
    expect(r).toEqual({ in1: 1, in2: 1, in3: 0, on1: 1, on2: 0 });
  });
});

describe('§2.2.5 BP1 for the quadratic cost', () => {
  it('∂C/∂z = z - y for C = ½ Σ_j (y_j - z_j)²', () => {
    const z = sg.tensor([0.2, 0.9, 0.4], { requiresGrad: true });
    const y = sg.tensor([0, 1, 1]);
    const C = sg.quadraticCost(z, y);
    expect(C.item()).toBeCloseTo(0.5 * (0.04 + 0.01 + 0.36), 6);
    C.backward();
    const g = z.grad!.data();
    [0.2 - 0, 0.9 - 1, 0.4 - 1].forEach((v, j) => expect(g[j]).toBeCloseTo(v, 6));
  });
  it('δ^L = (z - y) ⊙ σ′(a) for a sigmoid output layer', () => {
    const aVals = [-1.2, 0.3, 2.0];
    const yVals = [0, 1, 1];
    const a = sg.tensor(aVals, { requiresGrad: true });
    const C = sg.quadraticCost(sg.sigmoid(a), sg.tensor(yVals));
    C.backward();
    const delta = a.grad!.data();
    aVals.forEach((av, j) => {
      const z = sigma(av);
      expect(delta[j]).toBeCloseTo((z - yVals[j]) * z * (1 - z), 6);
    });
  });
});
