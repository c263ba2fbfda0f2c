// Softmax and log-softmax over the last axis (notes §1.3.5.1: z_j = e^{a_j} / Σ_k e^{a_k}).
// Each op is one registry definition (src/ops/registry.ts); kernels in assembly/softmax.ts.
// The graph records { axis } (normalised: always the last axis).
import { kernels } from '../../bindings/index.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertFloat, normAxis } from '../core/validate.js';
import { hostLogSumExp, hostRows } from './host.js';
import { callOp, defineOp, type BadInput, type HostTensor, type OpFn } from './registry.js';

/** The axis normalised; only the last axis is supported. */
function lastAxis(op: string, shape: Shape, axis: number): number {
  if (shape.length === 0) throw new Error(`${op}: needs at least one dimension, got a scalar`);
  const ax = normAxis(op, axis, shape.length);
  if (ax !== shape.length - 1) throw new Error(`${op}: only the last axis is supported (got axis ${axis} for ${fmt(shape)}); permute first`);
  return ax;
}

function rowsCols(shape: Shape): [number, number] {
  const cols = shape[shape.length - 1];
  let size = 1;
  for (const d of shape) size *= d;
  return [cols === 0 ? 0 : size / cols, cols];
}

/** Bad inputs of both row-wise ops. */
function rowwiseBadInputs(name: string): BadInput[] {
  return [
    { label: 'not the last axis', call: () => callOp(name, full([3, 5], 0), 0), error: `${name}: only the last axis is supported (got axis 0 for [3,5]); permute first` },
    { label: 'axis out of range', call: () => callOp(name, full([3, 5], 0), 2), error: `${name}: axis 2 is out of range for a tensor with 2 dimensions` },
    { label: 'a scalar', call: () => callOp(name, full([], 1)), error: `${name}: needs at least one dimension, got a scalar` },
  ];
}

/**
 * A row-wise op over the last axis on the kernels `name` (y from x) and `nameBackward` (dx from
 * y and dy). `rowReference` (its plain-JS value of one row) is undefined without test material.
 */
function defineRowwise(name: 'softmax' | 'logSoftmax', summary: string,
  rowReference: ((row: number[]) => number[]) | undefined): OpFn<[x: Tensor, axis?: number], true> {
  return defineOp({
    name, family: 'softmax', summary, inputs: ['x'], method: true,
    parse: (x: Tensor, axis = -1) => {
      assertFloat(name, x);
      return { inputs: [x], attrs: { axis: lastAxis(name, x.shape, axis) } };
    },
    shape: ([x], { axis }) => {
      lastAxis(name, x!, axis);
      return x!.slice();
    },
    forward: ([x]) => {
      const [rows, cols] = rowsCols(x!.shape);
      const y = empty(x!.shape);
      kernels()[name](x!.ptr, y.ptr, rows, cols);
      return y;
    },
    backward: (g, { out: y }) => {
      const [rows, cols] = rowsCols(y.shape);
      const dx = empty(y.shape);
      kernels()[name === 'softmax' ? 'softmaxBackward' : 'logSoftmaxBackward'](y.ptr, g.ptr, dx.ptr, rows, cols);
      return [dx];
    },
    tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false && rowReference ? {
      reference: { js: (x: HostTensor) => hostRows(x, rowReference) },
      samples: [
        { label: '', inputs: [{ shape: [3, 5], lo: -2, hi: 2 }] },
        { label: '3-D, axis 2', inputs: [{ shape: [2, 3, 4], lo: -2, hi: 2 }], args: [2] },
        { label: '1-D, wide spread', inputs: [{ shape: [7], lo: -6, hi: 6 }] },
      ],
      badInputs: rowwiseBadInputs(name),
    } : undefined,
  });
}

/** Softmax over the last axis. */
export const softmax: OpFn<[x: Tensor, axis?: number], true> = defineRowwise('softmax', 'e^x / Σ e^x over the last axis',
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? (row) => {
    const lse = hostLogSumExp(row);
    return row.map((v) => Math.exp(v - lse));
  } : undefined);

/** log(softmax(x)) over the last axis, computed without forming softmax (stable). */
export const logSoftmax: OpFn<[x: Tensor, axis?: number], true> = defineRowwise('logSoftmax', 'x - log Σ e^x over the last axis',
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? (row) => {
    const lse = hostLogSumExp(row);
    return row.map((v) => v - lse);
  } : undefined);
