// Matrix products on the GEMM kernel: matmul (2-D, N-D x 2-D, batched) and linear (x·Wᵀ + b,
// with the bias and an optional ReLU fused into the GEMM's store). Backward passes use the
// kernel's transposed operands directly (dA = g·Bᵀ, dB = Aᵀ·g): no transpose is ever
// materialised. Large products are split across threads by bindings/parallel (a GEMM by rows
// or columns of C, a batch by products), which leaves every number as on one thread.
import { kernels } from '../../bindings/index.js';
import { parallelGemm, runPlan } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions } from '../core/validate.js';
import { add, relu } from './elementwise.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';
import { transpose } from './shape.js';

/** @internal C = op(A)·op(B) + beta·C (+ bias per column, ReLU) on pointers, split across threads when worth it. */
export { parallelGemm as gemmCall } from '../../bindings/parallel/index.js';

/**
 * C = op(A)·op(B) into a fresh [M,N] tensor (optionally + bias per column, ReLU).
 * A, B are dense: A is [M,K] or, transposed, [K,M]; B is [K,N] or, transposed, [N,K].
 */
export function gemmRaw(
  a: Tensor, transA: boolean, b: Tensor, transB: boolean, M: number, N: number, K: number,
  out?: Tensor, bias: Tensor | null = null, relu = false,
): Tensor {
  const c = out ?? empty([M, N]);
  parallelGemm(transA, transB, M, N, K, a.ptr, transA ? M : K, b.ptr, transB ? K : N, 0, c.ptr, N, bias === null ? 0 : bias.ptr, relu);
  return c;
}

/**
 * c[i] = op(x[i])·op(y[i]) for i < B: one product per task when there are at least two per
 * thread, else one product after the other, each split across the threads.
 */
function batchedGemm(x: Tensor, tx: boolean, y: Tensor, ty: boolean, c: Tensor, B: number, m: number, n: number, k: number): Tensor {
  runPlan({
    flops: 2 * B * m * n * k, items: B, minItemsPerThread: 2,
    work: (s, i) => s.gemm(tx, ty, m, n, k, x.ptrAt(i * m * k), tx ? m : k, y.ptrAt(i * k * n), ty ? k : n, 0, c.ptrAt(i * m * n), n),
  });
  return c;
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

/** Plain-JS matmul for the reference: 2-D b applies to every row of a; 3-D operands are batched. */
function hostMatmul(a: HostTensor, b: HostTensor): HostTensor {
  const K = a.shape[a.shape.length - 1];
  const N = b.shape[b.shape.length - 1];
  const batched = b.shape.length === 3;
  const B = batched ? b.shape[0] : 1;
  const M = batched ? a.shape[1] : rowsOf(a.shape);
  const out = new Array<number>(B * M * N).fill(0);
  for (let i = 0; i < B; i++) {
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < N; c++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[(i * M + r) * K + k] * b.data[(i * K + k) * N + c];
        out[(i * M + r) * N + c] = s;
      }
    }
  }
  return { shape: batched ? [B, M, N] : [...a.shape.slice(0, -1), N], data: out };
}

/**
 * Matrix product. [M,K]·[K,N] -> [M,N]; [..., M, K]·[K, N] -> [..., M, N] (leading dims
 * flattened); [B, M, K]·[B, K, N] -> [B, M, N] (batched).
 */
export const matmul: OpFn<[a: Tensor, b: Tensor], true> = defineOp({
  name: 'matmul', family: 'matmul', summary: 'matrix product ([M,K]·[K,N], [...,M,K]·[K,N], batched [B,M,K]·[B,K,N])',
  inputs: ['a', 'b'], method: true,
  parse: (a: Tensor, b: Tensor) => {
    assertFloat('matmul', a, b);
    return { inputs: [a, b], attrs: {} };
  },
  shape: ([a, b]) => {
    if (a!.length < 2 || b!.length < 2) throw new Error(`matmul: both operands need at least 2 dimensions, got ${fmt(a!)} x ${fmt(b!)}`);
    const K = a![a!.length - 1];
    if (b![b!.length - 2] !== K) throw new Error(`matmul: inner dimensions differ: ${fmt(a!)} x ${fmt(b!)}`);
    if (b!.length === 2) return [...a!.slice(0, -1), b![1]];
    if (a!.length !== 3 || b!.length !== 3 || a![0] !== b![0]) {
      throw new Error(`matmul: batched operands must both be [B,M,K] x [B,K,N] with the same B, got ${fmt(a!)} x ${fmt(b!)}`);
    }
    return [a![0], a![1], b![2]];
  },
  forward: ([a, b], _attrs, shape) => {
    const K = a!.shape[a!.ndim - 1];
    if (b!.ndim === 2) return gemmRaw(a!, false, b!, false, rowsOf(a!.shape), b!.shape[1], K, empty(shape));
    return batchedGemm(a!, false, b!, false, empty(shape), a!.shape[0], a!.shape[1], shape[2], K);
  },
  backward: (g, { inputs: [a, b] }) => {
    const K = a!.shape[a!.ndim - 1];
    const N = b!.shape[b!.ndim - 1];
    if (b!.ndim === 2) {
      const M = rowsOf(a!.shape);
      return [
        a!.requiresGrad ? gemmRaw(g, false, b!, true, M, K, N, empty(a!.shape)) : null,
        b!.requiresGrad ? gemmRaw(a!, true, g, false, K, N, M, empty(b!.shape)) : null,
      ];
    }
    const [B, M] = a!.shape;
    return [
      a!.requiresGrad ? batchedGemm(g, false, b!, true, empty(a!.shape), B, M, K, N) : null,
      b!.requiresGrad ? batchedGemm(a!, true, g, false, empty(b!.shape), B, K, N, M) : null,
    ];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: hostMatmul },
    samples: [
      { label: '2-D', inputs: [{ shape: [3, 5] }, { shape: [5, 4] }] },
      { label: 'N-D x 2-D', inputs: [{ shape: [2, 3, 5] }, { shape: [5, 2] }] },
      { label: 'batched', inputs: [{ shape: [2, 3, 5] }, { shape: [2, 5, 2] }] },
      // Found by test/fuzz/ops.fuzz.test.ts: K = 0 left the output uninitialised (it must be zeros).
      { label: 'inner dimension 0', inputs: [{ shape: [3, 0] }, { shape: [0, 4] }] },
    ],
    badInputs: [
      { label: 'inner dimensions differ', call: () => callOp('matmul', full([64, 784], 0), full([128, 10], 0)), error: 'matmul: inner dimensions differ: [64,784] x [128,10]' },
      { label: 'a vector', call: () => callOp('matmul', full([3], 0), full([3, 2], 0)), error: 'matmul: both operands need at least 2 dimensions, got [3] x [3,2]' },
      { label: 'batch sizes differ', call: () => callOp('matmul', full([2, 3, 4], 0), full([3, 4, 5], 0)), error: 'matmul: batched operands must both be [B,M,K] x [B,K,N] with the same B, got [2,3,4] x [3,4,5]' },
    ],
  } : undefined,
});

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
    return gemmRaw(x!, false, w!, true, rowsOf(x!.shape), outF, inF, empty(shape), b, relu);
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
    const gw = w!.requiresGrad ? gemmRaw(gy, true, x!, false, outF, inF, rows, empty(w!.shape)) : null;
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
