// 2-D convolution (NCHW, PyTorch semantics: cross-correlation, no dilation/groups) and its
// adjoint, the transposed convolution, as im2col + GEMM, one image at a time:
//
//   conv2d           y[n] = W[F, C·kh·kw] · col(x[n])          col = im2col(x[n])  [C·kh·kw, OH·OW]
//                    dW  += dY[n] · col(x[n])ᵀ                 (gemm with B transposed)
//                    dx[n] = col2im(Wᵀ · dY[n])                 (gemm with A transposed)
//   convTranspose2d  y[n] = col2im(Wᵀ · x[n])                   W [Cin, Cout·kh·kw]
//                    dx[n] = W · im2col(dY[n]);  dW += x[n] · im2col(dY[n])ᵀ
//
// Each direction is one parallel plan (bindings/parallel/plan.ts): the calls for one image,
// with a column buffer per thread, and the weight gradient as a sum over images. The plan
// decides threads and lanes: outputs and input gradients come out bitwise as on one thread,
// weight gradients depend on the setThreads() count only. A 1×1 kernel with stride 1 and no
// padding skips im2col/col2im entirely (the image is its own column matrix). Bias gradients
// are row sums of dY, then a sum over images.
import { conv2dNaive, convTranspose2dNaive, pair, type NaiveConvGeometry } from './conv-reference.js';
import { BinOp, UnOp, kernels } from '../../bindings/index.js';
import { withScratch } from '../../bindings/memory.js';
import { WORKSPACE, runPlan, splitReduceSum, type PlanArg as Ptr, type Step } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions } from '../core/validate.js';
import { reluGrad } from './elementwise.js';
import { callOp, defineOp, type BadInput, type HostTensor, type OpFn } from './registry.js';

/** A size given once for both spatial dims, or as [height, width]. */
export type Size2 = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: Size2;
  /**
   * Zeros added on each side (default 0). 'same' keeps H×W (stride 1 only; an even kernel
   * puts the extra row/column at the bottom/right, as PyTorch does); 'valid' is 0.
   */
  padding?: Size2 | 'same' | 'valid';
  /**
   * ReLU on the output, fused into the convolution (default false): applied to each image
   * while it is in cache, and its mask applied to the gradient in the same pass that uses
   * it. What Sequential runs for a Conv2d followed by ReLU.
   */
  relu?: boolean;
}

export interface ConvTranspose2dOptions {
  /** Stride of the convolution this op is the adjoint of (default 1). */
  stride?: Size2;
  /** Padding of that convolution: removed from each side of the output (default 0). */
  padding?: Size2;
  /** Extra rows/columns added at the bottom/right of the output, < stride (default 0). */
  outputPadding?: Size2;
}

/** What conv2d records in the graph (ONNX's Conv: strides, pads begin/end, weight OIHW). */
export interface Conv2dAttrs {
  stride: [number, number];
  /** Zeros before the first row and column. */
  padding: [number, number];
  /** Zeros after the last row and column (differs from padding for 'same' with an even kernel). */
  paddingEnd: [number, number];
  weightLayout: 'OIHW';
  /** ReLU fused on the output. */
  relu: boolean;
}

/** What convTranspose2d records in the graph (ONNX's ConvTranspose; weight [Cin, Cout, kh, kw]). */
export interface ConvTranspose2dAttrs {
  stride: [number, number];
  padding: [number, number];
  outputPadding: [number, number];
  weightLayout: 'IOHW';
}

/** Everything a conv kernel call needs, for one direction of the im2col mapping. */
interface Geometry {
  N: number;
  /** Channels, height, width of the "image" side (what im2col reads, col2im writes). */
  C: number; H: number; W: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  /** Size of the "column" side (the conv output; the convTranspose input). */
  OH: number; OW: number;
}

/** @internal A size given as n or [h, w], checked to be integers >= min; errors name the op. */
export function size2(op: string, name: string, v: unknown, min: number): [number, number] {
  const what = min > 0 ? 'a positive integer' : 'an integer >= 0';
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= min;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  const shown = Array.isArray(v) ? `[${v.map(String).join(',')}]` : typeof v === 'string' ? `'${v}'` : String(v);
  throw new Error(`${op}: ${name} must be ${what} or a pair [h, w] of them, got ${shown}`);
}

function checkRank4(op: string, what: string, shape: Shape, layout: string): void {
  if (shape.length !== 4) throw new Error(`${op}: ${what} must be 4-D ${layout}, got ${fmt(shape)}`);
}

function checkBiasShape(op: string, bias: Shape | null, channels: number, wShape: Shape): void {
  if (bias !== null && (bias.length !== 1 || bias[0] !== channels)) {
    throw new Error(`${op}: bias must be [${channels}] for weight ${fmt(wShape)}, got ${fmt(bias)}`);
  }
}

/** Checks the tensors (bias optional) of a conv op. */
function checkConvTensors(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined): Tensor | null {
  assertTensor(op, x, 'input');
  assertTensor(op, weight, 'weight');
  assertFloat(op, x, weight);
  if (bias === null || bias === undefined) return null;
  assertTensor(op, bias, 'bias');
  assertFloat(op, bias);
  return bias;
}

/** conv2d's options as attributes; 'same' is resolved with the kernel size of `wShape`. */
function conv2dAttrs(xShape: Shape, wShape: Shape, opts: Conv2dOptions): Conv2dAttrs {
  const op = 'conv2d';
  checkOptions(op, opts, ['stride', 'padding', 'relu']);
  const relu = opts.relu ?? false;
  assertBoolean(op, 'relu', relu);
  const stride = size2(op, 'stride', opts.stride ?? 1, 1);
  const pad = opts.padding ?? 0;
  if (pad === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new Error(`${op}: padding 'same' needs stride 1, got stride [${stride}] (input ${fmt(xShape)}, weight ${fmt(wShape)})`);
    }
    // Total padding k - 1 per dim: floor half before, the rest after (the kernel reads zeros there).
    const [kh, kw] = wShape.length === 4 ? [wShape[2], wShape[3]] : [1, 1];
    const padding: [number, number] = [(kh - 1) >> 1, (kw - 1) >> 1];
    return { stride, padding, paddingEnd: [kh - 1 - padding[0], kw - 1 - padding[1]], weightLayout: 'OIHW', relu };
  }
  const padding = pad === 'valid' ? [0, 0] as [number, number] : size2(op, 'padding', pad, 0);
  return { stride, padding, paddingEnd: [padding[0], padding[1]], weightLayout: 'OIHW', relu };
}

/** conv2d's shape rule: the im2col geometry of x and weight (validated). */
function conv2dGeometry(xShape: Shape, wShape: Shape, a: Conv2dAttrs): Geometry {
  const op = 'conv2d';
  checkRank4(op, 'input', xShape, '[N, C, H, W]');
  checkRank4(op, 'weight', wShape, '[outChannels, inChannels, kh, kw]');
  const [N, C, H, W] = xShape;
  const [F, Cw, kh, kw] = wShape;
  if (F < 1 || Cw < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(wShape)} has an empty dimension`);
  if (C !== Cw) throw new Error(`${op}: channel mismatch: input ${fmt(xShape)}, weight ${fmt(wShape)} (input has ${C} channels, weight expects ${Cw})`);
  if (H < 1 || W < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty spatial dimension`);
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const padH = ph + a.paddingEnd[0];
  const padW = pw + a.paddingEnd[1];
  if (H + padH < kh || W + padW < kw) {
    throw new Error(`${op}: kernel ${kh}x${kw} is larger than the padded input ${H + padH}x${W + padW} (input ${fmt(xShape)}, weight ${fmt(wShape)}, padding [${ph},${pw}])`);
  }
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, OH: Math.floor((H + padH - kh) / sh) + 1, OW: Math.floor((W + padW - kw) / sw) + 1 };
}

/** convTranspose2d's options as attributes. */
function convTranspose2dAttrs(opts: ConvTranspose2dOptions): ConvTranspose2dAttrs {
  const op = 'convTranspose2d';
  checkOptions(op, opts, ['stride', 'padding', 'outputPadding']);
  const stride = size2(op, 'stride', opts.stride ?? 1, 1);
  const padding = size2(op, 'padding', opts.padding ?? 0, 0);
  const outputPadding = size2(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  if (outputPadding[0] >= stride[0] || outputPadding[1] >= stride[1]) {
    throw new Error(`${op}: outputPadding [${outputPadding}] must be smaller than the stride [${stride}]`);
  }
  return { stride, padding, outputPadding, weightLayout: 'IOHW' };
}

/**
 * convTranspose2d's shape rule. The im2col geometry is that of the convolution from the
 * output (C = Cout, OH x OW) back to the input (H x W): its "image" is this op's output, its
 * "columns" this op's input.
 */
function convTranspose2dGeometry(xShape: Shape, wShape: Shape, a: ConvTranspose2dAttrs): Geometry {
  const op = 'convTranspose2d';
  checkRank4(op, 'input', xShape, '[N, C, H, W]');
  checkRank4(op, 'weight', wShape, '[inChannels, outChannels, kh, kw]');
  const [N, Cin, H, W] = xShape;
  const [Cw, Cout, kh, kw] = wShape;
  if (Cw < 1 || Cout < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(wShape)} has an empty dimension`);
  if (Cin !== Cw) throw new Error(`${op}: channel mismatch: input ${fmt(xShape)}, weight ${fmt(wShape)} (input has ${Cin} channels, weight expects ${Cw})`);
  if (H < 1 || W < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty spatial dimension`);
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const OH = (H - 1) * sh - 2 * ph + kh + a.outputPadding[0];
  const OW = (W - 1) * sw - 2 * pw + kw + a.outputPadding[1];
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output would be ${OH}x${OW}: padding [${ph},${pw}] is too large for input ${fmt(xShape)}, weight ${fmt(wShape)}, stride [${sh},${sw}]`);
  }
  return { N, C: Cout, H: OH, W: OW, kh, kw, sh, sw, ph, pw, OH: H, OW: W };
}

/** Shape of conv2d(x, weight, ·, opts) for an input of `inputShape`; throws what conv2d would. */
export function conv2dOutputShape(inputShape: Shape, weightShape: Shape, opts: Conv2dOptions = {}): number[] {
  const g = conv2dGeometry(inputShape, weightShape, conv2dAttrs(inputShape, weightShape, opts));
  return [g.N, weightShape[0], g.OH, g.OW];
}

/** Shape of convTranspose2d(x, weight, ·, opts) for an input of `inputShape`; throws what it would. */
export function convTranspose2dOutputShape(inputShape: Shape, weightShape: Shape, opts: ConvTranspose2dOptions = {}): number[] {
  const g = convTranspose2dGeometry(inputShape, weightShape, convTranspose2dAttrs(opts));
  return [g.N, g.C, g.H, g.W];
}

/** 1×1, stride 1, no padding: im2col is the identity, so the kernels are skipped. */
function isPointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.OH === g.H && g.OW === g.W;
}

/**
 * Stride 1 with few taps (first layers, C·kh·kw <= 32): the forward runs on conv2dDirect
 * (bias fused), which reads the images directly instead of copying every tap into a column
 * matrix and running short GEMM tiles over it.
 */
function fewTaps(g: Geometry, F: number): boolean {
  if (g.sh !== 1 || g.sw !== 1 || g.C * g.kh * g.kw > 32 || isPointwise(g)) return false;
  const k = kernels();
  return k.conv2dDirectWorkBytes(g.C, g.kh, g.kw, g.OH, g.OW, F) <= k.gemmWorkspaceBytes();
}

function im2col(s: Step, g: Geometry, img: number, col: Ptr): void {
  s.call('im2col', [img, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, col]);
}
function col2im(s: Step, g: Geometry, col: Ptr, img: number): void {
  s.call('col2im', [col, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, img]);
}
/** C = op(A)·op(B) (+ beta·C) with dense operands. */
function gemm(s: Step, transA: boolean, transB: boolean, M: number, N: number, K: number, a: Ptr, b: Ptr, beta: number, c: Ptr): void {
  s.gemm(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, beta, c, N);
}

// Weight gradients dW[M, Nc] = Σ_n A_n[M, K] · B_n[Nc, K]ᵀ accumulate over images (beta = 1
// after the first image of a lane). The GEMM computes whole 4x8 tiles, so when the transposed
// product dWᵀ = Σ B_n · A_nᵀ pads less (a one-channel 3x3 layer: dW [32, 9] is 512 tile
// entries, dWᵀ [9, 32] 384), that is accumulated instead, in scratch, and transposed once at
// the end (one pass over the weights, not per pixel).
function tileArea(m: number, n: number): number {
  return Math.ceil(m / 4) * 4 * Math.ceil(n / 8) * 8;
}
function dwTransposed(M: number, Nc: number): boolean {
  return tileArea(Nc, M) < tileArea(M, Nc);
}
/** dW[M, Nc] (+)= A[M, K] · B[Nc, K]ᵀ into the lane's partial, or its transpose when `t`. */
function dwGemm(s: Step<string, 'dw'>, t: boolean, M: number, Nc: number, K: number, a: Ptr, b: Ptr): void {
  const beta = s.first ? 0 : 1;
  if (t) gemm(s, false, true, Nc, M, K, b, a, beta, s.sum('dw'));
  else gemm(s, false, true, M, Nc, K, a, b, beta, s.sum('dw'));
}

/** Σ over images and positions of g [N, channels, spatial] -> [channels]. */
function biasGrad(g: Tensor, N: number, channels: number, spatial: number): Tensor {
  const k = kernels();
  const out = empty([channels]);
  if (N === 0) {
    k.fill(out.ptr, 0, channels);
    return out;
  }
  withScratch('float32', [N * channels], ([rows]) => {
    splitReduceSum(g.ptr, rows, N * channels, spatial, 1, 1);
    k.reduceSum(rows, out.ptr, 1, N, channels, 1);
  });
  return out;
}

// ---- plain-JS references (the naive loops live in conv-reference.ts, which tests import) ----

function conv2dReference(x: HostTensor, w: HostTensor, b: HostTensor | null = null, opts: Conv2dOptions = {}): HostTensor {
  const [, , H, W] = x.shape;
  const [, , kh, kw] = w.shape;
  const [sh, sw] = pair(opts.stride ?? 1);
  const pad = opts.padding ?? 0;
  let geo: NaiveConvGeometry;
  if (pad === 'same') geo = { stride: [sh, sw], padding: [(kh - 1) >> 1, (kw - 1) >> 1], out: [H, W] };
  else {
    const [ph, pw] = pair(pad === 'valid' ? 0 : pad);
    geo = { stride: [sh, sw], padding: [ph, pw], out: [Math.floor((H + 2 * ph - kh) / sh) + 1, Math.floor((W + 2 * pw - kw) / sw) + 1] };
  }
  const r = conv2dNaive(x, w, b, geo);
  return { shape: r.shape, data: opts.relu === true ? r.y.map((v) => Math.max(v, 0)) : r.y };
}

function convTranspose2dReference(x: HostTensor, w: HostTensor, b: HostTensor | null = null, opts: ConvTranspose2dOptions = {}): HostTensor {
  const [, , H, W] = x.shape;
  const [, , kh, kw] = w.shape;
  const [sh, sw] = pair(opts.stride ?? 1);
  const [ph, pw] = pair(opts.padding ?? 0);
  const [oph, opw] = pair(opts.outputPadding ?? 0);
  const r = convTranspose2dNaive(x, w, b, { stride: [sh, sw], padding: [ph, pw], out: [(H - 1) * sh - 2 * ph + kh + oph, (W - 1) * sw - 2 * pw + kw + opw] });
  return { shape: r.shape, data: r.y };
}

// ---- the ops ----------------------------------------------------------------------------

const zeros = (shape: number[]): Tensor => full(shape, 0);

/**
 * A bad call of `op` on zero tensors of shapes xShape and wShape, then `rest` (functions in it
 * are called when the test runs: tensors cannot be made before init()), and the message it
 * must throw.
 */
function bad(op: string, label: string, xShape: number[], wShape: number[], rest: unknown[], error: string | RegExp): BadInput {
  return { label, call: () => callOp(op, zeros(xShape), zeros(wShape), ...rest.map((r) => (typeof r === 'function' ? (r as () => unknown)() : r))), error };
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's conv2d): x [N, C, H, W], weight
 * [F, C, kh, kw], bias [F] or null -> [N, F, OH, OW] with OH = ⌊(H + 2·ph − kh)/sh⌋ + 1.
 */
export const conv2d: OpFn<[x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: Conv2dOptions], false> = defineOp({
  name: 'conv2d', family: 'conv', summary: '2-D convolution (cross-correlation), NCHW, weight [F, C, kh, kw]',
  inputs: ['x', 'weight', 'bias?'],
  parse: (x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}) => {
    const b = checkConvTensors('conv2d', x, weight, bias);
    return { inputs: [x, weight, b], attrs: conv2dAttrs(x.shape, weight.shape, opts) };
  },
  shape: ([x, w, b = null], attrs) => {
    const g = conv2dGeometry(x!, w!, attrs);
    checkBiasShape('conv2d', b, w![0], w!);
    return [g.N, w![0], g.OH, g.OW];
  },
  forward: ([x, w, b], attrs, shape) => {
    const g = conv2dGeometry(x!.shape, w!.shape, attrs);
    const { N, C, H, W, kh, kw, OH, OW } = g;
    const F = w!.shape[0];
    const K = C * kh * kw;
    const P = OH * OW;
    const direct = isPointwise(g);
    const y = empty(shape);
    const flops = 2 * N * F * K * P;
    const relu = attrs.relu;
    if (fewTaps(g, F)) {
      // Runs of images (4 per thread), each on its thread's workspace; the bias is fused.
      runPlan({
        flops, items: N, ranges: { perThread: 4 },
        work: (s, n, count) => {
          const yn = y.ptrAt(n * F * P);
          s.call('conv2dDirect', [x!.ptrAt(n * C * H * W), count, C, H, W, kh, kw, g.ph, g.pw, OH, OW,
            w!.ptr, F, b === null ? 0 : b.ptr, yn, WORKSPACE]);
          if (relu) s.call('unary', [UnOp.Relu, yn, yn, count * F * P]);
        },
      });
    } else {
      runPlan({
        flops, items: N, scratch: { col: direct ? 0 : K * P },
        // An image alone worth splitting (a batch of one): its GEMM is split across threads.
        work: (s, n) => {
          const xn = x!.ptrAt(n * C * H * W);
          const col = direct ? xn : s.scratch('col');
          if (!direct) im2col(s, g, xn, col);
          const yn = y.ptrAt(n * F * P);
          gemm(s, false, false, F, P, K, w!.ptr, col, 0, yn);
          // The bias while the image's output is still in cache, on the thread that made it.
          if (b !== null) s.call('binaryCol', [BinOp.Add, yn, b.ptr, yn, F, P, 0]);
          if (relu) s.call('unary', [UnOp.Relu, yn, yn, F * P]);
        },
        // Otherwise the same steps, run by one kernel over a run of images.
        batch: (s, n, count) => s.call('conv2dImages', [x!.ptrAt(n * C * H * W), count, C, H, W, kh, kw, g.sh, g.sw,
          g.ph, g.pw, OH, OW, w!.ptr, F, b === null ? 0 : b.ptr, relu ? 1 : 0, y.ptrAt(n * F * P),
          direct ? 0 : s.scratch('col'), WORKSPACE]),
      });
    }
    return { out: y, state: g };
  },
  backward: (gyIn, { inputs: [x, w, b], attrs: { relu }, out, state: g }) => {
    const { N, C, H, W, kh, kw, OH, OW } = g;
    const F = w!.shape[0];
    const K = C * kh * kw;
    const P = OH * OW;
    const direct = isPointwise(g);
    const dx = x!.requiresGrad ? empty(x!.shape) : null;
    const dw = w!.requiresGrad ? empty(w!.shape) : null;
    // With the fused ReLU the gradient is masked where the output is 0: per image inside the
    // plan (on the thread that then uses it), or in one pass when only the bias needs it.
    const maskInPlan = relu && (dx !== null || dw !== null);
    const gy = !relu ? gyIn : maskInPlan ? empty(gyIn.shape) : reluGrad(out, gyIn);
    if (dx !== null || dw !== null) {
      const wt = dwTransposed(F, K);
      runPlan<'col', 'dw'>({
        flops: 2 * N * F * K * P * ((dx !== null ? 1 : 0) + (dw !== null ? 1 : 0)), items: N,
        scratch: { col: direct ? 0 : K * P },
        sums: dw === null ? {} : { dw: { elements: F * K, into: wt ? null : dw.ptr } },
        work: (s, n) => {
          const xn = x!.ptrAt(n * C * H * W);
          const gn = gy.ptrAt(n * F * P);
          if (maskInPlan) s.call('reluBackward', [out.ptrAt(n * F * P), gyIn.ptrAt(n * F * P), gn, F * P]);
          const col = direct ? xn : s.scratch('col');
          if (dw !== null) {
            // dW[F, K] (+)= dY[n][F, P] · col[K, P]ᵀ
            if (!direct) im2col(s, g, xn, col);
            dwGemm(s, wt, F, K, P, gn, col);
          }
          if (dx !== null) {
            // dcol[K, P] = Wᵀ · dY[n], folded back onto the image by col2im.
            const dxn = dx.ptrAt(n * C * H * W);
            if (direct) gemm(s, true, false, K, P, F, w!.ptr, gn, 0, dxn);
            else {
              gemm(s, true, false, K, P, F, w!.ptr, gn, 0, col);
              // col2im adds into the image: zeroed here, by the thread that fills it next.
              s.call('fill', [dxn, 0, C * H * W]);
              col2im(s, g, col, dxn);
            }
          }
        },
        batch: (s, n, count) => s.call('conv2dBackwardImages', [x!.ptrAt(n * C * H * W), gyIn.ptrAt(n * F * P),
          maskInPlan ? out.ptrAt(n * F * P) : 0, gy.ptrAt(n * F * P), count, C, H, W, kh, kw, g.sh, g.sw, g.ph, g.pw,
          OH, OW, w!.ptr, F, maskInPlan ? 1 : 0, dw === null ? 0 : wt ? 2 : 1, dw === null ? 0 : s.sum('dw'), s.first ? 1 : 0,
          dx === null ? 0 : dx.ptrAt(n * C * H * W), direct ? 0 : s.scratch('col'), WORKSPACE]),
        finish: (sums) => {
          if (dw !== null && wt) kernels().transpose2d(sums.dw, K, F, dw.ptr);
        },
      });
    }
    const db = b !== null && b.requiresGrad ? biasGrad(gy, N, F, P) : null;
    if (gy !== gyIn) gy.dispose();
    return [dx, dw, db];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: conv2dReference },
    samples: [
      { label: '3x3 stride 2 padding 1, no bias', inputs: [{ shape: [1, 3, 6, 5] }, { shape: [2, 3, 3, 3] }], args: [null, { stride: 2, padding: 1 }] },
      { label: '3x3 padding 1, bias, batch 2', inputs: [{ shape: [2, 2, 5, 4] }, { shape: [3, 2, 3, 3] }, { shape: [3] }], args: [{ padding: 1 }] },
      { label: '5x3 stride [2,1] padding [2,0], bias', inputs: [{ shape: [2, 1, 7, 5] }, { shape: [2, 1, 5, 3] }, { shape: [2] }], args: [{ stride: [2, 1], padding: [2, 0] }] },
      { label: '1x1 pointwise, bias', inputs: [{ shape: [2, 3, 3, 2] }, { shape: [2, 3, 1, 1] }, { shape: [2] }] },
      { label: "'same' with an even 2x2 kernel", inputs: [{ shape: [1, 2, 4, 5] }, { shape: [2, 2, 2, 2] }], args: [null, { padding: 'same' }] },
      { label: 'many channels (im2col + GEMM)', inputs: [{ shape: [2, 5, 4, 4] }, { shape: [3, 5, 3, 3] }, { shape: [3] }], args: [{ padding: 1 }] },
      // Inputs away from 0 keep the outputs off ReLU's kink for the finite differences.
      { label: 'fused relu, im2col + GEMM', inputs: [{ shape: [2, 5, 4, 4], kind: 'away' }, { shape: [3, 5, 3, 3], kind: 'away' }, { shape: [3], kind: 'away' }], args: [{ padding: 1, relu: true }] },
      { label: 'fused relu, few taps (direct)', inputs: [{ shape: [2, 1, 5, 6], kind: 'away' }, { shape: [3, 1, 3, 3], kind: 'away' }, { shape: [3], kind: 'away' }], args: [{ padding: 1, relu: true }] },
    ],
    badInputs: [
      bad('conv2d', 'channel mismatch', [2, 3, 8, 8], [4, 5, 3, 3], [], /^conv2d: channel mismatch: input \[2,3,8,8\], weight \[4,5,3,3\]/),
      bad('conv2d', '3-D input', [3, 8, 8], [4, 3, 3, 3], [], /^conv2d: input must be 4-D \[N, C, H, W\], got \[3,8,8\]/),
      bad('conv2d', '2-D weight', [2, 3, 8, 8], [4, 27], [], /^conv2d: weight must be 4-D .*got \[4,27\]/),
      bad('conv2d', 'kernel larger than the padded input', [1, 3, 2, 8], [4, 3, 5, 3], [null, { padding: 1 }],
        'conv2d: kernel 5x3 is larger than the padded input 4x10 (input [1,3,2,8], weight [4,3,5,3], padding [1,1])'),
      bad('conv2d', 'zero stride', [2, 3, 8, 8], [4, 3, 3, 3], [null, { stride: 0 }], 'conv2d: stride must be a positive integer or a pair [h, w] of them, got 0'),
      bad('conv2d', 'fractional stride', [2, 3, 8, 8], [4, 3, 3, 3], [null, { stride: [1, 1.5] }], /^conv2d: stride must be .*got \[1,1\.5\]/),
      bad('conv2d', 'negative padding', [2, 3, 8, 8], [4, 3, 3, 3], [null, { padding: -1 }], /^conv2d: padding must be an integer >= 0 or a pair/),
      // Found by test/fuzz/ops.fuzz.test.ts: the allocator's refusal started with 'empty: '.
      bad('conv2d', 'a padding too large to allocate', [1, 2, 4, 5], [2, 2, 2, 2], [null, { padding: 2 ** 31 }], /^conv2d: empty: .* exceed the 4 GiB wasm32 address space/),
      bad('conv2d', 'padding of three numbers', [2, 3, 8, 8], [4, 3, 3, 3], [null, { padding: [1, 1, 1] }], /^conv2d: padding must be .*got \[1,1,1\]/),
      bad('conv2d', 'unknown padding string', [2, 3, 8, 8], [4, 3, 3, 3], [null, { padding: 'full' }], /^conv2d: padding must be .*got 'full'/),
      bad('conv2d', "'same' with stride 2", [2, 3, 8, 8], [4, 3, 3, 3], [null, { stride: 2, padding: 'same' }], /^conv2d: padding 'same' needs stride 1/),
      bad('conv2d', 'wrong bias shape', [2, 3, 8, 8], [4, 3, 3, 3], [() => zeros([3])], 'conv2d: bias must be [4] for weight [4,3,3,3], got [3]'),
      bad('conv2d', 'unknown option', [2, 3, 8, 8], [4, 3, 3, 3], [null, { strides: 2 }], "conv2d: unknown option 'strides' (known: stride, padding, relu)"),
      bad('conv2d', 'relu not a boolean', [2, 3, 8, 8], [4, 3, 3, 3], [null, { relu: 1 }], 'conv2d: relu must be true or false, got 1'),
      { label: 'not a tensor', call: () => callOp('conv2d', [1, 2], zeros([4, 3, 3, 3])), error: /^conv2d: input must be a Tensor/ },
    ],
  } : undefined,
});

/**
 * Transposed 2-D convolution (PyTorch's conv_transpose2d; the adjoint of conv2d with the same
 * stride and padding): x [N, Cin, H, W], weight [Cin, Cout, kh, kw], bias [Cout] or null ->
 * [N, Cout, OH, OW] with OH = (H − 1)·sh − 2·ph + kh + outputPadding.
 */
export const convTranspose2d: OpFn<[x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions], false> = defineOp({
  name: 'convTranspose2d', family: 'conv', summary: 'transposed 2-D convolution (the adjoint of conv2d), NCHW, weight [Cin, Cout, kh, kw]',
  inputs: ['x', 'weight', 'bias?'],
  parse: (x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}) => {
    const b = checkConvTensors('convTranspose2d', x, weight, bias);
    return { inputs: [x, weight, b], attrs: convTranspose2dAttrs(opts) };
  },
  shape: ([x, w, b = null], attrs) => {
    const g = convTranspose2dGeometry(x!, w!, attrs);
    checkBiasShape('convTranspose2d', b, g.C, w!);
    return [g.N, g.C, g.H, g.W];
  },
  forward: ([x, w, b], attrs, shape) => {
    const g = convTranspose2dGeometry(x!.shape, w!.shape, attrs);
    const { N, kh, kw } = g;
    const Cin = w!.shape[0];
    const Cout = g.C;
    const Ko = Cout * kh * kw; // rows of the column matrix
    const Pin = g.OH * g.OW; // input positions = columns of the column matrix
    const Pout = g.H * g.W; // output positions
    const direct = isPointwise(g);
    const y = empty(shape);
    runPlan({
      flops: 2 * N * Ko * Pin * Cin, items: N, scratch: { col: direct ? 0 : Ko * Pin },
      work: (s, n) => {
        // col[Ko, Pin] = W[Cin, Ko]ᵀ · x[n][Cin, Pin], folded onto the output image (which
        // col2im adds into: zeroed first), then the bias, all on the thread that has it in cache.
        const yn = y.ptrAt(n * Cout * Pout);
        const col = direct ? yn : s.scratch('col');
        gemm(s, true, false, Ko, Pin, Cin, w!.ptr, x!.ptrAt(n * Cin * Pin), 0, col);
        if (!direct) {
          s.call('fill', [yn, 0, Cout * Pout]);
          col2im(s, g, col, yn);
        }
        if (b !== null) s.call('binaryCol', [BinOp.Add, yn, b.ptr, yn, Cout, Pout, 0]);
      },
      batch: (s, n, count) => s.call('convTranspose2dImages', [x!.ptrAt(n * Cin * Pin), count, Cin, Cout, g.H, g.W, kh, kw,
        g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, w!.ptr, b === null ? 0 : b.ptr, y.ptrAt(n * Cout * Pout),
        direct ? 0 : s.scratch('col'), WORKSPACE]),
    });
    return { out: y, state: g };
  },
  backward: (gy, { inputs: [x, w, b], state: g }) => {
    const { N, kh, kw } = g;
    const Cin = w!.shape[0];
    const Cout = g.C;
    const Ko = Cout * kh * kw;
    const Pin = g.OH * g.OW;
    const Pout = g.H * g.W;
    const direct = isPointwise(g);
    const dx = x!.requiresGrad ? empty(x!.shape) : null;
    const dw = w!.requiresGrad ? empty(w!.shape) : null;
    if (dx !== null || dw !== null) {
      const wt = dwTransposed(Cin, Ko);
      runPlan<'col', 'dw'>({
        flops: 2 * N * Cin * Ko * Pin * ((dx !== null ? 1 : 0) + (dw !== null ? 1 : 0)), items: N,
        scratch: { col: direct ? 0 : Ko * Pin },
        sums: dw === null ? {} : { dw: { elements: Cin * Ko, into: wt ? null : dw.ptr } },
        work: (s, n) => {
          // The column matrix of dY[n]: [Ko, Pin].
          const gn = gy.ptrAt(n * Cout * Pout);
          const col = direct ? gn : s.scratch('col');
          if (!direct) im2col(s, g, gn, col);
          if (dx !== null) gemm(s, false, false, Cin, Pin, Ko, w!.ptr, col, 0, dx.ptrAt(n * Cin * Pin));
          // dW[Cin, Ko] (+)= x[n][Cin, Pin] · col[Ko, Pin]ᵀ
          if (dw !== null) dwGemm(s, wt, Cin, Ko, Pin, x!.ptrAt(n * Cin * Pin), col);
        },
        batch: (s, n, count) => s.call('convTranspose2dBackwardImages', [x!.ptrAt(n * Cin * Pin), gy.ptrAt(n * Cout * Pout), count,
          Cin, Cout, g.H, g.W, kh, kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, w!.ptr, dw === null ? 0 : wt ? 2 : 1,
          dw === null ? 0 : s.sum('dw'), s.first ? 1 : 0, dx === null ? 0 : dx.ptrAt(n * Cin * Pin), direct ? 0 : s.scratch('col'), WORKSPACE]),
        finish: (sums) => {
          if (dw !== null && wt) kernels().transpose2d(sums.dw, Ko, Cin, dw.ptr);
        },
      });
    }
    const db = b !== null && b.requiresGrad ? biasGrad(gy, N, Cout, Pout) : null;
    return [dx, dw, db];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: convTranspose2dReference },
    samples: [
      { label: '2x2 stride 1, no bias', inputs: [{ shape: [1, 2, 4, 3] }, { shape: [2, 3, 2, 2] }] },
      { label: '3x3 stride 2 padding 1 outputPadding 1, bias', inputs: [{ shape: [2, 3, 3, 2] }, { shape: [3, 2, 3, 3] }, { shape: [2] }], args: [{ stride: 2, padding: 1, outputPadding: 1 }] },
      { label: '4x4 stride 2 padding 1, bias', inputs: [{ shape: [1, 2, 3, 3] }, { shape: [2, 2, 4, 4] }, { shape: [2] }], args: [{ stride: 2, padding: 1 }] },
      { label: '5x3 stride [2,1] padding [2,1], no bias', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [1, 2, 5, 3] }], args: [null, { stride: [2, 1], padding: [2, 1], outputPadding: [1, 0] }] },
      { label: '1x1 pointwise, bias', inputs: [{ shape: [2, 3, 2, 3] }, { shape: [3, 2, 1, 1] }, { shape: [2] }] },
    ],
    badInputs: [
      bad('convTranspose2d', 'channel mismatch', [2, 3, 8, 8], [4, 2, 3, 3], [], /^convTranspose2d: channel mismatch: input \[2,3,8,8\], weight \[4,2,3,3\]/),
      bad('convTranspose2d', 'outputPadding >= stride', [2, 3, 8, 8], [3, 2, 3, 3], [null, { stride: 2, outputPadding: 2 }], 'convTranspose2d: outputPadding [2,2] must be smaller than the stride [2,2]'),
      bad('convTranspose2d', 'padding too large', [1, 3, 1, 1], [3, 2, 3, 3], [null, { padding: 2 }],
        'convTranspose2d: output would be -1x-1: padding [2,2] is too large for input [1,3,1,1], weight [3,2,3,3], stride [1,1]'),
      bad('convTranspose2d', "padding 'same'", [2, 3, 8, 8], [3, 2, 3, 3], [null, { padding: 'same' }], "convTranspose2d: padding must be an integer >= 0 or a pair [h, w] of them, got 'same'"),
      bad('convTranspose2d', 'wrong bias', [2, 3, 8, 8], [3, 2, 3, 3], [() => zeros([3])], 'convTranspose2d: bias must be [2] for weight [3,2,3,3], got [3]'),
      bad('convTranspose2d', 'zero stride', [2, 3, 8, 8], [3, 2, 3, 3], [null, { stride: [0, 1] }], /^convTranspose2d: stride must be a positive integer/),
      bad('convTranspose2d', 'unknown option', [2, 3, 8, 8], [3, 2, 3, 3], [null, { output_padding: 1 }], "convTranspose2d: unknown option 'output_padding' (known: stride, padding, outputPadding)"),
    ],
  } : undefined,
});
