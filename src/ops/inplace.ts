// In-place operations on tensors that are not part of a graph: host data written straight into
// a tensor's memory (batch assembly), the fused optimizer steps (assembly/optim.ts), and the
// gradient clipping primitives. None records autograd history. They exist so that optim/,
// data/ and train/ reach kernels and memory through ops/ and never import bindings/.
import { BinOp, kernels } from '../../bindings/index.js';
import { batchSplits, splitCall, splitGatherRows } from '../../bindings/parallel/index.js';

export { batchSplits };
import { copyElements, read, view, withScratch, write, type TypedData } from '../../bindings/memory.js';
import { Tensor, fmt } from '../core/tensor.js';

function checkRange(where: string, t: Tensor, offset: number, n: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + n > t.size) {
    throw new Error(`${where}: elements [${offset}, ${offset + n}) are outside tensor ${fmt(t.shape)} (${t.size} elements)`);
  }
}

function checkFloat(where: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${where}: expected float32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
}

/** Writes `values` into t from element `offset` on (converted as typed arrays convert). */
export function writeElements(t: Tensor, offset: number, values: ArrayLike<number>): void {
  checkRange('writeElements', t, offset, values.length);
  write(t.dtype, t.ptrAt(offset), values);
}

/**
 * Runs fn on a typed-array view of elements [offset, offset + n) of t, to change them in place
 * (e.g. a data transform). The view is valid only while fn runs and only if fn creates no
 * tensors (an allocation may move the memory).
 */
export function editElements<R>(t: Tensor, offset: number, n: number, fn: (values: TypedData) => R): R {
  checkRange('editElements', t, offset, n);
  return fn(view(t.dtype, t.ptrAt(offset), n));
}

/** A copy of elements [offset, offset + n) of t. */
export function readElements(t: Tensor, offset: number, n: number): TypedData {
  checkRange('readElements', t, offset, n);
  return read(t.dtype, t.ptrAt(offset), n);
}

/**
 * Row k of dst = row rows[k] of src, for rows of `rowSize` elements (dst from its first
 * element on; float32 or int32, the same dtype: the bits are copied). A kernel gathers them
 * in wasm memory, split across threads when there are many (a batch from a data set held in
 * tensors). Row indices outside src are an error naming the first one.
 */
export function gatherRowsInto(dst: Tensor, src: Tensor, rowSize: number, rows: Int32Array): void {
  const where = 'gatherRowsInto';
  if (src.dtype !== dst.dtype || (src.dtype !== 'float32' && src.dtype !== 'int32')) {
    throw new Error(`${where}: src and dst must both be float32 or both int32, got ${src.dtype} ${fmt(src.shape)} and ${dst.dtype} ${fmt(dst.shape)}`);
  }
  if (!Number.isInteger(rowSize) || rowSize < 1 || src.size % rowSize !== 0) {
    throw new Error(`${where}: rowSize must be a positive integer dividing src ${fmt(src.shape)} (${src.size} elements), got ${rowSize}`);
  }
  checkRange(where, dst, 0, rows.length * rowSize);
  const num = src.size / rowSize;
  withScratch('int32', [rows.length], ([idx]) => {
    write('int32', idx, rows);
    const bad = kernels().indexOutOfRange(idx, rows.length, num);
    if (bad >= 0) throw new Error(`${where}: row ${rows[bad]} at position ${bad} is outside src ${fmt(src.shape)} (${num} rows of ${rowSize})`);
    splitGatherRows(src.ptr, rowSize, idx, rows.length, dst.ptr);
  });
}

/** Copies all of src into dst from element `offset` on (same dtype). */
export function copyInto(dst: Tensor, offset: number, src: Tensor): void {
  if (src.dtype !== dst.dtype) throw new Error(`copyInto: ${src.dtype} ${fmt(src.shape)} into a ${dst.dtype} tensor`);
  checkRange('copyInto', dst, offset, src.size);
  copyElements(src.dtype, src.ptr, dst.ptrAt(offset), src.size);
}

/** Sets every element of a float32 tensor to `value`. */
export function fillInPlace(t: Tensor, value: number): void {
  checkFloat('fillInPlace', t);
  kernels().fill(t.ptr, value, t.size);
}

/** Multiplies every element of a float32 tensor by c. */
export function scaleInPlace(t: Tensor, c: number): void {
  checkFloat('scaleInPlace', t);
  kernels().binaryScalar(BinOp.Mul, t.ptr, c, t.ptr, t.size, 0);
}

/** Clamps every element of a float32 tensor into [lo, hi]. */
export function clampInPlace(t: Tensor, lo: number, hi: number): void {
  checkFloat('clampInPlace', t);
  const k = kernels();
  k.binaryScalar(BinOp.Min, t.ptr, hi, t.ptr, t.size, 0);
  k.binaryScalar(BinOp.Max, t.ptr, lo, t.ptr, t.size, 0);
}

/** Σ t² of a float32 tensor (one dot-product kernel call). */
export function sumOfSquares(t: Tensor): number {
  checkFloat('sumOfSquares', t);
  return kernels().dot(t.ptr, t.ptr, t.size);
}

// ---- optimizer steps: w (and the state tensors) change in place, g is read only ----------
// Each is split across threads by element ranges when large enough; Optimizer.step batches
// all its parameters into one parallel job (batchSplits).

/** Per element, in GEMM-flop equivalents: an update (a square root and a division per element) takes about as long as 40 GEMM flops. */
const STEP_COST = 40;
const MOVES3: [number, number][] = [[0, 1], [1, 1], [2, 1]];

function checkStep(where: string, w: Tensor, g: Tensor, state: (Tensor | null)[]): void {
  checkFloat(where, w, g);
  for (const s of [g, ...state]) {
    if (s !== null && s.size !== w.size) throw new Error(`${where}: ${fmt(s.shape)} does not match the parameter ${fmt(w.shape)}`);
  }
}

/** SGD with momentum (notes §1.3.5.3); `velocity` keeps dw, null for plain gradient descent. */
export function sgdUpdate(w: Tensor, g: Tensor, velocity: Tensor | null, lr: number, momentum: number, weightDecay: number): void {
  checkStep('sgdUpdate', w, g, [velocity]);
  splitCall({
    name: 'sgdStep', args: [w.ptr, g.ptr, velocity === null ? 0 : velocity.ptr, w.size, lr, momentum, weightDecay],
    units: w.size, countArg: 3, moves: velocity === null ? [[0, 1], [1, 1]] : [[0, 1], [1, 1], [2, 1]], cost: STEP_COST,
  });
}

/** AdaGrad: h += g'²; w -= lr·g'/(√h + eps). */
export function adagradUpdate(w: Tensor, g: Tensor, h: Tensor, lr: number, eps: number, weightDecay: number): void {
  checkStep('adagradUpdate', w, g, [h]);
  splitCall({ name: 'adagradStep', args: [w.ptr, g.ptr, h.ptr, w.size, lr, eps, weightDecay], units: w.size, countArg: 3, moves: MOVES3, cost: STEP_COST });
}

/** RMSProp: s = ρs + (1−ρ)g'²; w -= lr·g'/(√s + eps). */
export function rmspropUpdate(w: Tensor, g: Tensor, s: Tensor, lr: number, rho: number, eps: number, weightDecay: number): void {
  checkStep('rmspropUpdate', w, g, [s]);
  splitCall({ name: 'rmspropStep', args: [w.ptr, g.ptr, s.ptr, w.size, lr, rho, eps, weightDecay], units: w.size, countArg: 3, moves: MOVES3, cost: STEP_COST });
}

/** Adam / AdamW (decoupled) with bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t. */
export function adamUpdate(
  w: Tensor, g: Tensor, m: Tensor, v: Tensor, lr: number, beta1: number, beta2: number, eps: number,
  weightDecay: number, decoupled: boolean, bc1: number, bc2: number,
): void {
  checkStep('adamUpdate', w, g, [m, v]);
  splitCall({
    name: 'adamStep', args: [w.ptr, g.ptr, m.ptr, v.ptr, w.size, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, bc1, bc2],
    units: w.size, countArg: 4, moves: [[0, 1], [1, 1], [2, 1], [3, 1]], cost: STEP_COST,
  });
}
