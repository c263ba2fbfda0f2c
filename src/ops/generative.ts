// Ops of representation learning and generative models (notes §1.8.2.2, §1.8.4.1, §1.9):
// the gradient-reversal layer of domain-adversarial training, InfoNCE with cosine similarity
// and a temperature, the closed-form KL of a diagonal Gaussian to N(0, I) and the exact
// contractive penalty of a sigmoid encoder.
import { BinOp, kernels } from '../../bindings/index.js';
import { Tensor, empty, fmt, full, tensor } from '../core/tensor.js';
import { assertFiniteNumber, assertFloat } from '../core/validate.js';
import { add, div, exp, mul, sqrt, square, sub } from './elementwise.js';
import { crossEntropy } from './loss.js';
import { matmul } from './matmul.js';
import { mean, sum } from './reduce.js';
import { concat, transpose } from './shape.js';
import { callOp, defineComposite, defineOp, type HostTensor, type OpFn } from './registry.js';

/** y = c·x into a fresh tensor, no graph. */
function scaled(x: Tensor, c: number): Tensor {
  const y = empty(x.shape);
  kernels().binaryScalar(BinOp.Mul, x.ptr, c, y.ptr, x.size, 0);
  return y;
}

/**
 * Gradient reversal (Ganin & Lempitsky 2015): the identity going forward, −λ·g going back, so
 * the feature extractor below it climbs the domain classifier's loss while the classifier
 * above it descends it.
 */
export const gradReverse: OpFn<[x: Tensor, lambda?: number], true> = defineOp({
  name: 'gradReverse', family: 'elementwise', summary: 'identity forward, −λ·gradient backward', inputs: ['x'], method: true,
  parse: (x: Tensor, lambda = 1) => {
    assertFloat('gradReverse', x);
    assertFiniteNumber('gradReverse', 'lambda', lambda);
    return { inputs: [x], attrs: { lambda } };
  },
  shape: ([x]) => x!.slice(),
  // A copy, not x itself: returning the input would record no node, and the backward would never run.
  forward: ([x]) => scaled(x!, 1),
  backward: (g, { attrs: { lambda } }) => [scaled(g, -lambda)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor) => ({ shape: x.shape, data: Array.from(x.data) }) },
    samples: [
      { label: 'λ 1', inputs: [{ shape: [3, 4] }], noGradcheck: 'its backward is −λ times the derivative of its forward by design (test/generative/grad-reverse.test.ts checks that)' },
      { label: 'reversed twice is the identity, gradient included', inputs: [{ shape: [2, 5] }], call: (x) => callOp('gradReverse', callOp('gradReverse', x, 0.5), 2) },
    ],
    badInputs: [{ label: 'lambda NaN', call: () => callOp('gradReverse', full([2], 1), NaN), error: 'gradReverse: lambda must be a finite number, got NaN' }],
  } : undefined,
});

function checkPairOfRows(op: string, a: Tensor, b: Tensor): void {
  assertFloat(op, a, b);
  if (a.ndim !== 2 || b.ndim !== 2 || a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
    throw new Error(`${op}: expected two [N, D] tensors of the same shape, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  if (a.shape[0] === 0 || a.shape[1] === 0) throw new Error(`${op}: empty batch ${fmt(a.shape)}`);
}

/** Rows scaled to unit L2 norm (eps keeps a zero row finite), so that dot products are cosines. */
function unitRows(z: Tensor, eps = 1e-8): Tensor {
  return div(z, sqrt(add(sum(square(z), 1, true), eps)));
}

/** ‖a‖·‖b‖-normalised dot products of every row pair, plain JS (the reference). */
function hostCosines(rows: number[][]): number[][] {
  const unit = rows.map((r) => {
    const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0) + 1e-8);
    return r.map((v) => v / n);
  });
  return unit.map((u) => unit.map((w) => u.reduce((s, v, k) => s + v * w[k], 0)));
}

function hostRowsOf(t: HostTensor): number[][] {
  const [n, d] = t.shape;
  return Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => t.data[i * d + j]));
}

/**
 * InfoNCE (notes §1.8.4.1) over a batch of positive pairs (z1[i], z2[i]), SimCLR's NT-Xent:
 * the 2N views each take their partner as the positive and the other 2N − 2 views as
 * negatives, −log exp(sim(zᵢ, zᵢ⁺)/τ) / Σ_{j≠i} exp(sim(zᵢ, zⱼ)/τ) with sim the cosine
 * similarity, averaged over the 2N anchors. A view is not its own negative: its cosine with
 * itself is 1 whatever the encoder does, so it carries no signal.
 */
export const infoNce: OpFn<[z1: Tensor, z2: Tensor, temperature?: number], false> = defineComposite({
  name: 'infoNce', family: 'loss', summary: 'InfoNCE / NT-Xent of positive pairs with cosine similarity and temperature τ', inputs: ['z1', 'z2'],
  fn: (z1: Tensor, z2: Tensor, temperature: number = 0.5): Tensor => {
    checkPairOfRows('infoNce', z1, z2);
    assertFiniteNumber('infoNce', 'temperature', temperature);
    if (!(temperature > 0)) throw new Error(`infoNce: temperature must be > 0, got ${temperature}`);
    const n = z1.shape[0];
    const z = unitRows(concat([z1, z2], 0));
    // The diagonal is pushed far below any cosine/τ (at most 1/τ) so its softmax weight is 0.
    const selfMask = new Float32Array(4 * n * n);
    for (let i = 0; i < 2 * n; i++) selfMask[i * 2 * n + i] = -1e4;
    const logits = add(div(matmul(z, transpose(z)), temperature), tensor(selfMask, [2 * n, 2 * n]));
    const partner = Int32Array.from({ length: 2 * n }, (_, i) => (i < n ? i + n : i - n));
    return crossEntropy(logits, tensor(partner, [2 * n], { dtype: 'int32' }));
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (a: HostTensor, b: HostTensor, temperature = 0.5) => {
        const rows = [...hostRowsOf(a), ...hostRowsOf(b)];
        const n = a.shape[0];
        const cos = hostCosines(rows);
        let total = 0;
        for (let i = 0; i < 2 * n; i++) {
          const others = cos[i].map((c, j) => (j === i ? -Infinity : c / temperature));
          const m = Math.max(...others);
          const lse = m + Math.log(others.reduce((s, v) => s + Math.exp(v - m), 0));
          total += lse - others[i < n ? i + n : i - n];
        }
        return { shape: [], data: [total / (2 * n)] };
      },
      tolerance: 1e-4,
    },
    samples: [
      { label: 'τ 0.5', inputs: [{ shape: [4, 3] }, { shape: [4, 3] }] },
      { label: 'τ 0.1, one pair', inputs: [{ shape: [1, 5] }, { shape: [1, 5] }], args: [0.1] },
      { label: 'τ 1', inputs: [{ shape: [3, 6] }, { shape: [3, 6] }], args: [1] },
    ],
    badInputs: [
      { label: 'shapes differ', call: () => callOp('infoNce', full([2, 3], 1), full([3, 3], 1)), error: 'infoNce: expected two [N, D] tensors of the same shape, got [2,3] and [3,3]' },
      { label: 'temperature 0', call: () => callOp('infoNce', full([2, 3], 1), full([2, 3], 1), 0), error: 'infoNce: temperature must be > 0, got 0' },
      { label: 'empty batch', call: () => callOp('infoNce', full([0, 3], 1), full([0, 3], 1)), error: 'infoNce: empty batch [0,3]' },
    ],
  } : undefined,
});

/**
 * KL(N(μ, σ²) ‖ N(0, I)) in closed form (notes §1.9.3.2), ½ Σⱼ (−1 − log σⱼ² + σⱼ² + μⱼ²) per
 * example (row), then averaged over the batch ('mean', default), summed ('sum') or kept per
 * example ('none': [N]). Taking log σ² rather than σ keeps σ² = exp(log σ²) positive.
 */
export const gaussianKl: OpFn<[mu: Tensor, logVar: Tensor, reduction?: 'mean' | 'sum' | 'none'], false> = defineComposite({
  name: 'gaussianKl', family: 'loss', summary: 'KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (−1 − log σ² + σ² + μ²) per row', inputs: ['mu', 'logVar'],
  fn: (mu: Tensor, logVar: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor => {
    checkPairOfRows('gaussianKl', mu, logVar);
    if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
      throw new Error(`gaussianKl: reduction must be one of mean, sum, none, got ${JSON.stringify(reduction)}`);
    }
    const perExample = mul(sum(sub(add(exp(logVar), square(mu)), add(logVar, 1)), 1), 0.5);
    if (reduction === 'none') return perExample;
    return reduction === 'sum' ? sum(perExample) : mean(perExample);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (m: HostTensor, lv: HostTensor, reduction = 'mean') => {
        const [n, d] = m.shape;
        const per = Array.from({ length: n }, (_, i) => {
          let s = 0;
          for (let j = 0; j < d; j++) s += -1 - lv.data[i * d + j] + Math.exp(lv.data[i * d + j]) + m.data[i * d + j] ** 2;
          return s / 2;
        });
        if (reduction === 'none') return { shape: [n], data: per };
        const total = per.reduce((a, b) => a + b, 0);
        return { shape: [], data: [reduction === 'sum' ? total : total / n] };
      },
      tolerance: 1e-5,
    },
    samples: [
      { label: 'mean', inputs: [{ shape: [3, 4] }, { shape: [3, 4], lo: -2, hi: 1 }] },
      { label: 'sum', inputs: [{ shape: [2, 5] }, { shape: [2, 5] }], args: ['sum'] },
      { label: 'none', inputs: [{ shape: [4, 2] }, { shape: [4, 2] }], args: ['none'] },
    ],
    badInputs: [
      { label: 'shapes differ', call: () => callOp('gaussianKl', full([2, 3], 0), full([2, 4], 0)), error: 'gaussianKl: expected two [N, D] tensors of the same shape, got [2,3] and [2,4]' },
      { label: 'unknown reduction', call: () => callOp('gaussianKl', full([2, 3], 0), full([2, 3], 0), 'avg'), error: 'gaussianKl: reduction must be one of mean, sum, none, got "avg"' },
    ],
  } : undefined,
});

/**
 * The contractive penalty Σᵢ ‖∇ₓhᵢ‖² (notes §1.9.2.3) of a sigmoid encoder h = σ(Wx + b),
 * exactly and without a second backward pass: ∂hᵢ/∂xⱼ = hᵢ(1 − hᵢ)·Wᵢⱼ, so the squared
 * Frobenius norm of the Jacobian is Σᵢ (hᵢ(1 − hᵢ))² Σⱼ Wᵢⱼ². Takes the code h [N, H] and
 * W [H, D] (Linear's layout); averaged over the batch. Differentiable in both, so the penalty
 * trains W directly and through h.
 */
export const contractivePenalty: OpFn<[h: Tensor, weight: Tensor], false> = defineComposite({
  name: 'contractivePenalty', family: 'loss', summary: 'Σᵢ ‖∇ₓhᵢ‖² = Σᵢ (hᵢ(1−hᵢ))² Σⱼ Wᵢⱼ² of h = σ(Wx + b), batch mean', inputs: ['h', 'weight'],
  fn: (h: Tensor, weight: Tensor): Tensor => {
    assertFloat('contractivePenalty', h, weight);
    if (h.ndim !== 2 || weight.ndim !== 2 || h.shape[1] !== weight.shape[0]) {
      throw new Error(`contractivePenalty: expected codes [N, H] and encoder weights [H, D], got ${fmt(h.shape)} and ${fmt(weight.shape)}`);
    }
    if (h.shape[0] === 0) throw new Error(`contractivePenalty: empty batch ${fmt(h.shape)}`);
    const slope = square(mul(h, sub(1, h)));
    const rowNorms = sum(square(weight), 1);
    return mean(sum(mul(slope, rowNorms), 1));
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (h: HostTensor, w: HostTensor) => {
        const [n, k] = h.shape;
        const d = w.shape[1];
        let total = 0;
        for (let r = 0; r < n; r++) {
          for (let i = 0; i < k; i++) {
            const hi = h.data[r * k + i];
            let norm = 0;
            for (let j = 0; j < d; j++) norm += w.data[i * d + j] ** 2;
            total += (hi * (1 - hi)) ** 2 * norm;
          }
        }
        return { shape: [], data: [total / n] };
      },
      tolerance: 1e-5,
    },
    samples: [{ label: 'codes in (0, 1)', inputs: [{ shape: [3, 4], lo: 0.05, hi: 0.95 }, { shape: [4, 5] }] }],
    badInputs: [
      { label: 'weight rows ≠ code size', call: () => callOp('contractivePenalty', full([2, 3], 0.5), full([4, 5], 0)), error: 'contractivePenalty: expected codes [N, H] and encoder weights [H, D], got [2,3] and [4,5]' },
    ],
  } : undefined,
});
