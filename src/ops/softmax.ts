// Softmax and log-softmax over any axis (notes §1.3.5.1: z_j = e^{a_j} / Σ_k e^{a_k}).
// Each op is one registry definition (src/ops/registry.ts); kernels in assembly/softmax.ts.
// The graph records { axis } (normalised to a non-negative axis).
//
// The kernels work on contiguous rows. The last axis is already that; any other axis is viewed
// as [outer, n, inner] and its values are gathered to [outer, inner, n] first (one strided
// copy in, one out), which keeps the SIMD row kernels for every axis instead of writing a
// second, strided set of kernels.
import { kernels } from '../../bindings/index.js';
import { bytesPerElement, withInt32Arrays } from '../../bindings/memory.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertFloat, normAxis } from '../core/validate.js';
import { hostLogSumExp, hostRows } from './host.js';
import { callOp, defineOp, type BadInput, type HostTensor, type OpFn } from './registry.js';

/** The axis normalised (any axis of a tensor with at least one dimension). */
function softmaxAxis(op: string, shape: Shape, axis: number): number {
  if (shape.length === 0) throw new Error(`${op}: needs at least one dimension, got a scalar`);
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new Error(`${op}: axis must be an integer, got ${String(axis)}`);
  return normAxis(op, axis, shape.length);
}

/** [outer, n, inner] of `shape` around `axis`. */
function around(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

/**
 * Swaps the last two dims of x viewed as [outer, a, b] into a fresh [outer, b, a] tensor: moves
 * a middle axis to the end (a = n, b = inner) and back (a = inner, b = n).
 */
function swapInner(x: Tensor, outer: number, a: number, b: number): Tensor {
  const out = empty([outer, b, a]);
  if (out.size === 0) return out;
  withInt32Arrays([[outer, b, a], [a * b, 1, b], [a * b, a, 1]], ([sp, ss, ds]) => {
    kernels().copyStrided(x.ptr, out.ptr, 3, sp, ss, ds, bytesPerElement('float32'));
  });
  return out;
}

/** Bad inputs of both row-wise ops. */
function rowwiseBadInputs(name: string): BadInput[] {
  return [
    { label: 'axis out of range', call: () => callOp(name, full([3, 5], 0), 2), error: `${name}: axis 2 is out of range for a tensor with 2 dimensions` },
    { label: 'axis not an integer', call: () => callOp(name, full([3, 5], 0), 0.5), error: `${name}: axis must be an integer, got 0.5` },
    { label: 'a scalar', call: () => callOp(name, full([], 1)), error: `${name}: needs at least one dimension, got a scalar` },
  ];
}

/**
 * A row-wise op over one axis on the kernels `name` (y from x) and `nameBackward` (dx from
 * y and dy). `rowReference` (its plain-JS value of one row) is undefined without test material.
 */
function defineRowwise(name: 'softmax' | 'logSoftmax', summary: string,
  rowReference: ((row: number[]) => number[]) | undefined): OpFn<[x: Tensor, axis?: number], true> {
  return defineOp({
    name, family: 'softmax', summary, inputs: ['x'], method: true,
    parse: (x: Tensor, axis = -1) => {
      assertFloat(name, x);
      return { inputs: [x], attrs: { axis: softmaxAxis(name, x.shape, axis) } };
    },
    shape: ([x], { axis }) => {
      softmaxAxis(name, x!, axis);
      return x!.slice();
    },
    forward: ([x], { axis }) => {
      const [outer, n, inner] = around(x!.shape, axis);
      if (inner === 1) {
        const y = empty(x!.shape);
        kernels()[name](x!.ptr, y.ptr, outer, n);
        return y;
      }
      const xt = swapInner(x!, outer, n, inner);
      kernels()[name](xt.ptr, xt.ptr, outer * inner, n);
      const back = swapInner(xt, outer, inner, n);
      xt.dispose();
      return reshaped(back, x!.shape);
    },
    backward: (g, { attrs: { axis }, out: y }) => {
      const [outer, n, inner] = around(y.shape, axis);
      const kernel = name === 'softmax' ? 'softmaxBackward' : 'logSoftmaxBackward';
      if (inner === 1) {
        const dx = empty(y.shape);
        kernels()[kernel](y.ptr, g.ptr, dx.ptr, outer, n);
        return [dx];
      }
      const yt = swapInner(y, outer, n, inner);
      const gt = swapInner(g, outer, n, inner);
      kernels()[kernel](yt.ptr, gt.ptr, gt.ptr, outer * inner, n);
      const dx = swapInner(gt, outer, inner, n);
      yt.dispose();
      gt.dispose();
      return [reshaped(dx, y.shape)];
    },
    tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false && rowReference ? {
      reference: { js: (x: HostTensor, axis = -1) => hostAlong(x, axis, rowReference) },
      samples: [
        { label: '', inputs: [{ shape: [3, 5], lo: -2, hi: 2 }] },
        { label: '3-D, axis 2', inputs: [{ shape: [2, 3, 4], lo: -2, hi: 2 }], args: [2] },
        { label: '1-D, wide spread', inputs: [{ shape: [7], lo: -6, hi: 6 }] },
        { label: '3-D, middle axis', inputs: [{ shape: [2, 4, 3], lo: -2, hi: 2 }], args: [1] },
        { label: '2-D, axis 0', inputs: [{ shape: [5, 3], lo: -2, hi: 2 }], args: [0] },
      ],
      badInputs: rowwiseBadInputs(name),
    } : undefined,
  });
}

/** A dense tensor of `shape` holding t's values (t is consumed). */
function reshaped(t: Tensor, shape: Shape): Tensor {
  const out = t.shareStorage(shape);
  t.dispose();
  return out;
}

/** Plain-JS row op applied along `axis` (the reference for any axis). */
function hostAlong(x: HostTensor, axis: number, f: (row: number[]) => number[]): HostTensor {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  if (ax === x.shape.length - 1) return hostRows(x, f);
  const [outer, n, inner] = around(x.shape, ax);
  const out = new Array<number>(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const row: number[] = [];
      for (let k = 0; k < n; k++) row.push(x.data[(o * n + k) * inner + i]);
      f(row).forEach((v, k) => (out[(o * n + k) * inner + i] = v));
    }
  }
  return { shape: x.shape, data: out };
}

/** Softmax over one axis (the last by default). */
export const softmax: OpFn<[x: Tensor, axis?: number], true> = defineRowwise('softmax', 'e^x / Σ e^x over an axis (the last by default)',
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? (row) => {
    const lse = hostLogSumExp(row);
    return row.map((v) => Math.exp(v - lse));
  } : undefined);

/** log(softmax(x)) over one axis (the last by default), computed without forming softmax (stable). */
export const logSoftmax: OpFn<[x: Tensor, axis?: number], true> = defineRowwise('logSoftmax', 'x - log Σ e^x over an axis (the last by default)',
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? (row) => {
    const lse = hostLogSumExp(row);
    return row.map((v) => v - lse);
  } : undefined);
