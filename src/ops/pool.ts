// 2-D pooling (NCHW, PyTorch semantics without dilation or ceil mode): max pooling with the
// argmax remembered for backward, average pooling (countIncludePad as in PyTorch), and
// global average pooling [N, C, H, W] -> [N, C]. Notes §1.5.1.5: pooling has no weights,
// only the hyperparameters kernel, stride (default: the kernel) and padding.
import { BinOp, kernels } from '../../bindings/index.js';
import { splitCall } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions } from '../core/validate.js';
import { size2, type Size2 } from './conv.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';

export interface Pool2dOptions {
  /** Step of the window (default: the kernel size, so windows do not overlap). */
  stride?: Size2;
  /** Implicit padding on each side, at most half the kernel (default 0). Padding never wins a max. */
  padding?: Size2;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide by the full kernel area even where the window covers padding (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** What maxPool2d records in the graph (avgPool2d adds countIncludePad). */
export interface Pool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export interface AvgPool2dAttrs extends Pool2dAttrs {
  countIncludePad: boolean;
}

interface PoolGeometry {
  planes: number;
  H: number; W: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  OH: number; OW: number;
  outShape: number[];
}

function poolAttrs(op: string, kernel: Size2, opts: Pool2dOptions, allowed: readonly string[]): Pool2dAttrs {
  checkOptions(op, opts, allowed);
  const k = size2(op, 'kernel size', kernel, 1);
  return { kernel: k, stride: size2(op, 'stride', opts.stride ?? k, 1), padding: size2(op, 'padding', opts.padding ?? 0, 0) };
}

/** The shape rule of the pooling ops (errors name `op`). */
function poolGeometry(op: string, xShape: Shape, a: Pool2dAttrs): PoolGeometry {
  if (xShape.length !== 4 && xShape.length !== 3) {
    throw new Error(`${op}: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got ${fmt(xShape)}`);
  }
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const H = xShape[xShape.length - 2];
  const W = xShape[xShape.length - 1];
  if (2 * ph > kh || 2 * pw > kw) {
    throw new Error(`${op}: padding [${ph},${pw}] must be at most half the kernel ${kh}x${kw} (input ${fmt(xShape)})`);
  }
  if (H + 2 * ph < kh || W + 2 * pw < kw) {
    throw new Error(`${op}: kernel ${kh}x${kw} is larger than the padded input ${H + 2 * ph}x${W + 2 * pw} (input ${fmt(xShape)}, padding [${ph},${pw}])`);
  }
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  const lead = xShape.slice(0, -2);
  return { planes: lead.reduce((x, y) => x * y, 1), H, W, kh, kw, sh, sw, ph, pw, OH, OW, outShape: [...lead, OH, OW] };
}

/** Shape of maxPool2d / avgPool2d for an input of `inputShape`; throws what the op would. */
export function pool2dOutputShape(inputShape: Shape, kernel: Size2, opts: AvgPool2dOptions = {}): number[] {
  return poolOutputShape('pool2d', inputShape, kernel, opts);
}

/** @internal pool2dOutputShape with errors naming `op` (the layers use it). */
export function poolOutputShape(op: string, inputShape: Shape, kernel: Size2, opts: AvgPool2dOptions): number[] {
  if (!Array.isArray(inputShape)) throw new Error(`${op}: expected an input shape array [N, C, H, W] or [C, H, W], got ${String(inputShape)}`);
  return poolGeometry(op, inputShape, poolAttrs(op, kernel, opts, ['stride', 'padding', 'countIncludePad'])).outShape;
}

function parsePool<A extends Pool2dAttrs>(op: string, x: Tensor, attrs: () => A): { inputs: Tensor[]; attrs: A } {
  assertTensor(op, x);
  assertFloat(op, x);
  return { inputs: [x], attrs: attrs() };
}

/**
 * Plain-JS pooling for the references: `reduce` gets each window's in-image values (row-major)
 * and its position count including padding.
 */
function hostPool(x: HostTensor, kernel: Size2, opts: Pool2dOptions, reduce: (values: number[], area: number) => number): HostTensor {
  const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const [sh, sw] = opts.stride === undefined ? [kh, kw] : typeof opts.stride === 'number' ? [opts.stride, opts.stride] : opts.stride;
  const [ph, pw] = opts.padding === undefined ? [0, 0] : typeof opts.padding === 'number' ? [opts.padding, opts.padding] : opts.padding;
  const H = x.shape[x.shape.length - 2];
  const W = x.shape[x.shape.length - 1];
  const planes = x.data.length / (H * W);
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  const out: number[] = [];
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const values: number[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const iy = oy * sh - ph + i, ix = ox * sw - pw + j;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) values.push(x.data[(p * H + iy) * W + ix]);
          }
        }
        out.push(reduce(values, kh * kw));
      }
    }
  }
  return { shape: [...x.shape.slice(0, -2), OH, OW], data: out };
}

const input = (shape: number[]): Tensor => full(shape, 0);

/**
 * GEMM flops that a pass costs per input element, measured with 2x2 windows on one thread
 * against the GEMM's 46 GFLOP/s (planes of 14x14 and 28x28, batches 64 and 256): max forward
 * 21-27, max backward 15, average forward 29-34; average backward 12-17 for 2x2 windows at
 * stride 2 without padding (the kernel writes each share once), about 100 otherwise (it
 * scatters each output's share over its window, adding into overlapping vectors).
 */
const POOL_COST = { maxForward: 24, maxBackward: 16, avgForward: 32, avgBackward2x2: 16, avgBackward: 96 } as const;

/**
 * Work of one plane in GEMM-flop equivalents, for splitting planes across threads: `perElement`
 * per input element (POOL_COST), plus 4 per output per window tap beyond the first four.
 */
function planeCost(g: { H: number; W: number; OH: number; OW: number; kh: number; kw: number }, perElement: number): number {
  return perElement * g.H * g.W + 4 * g.OH * g.OW * Math.max(0, g.kh * g.kw - 4);
}

/** Max over each kernel window of each channel: [N, C, H, W] -> [N, C, OH, OW]. */
export const maxPool2d: OpFn<[x: Tensor, kernel: Size2, opts?: Pool2dOptions], false> = defineOp({
  name: 'maxPool2d', family: 'pool', summary: 'max over kernel windows of each plane (NCHW or CHW)', inputs: ['x'],
  parse: (x: Tensor, kernel: Size2, opts: Pool2dOptions = {}) => parsePool('maxPool2d', x, () => poolAttrs('maxPool2d', kernel, opts, ['stride', 'padding'])),
  shape: ([x], attrs) => poolGeometry('maxPool2d', x!, attrs).outShape,
  forward: ([x], attrs, shape) => {
    const g = poolGeometry('maxPool2d', x!.shape, attrs);
    const y = empty(shape);
    const arg = empty(shape, 'int32');
    splitCall({
      name: 'maxPool2d', args: [x!.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y.ptr, arg.ptr],
      units: g.planes, countArg: 1, moves: [[0, g.H * g.W], [12, g.OH * g.OW], [13, g.OH * g.OW]], cost: planeCost(g, POOL_COST.maxForward), align: 1,
    });
    return { out: y, saved: [arg], state: g };
  },
  backward: (grad, { inputs: [x], saved: [arg], state: g }) => {
    const dx = empty(x!.shape);
    splitCall({
      name: 'maxPool2dBackward', args: [grad.ptr, arg.ptr, g.planes, g.H * g.W, g.OH * g.OW, dx.ptr],
      units: g.planes, countArg: 2, moves: [[0, g.OH * g.OW], [1, g.OH * g.OW], [5, g.H * g.W]], cost: planeCost(g, POOL_COST.maxBackward), align: 1,
    });
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, kernel: Size2, opts: Pool2dOptions = {}) => hostPool(x, kernel, opts, (v) => Math.max(...v)) },
    samples: [
      { label: '2x2 stride 2', inputs: [{ shape: [2, 2, 4, 6], kind: 'distinct' }], args: [2] },
      { label: '3x3 stride 1 padding 1 (overlapping windows)', inputs: [{ shape: [1, 2, 5, 4], kind: 'distinct' }], args: [3, { stride: 1, padding: 1 }] },
      { label: '3x2 stride [2,1] padding [1,0], 3-D input', inputs: [{ shape: [3, 5, 7], kind: 'distinct' }], args: [[3, 2], { stride: [2, 1], padding: [1, 0] }] },
    ],
    badInputs: [
      { label: 'kernel larger than the input', call: () => callOp('maxPool2d', input([1, 1, 4, 5]), 6), error: 'maxPool2d: kernel 6x6 is larger than the padded input 4x5 (input [1,1,4,5], padding [0,0])' },
      { label: '2-D input', call: () => callOp('maxPool2d', input([4, 5]), 2), error: 'maxPool2d: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got [4,5]' },
      { label: 'zero kernel', call: () => callOp('maxPool2d', input([1, 1, 4, 5]), 0), error: /^maxPool2d: kernel size must be a positive integer or a pair/ },
      { label: 'zero stride', call: () => callOp('maxPool2d', input([1, 1, 4, 5]), 2, { stride: 0 }), error: /^maxPool2d: stride must be a positive integer/ },
      { label: 'unknown option', call: () => callOp('maxPool2d', input([1, 1, 4, 5]), 2, { dilation: 2 }), error: "maxPool2d: unknown option 'dilation' (known: stride, padding)" },
    ],
  } : undefined,
});

/** Mean over each kernel window of each channel: [N, C, H, W] -> [N, C, OH, OW]. */
export const avgPool2d: OpFn<[x: Tensor, kernel: Size2, opts?: AvgPool2dOptions], false> = defineOp({
  name: 'avgPool2d', family: 'pool', summary: 'mean over kernel windows of each plane (NCHW or CHW)', inputs: ['x'],
  parse: (x: Tensor, kernel: Size2, opts: AvgPool2dOptions = {}) => parsePool('avgPool2d', x, (): AvgPool2dAttrs => {
    const a = poolAttrs('avgPool2d', kernel, opts, ['stride', 'padding', 'countIncludePad']);
    const countIncludePad = opts.countIncludePad ?? true;
    assertBoolean('avgPool2d', 'countIncludePad', countIncludePad);
    return { ...a, countIncludePad };
  }),
  shape: ([x], attrs) => poolGeometry('avgPool2d', x!, attrs).outShape,
  forward: ([x], attrs, shape) => {
    const g = poolGeometry('avgPool2d', x!.shape, attrs);
    const y = empty(shape);
    splitCall({
      name: 'avgPool2d', args: [x!.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y.ptr, attrs.countIncludePad ? 1 : 0],
      units: g.planes, countArg: 1, moves: [[0, g.H * g.W], [12, g.OH * g.OW]], cost: planeCost(g, POOL_COST.avgForward), align: 1,
    });
    return { out: y, state: g };
  },
  backward: (grad, { inputs: [x], attrs, state: g }) => {
    const dx = empty(x!.shape);
    splitCall({
      name: 'avgPool2dBackward', args: [grad.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, dx.ptr, attrs.countIncludePad ? 1 : 0],
      units: g.planes, countArg: 1, moves: [[0, g.OH * g.OW], [12, g.H * g.W]], align: 1,
      cost: planeCost(g, g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0 ? POOL_COST.avgBackward2x2 : POOL_COST.avgBackward),
    });
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, kernel: Size2, opts: AvgPool2dOptions = {}) =>
        hostPool(x, kernel, opts, (v, area) => v.reduce((s, t) => s + t, 0) / (opts.countIncludePad === false ? v.length : area)),
    },
    samples: [
      { label: '2x2 stride 2', inputs: [{ shape: [2, 2, 4, 5] }], args: [2] },
      { label: '3x3 stride 2 padding 1, countIncludePad', inputs: [{ shape: [1, 2, 5, 6] }], args: [3, { stride: 2, padding: 1 }] },
      { label: '3x3 stride 1 padding 1, !countIncludePad', inputs: [{ shape: [2, 1, 4, 5] }], args: [3, { stride: 1, padding: 1, countIncludePad: false }] },
    ],
    badInputs: [
      { label: 'padding more than half the kernel', call: () => callOp('avgPool2d', input([1, 1, 4, 5]), 3, { padding: 2 }), error: 'avgPool2d: padding [2,2] must be at most half the kernel 3x3 (input [1,1,4,5])' },
      { label: 'countIncludePad not a boolean', call: () => callOp('avgPool2d', input([1, 1, 4, 5]), 2, { countIncludePad: 1 }), error: 'avgPool2d: countIncludePad must be true or false, got 1' },
    ],
  } : undefined,
});

/** Mean over the whole H x W plane of each channel: [N, C, H, W] -> [N, C] ([C, H, W] -> [C]). */
export const globalAvgPool2d: OpFn<[x: Tensor], false> = defineOp({
  name: 'globalAvgPool2d', family: 'pool', summary: 'mean of each H x W plane: [N, C, H, W] -> [N, C]', inputs: ['x'],
  parse: (x: Tensor) => {
    assertTensor('globalAvgPool2d', x);
    assertFloat('globalAvgPool2d', x);
    return { inputs: [x], attrs: {} };
  },
  shape: ([x]) => {
    if (x!.length !== 4 && x!.length !== 3) throw new Error(`globalAvgPool2d: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got ${fmt(x!)}`);
    if (x![x!.length - 2] * x![x!.length - 1] === 0) throw new Error(`globalAvgPool2d: input ${fmt(x!)} has an empty spatial dimension`);
    return x!.slice(0, -2);
  },
  forward: ([x], _attrs, shape) => {
    const HW = x!.shape[x!.ndim - 2] * x!.shape[x!.ndim - 1];
    const y = empty(shape);
    if (y.size > 0) kernels().reduceSum(x!.ptr, y.ptr, y.size, HW, 1, 1 / HW);
    return y;
  },
  backward: (grad, { inputs: [x] }) => {
    // dx[p, :] = grad[p] / HW: fill with 1/HW, then scale each plane by its gradient.
    const k = kernels();
    const HW = x!.shape[x!.ndim - 2] * x!.shape[x!.ndim - 1];
    const dx = empty(x!.shape);
    k.fill(dx.ptr, 1 / HW, dx.size);
    if (grad.size > 0) k.binaryCol(BinOp.Mul, dx.ptr, grad.ptr, dx.ptr, grad.size, HW, 0);
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor) => {
        const HW = x.shape[x.shape.length - 2] * x.shape[x.shape.length - 1];
        const out: number[] = [];
        for (let p = 0; p < x.data.length / HW; p++) {
          let s = 0;
          for (let i = 0; i < HW; i++) s += x.data[p * HW + i];
          out.push(s / HW);
        }
        return { shape: x.shape.slice(0, -2), data: out };
      },
    },
    samples: [{ label: '', inputs: [{ shape: [2, 3, 3, 2] }] }, { label: '3-D input', inputs: [{ shape: [3, 2, 4] }] }],
    badInputs: [
      { label: '2-D input', call: () => callOp('globalAvgPool2d', input([2, 3])), error: 'globalAvgPool2d: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got [2,3]' },
      { label: 'empty plane', call: () => callOp('globalAvgPool2d', input([2, 3, 0, 4])), error: 'globalAvgPool2d: input [2,3,0,4] has an empty spatial dimension' },
    ],
  } : undefined,
});
