// Matrix products on the GEMM kernel. Backward passes use the kernel's transposed operands
// directly (dA = g·Bᵀ, dB = Aᵀ·g): no transpose is ever materialised.
import { kernels, runtime } from '../../bindings/index';
import { record } from '../autograd';
import { Tensor, empty, fmt } from '../tensor';
import { assertFloat } from './util';

/**
 * C = op(A)·op(B) into a fresh [M,N] tensor (optionally + bias per column, ReLU).
 * A, B are dense: A is [M,K] or, transposed, [K,M]; B is [K,N] or, transposed, [N,K].
 */
export function gemmRaw(
  a: Tensor, transA: boolean, b: Tensor, transB: boolean, M: number, N: number, K: number,
  out?: Tensor, bias: Tensor | null = null, relu = false,
): Tensor {
  const c = out ?? empty([M, N]);
  const rt = runtime();
  rt.kernels.gemm(
    transA ? 1 : 0, transB ? 1 : 0, M, N, K, 1,
    a.ptr, transA ? M : K, b.ptr, transB ? K : N, 0, c.ptr, N,
    bias === null ? 0 : bias.ptr, relu ? 1 : 0, rt.gemmWork,
  );
  return c;
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
  const k = kernels();
  const work = runtime().gemmWork;
  const batched = (x: Tensor, tx: boolean, y: Tensor, ty: boolean, c: Tensor, m: number, n: number, kk: number, xs: number, ys: number): Tensor => {
    for (let i = 0; i < B; i++) {
      k.gemm(tx ? 1 : 0, ty ? 1 : 0, m, n, kk, 1, x.ptr + i * xs * 4, tx ? m : kk, y.ptr + i * ys * 4, ty ? kk : n, 0, c.ptr + i * m * n * 4, n, 0, 0, work);
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
