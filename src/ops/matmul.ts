// Matrix products on the GEMM kernel: matmul (batch dims broadcast, transposes as flags) and linear (x·Wᵀ + b,
// with the bias and an optional ReLU fused into the GEMM's store). Backward passes use the
// kernel's transposed operands directly (dA = g·Bᵀ, dB = Aᵀ·g): no transpose is ever
// materialised. Large products are split across threads by bindings/parallel (a GEMM by rows
// or columns of C, a batch by products), which leaves every number as on one thread.
import { kernels } from '../../bindings/index.js';
import { parallelGemm, runPlan } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, sizeOf, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions } from '../core/validate.js';
import { add, relu, sumToShape } from './elementwise.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';
import { transpose } from './shape.js';

/** @internal C = op(A)·op(B) + beta·C (+ bias per column, ReLU) on pointers, split across threads when worth it. */
export { parallelGemm as gemmCall } from '../../bindings/parallel/index.js';

/**
 * C = op(A)·op(B) into a fresh [M,N] tensor (optionally + bias per column, ReLU; skipZerosA:
 * GEMM_SKIP_ZEROS_A, for a finite B).
 * A, B are dense: A is [M,K] or, transposed, [K,M]; B is [K,N] or, transposed, [N,K].
 */
export function gemmRaw(
  a: Tensor, transA: boolean, b: Tensor, transB: boolean, M: number, N: number, K: number,
  out?: Tensor, bias: Tensor | null = null, relu = false, skipZerosA = false,
): Tensor {
  const c = out ?? empty([M, N]);
  parallelGemm(transA, transB, M, N, K, a.ptr, transA ? M : K, b.ptr, transB ? K : N, 0, c.ptr, N, bias === null ? 0 : bias.ptr, relu, skipZerosA);
  return c;
}

export interface MatmulOptions {
  /** a is stored [..., K, M] and used transposed (no copy is made). */
  transA?: boolean;
  /** b is stored [..., N, K] and used transposed (no copy is made). */
  transB?: boolean;
}

interface MatmulAttrs {
  transA: boolean;
  transB: boolean;
}

/**
 * Rows of a [..., K] operand taken as a matrix: the product of its leading dims (not size / K,
 * which is NaN for K = 0 and made the GEMM write nothing into the uninitialised output).
 */
function rowsOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return n;
}

interface MatmulDims {
  /** Broadcast batch dims of the output. */
  batch: number[];
  M: number;
  K: number;
  N: number;
}

/** The product's geometry, or the Error matmul throws for these shapes and flags. */
function matmulDims(a: Shape, b: Shape, { transA, transB }: MatmulAttrs): MatmulDims {
  if (a.length < 2 || b.length < 2) throw new Error(`matmul: both operands need at least 2 dimensions, got ${fmt(a)} x ${fmt(b)}`);
  const [a0, a1] = a.slice(-2);
  const [b0, b1] = b.slice(-2);
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [Kb, N] = transB ? [b1, b0] : [b0, b1];
  const flags = transA || transB ? ` (${[transA ? 'transA' : '', transB ? 'transB' : ''].filter((f) => f).join(', ')})` : '';
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ: ${fmt(a)} x ${fmt(b)}${flags}`);
  const ba = a.slice(0, -2);
  const bb = b.slice(0, -2);
  const n = Math.max(ba.length, bb.length);
  const batch = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = ba[ba.length - n + i] ?? 1;
    const db = bb[bb.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matmul: batch dimensions do not broadcast: ${fmt(a)} x ${fmt(b)}`);
    batch[i] = da === 1 ? db : da;
  }
  return { batch, M, K, N };
}

/**
 * For each output batch index (row-major over `batch`), the element offset of the operand's
 * matrix: its own batch dims `sub` are aligned to the right and broadcast (stride 0) where 1.
 */
function batchOffsets(batch: readonly number[], sub: Shape, matrix: number): number[] {
  const n = batch.length;
  const strides = new Array<number>(n).fill(0);
  let s = matrix;
  for (let i = sub.length - 1; i >= 0; i--) {
    strides[n - sub.length + i] = sub[i] === 1 ? 0 : s;
    s *= sub[i];
  }
  const total = sizeOf(batch);
  const out = new Array<number>(total);
  const idx = new Array<number>(n).fill(0);
  let off = 0;
  for (let t = 0; t < total; t++) {
    out[t] = off;
    for (let d = n - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < batch[d]) break;
      off -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * c[i] = op(x at xOff[i])·op(y at yOff[i]) for every batch item i, c dense [items, m, n]: one
 * product per task when there are at least two per thread, else one product after the other,
 * each split across the threads. Leading dimensions are the stored last dims of x and y.
 */
function batchedGemm(x: Tensor, xOff: readonly number[], tx: boolean, ldx: number, y: Tensor, yOff: readonly number[], ty: boolean, ldy: number,
  c: Tensor, m: number, n: number, k: number): Tensor {
  const items = xOff.length;
  runPlan({
    flops: 2 * items * m * n * k, items, minItemsPerThread: 2,
    work: (s, i) => s.gemm(tx, ty, m, n, k, x.ptrAt(xOff[i]), ldx, y.ptrAt(yOff[i]), ldy, 0, c.ptrAt(i * m * n), n),
  });
  return c;
}

/** Whether the product is one GEMM: b has a single matrix and a's rows are contiguous (not transposed). */
function flat(a: Shape, b: Shape, transA: boolean): boolean {
  return !transA && sizeOf(b.slice(0, -2)) === 1;
}

/** Plain-JS matmul for the reference: broadcast batch dims, optional transposes. */
function hostMatmul(a: HostTensor, b: HostTensor, opts: MatmulOptions = {}): HostTensor {
  const attrs = { transA: opts.transA ?? false, transB: opts.transB ?? false };
  const { batch, M, K, N } = matmulDims(a.shape, b.shape, attrs);
  const aOff = batchOffsets(batch, a.shape.slice(0, -2), M * K);
  const bOff = batchOffsets(batch, b.shape.slice(0, -2), K * N);
  const out = new Array<number>(aOff.length * M * N).fill(0);
  const at = (i: number, r: number, k: number): number => a.data[aOff[i] + (attrs.transA ? k * M + r : r * K + k)];
  const bt = (i: number, k: number, c: number): number => b.data[bOff[i] + (attrs.transB ? c * K + k : k * N + c)];
  for (let i = 0; i < aOff.length; i++) {
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < N; c++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(i, r, k) * bt(i, k, c);
        out[(i * M + r) * N + c] = s;
      }
    }
  }
  return { shape: [...batch, M, N], data: out };
}

/**
 * Matrix product over the last two dims, with NumPy broadcasting of any leading batch dims:
 * [..., M, K]·[..., K, N] -> [..., M, N]. `transA` / `transB` read an operand stored with its
 * last two dims swapped (the GEMM reads it transposed; nothing is copied), so attention's
 * Q·Kᵀ is matmul(q, k, { transB: true }).
 */
export const matmul: OpFn<[a: Tensor, b: Tensor, opts?: MatmulOptions], true> = defineOp({
  name: 'matmul', family: 'matmul', summary: 'matrix product over the last two dims, batch dims broadcast, transposes as flags',
  inputs: ['a', 'b'], method: true,
  parse: (a: Tensor, b: Tensor, opts: MatmulOptions = {}) => {
    assertFloat('matmul', a, b);
    const o = checkOptions('matmul', opts, ['transA', 'transB']);
    const transA = o.transA ?? false;
    const transB = o.transB ?? false;
    assertBoolean('matmul', 'transA', transA);
    assertBoolean('matmul', 'transB', transB);
    return { inputs: [a, b], attrs: { transA, transB } as MatmulAttrs };
  },
  shape: ([a, b], attrs) => {
    const { batch, M, N } = matmulDims(a!, b!, attrs);
    return [...batch, M, N];
  },
  forward: ([a, b], attrs, shape) => {
    const { transA, transB } = attrs;
    const { batch, M, K, N } = matmulDims(a!.shape, b!.shape, attrs);
    const ldb = b!.shape[b!.ndim - 1];
    if (flat(a!.shape, b!.shape, transA)) {
      const c = empty(shape);
      parallelGemm(false, transB, rowsOf(a!.shape), N, K, a!.ptr, K, b!.ptr, ldb, 0, c.ptr, N);
      return c;
    }
    const aOff = batchOffsets(batch, a!.shape.slice(0, -2), M * K);
    const bOff = batchOffsets(batch, b!.shape.slice(0, -2), K * N);
    return batchedGemm(a!, aOff, transA, a!.shape[a!.ndim - 1], b!, bOff, transB, ldb, empty(shape), M, N, K);
  },
  backward: (g, { inputs: [a, b], attrs }) => {
    const { transA, transB } = attrs;
    const { batch, M, K, N } = matmulDims(a!.shape, b!.shape, attrs);
    const lda = a!.shape[a!.ndim - 1];
    const ldb = b!.shape[b!.ndim - 1];
    if (flat(a!.shape, b!.shape, transA)) {
      const rows = rowsOf(a!.shape);
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (a!.requiresGrad) {
        ga = empty(a!.shape);
        parallelGemm(false, !transB, rows, K, N, g.ptr, N, b!.ptr, ldb, 0, ga.ptr, K);
      }
      if (b!.requiresGrad) {
        gb = empty(b!.shape);
        if (transB) parallelGemm(true, false, N, K, rows, g.ptr, N, a!.ptr, K, 0, gb.ptr, K);
        else parallelGemm(true, false, K, N, rows, a!.ptr, K, g.ptr, N, 0, gb.ptr, N);
      }
      return [ga, gb];
    }
    const gOff = batchOffsets(batch, batch, M * N);
    const aOff = batchOffsets(batch, a!.shape.slice(0, -2), M * K);
    const bOff = batchOffsets(batch, b!.shape.slice(0, -2), K * N);
    // Each batch item's gradient is made in full and summed down to the operand's own shape
    // where it was broadcast (sumToShape is the identity when it was not).
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a!.requiresGrad) {
      const full = empty([...batch, ...a!.shape.slice(-2)]);
      if (transA) batchedGemm(b!, bOff, transB, ldb, g, gOff, true, N, full, K, M, N);
      else batchedGemm(g, gOff, false, N, b!, bOff, !transB, ldb, full, M, K, N);
      ga = sumToShape(full, a!.shape);
      if (ga !== full) full.dispose();
    }
    if (b!.requiresGrad) {
      const full = empty([...batch, ...b!.shape.slice(-2)]);
      if (transB) batchedGemm(g, gOff, true, N, a!, aOff, transA, lda, full, N, K, M);
      else batchedGemm(a!, aOff, !transA, lda, g, gOff, false, N, full, K, N, M);
      gb = sumToShape(full, b!.shape);
      if (gb !== full) full.dispose();
    }
    return [ga, gb];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostMatmul },
    samples: [
      { label: '2-D', inputs: [{ shape: [3, 5] }, { shape: [5, 4] }] },
      { label: 'N-D x 2-D', inputs: [{ shape: [2, 3, 5] }, { shape: [5, 2] }] },
      { label: 'batched', inputs: [{ shape: [2, 3, 5] }, { shape: [2, 5, 2] }] },
      // Found by test/fuzz/ops.fuzz.test.ts: K = 0 left the output uninitialised (it must be zeros).
      { label: 'inner dimension 0', inputs: [{ shape: [3, 0] }, { shape: [0, 4] }] },
      { label: 'batch dims broadcast both ways', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }] },
      { label: '2-D x batched (a broadcast)', inputs: [{ shape: [3, 4] }, { shape: [2, 4, 5] }] },
      { label: 'transA, batched', inputs: [{ shape: [2, 4, 3] }, { shape: [2, 4, 5] }], args: [{ transA: true }] },
      { label: 'transB, N-D x 2-D', inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }], args: [{ transB: true }] },
      { label: 'both transposed, 4-D broadcast', inputs: [{ shape: [2, 2, 4, 3] }, { shape: [1, 2, 5, 4] }], args: [{ transA: true, transB: true }] },
    ],
    badInputs: [
      { label: 'inner dimensions differ', call: () => callOp('matmul', full([64, 784], 0), full([128, 10], 0)), error: 'matmul: inner dimensions differ: [64,784] x [128,10]' },
      { label: 'a vector', call: () => callOp('matmul', full([3], 0), full([3, 2], 0)), error: 'matmul: both operands need at least 2 dimensions, got [3] x [3,2]' },
      { label: 'batch dims do not broadcast', call: () => callOp('matmul', full([2, 3, 4], 0), full([3, 4, 5], 0)), error: 'matmul: batch dimensions do not broadcast: [2,3,4] x [3,4,5]' },
      { label: 'transposed inner dimensions differ', call: () => callOp('matmul', full([3, 4], 0), full([3, 5], 0), { transB: true }), error: 'matmul: inner dimensions differ: [3,4] x [3,5] (transB)' },
      { label: 'flag not a boolean', call: () => callOp('matmul', full([3, 4], 0), full([4, 5], 0), { transA: 'yes' }), error: "matmul: transA must be true or false, got 'yes'" },
      { label: 'unknown option', call: () => callOp('matmul', full([3, 4], 0), full([4, 5], 0), { trans: true }), error: "matmul: unknown option 'trans' (known: transA, transB)" },
    ],
  } : undefined,
});

// ---- zero skipping ------------------------------------------------------------------------
// An input that is mostly exact zeros (raw pixels: 81% of an MNIST digit's; one-hot and
// bag-of-words features) makes most of linear's multiply-adds 0·w. The forward product and
// the weight gradient (as dWᵀ = xᵀ·dY, the input on the A side) then run the GEMM with
// GEMM_SKIP_ZEROS_A, which drops the k steps where its 4-value strip of the input is all
// zeros and keeps its register tiles for the rest, when a sample of the input's rows shows
// enough such steps. The numbers are the dense product's (the kept steps are summed in the
// same order; a skipped step only added zeros), except that 0·Inf and 0·NaN are NaN: a weight
// (or output gradient) that is not all finite takes the dense path.
const zeroSkip = {
  /** Skip zeros when at least this fraction of the GEMM's steps are all-zero in a sample. */
  minSkipped: 0.3,
  /** ...and the product has at least this many multiply-adds (below, either way is quick). */
  minWork: 1 << 16,
  /** Rows of the input sampled to decide (two 4-row strips). */
  sampleRows: 8,
  enabled: true,
};

/** @internal Tuning knobs of linear's zero skipping, for tests and benchmarks; returns the settings. */
export function tuneZeroSkip(opts: Partial<typeof zeroSkip> = {}): typeof zeroSkip {
  Object.assign(zeroSkip, opts);
  return { ...zeroSkip };
}

/**
 * Whether x [rows, K] as the GEMM's A (`transA`: xᵀ, for the weight gradient) should skip its
 * zeros, in a product with N outputs per row and `other` as B: enough all-zero steps in a
 * sample of x's rows (zeros scattered evenly rarely fill a whole 4-value step, and then
 * skipping would only add work), the product large enough, and `other` all finite.
 */
function skipZerosOf(x: Tensor, rows: number, K: number, N: number, other: Tensor, transA: boolean): boolean {
  if (!zeroSkip.enabled || rows * K * N < zeroSkip.minWork || K === 0) return false;
  const k = kernels();
  const sample = Math.min(rows, zeroSkip.sampleRows);
  // Forward: strips of 4 rows, K steps. Weight gradient: strips of 4 features, one step per row.
  const [m, steps] = transA ? [K, sample] : [sample, K];
  const total = Math.floor(m / 4) * steps;
  if (total === 0 || k.gemmZeroSteps(transA ? 1 : 0, x.ptr, K, m, steps) < zeroSkip.minSkipped * total) return false;
  return k.countNonFinite(other.ptr, other.size) === 0;
}

export interface LinearOptions {
  /** Apply ReLU to the output, fused into the GEMM's store (default false). */
  relu?: boolean;
}

/**
 * Fully connected layer y = x·Wᵀ + b, with W stored [out, in] as in PyTorch, the bias and an
 * optional ReLU fused into the GEMM's store. x may have leading batch dims.
 */
export const linear: OpFn<[x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: LinearOptions], false> = defineOp({
  name: 'linear', family: 'matmul', summary: 'x·Wᵀ + b (W [out, in]), optionally with a fused ReLU', inputs: ['x', 'weight', 'bias?'],
  parse: (x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: LinearOptions = {}) => {
    assertFloat('linear', x, weight);
    if (bias !== null && bias !== undefined) {
      assertTensor('linear', bias, 'bias');
      assertFloat('linear', bias);
    }
    const relu = checkOptions('linear', opts, ['relu']).relu ?? false;
    assertBoolean('linear', 'relu', relu);
    return { inputs: [x, weight, bias ?? null], attrs: { relu } };
  },
  shape: ([x, w, b = null]) => {
    if (w!.length !== 2) throw new Error(`linear: weight must be [out, in], got ${fmt(w!)}`);
    const [outF, inF] = w!;
    if (x!.length < 1 || x![x!.length - 1] !== inF) throw new Error(`linear: input features differ: input ${fmt(x!)}, weight ${fmt(w!)} expects ${inF}`);
    if (b !== null && (b.length !== 1 || b[0] !== outF)) throw new Error(`linear: bias must be [${outF}] for weight ${fmt(w!)}, got ${fmt(b)}`);
    return [...x!.slice(0, -1), outF];
  },
  forward: ([x, w, b], { relu }, shape) => {
    const [outF, inF] = w!.shape;
    const rows = rowsOf(x!.shape);
    return gemmRaw(x!, false, w!, true, rows, outF, inF, empty(shape), b, relu, skipZerosOf(x!, rows, inF, outF, w!, false));
  },
  backward: (g, { inputs: [x, w, b], attrs: { relu }, out }) => {
    const k = kernels();
    const [outF, inF] = w!.shape;
    const rows = rowsOf(x!.shape);
    let gy = g;
    if (relu) {
      gy = empty(g.shape);
      k.reluBackward(out.ptr, g.ptr, gy.ptr, g.size);
    }
    const gx = x!.requiresGrad ? gemmRaw(gy, false, w!, false, rows, inF, outF, empty(x!.shape)) : null;
    let gw: Tensor | null = null;
    if (w!.requiresGrad) {
      gw = empty(w!.shape);
      if (skipZerosOf(x!, rows, inF, outF, gy, true)) {
        // dWᵀ = xᵀ·dY puts the sparse input on the GEMM's A side, whose zeros it skips; the
        // kernel stores it transposed, as dW.
        parallelGemm(true, false, inF, outF, rows, x!.ptr, inF, gy.ptr, outF, 0, gw.ptr, inF, 0, false, true, true);
      } else gemmRaw(gy, true, x!, false, outF, inF, rows, gw);
    }
    let gb: Tensor | null = null;
    if (b !== null && b.requiresGrad) {
      gb = empty([outF]);
      if (rows === 0) k.fill(gb.ptr, 0, outF);
      else k.reduceSum(gy.ptr, gb.ptr, 1, rows, outF, 1);
    }
    if (gy !== g) gy.dispose();
    return [gx, gw, gb];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    // The fused GEMM epilogue must equal the composition, in values and in gradients.
    reference: {
      composed: (x: Tensor, w: Tensor, b: Tensor | null = null, opts: LinearOptions = {}) => {
        // matmul takes matrices: a 1-D input (which linear accepts, as PyTorch's does) is one row.
        const xw = x.ndim === 1
          ? callOp('reshape', callOp('matmul', callOp('reshape', x, [1, -1]), transpose(w)), [-1])
          : callOp('matmul', x, transpose(w));
        const y = b === null ? xw : add(xw, b);
        return opts.relu === true ? relu(y) : y;
      },
    },
    samples: [
      { label: 'no bias', inputs: [{ shape: [4, 5] }, { shape: [3, 5] }] },
      { label: 'with bias', inputs: [{ shape: [4, 5] }, { shape: [3, 5] }, { shape: [3] }] },
      { label: 'leading batch dims, bias', inputs: [{ shape: [2, 3, 5] }, { shape: [4, 5] }, { shape: [4] }] },
      { label: 'relu', inputs: [{ shape: [4, 5], kind: 'away' }, { shape: [3, 5], kind: 'away' }, { shape: [3], kind: 'away', lo: 0.3, hi: 0.6 }], args: [{ relu: true }] },
      // Found by test/fuzz/ops.fuzz.test.ts: with 0 input features the rows were 0/0 = NaN, the
      // GEMM wrote nothing and the output was uninitialised memory (not relu(bias)).
      { label: '0 input features, bias, relu', inputs: [{ shape: [4, 0] }, { shape: [3, 0] }, { shape: [3] }], args: [{ relu: true }] },
      { label: '1-D input', inputs: [{ shape: [5] }, { shape: [3, 5] }, { shape: [3] }] },
    ],
    badInputs: [
      { label: 'input features differ', call: () => callOp('linear', full([3, 5], 0), full([2, 4], 0)), error: 'linear: input features differ: input [3,5], weight [2,4] expects 4' },
      { label: '3-D weight', call: () => callOp('linear', full([3, 4], 0), full([2, 4, 1], 0)), error: 'linear: weight must be [out, in], got [2,4,1]' },
      { label: 'bias of the wrong size', call: () => callOp('linear', full([3, 4], 0), full([2, 4], 0), full([3], 0)), error: 'linear: bias must be [2] for weight [2,4], got [3]' },
      { label: 'relu not a boolean', call: () => callOp('linear', full([3, 4], 0), full([2, 4], 0), null, { relu: 1 }), error: 'linear: relu must be true or false, got 1' },
      { label: 'unknown option', call: () => callOp('linear', full([3, 4], 0), full([2, 4], 0), null, { bias: true }), error: "linear: unknown option 'bias' (known: relu)" },
    ],
  } : undefined,
});
