// 2-D pooling (NCHW, PyTorch semantics without dilation or ceil mode): max pooling with the
// argmax remembered for backward, average pooling (countIncludePad as in PyTorch), and
// global average pooling [N, C, H, W] -> [N, C]. Notes §1.5.1.5: pooling has no weights,
// only the hyperparameters kernel, stride (default: the kernel) and padding.
import { BinOp, kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt, type Shape } from '../core/tensor';
import { size2, type Size2 } from './conv';
import { assertFloat, assertTensor } from '../core/validate';

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

interface PoolGeometry {
  planes: number;
  H: number; W: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  OH: number; OW: number;
  outShape: number[];
}

function checkOptions(op: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new Error(`${op}: unknown option '${k}' (expected ${allowed.join(', ')})`);
  }
}

function poolGeometry(op: string, xShape: Shape, kernel: Size2, opts: Pool2dOptions, allowed: readonly string[]): PoolGeometry {
  checkOptions(op, opts, allowed);
  if (xShape.length !== 4 && xShape.length !== 3) {
    throw new Error(`${op}: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got ${fmt(xShape)}`);
  }
  const [kh, kw] = size2(op, 'kernel size', kernel, 1);
  const [sh, sw] = size2(op, 'stride', opts.stride ?? [kh, kw], 1);
  const [ph, pw] = size2(op, 'padding', opts.padding ?? 0, 0);
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
  return { planes: lead.reduce((a, b) => a * b, 1), H, W, kh, kw, sh, sw, ph, pw, OH, OW, outShape: [...lead, OH, OW] };
}

/** Shape of maxPool2d / avgPool2d for an input of `inputShape`; throws what the op would. */
export function pool2dOutputShape(inputShape: Shape, kernel: Size2, opts: AvgPool2dOptions = {}): number[] {
  return poolOutputShape('pool2d', inputShape, kernel, opts);
}

/** @internal pool2dOutputShape with errors naming `op` (the layers use it). */
export function poolOutputShape(op: string, inputShape: Shape, kernel: Size2, opts: AvgPool2dOptions): number[] {
  if (!Array.isArray(inputShape)) throw new Error(`${op}: expected an input shape array [N, C, H, W] or [C, H, W], got ${String(inputShape)}`);
  return poolGeometry(op, inputShape, kernel, opts, ['stride', 'padding', 'countIncludePad']).outShape;
}

/** Max over each kernel window of each channel: [N, C, H, W] -> [N, C, OH, OW]. */
export function maxPool2d(x: Tensor, kernel: Size2, opts: Pool2dOptions = {}): Tensor {
  assertTensor('maxPool2d', x);
  assertFloat('maxPool2d', x);
  const g = poolGeometry('maxPool2d', x.shape, kernel, opts, ['stride', 'padding']);
  const y = empty(g.outShape);
  const arg = empty(g.outShape, 'int32');
  kernels().maxPool2d(x.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y.ptr, arg.ptr);
  return record('maxPool2d', y, [x], (grad) => {
    const dx = empty(x.shape);
    kernels().maxPool2dBackward(grad.ptr, arg.ptr, g.planes, g.H * g.W, g.OH * g.OW, dx.ptr);
    return [dx];
  }, [arg]);
}

/** Mean over each kernel window of each channel: [N, C, H, W] -> [N, C, OH, OW]. */
export function avgPool2d(x: Tensor, kernel: Size2, opts: AvgPool2dOptions = {}): Tensor {
  assertTensor('avgPool2d', x);
  assertFloat('avgPool2d', x);
  const g = poolGeometry('avgPool2d', x.shape, kernel, opts, ['stride', 'padding', 'countIncludePad']);
  const cip = opts.countIncludePad ?? true;
  if (typeof cip !== 'boolean') throw new Error(`avgPool2d: countIncludePad must be a boolean, got ${String(cip)}`);
  const include = cip ? 1 : 0;
  const y = empty(g.outShape);
  kernels().avgPool2d(x.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y.ptr, include);
  return record('avgPool2d', y, [x], (grad) => {
    const dx = empty(x.shape);
    kernels().avgPool2dBackward(grad.ptr, g.planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, dx.ptr, include);
    return [dx];
  });
}

/** Mean over the whole H x W plane of each channel: [N, C, H, W] -> [N, C] ([C, H, W] -> [C]). */
export function globalAvgPool2d(x: Tensor): Tensor {
  assertTensor('globalAvgPool2d', x);
  assertFloat('globalAvgPool2d', x);
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new Error(`globalAvgPool2d: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got ${fmt(x.shape)}`);
  }
  const outShape = x.shape.slice(0, -2);
  const HW = x.shape[x.ndim - 2] * x.shape[x.ndim - 1];
  if (HW === 0) throw new Error(`globalAvgPool2d: input ${fmt(x.shape)} has an empty spatial dimension`);
  const planes = outShape.reduce((a, b) => a * b, 1);
  const y = empty(outShape);
  if (planes > 0) kernels().reduceSum(x.ptr, y.ptr, planes, HW, 1, 1 / HW);
  return record('globalAvgPool2d', y, [x], (grad) => {
    // dx[p, :] = grad[p] / HW: fill with 1/HW, then scale each plane by its gradient.
    const k = kernels();
    const dx = empty(x.shape);
    k.fill(dx.ptr, 1 / HW, dx.size);
    if (planes > 0) k.binaryCol(BinOp.Mul, dx.ptr, grad.ptr, dx.ptr, planes, HW, 0);
    return [dx];
  });
}
