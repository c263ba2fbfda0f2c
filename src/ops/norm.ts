// Batch normalisation and layer normalisation, as the notes write them (§1.3.5.4):
//
//   batch norm, per channel i over the K values of the mini-batch (and all positions of an
//   image for [N, C, H, W]):  μ_i = mean, σ_i² = (1/K) Σ (a - μ_i)²  (biased),
//   â = (a - μ_i) / sqrt(σ_i² + δ),  ã = γ_i â + β_i.
//   Running averages for inference, updated on every training call:
//   μ̄ ← α μ̄ + (1 - α) μ,   σ̄ ← α σ̄ + (1 - α) σ   (σ the standard deviation, not the variance).
//   Evaluation normalises with them: â = (a - μ̄) / sqrt(σ̄² + δ).
//   NB: α weighs the OLD average (default 0.9), the opposite of PyTorch's `momentum` (0.1 on
//   the new value), and the average is of σ, where PyTorch averages the unbiased variance.
//
//   layer norm, per example over its hidden units (the trailing dims): the same â with the
//   example's own μ and σ², then γ â + β per unit; no running averages.
import { kernels } from '../../bindings/index.js';
import { splitCall } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions, numberIn, sameShape } from '../core/validate.js';
import { reluGrad } from './elementwise.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';

export interface BatchNormOptions {
  /** Batch statistics + running-average update (true) or the running averages (false, default, as PyTorch). */
  training?: boolean;
  /** α of the notes' running averages, the weight of the old value, in [0, 1] (default 0.9). */
  momentum?: number;
  /** δ of the notes, added to the variance (default 1e-5). */
  eps?: number;
  /** Apply ReLU to the output in the same pass (a following ReLU fused: BatchNorm2d + ReLU in a Sequential). */
  relu?: boolean;
}

/** What batchNorm records in the graph. */
export interface BatchNormAttrs {
  training: boolean;
  momentum: number;
  eps: number;
  relu: boolean;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks optional float tensors (null or undefined: absent) and returns them as Tensor | null. */
function optionalTensors(op: string, named: readonly [string, Tensor | null | undefined][]): (Tensor | null)[] {
  return named.map(([what, t]) => {
    if (t === null || t === undefined) return null;
    assertTensor(op, t, what);
    assertFloat(op, t);
    return t;
  });
}

/** The tensor, or a constant [n] tensor of `value` pushed onto `consts` (freed with the graph). */
function orConstant(t: Tensor | null, shape: Shape, value: number, consts: Tensor[]): Tensor {
  if (t !== null) return t;
  const c = full(shape, value);
  consts.push(c);
  return c;
}

function hostBatchNorm(x: HostTensor, gamma: HostTensor | null, beta: HostTensor | null, rm: HostTensor | null,
  rs: HostTensor | null, opts: BatchNormOptions = {}): HostTensor {
  const [N, C] = x.shape;
  const S = sizeOf(x.shape.slice(2));
  const eps = opts.eps ?? 1e-5;
  const out = new Array<number>(x.data.length);
  for (let c = 0; c < C; c++) {
    let mu: number, sd: number;
    if (opts.training === true) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) s += x.data[(n * C + c) * S + k];
      mu = s / (N * S);
      let q = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) q += (x.data[(n * C + c) * S + k] - mu) ** 2;
      sd = Math.sqrt(q / (N * S) + eps);
    } else {
      mu = rm!.data[c];
      sd = Math.sqrt(rs!.data[c] ** 2 + eps);
    }
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < S; k++) {
        const i = (n * C + c) * S + k;
        const v = (gamma ? gamma.data[c] : 1) * (x.data[i] - mu) / sd + (beta ? beta.data[c] : 0);
        out[i] = opts.relu === true ? Math.max(v, 0) : v;
      }
    }
  }
  return { shape: x.shape, data: out };
}

/**
 * How a batch-norm kernel call splits across threads: by ranges of channels (each channel's
 * statistics and outputs are its own), pointers moving by S elements per channel for the
 * [N, C, S] tensors and by 1 for the per-channel vectors. `passes`: passes over the data.
 */
function byChannel(N: number, C: number, S: number, countArg: number, moves: [number, number][], passes: number):
  { units: number; countArg: number; moves: [number, number][]; cost: number; align: number } {
  return { units: C, countArg, moves, cost: 8 * passes * N * S, align: 1 };
}

/** y = γ·(x − mean)·invstd + β per channel, split by channels across threads. */
function applyBatchNorm(x: Tensor, N: number, C: number, S: number, g: Tensor, b: Tensor, mean: Tensor, invstd: Tensor, y: Tensor, relu = false): void {
  splitCall({
    name: 'batchNormApply', args: [x.ptr, N, C, S, g.ptr, b.ptr, mean.ptr, invstd.ptr, y.ptr, C * S, relu ? 1 : 0],
    ...byChannel(N, C, S, 2, [[0, S], [4, 1], [5, 1], [6, 1], [7, 1], [8, S]], 1),
  });
}

interface NormState {
  /** γ, or the constant ones standing in for it. */
  g: Tensor;
}

/**
 * Batch normalisation of x [N, C] or [N, C, ...] (e.g. [N, C, H, W]) per channel (axis 1).
 * gamma/beta [C] may be null (1 and 0). In training mode runningMean/runningStd [C], when given,
 * are updated in place with the notes' running averages; evaluation mode normalises with them.
 */
export const batchNorm: OpFn<[x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor | null,
  runningStd: Tensor | null, opts?: BatchNormOptions], false> = defineOp({
  name: 'batchNorm', family: 'norm', summary: 'batch normalisation per channel (axis 1), with the notes\' running averages',
  inputs: ['x', 'gamma?', 'beta?', 'runningMean?', 'runningStd?'],
  parse: (x: Tensor, gamma: Tensor | null, beta: Tensor | null, runningMean: Tensor | null, runningStd: Tensor | null, opts: BatchNormOptions = {}) => {
    const op = 'batchNorm';
    assertTensor(op, x);
    assertFloat(op, x);
    const o = checkOptions(op, opts, ['training', 'momentum', 'eps', 'relu']);
    const training = o.training ?? false;
    assertBoolean(op, 'training', training);
    const relu = o.relu ?? false;
    assertBoolean(op, 'relu', relu);
    const momentum = numberIn(op, 'momentum', o.momentum ?? 0.9, 0, 1);
    const eps = numberIn(op, 'eps', o.eps ?? 1e-5, 0, Infinity, { loOpen: true });
    const [g, b, rm, rs] = optionalTensors(op, [['gamma', gamma], ['beta', beta], ['runningMean', runningMean], ['runningStd', runningStd]]);
    if ((rm === null) !== (rs === null)) throw new Error(`${op}: give both runningMean and runningStd, or neither`);
    if (!training && rm === null) {
      throw new Error(`${op}: evaluation mode needs runningMean and runningStd (pass { training: true } to normalise with batch statistics)`);
    }
    return { inputs: [x, g, b, rm, rs], attrs: { training, momentum, eps, relu } };
  },
  shape: ([x, ...vectors], { training }) => {
    const op = 'batchNorm';
    if (x!.length < 2) throw new Error(`${op}: input must be [N, C] or [N, C, ...] (e.g. [N, C, H, W]), got ${fmt(x!)}`);
    const C = x![1];
    const names = ['gamma', 'beta', 'runningMean', 'runningStd'];
    vectors.forEach((s, i) => {
      if (s !== null && (s.length !== 1 || s[0] !== C)) {
        throw new Error(`${op}: channel mismatch: input ${fmt(x!)}, ${names[i]} ${fmt(s)} (expected [${C}], one value per channel on axis 1)`);
      }
    });
    if (training && x![0] * sizeOf(x!.slice(2)) <= 1) {
      throw new Error(`${op}: training needs more than one value per channel to compute statistics, got input ${fmt(x!)}`);
    }
    return x!.slice();
  },
  forward: ([x, gamma, beta, rm, rs], { training, momentum, eps, relu }, shape) => {
    const k = kernels();
    const [N, C] = x!.shape;
    const S = sizeOf(x!.shape.slice(2));
    // Missing affine parameters become constant ones/zeros, freed with the graph.
    const consts: Tensor[] = [];
    const g = orConstant(gamma, [C], 1, consts);
    const b = orConstant(beta, [C], 0, consts);
    const y = empty(shape);
    const mean = empty([C]);
    const invstd = empty([C]);
    if (training) {
      splitCall({
        name: 'batchNormTrain', args: [x!.ptr, N, C, S, g.ptr, b.ptr, eps, y.ptr, mean.ptr, invstd.ptr, C * S, relu ? 1 : 0],
        ...byChannel(N, C, S, 2, [[0, S], [4, 1], [5, 1], [7, S], [8, 1], [9, 1]], 3),
      });
      if (rm !== null) k.batchNormRunningUpdate(mean.ptr, invstd.ptr, C, eps, momentum, rm.ptr, rs!.ptr);
    } else {
      // mean = μ̄ (copied, so later training steps cannot change this graph's backward),
      // invstd = 1 / sqrt(σ̄² + δ).
      k.batchNormEvalStats(rm!.ptr, rs!.ptr, C, eps, mean.ptr, invstd.ptr);
      applyBatchNorm(x!, N, C, S, g, b, mean, invstd, y, relu);
    }
    return { out: y, saved: [mean, invstd, ...consts], state: { g } as NormState };
  },
  backward: (gradIn, { inputs: [x, gamma, beta], attrs: { training, relu }, out, saved: [mean, invstd], state: { g } }) => {
    const [N, C] = x!.shape;
    const S = sizeOf(x!.shape.slice(2));
    const dx = empty(x!.shape);
    const dg = empty([C]);
    const db = empty([C]);
    // With the fused ReLU the gradient counts only where the output is > 0: the training
    // kernel masks it as it reads it (given the output); evaluation masks it first, since
    // its dx is recomputed from the gradient below.
    const grad = relu && !training ? reluGrad(out, gradIn) : gradIn;
    const mask = relu && training ? out.ptr : 0;
    splitCall({
      name: 'batchNormBackward', args: [x!.ptr, grad.ptr, N, C, S, g.ptr, mean.ptr, invstd.ptr, dx.ptr, dg.ptr, db.ptr, C * S, mask],
      ...byChannel(N, C, S, 3, [[0, S], [1, S], [5, 1], [6, 1], [7, 1], [8, S], [9, 1], [10, 1], ...(mask !== 0 ? [[12, S] as [number, number]] : [])], 3),
    });
    if (!training) {
      // The statistics are constants here: dx = γ·invstd·dy; dγ = Σ dy·x̂ and dβ = Σ dy are
      // what the training backward computes from the same mean/invstd, so it supplies them,
      // and its dx is then overwritten by batchNormApply(dy, γ, 0, 0, invstd) = γ·dy·invstd.
      const zero = full([C], 0);
      applyBatchNorm(grad, N, C, S, g, zero, zero, invstd, dx);
      zero.dispose();
    }
    if (grad !== gradIn) grad.dispose();
    if (gamma === null) dg.dispose();
    if (beta === null) db.dispose();
    return [dx, gamma === null ? null : dg, beta === null ? null : db, null, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostBatchNorm },
    samples: [
      { label: 'training [N,C,L], no affine', inputs: [{ shape: [4, 3, 5] }], args: [null, null, null, null, { training: true }] },
      { label: 'training [N,C,H,W], x gamma beta', inputs: [{ shape: [3, 2, 2, 3] }, { shape: [2], lo: 0.5, hi: 1.5 }, { shape: [2] }], args: [null, null, { training: true }] },
      { label: 'training [N,C], x gamma beta', inputs: [{ shape: [5, 6] }, { shape: [6], lo: 0.5, hi: 1.5 }, { shape: [6] }], args: [null, null, { training: true }] },
      {
        label: 'training, no affine, running stats updated',
        inputs: [{ shape: [4, 3, 5] }, { shape: [3], kind: 'values', values: [0, 0, 0], grad: false }, { shape: [3], kind: 'values', values: [1, 1, 1], grad: false }],
        call: (x, rm, rs) => callOp('batchNorm', x, null, null, rm, rs, { training: true }),
      },
      {
        label: 'eval [N,C,H,W] with running stats',
        inputs: [{ shape: [2, 2, 3, 2] }, { shape: [2], lo: 0.5, hi: 1.5 }, { shape: [2] }, { shape: [2], lo: -0.5, hi: 0.5, grad: false }, { shape: [2], lo: 0.5, hi: 1.5, grad: false }],
        args: [{ training: false }],
      },
      // Outputs at least 0.22 away from 0, so the finite differences stay off ReLU's kink.
      {
        label: 'training [N,C,H,W], fused relu',
        inputs: [{ shape: [2, 2, 1, 2], kind: 'values', values: [-2, -1, 0.5, 3, 1, 2, -1, 1.5] }, { shape: [2], kind: 'values', values: [1, 0.8] }, { shape: [2], kind: 'values', values: [0.3, -0.5] }],
        args: [null, null, { training: true, relu: true }],
      },
      {
        label: 'eval [N,C], fused relu',
        inputs: [{ shape: [2, 2], kind: 'values', values: [1, 0.2, -2, 2] }, { shape: [2], kind: 'values', values: [1, 2] }, { shape: [2], kind: 'values', values: [0.5, -1] },
          { shape: [2], kind: 'values', values: [0, 1], grad: false }, { shape: [2], kind: 'values', values: [1, 0.5], grad: false }],
        args: [{ relu: true }],
      },
      {
        label: 'eval [N,C], no affine',
        inputs: [{ shape: [3, 5] }, { shape: [5], lo: -0.5, hi: 0.5, grad: false }, { shape: [5], lo: 0.5, hi: 1.5, grad: false }],
        call: (x, rm, rs) => callOp('batchNorm', x, null, null, rm, rs),
      },
    ],
    badInputs: [
      { label: 'gamma of the wrong size', call: () => callOp('batchNorm', full([2, 3, 4, 4], 0), full([4], 1), null, null, null, { training: true }), error: 'batchNorm: channel mismatch: input [2,3,4,4], gamma [4] (expected [3], one value per channel on axis 1)' },
      { label: 'runningMean of the wrong size', call: () => callOp('batchNorm', full([2, 3, 4, 4], 0), null, null, full([2], 0), full([3], 1), { training: true }), error: /^batchNorm: channel mismatch: input \[2,3,4,4\], runningMean \[2\]/ },
      { label: '1-D input', call: () => callOp('batchNorm', full([5], 0), null, null, null, null, { training: true }), error: 'batchNorm: input must be [N, C] or [N, C, ...] (e.g. [N, C, H, W]), got [5]' },
      { label: 'one value per channel', call: () => callOp('batchNorm', full([1, 3], 0), null, null, null, null, { training: true }), error: 'batchNorm: training needs more than one value per channel to compute statistics, got input [1,3]' },
      { label: 'evaluation without running statistics', call: () => callOp('batchNorm', full([2, 3], 0), null, null, null, null), error: /^batchNorm: evaluation mode needs runningMean and runningStd/ },
      { label: 'runningMean without runningStd', call: () => callOp('batchNorm', full([2, 3], 0), null, null, full([3], 0), null, { training: true }), error: 'batchNorm: give both runningMean and runningStd, or neither' },
      { label: 'momentum above 1', call: () => callOp('batchNorm', full([2, 3], 0), null, null, null, null, { training: true, momentum: 1.5 }), error: 'batchNorm: momentum must be a number in [0, 1], got 1.5' },
      { label: 'eps 0', call: () => callOp('batchNorm', full([2, 3], 0), null, null, null, null, { training: true, eps: 0 }), error: 'batchNorm: eps must be a number in (0, Infinity], got 0' },
      { label: 'unknown option', call: () => callOp('batchNorm', full([2, 3], 0), null, null, null, null, { train: true }), error: "batchNorm: unknown option 'train' (known: training, momentum, eps, relu)" },
      { label: 'relu not a boolean', call: () => callOp('batchNorm', full([2, 3], 0), null, null, null, null, { training: true, relu: 1 }), error: /^batchNorm: relu must be/ },
    ],
  } : undefined,
});

/** What layerNorm records in the graph. */
export interface LayerNormAttrs {
  /** The trailing dims normalised over. */
  normalizedShape: number[];
  eps: number;
}

function hostLayerNorm(x: HostTensor, gamma: HostTensor | null = null, beta: HostTensor | null = null, eps = 1e-5, normalizedShape?: Shape): HostTensor {
  const cols = sizeOf(normalizedShape ?? gamma?.shape ?? beta?.shape ?? [x.shape[x.shape.length - 1]]);
  const out = new Array<number>(x.data.length);
  for (let r = 0; r < x.data.length / cols; r++) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += x.data[r * cols + i];
    const m = s / cols;
    let q = 0;
    for (let i = 0; i < cols; i++) q += (x.data[r * cols + i] - m) ** 2;
    const sd = Math.sqrt(q / cols + eps);
    for (let i = 0; i < cols; i++) out[r * cols + i] = (gamma ? gamma.data[i] : 1) * (x.data[r * cols + i] - m) / sd + (beta ? beta.data[i] : 0);
  }
  return { shape: x.shape, data: out };
}

/**
 * Layer normalisation over the trailing dims given by gamma's (or beta's) shape — the last
 * dim when both are null, or `normalizedShape` — with the notes' biased variance and δ = eps.
 */
export const layerNorm: OpFn<[x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, eps?: number, normalizedShape?: Shape], false> = defineOp({
  name: 'layerNorm', family: 'norm', summary: 'layer normalisation over the trailing dims, then γ x̂ + β per unit',
  inputs: ['x', 'gamma?', 'beta?'],
  parse: (x: Tensor, gamma: Tensor | null = null, beta: Tensor | null = null, eps = 1e-5, normalizedShape?: Shape) => {
    const op = 'layerNorm';
    assertTensor(op, x);
    assertFloat(op, x);
    const [g, b] = optionalTensors(op, [['gamma', gamma], ['beta', beta]]);
    numberIn(op, 'eps', eps, 0, Infinity, { loOpen: true });
    // null means "not given", as for gamma and beta; anything else must be an array of numbers
    // (the shape rule compares it with the input's trailing dims).
    if (normalizedShape !== undefined && normalizedShape !== null && !(Array.isArray(normalizedShape) && normalizedShape.every((d) => typeof d === 'number'))) {
      throw new Error(`layerNorm: normalizedShape must be an array of integers, got ${Array.isArray(normalizedShape) ? 'an array with non-numbers' : typeof normalizedShape}`);
    }
    const norm = normalizedShape ?? g?.shape ?? b?.shape ?? (x.ndim > 0 ? [x.shape[x.ndim - 1]] : []);
    return { inputs: [x, g, b], attrs: { normalizedShape: norm.slice(), eps } };
  },
  shape: ([x, g = null, b = null], { normalizedShape: norm }) => {
    const op = 'layerNorm';
    if (x!.length < 1) throw new Error(`${op}: input must have at least one dimension, got a scalar`);
    const tail = x!.slice(x!.length - norm.length);
    if (norm.length === 0 || norm.length > x!.length || !sameShape(tail, norm)) {
      throw new Error(`${op}: normalized shape ${fmt(norm)} does not match the trailing dims of input ${fmt(x!)}`);
    }
    for (const [what, t] of [['gamma', g], ['beta', b]] as const) {
      if (t !== null && !sameShape(t, norm)) throw new Error(`${op}: ${what} ${fmt(t)} does not match the normalized shape ${fmt(norm)} of input ${fmt(x!)}`);
    }
    if (sizeOf(norm) === 0) throw new Error(`${op}: cannot normalise over an empty shape ${fmt(norm)} (input ${fmt(x!)})`);
    return x!.slice();
  },
  forward: ([x, gamma, beta], { normalizedShape: norm, eps }, shape) => {
    const cols = sizeOf(norm);
    const rows = x!.size / cols;
    const consts: Tensor[] = [];
    const g = orConstant(gamma, norm, 1, consts);
    const b = orConstant(beta, norm, 0, consts);
    const y = empty(shape);
    const mean = empty([rows]);
    const invstd = empty([rows]);
    kernels().layerNorm(x!.ptr, rows, cols, g.ptr, b.ptr, eps, y.ptr, mean.ptr, invstd.ptr);
    return { out: y, saved: [mean, invstd, ...consts], state: { g } as NormState };
  },
  backward: (grad, { inputs: [x, gamma, beta], attrs: { normalizedShape: norm }, saved: [mean, invstd], state: { g } }) => {
    const cols = sizeOf(norm);
    const dx = empty(x!.shape);
    const dg = empty(norm);
    const db = empty(norm);
    kernels().layerNormBackward(x!.ptr, grad.ptr, x!.size / cols, cols, g.ptr, mean.ptr, invstd.ptr, dx.ptr, dg.ptr, db.ptr);
    if (gamma === null) dg.dispose();
    if (beta === null) db.dispose();
    return [dx, gamma === null ? null : dg, beta === null ? null : db];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostLayerNorm },
    samples: [
      { label: 'no affine', inputs: [{ shape: [4, 7] }] },
      { label: 'last dim, gamma beta', inputs: [{ shape: [3, 5] }, { shape: [5], lo: 0.5, hi: 1.5 }, { shape: [5] }] },
      { label: 'two trailing dims', inputs: [{ shape: [2, 2, 3] }, { shape: [2, 3], lo: 0.5, hi: 1.5 }, { shape: [2, 3] }] },
      { label: 'normalizedShape given, no affine, eps 1e-3', inputs: [{ shape: [3, 2, 4] }], args: [null, null, 1e-3, [2, 4]] },
    ],
    badInputs: [
      { label: 'gamma not matching the trailing dims', call: () => callOp('layerNorm', full([2, 5], 0), full([4], 1)), error: 'layerNorm: normalized shape [4] does not match the trailing dims of input [2,5]' },
      { label: 'beta of another shape than gamma', call: () => callOp('layerNorm', full([2, 5], 0), full([5], 1), full([2, 5], 0)), error: 'layerNorm: beta [2,5] does not match the normalized shape [5] of input [2,5]' },
      { label: 'eps 0', call: () => callOp('layerNorm', full([2, 5], 0), null, null, 0), error: 'layerNorm: eps must be a number in (0, Infinity], got 0' },
      { label: 'a scalar', call: () => callOp('layerNorm', full([], 0)), error: 'layerNorm: input must have at least one dimension, got a scalar' },
      // Found by test/fuzz/ops.fuzz.test.ts: a number here gave "norm.slice is not a function".
      { label: 'normalizedShape a number', call: () => callOp('layerNorm', full([2, 3], 0), null, null, 1e-5, 3), error: 'layerNorm: normalizedShape must be an array of integers, got number' },
    ],
  } : undefined,
});
