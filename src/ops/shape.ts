// Shape ops: reshape (a view), permute/transpose and slice (one strided kernel call),
// concat (contiguous block copies), detach.
import { BinOp, f32, kernels } from '../../bindings/index';
import { withInt32Arrays } from '../../bindings/memory';
import { record } from '../core/autograd';
import { Tensor, checkShape, empty, fmt, sizeOf, type Shape } from '../core/tensor';
import { assertTensor, normAxis } from '../core/validate';

/** Same data, new shape (one dimension may be -1). Shares memory with x. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  assertTensor('reshape', x);
  const s = shape.slice();
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0) throw new Error(`reshape: only one dimension can be -1, got ${fmt(shape)}`);
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)}`);
    s[infer] = x.size / rest;
  }
  checkShape('reshape', s);
  if (sizeOf(s) !== x.size) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)}`);
  const out = x.shareStorage(s);
  return record('reshape', out, [x], (g) => [g.shareStorage(x.shape)]);
}

/** Flattens dims from startDim on: [N, C, H, W] -> [N, C*H*W] by default. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  assertTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s))]);
}

/** A tensor with the same values, cut from the graph (shares memory). */
export function detach(x: Tensor): Tensor {
  assertTensor('detach', x);
  return x.shareStorage(x.shape);
}

function contiguousStrides(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/** Gathers x read through `strides` (from element `offset`) into a dense tensor of `shape`. */
function gatherStrided(x: Tensor, offset: number, shape: readonly number[], strides: readonly number[]): Tensor {
  const out = empty(shape, x.dtype);
  if (out.size === 0) return out;
  if (shape.length === 0) {
    f32()[out.ptr >>> 2] = f32()[(x.ptr >>> 2) + offset];
    return out;
  }
  // max(v, v) == v bit for bit, so the broadcasting kernel doubles as a strided copy.
  const p = x.ptr + offset * 4;
  withInt32Arrays([shape, strides], ([sp, st]) => {
    kernels().binaryStrided(BinOp.Max, p, p, out.ptr, shape.length, sp, st, st);
  });
  return out;
}

/** Reorders dimensions: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  assertTensor('permute', x);
  if (x.dtype !== 'float32') throw new Error(`permute: expected a float32 tensor, got ${x.dtype}`);
  if (dims.length !== x.ndim) throw new Error(`permute: ${dims.length} dims given for a tensor with ${x.ndim}: ${fmt(dims)} for ${fmt(x.shape)}`);
  const d = dims.map((a) => normAxis('permute', a, x.ndim));
  if (new Set(d).size !== d.length) throw new Error(`permute: dims ${fmt(dims)} repeat an axis`);
  const st = contiguousStrides(x.shape);
  const shape = d.map((a) => x.shape[a]);
  const out = gatherStrided(x, 0, shape, d.map((a) => st[a]));
  const inverse = new Array<number>(d.length);
  d.forEach((a, i) => (inverse[a] = i));
  return record('permute', out, [x], (g) => [permute(g, inverse)]);
}

/** Swaps two dimensions (the last two by default: the matrix transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  assertTensor('transpose', x);
  if (x.ndim < 2) return reshape(x, x.shape);
  const a = normAxis('transpose', dim0, x.ndim);
  const b = normAxis('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** The block x[begin[0]:begin[0]+size[0], ...]; size -1 means "to the end". */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  assertTensor('slice', x);
  if (x.dtype !== 'float32') throw new Error(`slice: expected a float32 tensor, got ${x.dtype}`);
  if (begin.length !== x.ndim || (size !== undefined && size.length !== x.ndim)) {
    throw new Error(`slice: begin ${fmt(begin)} and size ${size ? fmt(size) : '(to end)'} need one entry per dim of ${fmt(x.shape)}`);
  }
  const sz = x.shape.map((d, i) => {
    const s = size === undefined || size[i] === -1 ? d - begin[i] : size[i];
    if (!Number.isInteger(begin[i]) || !Number.isInteger(s) || begin[i] < 0 || s < 0 || begin[i] + s > d) {
      throw new Error(`slice: begin ${fmt(begin)} size ${size ? fmt(size) : '(to end)'} is outside ${fmt(x.shape)} on axis ${i}`);
    }
    return s;
  });
  const out = sliceRaw(x, begin, sz);
  return record('slice', out, [x], (g) => {
    const dx = empty(x.shape);
    kernels().fill(dx.ptr, 0, dx.size);
    scatterBlock(g, dx, begin);
    return [dx];
  });
}

/** Writes the dense block `src` into `dst` at `begin` (copies of contiguous innermost runs). */
function scatterBlock(src: Tensor, dst: Tensor, begin: readonly number[]): void {
  const m = f32();
  const nd = dst.ndim;
  if (src.size === 0) return;
  const dst_st = contiguousStrides(dst.shape);
  const run = src.shape[nd - 1];
  const rows = src.size / run;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  const sp = src.ptr >>> 2;
  const dp = dst.ptr >>> 2;
  for (let r = 0; r < rows; r++) {
    let off = begin[nd - 1];
    for (let i = 0; i < nd - 1; i++) off += (begin[i] + idx[i]) * dst_st[i];
    m.copyWithin(dp + off, sp + r * run, sp + (r + 1) * run);
    for (let i = nd - 2; i >= 0; i--) {
      if (++idx[i] < src.shape[i]) break;
      idx[i] = 0;
    }
  }
}

/** Joins tensors along `axis`; all other dims must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('concat: needs a non-empty array of tensors');
  tensors.forEach((t) => assertTensor('concat', t));
  const first = tensors[0];
  const ax = normAxis('concat', axis, first.ndim);
  for (const t of tensors) {
    if (t.dtype !== first.dtype || t.ndim !== first.ndim || t.shape.some((d: number, i: number) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes differ off axis ${ax}: ${tensors.map((x) => fmt(x.shape) + ' ' + x.dtype).join(', ')}`);
    }
  }
  const total = tensors.reduce((s, t) => s + t.shape[ax], 0);
  const shape = first.shape.slice();
  shape[ax] = total;
  const out = empty(shape, first.dtype);
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  const m = f32();
  const op = out.ptr >>> 2;
  let at = 0;
  for (const t of tensors) {
    const run = t.shape[ax] * inner;
    const tp = t.ptr >>> 2;
    for (let o = 0; o < outer; o++) m.copyWithin(op + o * total * inner + at, tp + o * run, tp + (o + 1) * run);
    at += run;
  }
  return record('concat', out, tensors.slice(), (g) => {
    let start = 0;
    return tensors.map((t) => {
      const b = first.shape.map(() => 0);
      b[ax] = start;
      start += t.shape[ax];
      return t.requiresGrad ? sliceRaw(g, b, t.shape.slice()) : null;
    });
  });
}

/** The block at `begin` of size `size` as a dense tensor (no checks, no graph). */
function sliceRaw(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  const st = contiguousStrides(x.shape);
  let offset = 0;
  for (let i = 0; i < x.ndim; i++) offset += begin[i] * st[i];
  return gatherStrided(x, offset, size, st);
}
