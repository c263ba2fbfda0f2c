// Shape ops: reshape and detach (views sharing storage), flatten and transpose (composed of
// reshape and permute), permute, slice and concat (strided block copies: the copyStrided
// kernel in assembly/shape.ts, for any dtype). Each op is one registry definition
// (src/ops/registry.ts). The graph records reshape { shape } (as requested, -1 allowed),
// permute { dims }, slice { begin, size } and concat { axis }, axes normalised.
import { kernels } from '../../bindings/index.js';
import { bytesPerElement, withInt32Arrays } from '../../bindings/memory.js';
import { Tensor, checkShape, empty, fmt, full, sizeOf, stridesOf, type Shape } from '../core/tensor.js';
import { assertFloat, assertTensor, normAxis } from '../core/validate.js';
import { hostAt, hostGenerate } from './host.js';
import { callOp, defineComposite, defineOp, type HostTensor, type InputSpec, type OpFn } from './registry.js';

/**
 * For every index i of `shape`: dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides]
 * (offsets and strides in elements; src and dst of one dtype, not overlapping).
 */
function copyBlock(src: Tensor, srcOffset: number, srcStrides: readonly number[],
  dst: Tensor, dstOffset: number, dstStrides: readonly number[], shape: readonly number[]): void {
  if (sizeOf(shape) === 0) return;
  withInt32Arrays([shape, srcStrides, dstStrides], ([sp, ss, ds]) => {
    kernels().copyStrided(src.ptrAt(srcOffset), dst.ptrAt(dstOffset), shape.length, sp, ss, ds, bytesPerElement(src.dtype));
  });
}

/** x read through `strides` from element `offset`, gathered into a dense tensor of `shape`. */
function gather(x: Tensor, offset: number, shape: readonly number[], strides: readonly number[]): Tensor {
  const out = empty(shape, x.dtype);
  copyBlock(x, offset, strides, out, 0, stridesOf(shape), shape);
  return out;
}

/** Element offset of the block at `begin` in a dense tensor of `shape`. */
function offsetOf(shape: Shape, begin: readonly number[]): number {
  const st = stridesOf(shape);
  let offset = 0;
  for (let i = 0; i < shape.length; i++) offset += begin[i] * st[i];
  return offset;
}

// ---- reshape, flatten, detach ----------------------------------------------------------------

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => typeof d === 'number');
}

/** An argument shown in a message without converting it (a Symbol would throw a TypeError). */
function showArg(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((d) => (typeof d === 'number' ? String(d) : typeof d)).join(',')}]`;
  return typeof v === 'number' ? String(v) : typeof v;
}

/** `shape` with its -1 inferred for `from`, checked to hold the same number of elements. */
function resolveShape(from: Shape, shape: readonly number[]): number[] {
  const size = sizeOf(from);
  const s = shape.slice();
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0) throw new Error(`reshape: only one dimension can be -1, got ${fmt(shape)}`);
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    if (rest === 0 || size % rest !== 0) throw new Error(`reshape: cannot reshape ${fmt(from)} (${size} elements) into ${fmt(shape)}`);
    s[infer] = size / rest;
  }
  checkShape('reshape', s);
  if (sizeOf(s) !== size) throw new Error(`reshape: cannot reshape ${fmt(from)} (${size} elements) into ${fmt(shape)}`);
  return s;
}

// Views and copies move any dtype (`dtypes: ANY`); their int32 samples show it.
const ANY = ['float32', 'int32', 'int8', 'uint8'] as const;
const INT23: InputSpec = { shape: [2, 3], kind: 'int', values: [4, -1, 7, 0, 2, 9] };
const NOT_DIFFERENTIABLE_INT = 'int32 input: nothing to differentiate';

/** Same data, new shape (one dimension may be -1). Shares memory with x. */
export const reshape: OpFn<[x: Tensor, shape: Shape], true> = defineOp({
  name: 'reshape', family: 'shape', summary: 'the same data in a new shape (a view; one dimension may be -1)', inputs: ['x'], method: true, dtypes: ANY,
  parse: (x: Tensor, shape: Shape) => {
    assertTensor('reshape', x);
    // Checked for numbers here: the shape rule's arithmetic would throw a TypeError on a BigInt
    // and its message would on a Symbol.
    if (!isNumberArray(shape)) throw new Error(`reshape: shape must be an array of integers, got ${showArg(shape)}`);
    return { inputs: [x], attrs: { shape: shape.slice() } };
  },
  shape: ([x], { shape }) => resolveShape(x!, shape),
  forward: ([x], _attrs, outShape) => x!.shareStorage(outShape),
  backward: (g, { inputs: [x] }) => [g.shareStorage(x!.shape)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, shape: readonly number[]) => ({ shape: resolveShape(x.shape, shape), data: x.data }) },
    samples: [
      { label: '-1 inferred', inputs: [{ shape: [2, 6] }], args: [[4, -1]] },
      { label: 'to a scalar', inputs: [{ shape: [1, 1] }], args: [[]] },
      { label: 'int32', inputs: [INT23], args: [[3, 2]], noGradcheck: NOT_DIFFERENTIABLE_INT },
    ],
    badInputs: [
      { label: 'wrong size', call: () => callOp('reshape', full([2, 3], 0), [4, 2]), error: 'reshape: cannot reshape [2,3] (6 elements) into [4,2]' },
      { label: 'two -1', call: () => callOp('reshape', full([2, 3], 0), [-1, -1]), error: 'reshape: only one dimension can be -1, got [-1,-1]' },
      { label: '-1 that does not divide', call: () => callOp('reshape', full([2, 3], 0), [4, -1]), error: 'reshape: cannot reshape [2,3] (6 elements) into [4,-1]' },
      { label: 'negative dimension', call: () => callOp('reshape', full([2, 3], 0), [-2, -3]), error: 'reshape: invalid shape [-2,-3]' },
      { label: 'shape not an array', call: () => callOp('reshape', full([2, 3], 0), 6), error: 'reshape: shape must be an array of integers, got 6' },
      // Found by test/fuzz/ops.fuzz.test.ts: a BigInt gave a TypeError from the shape arithmetic.
      { label: 'a BigInt dimension', call: () => callOp('reshape', full([2, 3], 0), [2n, 3]), error: 'reshape: shape must be an array of integers, got [bigint,3]' },
    ],
  } : undefined,
});

/** Flattens dims from startDim on: [N, C, H, W] -> [N, C*H*W] by default. */
export const flatten: OpFn<[x: Tensor, startDim?: number], true> = defineComposite<(x: Tensor, startDim?: number) => Tensor, true>({
  name: 'flatten', family: 'shape', summary: 'merges the dims from startDim on into one (a reshape)', inputs: ['x'], method: true, dtypes: ANY,
  fn: (x: Tensor, startDim = 1): Tensor => {
    assertTensor('flatten', x);
    if (x.ndim === 0) return reshape(x, [1]);
    const s = normAxis('flatten', startDim, x.ndim);
    return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s))]);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, startDim = 1) => {
        const s = x.shape.length === 0 ? 0 : startDim < 0 ? startDim + x.shape.length : startDim;
        return { shape: [...x.shape.slice(0, s), sizeOf(x.shape.slice(s))], data: x.data };
      },
    },
    samples: [
      { label: 'from dim 1', inputs: [{ shape: [2, 3, 2] }] },
      { label: 'from dim 0', inputs: [{ shape: [2, 3, 2] }], args: [0] },
      { label: 'a scalar', inputs: [{ shape: [] }] },
      { label: 'int32', inputs: [INT23], noGradcheck: NOT_DIFFERENTIABLE_INT },
    ],
    badInputs: [
      { label: 'startDim out of range', call: () => callOp('flatten', full([2, 3], 0), 2), error: 'flatten: axis 2 is out of range for a tensor with 2 dimensions' },
    ],
  } : undefined,
});

/** A tensor with the same values, cut from the graph (shares memory; records no node). */
export const detach: OpFn<[x: Tensor], true> = defineOp({
  name: 'detach', family: 'shape', summary: 'the same values cut from the graph (a view; not differentiable)', inputs: ['x'], method: true, dtypes: ANY,
  parse: (x: Tensor) => {
    assertTensor('detach', x);
    return { inputs: [x], attrs: {} };
  },
  shape: ([x]) => x!.slice(),
  forward: ([x]) => x!.shareStorage(x!.shape),
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor) => x },
    samples: [
      { label: 'float32', inputs: [{ shape: [3, 4] }] },
      { label: 'int32', inputs: [INT23] },
    ],
  } : undefined,
});

// ---- permute, transpose ----------------------------------------------------------------------

/** dims checked against a tensor of `shape` and normalised. */
function permDims(dims: readonly number[], shape: Shape): number[] {
  if (!Array.isArray(dims)) throw new Error(`permute: dims must be an array of axes, got ${String(dims)}`);
  if (dims.length !== shape.length) throw new Error(`permute: ${dims.length} dims given for a tensor with ${shape.length}: ${fmt(dims)} for ${fmt(shape)}`);
  const d = dims.map((a) => normAxis('permute', a, shape.length));
  if (new Set(d).size !== d.length) throw new Error(`permute: dims ${fmt(dims)} repeat an axis`);
  return d;
}

/** Reorders dimensions: out.shape[i] = x.shape[dims[i]]. */
export const permute: OpFn<[x: Tensor, dims: readonly number[]], true> = defineOp({
  name: 'permute', family: 'shape', summary: 'reorders the dimensions: out.shape[i] = x.shape[dims[i]]', inputs: ['x'], method: true,
  parse: (x: Tensor, dims: readonly number[]) => {
    assertFloat('permute', x);
    return { inputs: [x], attrs: { dims: permDims(dims, x.shape) } };
  },
  shape: ([x], { dims }) => permDims(dims, x!).map((a) => x![a]),
  forward: ([x], { dims }, outShape) => {
    const st = stridesOf(x!.shape);
    return gather(x!, 0, outShape, dims.map((a) => st[a]));
  },
  backward: (g, { inputs: [x], attrs: { dims } }) => {
    // dx[j] = g[i] where dims[i] = j: g read through the inverse permutation.
    const gst = stridesOf(g.shape);
    const strides = new Array<number>(dims.length);
    dims.forEach((a, i) => (strides[a] = gst[i]));
    return [gather(g, 0, x!.shape, strides)];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, dims: readonly number[]) => {
        const d = dims.map((a) => (a < 0 ? a + x.shape.length : a));
        return hostGenerate(d.map((a) => x.shape[a]), (idx) => {
          const src = new Array<number>(d.length);
          d.forEach((a, i) => (src[a] = idx[i]));
          return hostAt(x, src);
        });
      },
    },
    samples: [
      { label: '3-D', inputs: [{ shape: [2, 3, 4] }], args: [[2, 0, 1]] },
      { label: 'negative dims', inputs: [{ shape: [3, 5] }], args: [[-1, 0]] },
      { label: '4-D, inner dim kept', inputs: [{ shape: [2, 3, 2, 5] }], args: [[1, 0, 2, 3]] },
      { label: 'identity', inputs: [{ shape: [3, 2] }], args: [[0, 1]] },
    ],
    badInputs: [
      { label: 'wrong number of dims', call: () => callOp('permute', full([2, 3], 0), [0]), error: 'permute: 1 dims given for a tensor with 2: [0] for [2,3]' },
      { label: 'repeated axis', call: () => callOp('permute', full([2, 3], 0), [1, -1]), error: 'permute: dims [1,-1] repeat an axis' },
      { label: 'axis out of range', call: () => callOp('permute', full([2, 3], 0), [0, 2]), error: 'permute: axis 2 is out of range for a tensor with 2 dimensions' },
      { label: 'dims not an array', call: () => callOp('permute', full([2, 3], 0), 1), error: 'permute: dims must be an array of axes, got 1' },
    ],
  } : undefined,
});

/** Swaps two dimensions (the last two by default: the matrix transpose). */
export const transpose: OpFn<[x: Tensor, dim0?: number, dim1?: number], true> = defineComposite<(x: Tensor, dim0?: number, dim1?: number) => Tensor, true>({
  name: 'transpose', family: 'shape', summary: 'swaps two dimensions (a permute; the last two by default)', inputs: ['x'], method: true,
  fn: (x: Tensor, dim0 = -2, dim1 = -1): Tensor => {
    assertTensor('transpose', x);
    if (x.ndim < 2) return reshape(x, x.shape);
    assertFloat('transpose', x);
    const a = normAxis('transpose', dim0, x.ndim);
    const b = normAxis('transpose', dim1, x.ndim);
    const dims = x.shape.map((_, i) => i);
    dims[a] = b;
    dims[b] = a;
    return permute(x, dims);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, dim0 = -2, dim1 = -1) => {
        const nd = x.shape.length;
        if (nd < 2) return x;
        const a = dim0 < 0 ? dim0 + nd : dim0;
        const b = dim1 < 0 ? dim1 + nd : dim1;
        const shape = x.shape.slice();
        [shape[a], shape[b]] = [shape[b], shape[a]];
        return hostGenerate(shape, (idx) => {
          const src = idx.slice();
          [src[a], src[b]] = [src[b], src[a]];
          return hostAt(x, src);
        });
      },
    },
    samples: [
      { label: 'matrix', inputs: [{ shape: [3, 5] }] },
      { label: '3-D, dims 0 and 2', inputs: [{ shape: [2, 3, 4] }], args: [0, 2] },
      { label: '1-D (a view)', inputs: [{ shape: [4] }] },
    ],
    badInputs: [
      { label: 'dim out of range', call: () => callOp('transpose', full([2, 3], 0), 0, 2), error: 'transpose: axis 2 is out of range for a tensor with 2 dimensions' },
    ],
  } : undefined,
});

// ---- slice, concat ---------------------------------------------------------------------------

/** Sizes of the block at `begin` (size -1 or absent: to the end), checked to lie inside `shape`. */
function sliceSizes(shape: Shape, begin: readonly number[], size: readonly number[] | undefined): number[] {
  const showSize = size === undefined ? '(to end)' : showArg(size);
  // Numbers only: a BigInt entry would make the arithmetic below throw a TypeError.
  if (!isNumberArray(begin) || begin.length !== shape.length || (size !== undefined && (!isNumberArray(size) || size.length !== shape.length))) {
    throw new Error(`slice: begin ${showArg(begin)} and size ${showSize} need one entry per dim of ${fmt(shape)}`);
  }
  return shape.map((d, i) => {
    const s = size === undefined || size[i] === -1 ? d - begin[i] : size[i];
    if (!Number.isInteger(begin[i]) || !Number.isInteger(s) || begin[i] < 0 || s < 0 || begin[i] + s > d) {
      throw new Error(`slice: begin ${fmt(begin)} size ${showSize} is outside ${fmt(shape)} on axis ${i}`);
    }
    return s;
  });
}

/** The block x[begin[0]:begin[0]+size[0], ...]; size -1 means "to the end". */
export const slice: OpFn<[x: Tensor, begin: readonly number[], size?: readonly number[]], true> = defineOp({
  name: 'slice', family: 'shape', summary: 'the block of `size` at `begin` (size -1: to the end)', inputs: ['x'], method: true,
  parse: (x: Tensor, begin: readonly number[], size?: readonly number[]) => {
    assertFloat('slice', x);
    const sizes = sliceSizes(x.shape, begin, size);
    return { inputs: [x], attrs: { begin: begin.slice(), size: sizes } };
  },
  shape: ([x], { begin, size }) => sliceSizes(x!, begin, size),
  forward: ([x], { begin }, outShape) => gather(x!, offsetOf(x!.shape, begin), outShape, stridesOf(x!.shape)),
  backward: (g, { inputs: [x], attrs: { begin } }) => {
    // The adjoint of the gather: g scattered into zeros at the block's place.
    const dx = empty(x!.shape);
    kernels().fill(dx.ptr, 0, dx.size);
    copyBlock(g, 0, stridesOf(g.shape), dx, offsetOf(x!.shape, begin), stridesOf(x!.shape), g.shape);
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, begin: readonly number[], size?: readonly number[]) => {
        const sz = x.shape.map((d, i) => (size === undefined || size[i] === -1 ? d - begin[i] : size[i]));
        return hostGenerate(sz, (idx) => hostAt(x, idx.map((v, i) => v + begin[i])));
      },
    },
    samples: [
      { label: 'rows and columns, -1', inputs: [{ shape: [4, 5] }], args: [[1, 1], [2, -1]] },
      { label: '3-D middle block', inputs: [{ shape: [3, 4, 5] }], args: [[1, 1, 2], [2, 2, 3]] },
      { label: 'to the end', inputs: [{ shape: [3, 4] }], args: [[2, 0]] },
      { label: 'whole rows (one run)', inputs: [{ shape: [5, 3] }], args: [[1, 0], [3, 3]] },
      { label: 'empty block', inputs: [{ shape: [3, 4] }], args: [[1, 1], [0, 2]] },
    ],
    badInputs: [
      { label: 'outside', call: () => callOp('slice', full([4, 5], 0), [3, 0], [2, -1]), error: 'slice: begin [3,0] size [2,-1] is outside [4,5] on axis 0' },
      { label: 'negative begin', call: () => callOp('slice', full([4, 5], 0), [0, -1]), error: 'slice: begin [0,-1] size (to end) is outside [4,5] on axis 1' },
      { label: 'wrong number of entries', call: () => callOp('slice', full([4, 5], 0), [0]), error: 'slice: begin [0] and size (to end) need one entry per dim of [4,5]' },
      { label: 'size of the wrong length', call: () => callOp('slice', full([4, 5], 0), [0, 0], [1]), error: 'slice: begin [0,0] and size [1] need one entry per dim of [4,5]' },
      // Found by test/fuzz/ops.fuzz.test.ts: a BigInt gave a TypeError from the size arithmetic.
      { label: 'a BigInt begin', call: () => callOp('slice', full([4, 5], 0), [1n, 0]), error: 'slice: begin [bigint,0] and size (to end) need one entry per dim of [4,5]' },
    ],
  } : undefined,
});

/** concat's output shape: all dims but `axis` must agree. */
function concatShape(shapes: readonly Shape[], axis: number): number[] {
  const first = shapes[0];
  const ax = normAxis('concat', axis, first.length);
  for (const s of shapes) {
    if (s.length !== first.length || s.some((d, i) => i !== ax && d !== first[i])) {
      throw new Error(`concat: shapes differ off axis ${ax}: ${shapes.map(fmt).join(', ')}`);
    }
  }
  const out = first.slice();
  out[ax] = shapes.reduce((n, s) => n + s[ax], 0);
  return out;
}

/** Joins tensors along `axis`; all other dims must match (any dtype, the same for all). */
export const concat: OpFn<[tensors: readonly Tensor[], axis?: number], false> = defineOp({
  name: 'concat', family: 'shape', summary: 'joins tensors along an axis', inputs: ['tensors...'],
  parse: (tensors: readonly Tensor[], axis = 0) => {
    if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('concat: needs a non-empty array of tensors');
    tensors.forEach((t, i) => assertTensor('concat', t, `tensors[${i}]`));
    const first = tensors[0];
    if (tensors.some((t) => t.dtype !== first.dtype)) {
      throw new Error(`concat: dtypes differ: ${tensors.map((t) => `${t.dtype} ${fmt(t.shape)}`).join(', ')}`);
    }
    return { inputs: tensors.slice(), attrs: { axis: normAxis('concat', axis, first.ndim) } };
  },
  shape: (shapes, { axis }) => concatShape(shapes as Shape[], axis),
  forward: (inputs, { axis }, outShape) => {
    const ts = inputs as Tensor[];
    const out = empty(outShape, ts[0].dtype);
    const outer = sizeOf(outShape.slice(0, axis));
    const inner = sizeOf(outShape.slice(axis + 1));
    const rowStride = outShape[axis] * inner;
    // Each input is an [outer, run] block written at its column offset of out's [outer, rowStride] rows.
    let at = 0;
    for (const t of ts) {
      const run = t.shape[axis] * inner;
      copyBlock(t, 0, [run, 1], out, at, [rowStride, 1], [outer, run]);
      at += run;
    }
    return out;
  },
  backward: (g, { inputs, attrs: { axis } }) => {
    const gst = stridesOf(g.shape);
    let start = 0;
    return inputs.map((t) => {
      const begin = g.shape.map((_, i) => (i === axis ? start : 0));
      start += t!.shape[axis];
      return t!.requiresGrad ? gather(g, offsetOf(g.shape, begin), t!.shape, gst) : null;
    });
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    noReference: 'variadic: its samples call it with an array, which the reference comparison does not do; copyStrided is checked against plain JS in test/kernels/shape.test.ts and concat values in test/tensor.test.ts',
    samples: [
      { label: 'axis 1', inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], call: (a, b) => callOp('concat', [a, b], 1) },
      { label: 'axis 0', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], call: (a, b) => callOp('concat', [a, b], 0) },
      { label: 'three, middle axis', inputs: [{ shape: [2, 1, 3] }, { shape: [2, 3, 3] }, { shape: [2, 2, 3] }], call: (a, b, c) => callOp('concat', [a, b, c], -2) },
      { label: 'the same tensor twice', inputs: [{ shape: [2, 2] }], call: (a) => callOp('concat', [a, a], 1) },
    ],
    badInputs: [
      { label: 'empty list', call: () => callOp('concat', []), error: 'concat: needs a non-empty array of tensors' },
      { label: 'not an array', call: () => callOp('concat', full([2], 0)), error: 'concat: needs a non-empty array of tensors' },
      { label: 'null in the list', call: () => callOp('concat', [full([2], 0), null]), error: 'concat: tensors[1] must be a Tensor, got null' },
      { label: 'shapes differ', call: () => callOp('concat', [full([2, 3], 0), full([3, 2], 0)], 1), error: 'concat: shapes differ off axis 1: [2,3], [3,2]' },
      { label: 'dtypes differ', call: () => callOp('concat', [full([2], 0), full([2], 0, { dtype: 'int32' })]), error: 'concat: dtypes differ: float32 [2], int32 [2]' },
      { label: 'axis out of range', call: () => callOp('concat', [full([2], 0)], 1), error: 'concat: axis 1 is out of range for a tensor with 1 dimension' },
      {
        label: 'a disposed tensor',
        call: () => {
          const t = full([2], 0);
          t.dispose();
          return callOp('concat', [full([2], 0), t]);
        },
        error: /^concat: tensors\[1\] Tensor\(float32, \[2\]\) was disposed/,
      },
    ],
  } : undefined,
});
