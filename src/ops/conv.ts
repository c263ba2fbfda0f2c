// 2-D convolution (NCHW, PyTorch semantics: cross-correlation, no dilation/groups) and its
// adjoint, the transposed convolution, as im2col + GEMM, one image at a time:
//
//   conv2d           y[n] = W[F, C·kh·kw] · col(x[n])          col = im2col(x[n])  [C·kh·kw, OH·OW]
//                    dW  += dY[n] · col(x[n])ᵀ                 (gemm with B transposed)
//                    dx[n] = col2im(Wᵀ · dY[n])                 (gemm with A transposed)
//   convTranspose2d  y[n] = col2im(Wᵀ · x[n])                   W [Cin, Cout·kh·kw]
//                    dx[n] = W · im2col(dY[n]);  dW += x[n] · im2col(dY[n])ᵀ
//
// One scratch column buffer (C·kh·kw × OH·OW floats) is allocated per call and reused for
// every image. A 1×1 kernel with stride 1 and no padding skips im2col/col2im entirely (the
// image is its own column matrix). Bias gradients are row sums of dY, then a sum over images.
//
// Threads (bindings/threads.ts) split large calls by images, each thread with its own column
// buffer: forward passes and input gradients are then bitwise identical to one thread. Weight
// gradients are sums over images: for a call planned for several threads the images are cut
// into fixed lanes (runs of consecutive images, 4 per planned thread), each accumulated into
// its own partial, and the partials are added in lane order. The result then depends on the
// setThreads() count (within float rounding of the one-thread sum), never on timing or on how
// many threads actually ran it. With fewer images than threads, the per-image GEMMs are split
// instead (by rows, bitwise identical).
import { BinOp, f32, kernels, runtime } from '../../bindings/index';
import { Job, plannedThreads, threadsFor } from '../../bindings/threads';
import { gemmCall } from './matmul';
import { record } from '../core/autograd';
import { Tensor, empty, fmt, type Shape } from '../core/tensor';
import { assertFloat, assertTensor } from '../core/validate';

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
}

export interface ConvTranspose2dOptions {
  /** Stride of the convolution this op is the adjoint of (default 1). */
  stride?: Size2;
  /** Padding of that convolution: removed from each side of the output (default 0). */
  padding?: Size2;
  /** Extra rows/columns added at the bottom/right of the output, < stride (default 0). */
  outputPadding?: Size2;
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

function checkOptions(op: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new Error(`${op}: unknown option '${k}' (expected ${allowed.join(', ')})`);
  }
}

function conv2dGeometry(xShape: Shape, wShape: Shape, opts: Conv2dOptions): Geometry {
  const op = 'conv2d';
  checkOptions(op, opts, ['stride', 'padding']);
  checkRank4(op, 'input', xShape, '[N, C, H, W]');
  checkRank4(op, 'weight', wShape, '[outChannels, inChannels, kh, kw]');
  const [N, C, H, W] = xShape;
  const [F, Cw, kh, kw] = wShape;
  if (F < 1 || Cw < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(wShape)} has an empty dimension`);
  if (C !== Cw) throw new Error(`${op}: channel mismatch: input ${fmt(xShape)}, weight ${fmt(wShape)} (input has ${C} channels, weight expects ${Cw})`);
  if (H < 1 || W < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty spatial dimension`);
  const [sh, sw] = size2(op, 'stride', opts.stride ?? 1, 1);
  const pad = opts.padding ?? 0;
  let ph: number, pw: number, OH: number, OW: number;
  if (pad === 'same') {
    if (sh !== 1 || sw !== 1) throw new Error(`${op}: padding 'same' needs stride 1, got stride [${sh},${sw}] (input ${fmt(xShape)}, weight ${fmt(wShape)})`);
    // Total padding k - 1 per dim: floor half before, the rest after (the kernel reads zeros there).
    ph = (kh - 1) >> 1;
    pw = (kw - 1) >> 1;
    OH = H;
    OW = W;
  } else {
    [ph, pw] = pad === 'valid' ? [0, 0] : size2(op, 'padding', pad, 0);
    if (H + 2 * ph < kh || W + 2 * pw < kw) {
      throw new Error(`${op}: kernel ${kh}x${kw} is larger than the padded input ${H + 2 * ph}x${W + 2 * pw} (input ${fmt(xShape)}, weight ${fmt(wShape)}, padding [${ph},${pw}])`);
    }
    OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
    OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  }
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW };
}

function convTranspose2dGeometry(xShape: Shape, wShape: Shape, opts: ConvTranspose2dOptions): Geometry {
  const op = 'convTranspose2d';
  checkOptions(op, opts, ['stride', 'padding', 'outputPadding']);
  checkRank4(op, 'input', xShape, '[N, C, H, W]');
  checkRank4(op, 'weight', wShape, '[inChannels, outChannels, kh, kw]');
  const [N, Cin, H, W] = xShape;
  const [Cw, Cout, kh, kw] = wShape;
  if (Cw < 1 || Cout < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(wShape)} has an empty dimension`);
  if (Cin !== Cw) throw new Error(`${op}: channel mismatch: input ${fmt(xShape)}, weight ${fmt(wShape)} (input has ${Cin} channels, weight expects ${Cw})`);
  if (H < 1 || W < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty spatial dimension`);
  if ((opts.padding as unknown) === 'same' || (opts.padding as unknown) === 'valid') {
    throw new Error(`${op}: padding must be an integer >= 0 or a pair [h, w] of them, got '${String(opts.padding)}'`);
  }
  const [sh, sw] = size2(op, 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = size2(op, 'padding', opts.padding ?? 0, 0);
  const [oph, opw] = size2(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  if (oph >= sh || opw >= sw) {
    throw new Error(`${op}: outputPadding [${oph},${opw}] must be smaller than the stride [${sh},${sw}]`);
  }
  const OH = (H - 1) * sh - 2 * ph + kh + oph;
  const OW = (W - 1) * sw - 2 * pw + kw + opw;
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output would be ${OH}x${OW}: padding [${ph},${pw}] is too large for input ${fmt(xShape)}, weight ${fmt(wShape)}, stride [${sh},${sw}]`);
  }
  // The im2col geometry is that of the convolution from the output (C = Cout, OH x OW) back
  // to the input (H x W): its "image" is this op's output, its "columns" this op's input.
  return { N, C: Cout, H: OH, W: OW, kh, kw, sh, sw, ph, pw, OH: H, OW: W };
}

/** Shape of conv2d(x, weight, ·, opts) for an input of `inputShape`; throws what conv2d would. */
export function conv2dOutputShape(inputShape: Shape, weightShape: Shape, opts: Conv2dOptions = {}): number[] {
  const g = conv2dGeometry(inputShape, weightShape, opts);
  return [g.N, weightShape[0], g.OH, g.OW];
}

/** Shape of convTranspose2d(x, weight, ·, opts) for an input of `inputShape`; throws what it would. */
export function convTranspose2dOutputShape(inputShape: Shape, weightShape: Shape, opts: ConvTranspose2dOptions = {}): number[] {
  const g = convTranspose2dGeometry(inputShape, weightShape, opts);
  return [g.N, g.C, g.H, g.W];
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number, wShape: Shape): void {
  if (bias === null || bias === undefined) return;
  assertTensor(op, bias, 'bias');
  assertFloat(op, bias);
  if (bias.ndim !== 1 || bias.shape[0] !== channels) {
    throw new Error(`${op}: bias must be [${channels}] for weight ${fmt(wShape)}, got ${fmt(bias.shape)}`);
  }
}

/** 1×1, stride 1, no padding: im2col is the identity, so the kernels are skipped. */
function isPointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.OH === g.H && g.OW === g.W;
}

/**
 * Stride 1 with few taps (first layers, C·kh·kw <= 32): the forward runs on conv2dDirect
 * (bias fused), which reads the images directly instead of building column matrices
 * (32×1×28×28 -> 32 3×3: 1.3-1.5× faster than im2col + GEMM on one thread).
 */
function fewTaps(g: Geometry, F: number): boolean {
  if (g.sh !== 1 || g.sw !== 1 || g.C * g.kh * g.kw > 32 || isPointwise(g)) return false;
  const k = kernels();
  return k.conv2dDirectWorkBytes(g.C, g.kh, g.kw, g.OH, g.OW, F) <= k.gemmWorkspaceBytes();
}

function im2colCall(g: Geometry, img: number, col: number): void {
  kernels().im2col(img, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, col);
}
function col2imCall(g: Geometry, col: number, img: number): void {
  kernels().col2im(col, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, img);
}

/** C = op(A)·op(B) (+ beta·C) with dense operands; pointers, not tensors. Threaded when large. */
function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: number, b: number, beta: number, c: number): void {
  gemmCall(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, beta, c, N);
}

// ---- the same steps as parallel job calls (the column buffer `col` is an offset into the
// running thread's local scratch when `local` is set) ----
const COL_ARG = 1 << 12; // im2col's col argument
const COL_IN = 1; // col2im's col argument
const A_ARG = 1 << 6; // gemm's A argument
const B_ARG = 1 << 8; // gemm's B argument
const C_ARG = 1 << 11; // gemm's C argument
function jobIm2col(job: Job, g: Geometry, img: number, col: number, local: boolean): void {
  job.call('im2col', [img, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, col], -1, local ? COL_ARG : 0);
}
function jobCol2im(job: Job, g: Geometry, col: number, img: number, local: boolean): void {
  job.call('col2im', [col, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, img], -1, local ? COL_IN : 0);
}
function jobGemm(job: Job, transA: boolean, transB: boolean, M: number, N: number, K: number, a: number, b: number, beta: number, c: number, mask = 0): void {
  job.gemm(transA, transB, M, N, K, a, transA ? M : K, b, transB ? K : N, beta, c, N, 0, false, mask);
}

/** Threads to run a call over N images of `flops` in all on now: at most one per image. */
function imageThreads(flops: number, N: number): number {
  return N < 2 ? 1 : threadsFor(flops, N);
}
/** Lanes for a weight gradient over N images (0: one thread's plain loop), from the plan only. */
function planLanes(flops: number, N: number, weights: number): number {
  const T = N < 2 ? 1 : plannedThreads(flops, N);
  return T > 1 ? dwLanes(N, T, weights) : 0;
}
/** Images per parallel job, so a job's call list fits its buffer. */
const ROUND = 512;

/**
 * Runs `body` for every image as parallel tasks on T threads, in jobs of up to ROUND images;
 * `local(t)` is thread t's scratch. With lanes = 0 each image is a task; with L lanes the
 * images are cut into L fixed runs of consecutive images (image n is in lane ⌊n·L/N⌋), each
 * run one task, and `first` marks the first image of its lane.
 */
function imageTasks(T: number, N: number, lanes: number, local: (t: number) => number,
  body: (job: Job, n: number, lane: number, first: boolean) => void): void {
  const laneOf = (n: number): number => (lanes > 0 ? Math.floor((n * lanes) / N) : n);
  for (let n0 = 0; n0 < N; n0 += ROUND) {
    const job = new Job(T);
    for (let t = 0; t < T; t++) job.local(t, local(t));
    let open = -1;
    for (let n = n0; n < Math.min(N, n0 + ROUND); n++) {
      const lane = laneOf(n);
      if (lane !== open) {
        job.task();
        open = lane;
      }
      body(job, n, lane, n === 0 || laneOf(n - 1) !== lane);
    }
    job.run();
  }
}

/**
 * Lanes for a threaded weight gradient: each accumulates its images into its own partial,
 * and the partials are summed in lane order, so the result depends on the lane count — 4 per
 * thread (spare lanes let a free thread take over work from a late one), fewer when the
 * partials would pass 64 MB — and not on which thread ran what.
 */
function dwLanes(N: number, T: number, weights: number): number {
  return Math.max(Math.min(T, N), Math.min(N, 4 * T, Math.floor((64 << 20) / (4 * weights))));
}

// Weight gradients dW[M, Nc] = Σ_n A_n[M, K] · B_n[Nc, K]ᵀ accumulate over images (beta = 1
// after the first). The GEMM computes whole 4x8 tiles, so when the transposed product
// dWᵀ = Σ B_n · A_nᵀ pads less (a one-channel 3x3 layer: dW [32, 9] is 512 tile entries,
// dWᵀ [9, 32] 384; measured 0.86 -> 0.66 ms for 32 images of 28x28), that is accumulated in
// scratch and transposed once at the end.
function tileArea(m: number, n: number): number {
  return Math.ceil(m / 4) * 4 * Math.ceil(n / 8) * 8;
}
function dwTransposed(M: number, Nc: number): boolean {
  return tileArea(Nc, M) < tileArea(M, Nc);
}
function dwGemm(transposed: boolean, M: number, Nc: number, K: number, a: number, b: number, first: boolean, dw: number, tmp: number): void {
  if (transposed) gemm(false, true, Nc, M, K, b, a, first ? 0 : 1, tmp);
  else gemm(false, true, M, Nc, K, a, b, first ? 0 : 1, dw);
}
function dwFinish(transposed: boolean, M: number, Nc: number, dw: Tensor, tmp: number, count: number): void {
  if (count === 0) {
    kernels().fill(dw.ptr, 0, dw.size);
  } else if (transposed) {
    // One pass over the M·Nc weights (not per pixel).
    const m = f32();
    const d = dw.ptr >>> 2;
    const t = tmp >>> 2;
    for (let r = 0; r < M; r++) for (let c = 0; c < Nc; c++) m[d + r * Nc + c] = m[t + c * M + r];
  }
}

/** Runs fn with a scratch block of `floats` f32s (none when floats is 0), freed afterwards. */
function withScratch<T>(floats: number, fn: (ptr: number) => T): T {
  if (floats === 0) return fn(0);
  const alloc = runtime().allocator;
  const ptr = alloc.alloc(floats * 4);
  try {
    return fn(ptr);
  } finally {
    alloc.release(ptr);
  }
}

/** y[n, c, :] += bias[c] for y [N, channels, spatial]. */
function addBias(y: Tensor, bias: Tensor, N: number, channels: number, spatial: number): void {
  const k = kernels();
  const block = channels * spatial * 4;
  for (let n = 0; n < N; n++) k.binaryCol(BinOp.Add, y.ptr + n * block, bias.ptr, y.ptr + n * block, channels, spatial, 0);
}

/** Σ over images and positions of g [N, channels, spatial] -> [channels]. */
function biasGrad(g: Tensor, N: number, channels: number, spatial: number): Tensor {
  const k = kernels();
  const out = empty([channels]);
  if (N === 0) {
    k.fill(out.ptr, 0, channels);
    return out;
  }
  withScratch(N * channels, (rows) => {
    k.reduceSum(g.ptr, rows, N * channels, spatial, 1, 1);
    k.reduceSum(rows, out.ptr, 1, N, channels, 1);
  });
  return out;
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's conv2d): x [N, C, H, W], weight
 * [F, C, kh, kw], bias [F] or null -> [N, F, OH, OW] with OH = ⌊(H + 2·ph − kh)/sh⌋ + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  assertTensor(op, x, 'input');
  assertTensor(op, weight, 'weight');
  assertFloat(op, x, weight);
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  const F = weight.shape[0];
  checkBias(op, bias, F, weight.shape);
  const { N, C, H, W, kh, kw, OH, OW } = g;
  const K = C * kh * kw;
  const P = OH * OW;
  const xBlock = C * H * W * 4;
  const yBlock = F * P * 4;
  const direct = isPointwise(g);

  const y = empty([N, F, OH, OW]);
  const T = imageThreads(2 * N * F * K * P, N);
  const few = fewTaps(g, F);
  if (T > 1 && few) {
    // Runs of images per task (4 per thread), each thread on its own workspace.
    const per = Math.ceil(N / (4 * T));
    const job = new Job(T);
    for (let n = 0; n < N; n += per) {
      const count = Math.min(per, N - n);
      job.task().call('conv2dDirect', [x.ptr + n * xBlock, count, C, H, W, kh, kw, g.ph, g.pw, OH, OW, weight.ptr, F, bias === null ? 0 : bias.ptr, y.ptr + n * yBlock, 0], 15);
    }
    job.run();
  } else if (T > 1) {
    // One task per image, each thread with its own columns.
    withScratch(direct ? 0 : T * K * P, (cols) => {
      imageTasks(T, N, 0, (t) => cols + t * K * P * 4, (job, n) => {
        const xn = x.ptr + n * xBlock;
        if (!direct) jobIm2col(job, g, xn, 0, true);
        jobGemm(job, false, false, F, P, K, weight.ptr, direct ? xn : 0, 0, y.ptr + n * yBlock, direct ? 0 : B_ARG);
      });
    });
  } else if (few) {
    const rt = runtime();
    rt.kernels.conv2dDirect(x.ptr, N, C, H, W, kh, kw, g.ph, g.pw, OH, OW, weight.ptr, F, bias === null ? 0 : bias.ptr, y.ptr, rt.gemmWork);
  } else {
    withScratch(direct ? 0 : K * P, (col) => {
      for (let n = 0; n < N; n++) {
        const xn = x.ptr + n * xBlock;
        if (!direct) im2colCall(g, xn, col);
        gemm(false, false, F, P, K, weight.ptr, direct ? xn : col, 0, y.ptr + n * yBlock);
      }
    });
  }
  if (bias !== null && !few) addBias(y, bias, N, F, P);

  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record('conv2d', y, inputs, (gy) => {
    const needX = x.requiresGrad;
    const needW = weight.requiresGrad;
    const dx = needX ? empty(x.shape) : null;
    const dw = needW ? empty(weight.shape) : null;
    if (dx !== null && !direct) kernels().fill(dx.ptr, 0, dx.size);
    const flops = 2 * N * F * K * P * ((needX ? 1 : 0) + (needW ? 1 : 0));
    const T = needX || needW ? imageThreads(flops, N) : 1;
    // Weight gradients are split into lanes by the plan, whatever runs them now (maybe one thread).
    const L = dw !== null ? planLanes(flops, N, F * K) : 0;
    if (T > 1 || L > 0) {
      const colFloats = direct ? 0 : K * P;
      const wt = dw !== null && dwTransposed(F, K);
      // Per thread its columns; per lane its partial dW (lane 0: dW itself, unless transposed).
      withScratch(T * colFloats + L * F * K, (scratch) => {
        const parts = scratch + T * colFloats * 4;
        const partOf = (l: number): number => (l === 0 && !wt ? dw!.ptr : parts + l * F * K * 4);
        imageTasks(T, N, L, (t) => scratch + t * colFloats * 4, (job, n, lane, first) => {
          const xn = x.ptr + n * xBlock;
          const gn = gy.ptr + n * yBlock;
          if (dw !== null) {
            if (!direct) jobIm2col(job, g, xn, 0, true);
            // dW[F, K] (+)= dY[n] · colᵀ, or transposed: dWᵀ[K, F] (+)= col · dY[n]ᵀ
            if (wt) jobGemm(job, false, true, K, F, P, direct ? xn : 0, gn, first ? 0 : 1, partOf(lane), direct ? 0 : A_ARG);
            else jobGemm(job, false, true, F, K, P, gn, direct ? xn : 0, first ? 0 : 1, partOf(lane), direct ? 0 : B_ARG);
          }
          if (dx !== null) {
            const dxn = dx.ptr + n * xBlock;
            if (direct) {
              jobGemm(job, true, false, K, P, F, weight.ptr, gn, 0, dxn);
            } else {
              jobGemm(job, true, false, K, P, F, weight.ptr, gn, 0, 0, C_ARG);
              jobCol2im(job, g, 0, dxn, true);
            }
          }
        });
        if (dw !== null) {
          // Lane partials in lane order, then the transposed layout is undone.
          for (let l = 1; l < L; l++) kernels().axpy(1, partOf(l), partOf(0), F * K);
          dwFinish(wt, F, K, dw, partOf(0), N);
        }
      });
    } else if (needX || needW) {
      const colFloats = direct ? 0 : K * P;
      const wt = dw !== null && dwTransposed(F, K);
      withScratch(colFloats + (wt ? F * K : 0), (col) => {
        const tmp = col + colFloats * 4;
        for (let n = 0; n < N; n++) {
          const xn = x.ptr + n * xBlock;
          const gn = gy.ptr + n * yBlock;
          if (dw !== null) {
            // dW[F, K] (+)= dY[n][F, P] · col[K, P]ᵀ
            if (!direct) im2colCall(g, xn, col);
            dwGemm(wt, F, K, P, gn, direct ? xn : col, n === 0, dw.ptr, tmp);
          }
          if (dx !== null) {
            // dcol[K, P] = Wᵀ · dY[n], folded back onto the image by col2im.
            const dxn = dx.ptr + n * xBlock;
            if (direct) {
              gemm(true, false, K, P, F, weight.ptr, gn, 0, dxn);
            } else {
              gemm(true, false, K, P, F, weight.ptr, gn, 0, col);
              col2imCall(g, col, dxn);
            }
          }
        }
        if (dw !== null) dwFinish(wt, F, K, dw, tmp, N);
      });
    }
    const db = bias !== null && bias.requiresGrad ? biasGrad(gy, N, F, P) : null;
    return bias === null ? [dx, dw] : [dx, dw, db];
  });
}

/**
 * Transposed 2-D convolution (PyTorch's conv_transpose2d; the adjoint of conv2d with the same
 * stride and padding): x [N, Cin, H, W], weight [Cin, Cout, kh, kw], bias [Cout] or null ->
 * [N, Cout, OH, OW] with OH = (H − 1)·sh − 2·ph + kh + outputPadding.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  assertTensor(op, x, 'input');
  assertTensor(op, weight, 'weight');
  assertFloat(op, x, weight);
  const g = convTranspose2dGeometry(x.shape, weight.shape, opts);
  const Cin = weight.shape[0];
  const Cout = g.C;
  checkBias(op, bias, Cout, weight.shape);
  const { N, kh, kw } = g;
  const Ko = Cout * kh * kw; // rows of the column matrix
  const Pin = g.OH * g.OW; // input positions = columns of the column matrix
  const Pout = g.H * g.W; // output positions
  const xBlock = Cin * Pin * 4;
  const yBlock = Cout * Pout * 4;
  const direct = isPointwise(g);

  const y = empty([N, Cout, g.H, g.W]);
  if (!direct) kernels().fill(y.ptr, 0, y.size);
  const T = imageThreads(2 * N * Ko * Pin * Cin, N);
  if (T > 1) {
    withScratch(direct ? 0 : T * Ko * Pin, (cols) => {
      imageTasks(T, N, 0, (t) => cols + t * Ko * Pin * 4, (job, n) => {
        const yn = y.ptr + n * yBlock;
        if (direct) {
          jobGemm(job, true, false, Ko, Pin, Cin, weight.ptr, x.ptr + n * xBlock, 0, yn);
        } else {
          jobGemm(job, true, false, Ko, Pin, Cin, weight.ptr, x.ptr + n * xBlock, 0, 0, C_ARG);
          jobCol2im(job, g, 0, yn, true);
        }
      });
    });
  } else withScratch(direct ? 0 : Ko * Pin, (col) => {
    for (let n = 0; n < N; n++) {
      const yn = y.ptr + n * yBlock;
      // col[Ko, Pin] = W[Cin, Ko]ᵀ · x[n][Cin, Pin], folded onto the output image.
      if (direct) {
        gemm(true, false, Ko, Pin, Cin, weight.ptr, x.ptr + n * xBlock, 0, yn);
      } else {
        gemm(true, false, Ko, Pin, Cin, weight.ptr, x.ptr + n * xBlock, 0, col);
        col2imCall(g, col, yn);
      }
    }
  });
  if (bias !== null) addBias(y, bias, N, Cout, Pout);

  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record('convTranspose2d', y, inputs, (gy) => {
    const dx = x.requiresGrad ? empty(x.shape) : null;
    const dw = weight.requiresGrad ? empty(weight.shape) : null;
    const flops = 2 * N * Cin * Ko * Pin * ((dx !== null ? 1 : 0) + (dw !== null ? 1 : 0));
    const T = dx !== null || dw !== null ? imageThreads(flops, N) : 1;
    const L = dw !== null ? planLanes(flops, N, Cin * Ko) : 0;
    if (T > 1 || L > 0) {
      const colFloats = direct ? 0 : Ko * Pin;
      const wt = dw !== null && dwTransposed(Cin, Ko);
      withScratch(T * colFloats + L * Cin * Ko, (scratch) => {
        const parts = scratch + T * colFloats * 4;
        const partOf = (l: number): number => (l === 0 && !wt ? dw!.ptr : parts + l * Cin * Ko * 4);
        imageTasks(T, N, L, (t) => scratch + t * colFloats * 4, (job, n, lane, first) => {
          const gn = gy.ptr + n * yBlock;
          const xn = x.ptr + n * xBlock;
          // The column matrix of dY[n]: [Ko, Pin].
          if (!direct) jobIm2col(job, g, gn, 0, true);
          const c = direct ? gn : 0;
          if (dx !== null) jobGemm(job, false, false, Cin, Pin, Ko, weight.ptr, c, 0, dx.ptr + n * xBlock, direct ? 0 : B_ARG);
          if (dw !== null) {
            // dW[Cin, Ko] (+)= x[n] · colᵀ, or transposed: dWᵀ[Ko, Cin] (+)= col · x[n]ᵀ
            if (wt) jobGemm(job, false, true, Ko, Cin, Pin, c, xn, first ? 0 : 1, partOf(lane), direct ? 0 : A_ARG);
            else jobGemm(job, false, true, Cin, Ko, Pin, xn, c, first ? 0 : 1, partOf(lane), direct ? 0 : B_ARG);
          }
        });
        if (dw !== null) {
          for (let l = 1; l < L; l++) kernels().axpy(1, partOf(l), partOf(0), Cin * Ko);
          dwFinish(wt, Cin, Ko, dw, partOf(0), N);
        }
      });
    } else if (dx !== null || dw !== null) {
      const colFloats = direct ? 0 : Ko * Pin;
      const wt = dw !== null && dwTransposed(Cin, Ko);
      withScratch(colFloats + (wt ? Cin * Ko : 0), (col) => {
        const tmp = col + colFloats * 4;
        for (let n = 0; n < N; n++) {
          const gn = gy.ptr + n * yBlock;
          const xn = x.ptr + n * xBlock;
          // The column matrix of dY[n]: [Ko, Pin].
          if (!direct) im2colCall(g, gn, col);
          const c = direct ? gn : col;
          if (dx !== null) gemm(false, false, Cin, Pin, Ko, weight.ptr, c, 0, dx.ptr + n * xBlock);
          // dW[Cin, Ko] (+)= x[n][Cin, Pin] · col[Ko, Pin]ᵀ
          if (dw !== null) dwGemm(wt, Cin, Ko, Pin, xn, c, n === 0, dw.ptr, tmp);
        }
        if (dw !== null) dwFinish(wt, Cin, Ko, dw, tmp, N);
      });
    }
    const db = bias !== null && bias.requiresGrad ? biasGrad(gy, N, Cout, Pout) : null;
    return bias === null ? [dx, dw] : [dx, dw, db];
  });
}
