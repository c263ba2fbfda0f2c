// Reductions over one axis or over everything: sum, mean, max (with the argmax remembered
// for backward), argmax. Every reduction is the kernel's [outer, n, inner] view; kernels in
// assembly/reduce.ts. Each op is one registry definition (src/ops/registry.ts); the graph
// records { axis (normalised, null for all), keepDim }.
import { BinOp, kernels } from '../../bindings/index.js';
import { splitReduceSum } from '../../bindings/parallel/index.js';
import { readAt } from '../../bindings/memory.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, normAxis } from '../core/validate.js';
import { hostReduce } from './host.js';
import { callOp, defineOp, type BadInput, type HostTensor, type OpFn } from './registry.js';

interface ReduceAttrs {
  /** The reduced axis (>= 0), or null for all elements. */
  axis: number | null;
  keepDim: boolean;
}

interface Split {
  outer: number;
  n: number;
  inner: number;
  outShape: number[];
}

function split(op: string, shape: Shape, axis: number | null, keepDim: boolean): Split {
  if (axis === null) {
    let n = 1;
    for (const d of shape) n *= d;
    return { outer: 1, n, inner: 1, outShape: keepDim ? shape.map(() => 1) : [] };
  }
  const ax = normAxis(op, axis, shape.length);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < ax; i++) outer *= shape[i];
  for (let i = ax + 1; i < shape.length; i++) inner *= shape[i];
  const outShape = keepDim ? shape.map((d, i) => (i === ax ? 1 : d)) : shape.filter((_, i) => i !== ax);
  return { outer, n: shape[ax], inner, outShape };
}

/** Checks x and the arguments; the axis is normalised against x (null: all elements). */
function parseReduce(op: string, x: Tensor, axis: number | undefined, keepDim: boolean): { inputs: Tensor[]; attrs: ReduceAttrs } {
  assertFloat(op, x);
  assertBoolean(op, 'keepDim', keepDim);
  return { inputs: [x], attrs: { axis: axis === undefined ? null : normAxis(op, axis, x.ndim), keepDim } };
}

/** Broadcasts g of shape [outer, inner] back to x's [outer, n, inner] (the adjoint of a sum). */
function expandBack(g: Tensor, s: Split, shape: Shape, scale: number): Tensor {
  const out = empty(shape);
  const k = kernels();
  if (s.outer === 1 && s.inner === 1) {
    k.fill(out.ptr, readAt('float32', g.ptr, 0) * scale, out.size);
    return out;
  }
  k.fill(out.ptr, 0, out.size);
  if (s.inner === 1) {
    k.binaryCol(BinOp.Add, out.ptr, g.ptr, out.ptr, s.outer, s.n, 0);
  } else {
    for (let o = 0; o < s.outer; o++) {
      const block = out.ptrAt(o * s.n * s.inner);
      k.binaryRow(BinOp.Add, block, g.ptrAt(o * s.inner), block, s.n, s.inner, 0);
    }
  }
  if (scale !== 1) k.binaryScalar(BinOp.Mul, out.ptr, scale, out.ptr, out.size, 0);
  return out;
}

function reduceSumRaw(x: Tensor, s: Split, scale: number): Tensor {
  const out = empty(s.outShape);
  if (s.n === 0) kernels().fill(out.ptr, 0, out.size);
  else splitReduceSum(x.ptr, out.ptr, s.outer, s.n, s.inner, scale);
  return out;
}

const U34 = { shape: [3, 4] } as const;
const D34 = { shape: [3, 4], kind: 'distinct' } as const;

const hostSum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
const hostArgmax = (v: number[]): number => v.indexOf(Math.max(...v));

/** Bad inputs every reduction shares: an axis out of range, keepDim not a boolean. */
function reduceBadInputs(op: string): BadInput[] {
  return [
    { label: 'axis out of range', call: () => callOp(op, full([2, 3], 1), 2), error: `${op}: axis 2 is out of range for a tensor with 2 dimensions` },
    { label: 'fractional axis', call: () => callOp(op, full([2, 3], 1), 0.5), error: `${op}: axis 0.5 is out of range for a tensor with 2 dimensions` },
    { label: 'keepDim not a boolean', call: () => callOp(op, full([2, 3], 1), 0, 1), error: `${op}: keepDim must be true or false, got 1` },
  ];
}

/** Sum over `axis` (all elements when omitted). */
export const sum: OpFn<[x: Tensor, axis?: number, keepDim?: boolean], true> = defineOp({
  name: 'sum', family: 'reduce', summary: 'sum over an axis or over all elements', inputs: ['x'], method: true,
  parse: (x: Tensor, axis?: number, keepDim = false) => parseReduce('sum', x, axis, keepDim),
  shape: ([x], { axis, keepDim }) => split('sum', x!, axis, keepDim).outShape,
  forward: ([x], { axis, keepDim }) => reduceSumRaw(x!, split('sum', x!.shape, axis, keepDim), 1),
  backward: (g, { inputs: [x], attrs: { axis, keepDim } }) => [expandBack(g, split('sum', x!.shape, axis, keepDim), x!.shape, 1)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, axis?: number, keepDim = false) => hostReduce(x, axis, keepDim, hostSum) },
    samples: [
      { label: 'all', inputs: [U34] },
      { label: 'axis 0', inputs: [U34], args: [0] },
      { label: 'axis 1 keepDim', inputs: [U34], args: [1, true] },
      { label: 'middle axis', inputs: [{ shape: [2, 3, 4] }], args: [1] },
      { label: 'all, keepDim', inputs: [{ shape: [2, 3] }], args: [undefined, true] },
      { label: 'empty axis (zeros)', inputs: [{ shape: [2, 0, 3] }], args: [1] },
    ],
    badInputs: reduceBadInputs('sum'),
  } : undefined,
});

/** Mean over `axis` (all elements when omitted). */
export const mean: OpFn<[x: Tensor, axis?: number, keepDim?: boolean], true> = defineOp({
  name: 'mean', family: 'reduce', summary: 'mean over an axis or over all elements', inputs: ['x'], method: true,
  parse: (x: Tensor, axis?: number, keepDim = false) => parseReduce('mean', x, axis, keepDim),
  shape: ([x], { axis, keepDim }) => {
    const s = split('mean', x!, axis, keepDim);
    if (s.n === 0) throw new Error(`mean: cannot take the mean over an empty axis of ${fmt(x!)}`);
    return s.outShape;
  },
  forward: ([x], { axis, keepDim }) => {
    const s = split('mean', x!.shape, axis, keepDim);
    return reduceSumRaw(x!, s, 1 / s.n);
  },
  backward: (g, { inputs: [x], attrs: { axis, keepDim } }) => {
    const s = split('mean', x!.shape, axis, keepDim);
    return [expandBack(g, s, x!.shape, 1 / s.n)];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, axis?: number, keepDim = false) => hostReduce(x, axis, keepDim, (v) => hostSum(v) / v.length) },
    samples: [
      { label: 'all', inputs: [U34] },
      { label: 'axis -1', inputs: [U34], args: [-1] },
      { label: 'axis 0 keepDim', inputs: [{ shape: [3, 2, 5] }], args: [0, true] },
    ],
    badInputs: [
      ...reduceBadInputs('mean'),
      { label: 'empty axis', call: () => callOp('mean', full([2, 0], 1), 1), error: 'mean: cannot take the mean over an empty axis of [2,0]' },
      { label: 'empty tensor', call: () => callOp('mean', full([0, 3], 1)), error: 'mean: cannot take the mean over an empty axis of [0,3]' },
    ],
  } : undefined,
});

/** The split of a max-like reduction, which needs at least one element on the reduced axis. */
function nonEmptySplit(op: string, shape: Shape, axis: number | null, keepDim: boolean): Split {
  const s = split(op, shape, axis, keepDim);
  if (s.n === 0) throw new Error(`${op}: cannot reduce an empty axis of ${fmt(shape)}`);
  return s;
}

/** The maxima and the index of the first maximum along the split's axis (one kernel call). */
function maxWithArgmax(x: Tensor, s: Split, outShape: number[]): [Tensor, Tensor] {
  const vals = empty(outShape);
  const arg = empty(outShape, 'int32');
  kernels().reduceMax(x.ptr, vals.ptr, arg.ptr, s.outer, s.n, s.inner);
  return [vals, arg];
}

/** Maximum over `axis` (all elements when omitted); the gradient goes to the first maximum. */
export const max: OpFn<[x: Tensor, axis?: number, keepDim?: boolean], true> = defineOp({
  name: 'max', family: 'reduce', summary: 'maximum over an axis or over all elements (gradient to the first maximum)',
  inputs: ['x'], method: true,
  parse: (x: Tensor, axis?: number, keepDim = false) => parseReduce('max', x, axis, keepDim),
  shape: ([x], { axis, keepDim }) => nonEmptySplit('max', x!, axis, keepDim).outShape,
  forward: ([x], { axis, keepDim }, outShape) => {
    const [out, arg] = maxWithArgmax(x!, split('max', x!.shape, axis, keepDim), outShape);
    return { out, saved: [arg] };
  },
  backward: (g, { inputs: [x], attrs: { axis, keepDim }, saved: [arg] }) => {
    const s = split('max', x!.shape, axis, keepDim);
    const dx = empty(x!.shape);
    kernels().reduceMaxBackward(g.ptr, arg.ptr, dx.ptr, s.outer, s.n, s.inner);
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, axis?: number, keepDim = false) => hostReduce(x, axis, keepDim, (v) => Math.max(...v)) },
    samples: [
      { label: 'axis 1', inputs: [D34], args: [1] },
      { label: 'all', inputs: [D34] },
      { label: 'middle axis keepDim', inputs: [{ shape: [2, 5, 3], kind: 'distinct' }], args: [1, true] },
      { label: 'axis 0', inputs: [{ shape: [7, 3], kind: 'distinct' }], args: [0] },
    ],
    badInputs: [
      ...reduceBadInputs('max'),
      { label: 'empty axis', call: () => callOp('max', full([0, 3], 1), 0), error: 'max: cannot reduce an empty axis of [0,3]' },
    ],
  } : undefined,
});

/** Index of the maximum over `axis` (all elements when omitted), as int32. Not differentiable. */
export const argmax: OpFn<[x: Tensor, axis?: number, keepDim?: boolean], true> = defineOp({
  name: 'argmax', family: 'reduce', summary: 'index of the (first) maximum over an axis or over all elements, as int32',
  inputs: ['x'], method: true,
  parse: (x: Tensor, axis?: number, keepDim = false) => parseReduce('argmax', x, axis, keepDim),
  shape: ([x], { axis, keepDim }) => nonEmptySplit('argmax', x!, axis, keepDim).outShape,
  forward: ([x], { axis, keepDim }, outShape) => {
    const [vals, arg] = maxWithArgmax(x!, split('argmax', x!.shape, axis, keepDim), outShape);
    vals.dispose();
    return arg;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, axis?: number, keepDim = false) => hostReduce(x, axis, keepDim, hostArgmax) },
    samples: [
      { label: 'axis 1', inputs: [D34], args: [1] },
      { label: 'all', inputs: [D34] },
      { label: 'axis 0 keepDim', inputs: [{ shape: [4, 3, 2], kind: 'distinct' }], args: [0, true] },
      { label: 'ties pick the first', inputs: [{ shape: [2, 4], kind: 'values', values: [1, 3, 3, 0, 2, 2, 2, 2] }], args: [1] },
    ],
    badInputs: [
      ...reduceBadInputs('argmax'),
      { label: 'empty axis', call: () => callOp('argmax', full([2, 0], 1), 1), error: 'argmax: cannot reduce an empty axis of [2,0]' },
    ],
  } : undefined,
});
