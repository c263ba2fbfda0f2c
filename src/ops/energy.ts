// Ops of the classic energy-based models (notes §1.4): sampling binary stochastic units,
// Hebbian storage, Hopfield energies and asynchronous Hopfield updates, and the contrastive
// divergence statistic. None of them is differentiated: these models learn by their own rules
// (Hebb, CD), not by backprop. Kernels in assembly/energy.ts; the GEMMs are the matmul ones.
//
// Randomness enters only as tensors of uniforms the caller drew from the one seeded generator,
// so every op here is a pure function of its inputs.
import { BinOp, kernels } from '../../bindings/index.js';
import { withInt32Arrays } from '../../bindings/memory.js';
import { Tensor, empty, fmt, full, tensor } from '../core/tensor.js';
import { assertFiniteNumber, assertFloat, checkOptions, sameShape } from '../core/validate.js';
import { gemmCall } from './matmul.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';

// ---- sampling ------------------------------------------------------------------------------

/**
 * Binary stochastic units: 1 where u < p, else 0, for uniforms u in [0, 1) of p's shape (so
 * P(1) = p); or, given a number t instead of u, 1 where p >= t (the notes' worked examples
 * sample with t = 0.5).
 */
export const bernoulli: OpFn<[p: Tensor, u: Tensor | number], false> = defineOp({
  name: 'bernoulli', family: 'energy', summary: 'binary states: u < p for uniforms u, or p >= t for a threshold t',
  inputs: ['p', 'u?'],
  parse: (p: Tensor, u: Tensor | number) => {
    assertFloat('bernoulli', p);
    if (typeof u === 'number') {
      assertFiniteNumber('bernoulli', 'threshold', u);
      return { inputs: [p, null], attrs: { threshold: u } };
    }
    if (!(u instanceof Tensor)) throw new Error(`bernoulli: u must be a Tensor of uniforms or a threshold number, got ${u === null ? 'null' : typeof u}`);
    assertFloat('bernoulli', u);
    return { inputs: [p, u], attrs: { threshold: null as number | null } };
  },
  shape: ([p, u]) => {
    if (u !== null && !sameShape(p!, u!)) throw new Error(`bernoulli: uniforms ${fmt(u!)} must have the shape of p ${fmt(p!)}`);
    return p!.slice();
  },
  forward: ([p, u], { threshold }) => {
    const out = empty(p!.shape);
    if (threshold !== null) kernels().thresholdSample(p!.ptr, threshold, out.ptr, out.size);
    else kernels().bernoulliSample(p!.ptr, u!.ptr, out.ptr, out.size);
    return out;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (p: HostTensor, u: HostTensor | number) => ({
        shape: p.shape,
        data: Array.from(p.data, (v, i) => (typeof u === 'number' ? (v >= u ? 1 : 0) : (u.data[i] < v ? 1 : 0))),
      }),
    },
    samples: [
      { label: 'uniforms', inputs: [{ shape: [3, 7], lo: 0, hi: 1, grad: false }, { shape: [3, 7], lo: 0, hi: 1, grad: false }] },
      { label: 'threshold 0.5 (ties give 1)', inputs: [{ shape: [5], kind: 'values', values: [0.2, 0.5, 0.73, 0.4999, 1], grad: false }], args: [0.5] },
    ],
    badInputs: [
      { label: 'uniforms of another shape', call: () => callOp('bernoulli', full([2, 3], 0.5), full([3, 2], 0.5)), error: 'bernoulli: uniforms [3,2] must have the shape of p [2,3]' },
      { label: 'threshold NaN', call: () => callOp('bernoulli', full([2], 0.5), NaN), error: 'bernoulli: threshold must be a finite number, got NaN' },
    ],
  } : undefined,
});

// ---- Hopfield networks ---------------------------------------------------------------------

function hostHebbian(f: HostTensor): HostTensor {
  const [M, N] = f.shape;
  const data = new Array<number>(N * N).fill(0);
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      let s = 0;
      for (let k = 0; k < M; k++) s += f.data[k * N + i] * f.data[k * N + j];
      data[j * N + i] = s / M;
    }
  }
  return { shape: [N, N], data };
}

/** Hebbian storage of M patterns f [M, N]: w_ji = (1/M) Σ_k f_k(i)·f_k(j), w_jj = 0 (one GEMM). */
export const hebbian: OpFn<[patterns: Tensor], false> = defineOp({
  name: 'hebbian', family: 'energy', summary: 'Hopfield weights (1/M)·FᵀF with a zero diagonal from M patterns F [M, N]',
  inputs: ['patterns'],
  parse: (patterns: Tensor) => {
    assertFloat('hebbian', patterns);
    return { inputs: [patterns], attrs: {} };
  },
  shape: ([f]) => {
    if (f!.length !== 2 || f![0] < 1) throw new Error(`hebbian: patterns must be [M, N] with M >= 1, got ${fmt(f!)}`);
    return [f![1], f![1]];
  },
  forward: ([f], _a, shape) => {
    const [M, N] = f!.shape;
    const w = empty(shape);
    gemmCall(true, false, N, N, M, f!.ptr, N, f!.ptr, N, 0, w.ptr, N);
    kernels().scaleZeroDiagonal(w.ptr, N, 1 / M);
    return w;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostHebbian },
    samples: [
      { label: 'three ±1 patterns', inputs: [{ shape: [3, 6], kind: 'away', lo: 1, hi: 1, grad: false }] },
      { label: 'real-valued', inputs: [{ shape: [4, 9], grad: false }] },
    ],
    badInputs: [
      { label: 'a vector', call: () => callOp('hebbian', full([4], 1)), error: 'hebbian: patterns must be [M, N] with M >= 1, got [4]' },
      { label: 'no patterns', call: () => callOp('hebbian', full([0, 4], 1)), error: 'hebbian: patterns must be [M, N] with M >= 1, got [0,4]' },
    ],
  } : undefined,
});

function checkSquareAndStates(op: string, w: readonly number[], y: readonly number[]): void {
  if (w.length !== 2 || w[0] !== w[1]) throw new Error(`${op}: weights must be square [N, N], got ${fmt(w)}`);
  if ((y.length !== 1 && y.length !== 2) || y[y.length - 1] !== w[0]) {
    throw new Error(`${op}: states must be [N] or [B, N] with N = ${w[0]}, got ${fmt(y)}`);
  }
}

function hostEnergy(w: HostTensor, y: HostTensor): HostTensor {
  const N = w.shape[0];
  const B = y.shape.length === 2 ? y.shape[0] : 1;
  const data: number[] = [];
  for (let b = 0; b < B; b++) {
    let e = 0;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) e += w.data[i * N + j] * y.data[b * N + i] * y.data[b * N + j];
    data.push(-0.5 * e);
  }
  return { shape: y.shape.length === 2 ? [B] : [], data };
}

/** Hopfield energy E = −½ Σ_i Σ_j w_ij y_i y_j of each state y [B, N] (or one state [N]): a GEMM and row dots. */
export const hopfieldEnergy: OpFn<[weights: Tensor, states: Tensor], false> = defineOp({
  name: 'hopfieldEnergy', family: 'energy', summary: 'E = −½·yᵀWy per state (states [N] or [B, N])',
  inputs: ['weights', 'states'],
  parse: (weights: Tensor, states: Tensor) => {
    assertFloat('hopfieldEnergy', weights, states);
    return { inputs: [weights, states], attrs: {} };
  },
  shape: ([w, y]) => {
    checkSquareAndStates('hopfieldEnergy', w!, y!);
    return y!.length === 2 ? [y![0]] : [];
  },
  forward: ([w, y], _a, shape) => {
    const N = w!.shape[0];
    const B = y!.ndim === 2 ? y!.shape[0] : 1;
    const wy = empty([B, N]);
    gemmCall(false, true, B, N, N, y!.ptr, N, w!.ptr, N, 0, wy.ptr, N);
    const e = empty(shape);
    kernels().rowDot(wy.ptr, y!.ptr, e.ptr, B, N, -0.5);
    wy.dispose();
    return e;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostEnergy, tolerance: 1e-4 },
    samples: [
      { label: 'batch of states', inputs: [{ shape: [7, 7], grad: false }, { shape: [3, 7], kind: 'away', lo: 1, hi: 1, grad: false }] },
      { label: 'one state', inputs: [{ shape: [5, 5], grad: false }, { shape: [5], kind: 'away', lo: 1, hi: 1, grad: false }] },
    ],
    badInputs: [
      { label: 'weights not square', call: () => callOp('hopfieldEnergy', full([3, 4], 0), full([4], 1)), error: 'hopfieldEnergy: weights must be square [N, N], got [3,4]' },
      { label: 'states of another size', call: () => callOp('hopfieldEnergy', full([3, 3], 0), full([2, 4], 1)), error: 'hopfieldEnergy: states must be [N] or [B, N] with N = 3, got [2,4]' },
    ],
  } : undefined,
});

export interface HopfieldUpdateOptions {
  /** |net input| at or below this counts as 0, which keeps the state (default 1e-5: float32 sums of ±k/M weights). */
  tolerance?: number;
}

function hostUpdate(w: HostTensor, y: HostTensor, order: readonly number[], opts: HopfieldUpdateOptions = {}): HostTensor {
  const N = w.shape[0];
  const tol = opts.tolerance ?? 1e-5;
  const data = Array.from(y.data);
  for (let b = 0; b < data.length / N; b++) {
    for (const j of order) {
      let v = 0;
      for (let i = 0; i < N; i++) v += w.data[j * N + i] * data[b * N + i];
      if (v > tol) data[b * N + j] = 1;
      else if (v < -tol) data[b * N + j] = -1;
    }
  }
  return { shape: y.shape, data };
}

/**
 * Asynchronous Hopfield retrieval steps (notes §1.4.1): the units of `order` (indices, repeats
 * allowed) are updated one after the other, each from the current state:
 * y_j = 1 if Σ_i w_ji y_i > 0, −1 if < 0, unchanged if 0. Every state of a batch [B, N] gets the
 * same order. Row j of W holds unit j's incoming weights w_ji; the energy is only guaranteed
 * not to rise when W is symmetric with a zero diagonal (Hebbian storage gives that). Returns
 * the new states.
 */
export const hopfieldUpdate: OpFn<[weights: Tensor, states: Tensor, order: readonly number[], opts?: HopfieldUpdateOptions], false> = defineOp({
  name: 'hopfieldUpdate', family: 'energy', summary: 'asynchronous ±1 updates of the units in `order`, keeping a unit on zero net input',
  inputs: ['weights', 'states'],
  parse: (weights: Tensor, states: Tensor, order: readonly number[], opts: HopfieldUpdateOptions = {}) => {
    assertFloat('hopfieldUpdate', weights, states);
    const tolerance = checkOptions('hopfieldUpdate', opts, ['tolerance']).tolerance ?? 1e-5;
    assertFiniteNumber('hopfieldUpdate', 'tolerance', tolerance);
    if (!Array.isArray(order) && !ArrayBuffer.isView(order)) throw new Error('hopfieldUpdate: order must be an array of unit indices');
    return { inputs: [weights, states], attrs: { order: Array.from(order as ArrayLike<number>), tolerance } };
  },
  shape: ([w, y], { order }) => {
    checkSquareAndStates('hopfieldUpdate', w!, y!);
    for (const j of order) {
      if (!Number.isInteger(j) || j < 0 || j >= w![0]) throw new Error(`hopfieldUpdate: order holds ${j}, not a unit index in [0, ${w![0]})`);
    }
    return y!.slice();
  },
  forward: ([w, y], { order, tolerance }) => {
    const N = w!.shape[0];
    const out = tensor(y!.data(), y!.shape);
    if (order.length > 0 && out.size > 0) {
      withInt32Arrays([order], ([o]) => kernels().hopfieldSweep(w!.ptr, N, out.ptr, out.size / N, o, order.length, tolerance));
    }
    return out;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostUpdate },
    samples: [
      { label: 'one pass, batch', inputs: [{ shape: [6, 6], grad: false }, { shape: [4, 6], kind: 'away', lo: 1, hi: 1, grad: false }], args: [[0, 1, 2, 3, 4, 5]] },
      { label: 'repeats, one state', inputs: [{ shape: [5, 5], grad: false }, { shape: [5], kind: 'away', lo: 1, hi: 1, grad: false }], args: [[4, 0, 4, 2, 2, 1]] },
    ],
    badInputs: [
      { label: 'unit out of range', call: () => callOp('hopfieldUpdate', full([3, 3], 0), full([3], 1), [0, 3]), error: 'hopfieldUpdate: order holds 3, not a unit index in [0, 3)' },
      { label: 'order not an array', call: () => callOp('hopfieldUpdate', full([3, 3], 0), full([3], 1), 2), error: 'hopfieldUpdate: order must be an array of unit indices' },
    ],
  } : undefined,
});

// ---- contrastive divergence ----------------------------------------------------------------

function hostCd(v0: HostTensor, h0: HostTensor, v1: HostTensor, h1: HostTensor): HostTensor {
  const [B, V] = v0.shape;
  const H = h0.shape[1];
  const data = new Array<number>(H * V).fill(0);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < V; i++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += h0.data[b * H + j] * v0.data[b * V + i] - h1.data[b * H + j] * v1.data[b * V + i];
      data[j * V + i] = s / B;
    }
  }
  return { shape: [H, V], data };
}

/**
 * The CD statistic ⟨v_i h_j⟩⁰ − ⟨v_i h_j⟩¹ averaged over a batch, laid out [H, V] like the
 * weights: (h0ᵀv0 − h1ᵀv1)/B as two GEMMs into one buffer.
 */
export const cdStatistic: OpFn<[v0: Tensor, h0: Tensor, v1: Tensor, h1: Tensor], false> = defineOp({
  name: 'cdStatistic', family: 'energy', summary: '(h0ᵀv0 − h1ᵀv1)/B: ⟨v h⟩⁰ − ⟨v h⟩¹ over a batch, [H, V]',
  inputs: ['v0', 'h0', 'v1', 'h1'],
  parse: (v0: Tensor, h0: Tensor, v1: Tensor, h1: Tensor) => {
    assertFloat('cdStatistic', v0, h0, v1, h1);
    return { inputs: [v0, h0, v1, h1], attrs: {} };
  },
  shape: ([v0, h0, v1, h1]) => {
    const ok = v0!.length === 2 && h0!.length === 2 && sameShape(v0!, v1!) && sameShape(h0!, h1!) && v0![0] === h0![0];
    if (!ok) throw new Error(`cdStatistic: need v0, v1 [B, V] and h0, h1 [B, H], got ${fmt(v0!)}, ${fmt(h0!)}, ${fmt(v1!)}, ${fmt(h1!)}`);
    // An average over no examples is 0/0: refused rather than made up.
    if (v0![0] === 0) throw new Error(`cdStatistic: the batch is empty (v0 ${fmt(v0!)}); the statistic is an average over its examples`);
    return [h0![1], v0![1]];
  },
  forward: ([v0, h0, v1, h1], _a, shape) => {
    const [B, V] = v0!.shape;
    const H = h0!.shape[1];
    const out = empty(shape);
    if (B === 0) {
      kernels().fill(out.ptr, 0, out.size);
      return out;
    }
    // The 1/B and the minus go into copies of the (smaller) hidden factors, so that the two
    // products accumulate into one buffer (the GEMM has beta but no alpha).
    const pos = empty(h0!.shape);
    const neg = empty(h1!.shape);
    kernels().binaryScalar(BinOp.Mul, h0!.ptr, 1 / B, pos.ptr, pos.size, 0);
    kernels().binaryScalar(BinOp.Mul, h1!.ptr, -1 / B, neg.ptr, neg.size, 0);
    gemmCall(true, false, H, V, B, pos.ptr, H, v0!.ptr, V, 0, out.ptr, V);
    gemmCall(true, false, H, V, B, neg.ptr, H, v1!.ptr, V, 1, out.ptr, V);
    pos.dispose();
    neg.dispose();
    return out;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostCd },
    samples: [
      { label: 'batch 5, 6 visible, 3 hidden', inputs: [{ shape: [5, 6], lo: 0, hi: 1, grad: false }, { shape: [5, 3], lo: 0, hi: 1, grad: false }, { shape: [5, 6], lo: 0, hi: 1, grad: false }, { shape: [5, 3], lo: 0, hi: 1, grad: false }] },
    ],
    badInputs: [
      { label: 'empty batch', call: () => callOp('cdStatistic', full([0, 3], 0), full([0, 4], 0), full([0, 3], 0), full([0, 4], 0)), error: 'cdStatistic: the batch is empty (v0 [0,3]); the statistic is an average over its examples' },
      { label: 'batch sizes differ', call: () => callOp('cdStatistic', full([2, 3], 0), full([3, 4], 0), full([2, 3], 0), full([3, 4], 0)), error: 'cdStatistic: need v0, v1 [B, V] and h0, h1 [B, H], got [2,3], [3,4], [2,3], [3,4]' },
    ],
  } : undefined,
});
