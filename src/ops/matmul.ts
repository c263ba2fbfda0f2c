// Matrix products on the GEMM kernel. Backward passes use the kernel's transposed operands
// directly (dA = g·Bᵀ, dB = Aᵀ·g): no transpose is ever materialised.
//
// Large products are split across threads (bindings/threads.ts): by rows of C in multiples
// of the kernel's 4-row tile, or, when C has few rows, by columns in multiples of its 8-column
// tile. Every element of C is then computed by the same sequence of operations as on one
// thread, so threaded results are bitwise identical to single-threaded ones.
import { kernels, runtime } from '../../bindings/index';
import { Job, threadsFor } from '../../bindings/threads';
import { record } from '../core/autograd';
import { Tensor, empty, fmt } from '../core/tensor';
import { assertFloat } from '../core/validate';

/**
 * C = op(A)·op(B) into a fresh [M,N] tensor (optionally + bias per column, ReLU).
 * A, B are dense: A is [M,K] or, transposed, [K,M]; B is [K,N] or, transposed, [N,K].
 */
export function gemmRaw(
  a: Tensor, transA: boolean, b: Tensor, transB: boolean, M: number, N: number, K: number,
  out?: Tensor, bias: Tensor | null = null, relu = false,
): Tensor {
  const c = out ?? empty([M, N]);
  gemmCall(transA, transB, M, N, K, a.ptr, transA ? M : K, b.ptr, transB ? K : N, 0, c.ptr, N, bias === null ? 0 : bias.ptr, relu);
  return c;
}

const MR = 4; // rows of the GEMM kernel's register tile
const NR = 8; // columns

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/**
 * @internal C = op(A)·op(B) + beta·C (+ bias per column, ReLU) on raw pointers, split
 * across threads when it is worth it (2·M·N·K flops; see threadsFor).
 */
export function gemmCall(
  transA: boolean, transB: boolean, M: number, N: number, K: number, a: number, lda: number,
  b: number, ldb: number, beta: number, c: number, ldc: number, bias = 0, relu = false,
): void {
  const maxParts = Math.max(Math.ceil(M / MR), Math.ceil(N / NR));
  const T = M > 0 && N > 0 && K > 0 ? threadsFor(2 * M * N * K, maxParts) : 1;
  if (T === 1) {
    const rt = runtime();
    rt.kernels.gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, 1, a, lda, b, ldb, beta, c, ldc, bias, relu ? 1 : 0, rt.gemmWork);
    return;
  }
  const job = new Job(T);
  // Rows unless C is short and wide: then each thread would re-pack all of B for a few rows.
  if (M >= N || M >= 32 * T || Math.ceil(N / NR) < T) {
    const rows = roundUp(Math.ceil(M / T), MR);
    for (let i0 = 0; i0 < M; i0 += rows) {
      const m = Math.min(rows, M - i0);
      const ai = transA ? a + i0 * 4 : a + i0 * lda * 4;
      job.task().gemm(transA, transB, m, N, K, ai, lda, b, ldb, beta, c + i0 * ldc * 4, ldc, bias, relu);
    }
  } else {
    const cols = roundUp(Math.ceil(N / T), NR);
    for (let j0 = 0; j0 < N; j0 += cols) {
      const n = Math.min(cols, N - j0);
      const bj = transB ? b + j0 * ldb * 4 : b + j0 * 4;
      job.task().gemm(transA, transB, M, n, K, a, lda, bj, ldb, beta, c + j0 * 4, ldc, bias === 0 ? 0 : bias + j0 * 4, relu);
    }
  }
  job.run();
}

/**
 * Matrix product. [M,K]·[K,N] -> [M,N]; [..., M, K]·[K, N] -> [..., M, N] (leading dims
 * flattened); [B, M, K]·[B, K, N] -> [B, M, N] (batched).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertFloat('matmul', a, b);
  if (a.ndim < 2 || b.ndim < 2) {
    throw new Error(`matmul: both operands need at least 2 dimensions, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
  }
  const K = a.shape[a.ndim - 1];
  if (b.shape[b.ndim - 2] !== K) {
    throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
  }
  if (b.ndim === 2) {
    const N = b.shape[1];
    const M = a.size / K;
    const outShape = [...a.shape.slice(0, -1), N];
    const out = gemmRaw(a, false, b, false, M, N, K, empty(outShape));
    return record('matmul', out, [a, b], (g) => [
      a.requiresGrad ? gemmRaw(g, false, b, true, M, K, N, empty(a.shape)) : null,
      b.requiresGrad ? gemmRaw(a, true, g, false, K, N, M, empty(b.shape)) : null,
    ]);
  }
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new Error(`matmul: batched operands must both be [B,M,K] x [B,K,N] with the same B, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
  }
  const [B, M] = a.shape;
  const N = b.shape[2];
  const out = empty([B, M, N]);
  const batched = (x: Tensor, tx: boolean, y: Tensor, ty: boolean, c: Tensor, m: number, n: number, kk: number, xs: number, ys: number): Tensor => {
    const item = (job: Job | null, i: number): void => {
      const args = [tx, ty, m, n, kk, x.ptr + i * xs * 4, tx ? m : kk, y.ptr + i * ys * 4, ty ? kk : n, 0, c.ptr + i * m * n * 4, n] as const;
      if (job === null) gemmCall(...args);
      else job.gemm(...args);
    };
    // One task per product when there are enough of them, else each product is split.
    const T = m > 0 && n > 0 && kk > 0 && B > 1 ? threadsFor(2 * B * m * n * kk, B) : 1;
    if (T === 1 || B < 2 * T) {
      for (let i = 0; i < B; i++) item(null, i);
    } else {
      for (let i0 = 0; i0 < B; i0 += 1024) {
        const job = new Job(T);
        for (let i = i0; i < Math.min(B, i0 + 1024); i++) item(job.task(), i);
        job.run();
      }
    }
    return c;
  };
  batched(a, false, b, false, out, M, N, K, M * K, K * N);
  return record('matmul', out, [a, b], (g) => [
    a.requiresGrad ? batched(g, false, b, true, empty(a.shape), M, K, N, M * N, K * N) : null,
    b.requiresGrad ? batched(a, true, g, false, empty(b.shape), K, N, M, M * K, M * N) : null,
  ]);
}

/**
 * Fully connected layer y = x·Wᵀ + b, with W stored [out, in] as in PyTorch, the bias and an
 * optional ReLU fused into the GEMM's store. x may have leading batch dims.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: { relu?: boolean } = {}): Tensor {
  assertFloat('linear', x, weight);
  if (bias !== null) assertFloat('linear', bias);
  if (weight.ndim !== 2) throw new Error(`linear: weight must be [out, in], got ${fmt(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: input features differ: input ${fmt(x.shape)}, weight ${fmt(weight.shape)} expects ${inF}`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias must be [${outF}] for weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  }
  const rows = x.size / inF;
  const relu = opts.relu === true;
  const y = gemmRaw(x, false, weight, true, rows, outF, inF, empty([...x.shape.slice(0, -1), outF]), bias, relu);
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record(relu ? 'linear+relu' : 'linear', y, inputs, (g) => {
    const k = kernels();
    let gy = g;
    if (relu) {
      gy = empty(g.shape);
      k.reluBackward(y.ptr, g.ptr, gy.ptr, g.size);
    }
    const gx = x.requiresGrad ? gemmRaw(gy, false, weight, false, rows, inF, outF, empty(x.shape)) : null;
    const gw = weight.requiresGrad ? gemmRaw(gy, true, x, false, outF, inF, rows, empty(weight.shape)) : null;
    let gb: Tensor | null = null;
    if (bias !== null && bias.requiresGrad) {
      gb = empty([outF]);
      if (rows === 0) k.fill(gb.ptr, 0, outF);
      else k.reduceSum(gy.ptr, gb.ptr, 1, rows, outF, 1);
    }
    if (gy !== g) gy.dispose();
    return bias === null ? [gx, gw] : [gx, gw, gb];
  });
}
