// Reductions over one axis or over everything: sum, mean, max (with the argmax remembered
// for backward), argmax. Every reduction is the kernel's [outer, n, inner] view.
import { BinOp, f32, kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt } from '../core/tensor';
import { assertFloat, assertTensor, normAxis } from '../core/validate';

interface Split {
  outer: number;
  n: number;
  inner: number;
  outShape: number[];
}

function split(op: string, x: Tensor, axis: number | undefined, keepDim: boolean): Split {
  if (axis === undefined) {
    return { outer: 1, n: x.size, inner: 1, outShape: keepDim ? x.shape.map(() => 1) : [] };
  }
  const ax = normAxis(op, axis, x.ndim);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < ax; i++) outer *= x.shape[i];
  for (let i = ax + 1; i < x.ndim; i++) inner *= x.shape[i];
  const outShape = keepDim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  return { outer, n: x.shape[ax], inner, outShape };
}

/** Broadcasts g of shape [outer, inner] back to x's [outer, n, inner] (the adjoint of a sum). */
function expandBack(g: Tensor, s: Split, shape: readonly number[], scale: number): Tensor {
  const out = empty(shape);
  const k = kernels();
  if (s.outer === 1 && s.inner === 1) {
    k.fill(out.ptr, g.data()[0] * scale, out.size);
    return out;
  }
  k.fill(out.ptr, 0, out.size);
  if (s.inner === 1) {
    k.binaryCol(BinOp.Add, out.ptr, g.ptr, out.ptr, s.outer, s.n, 0);
  } else {
    const block = s.n * s.inner * 4;
    for (let o = 0; o < s.outer; o++) {
      k.binaryRow(BinOp.Add, out.ptr + o * block, g.ptr + o * s.inner * 4, out.ptr + o * block, s.n, s.inner, 0);
    }
  }
  if (scale !== 1) k.binaryScalar(BinOp.Mul, out.ptr, scale, out.ptr, out.size, 0);
  return out;
}

function reduceSumRaw(x: Tensor, s: Split, scale: number): Tensor {
  const out = empty(s.outShape);
  if (s.n === 0) kernels().fill(out.ptr, 0, out.size);
  else kernels().reduceSum(x.ptr, out.ptr, s.outer, s.n, s.inner, scale);
  return out;
}

/** Sum over `axis` (all elements when omitted). */
export function sum(x: Tensor, axis?: number, keepDim = false): Tensor {
  assertFloat('sum', x);
  const s = split('sum', x, axis, keepDim);
  const out = reduceSumRaw(x, s, 1);
  return record('sum', out, [x], (g) => [expandBack(g, s, x.shape, 1)]);
}

/** Mean over `axis` (all elements when omitted). */
export function mean(x: Tensor, axis?: number, keepDim = false): Tensor {
  assertFloat('mean', x);
  const s = split('mean', x, axis, keepDim);
  if (s.n === 0) throw new Error(`mean: cannot take the mean over an empty axis of ${fmt(x.shape)}`);
  const out = reduceSumRaw(x, s, 1 / s.n);
  return record('mean', out, [x], (g) => [expandBack(g, s, x.shape, 1 / s.n)]);
}

/** Maximum over `axis` (all elements when omitted); the gradient goes to the first maximum. */
export function max(x: Tensor, axis?: number, keepDim = false): Tensor {
  assertFloat('max', x);
  const s = split('max', x, axis, keepDim);
  if (s.n === 0) throw new Error(`max: cannot reduce an empty axis of ${fmt(x.shape)}`);
  const out = empty(s.outShape);
  const arg = empty(s.outShape, 'int32');
  kernels().reduceMax(x.ptr, out.ptr, arg.ptr, s.outer, s.n, s.inner);
  return record('max', out, [x], (g) => {
    // Scatter g to the remembered argmax positions (outer*inner values, a short loop).
    const dx = empty(x.shape);
    kernels().fill(dx.ptr, 0, dx.size);
    const a = arg.data();
    const gd = g.data();
    const m = f32();
    const base = dx.ptr >>> 2;
    for (let o = 0; o < s.outer; o++) {
      for (let i = 0; i < s.inner; i++) {
        const r = o * s.inner + i;
        m[base + (o * s.n + a[r]) * s.inner + i] = gd[r];
      }
    }
    return [dx];
  }, [arg]);
}

/** Index of the maximum over `axis` (all elements when omitted), as int32. Not differentiable. */
export function argmax(x: Tensor, axis?: number, keepDim = false): Tensor {
  assertTensor('argmax', x);
  assertFloat('argmax', x);
  const s = split('argmax', x, axis, keepDim);
  if (s.n === 0) throw new Error(`argmax: cannot reduce an empty axis of ${fmt(x.shape)}`);
  const vals = empty(s.outShape);
  const arg = empty(s.outShape, 'int32');
  kernels().reduceMax(x.ptr, vals.ptr, arg.ptr, s.outer, s.n, s.inner);
  vals.dispose();
  return arg;
}
