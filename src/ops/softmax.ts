// Softmax and log-softmax over the last axis (notes §1.3.5.1: z_j = e^{a_j} / Σ_k e^{a_k}).
import { kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt } from '../core/tensor';
import { assertFloat, normAxis } from '../core/validate';

function rowsCols(op: string, x: Tensor, axis: number): [number, number] {
  if (x.ndim === 0) throw new Error(`${op}: needs at least one dimension, got a scalar`);
  const ax = normAxis(op, axis, x.ndim);
  if (ax !== x.ndim - 1) throw new Error(`${op}: only the last axis is supported (got axis ${axis} for ${fmt(x.shape)}); permute first`);
  const cols = x.shape[x.ndim - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Softmax over the last axis. */
export function softmax(x: Tensor, axis = -1): Tensor {
  assertFloat('softmax', x);
  const [rows, cols] = rowsCols('softmax', x, axis);
  const y = empty(x.shape);
  kernels().softmax(x.ptr, y.ptr, rows, cols);
  return record('softmax', y, [x], (g) => {
    const dx = empty(x.shape);
    kernels().softmaxBackward(y.ptr, g.ptr, dx.ptr, rows, cols);
    return [dx];
  });
}

/** log(softmax(x)) over the last axis, computed without forming softmax (stable). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  assertFloat('logSoftmax', x);
  const [rows, cols] = rowsCols('logSoftmax', x, axis);
  const y = empty(x.shape);
  kernels().logSoftmax(x.ptr, y.ptr, rows, cols);
  return record('logSoftmax', y, [x], (g) => {
    const dx = empty(x.shape);
    kernels().logSoftmaxBackward(y.ptr, g.ptr, dx.ptr, rows, cols);
    return [dx];
  });
}
