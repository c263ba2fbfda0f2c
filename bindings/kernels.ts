// The contract between TypeScript and the wasm kernels. Every export the TypeScript side
// calls is listed here; the loader checks at start-up that the module has each one, so a
// missing kernel fails loudly at load time instead of deep inside a training run.
//
// Conventions: pointers are byte offsets into linear memory (f32 arrays 16-byte aligned),
// sizes are element counts, every f32 array is dense row-major. Kernels never allocate and
// accept any size >= 0 (including sizes that are not multiples of the SIMD width/tile).
// In-place use (out == input) is allowed for elementwise kernels.

type Ptr = number;

/** Opcodes of the binary elementwise kernels. */
export const enum BinOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Max = 4,
  Min = 5,
}

/** Opcodes of the unary elementwise kernels. */
export const enum UnOp {
  Neg = 0,
  Exp = 1,
  Log = 2,
  Relu = 3,
  Sigmoid = 4,
  Tanh = 5,
  Softplus = 6,
  Sqrt = 7,
  Square = 8,
  Abs = 9,
}

// A phantom carrying a kernel's signature: the value is never read, only its type.
const kernel = <F>(): F => null as unknown as F;

/**
 * THE kernel table: one line per wasm export, name and signature. The loader checks at
 * start-up that the module exports every name (KERNEL_NAMES), and `Kernels` is its type.
 */
const KERNEL_TABLE = {
  /** End of the module's static data: the JS allocator starts above it. */
  heapBase: kernel<() => Ptr>(),

  // ---- gemm.ts -------------------------------------------------------------------------
  /** Bytes of scratch space `gemm` needs for packing (a constant of the build). */
  gemmWorkspaceBytes: kernel<() => number>(),
  /**
   * C[M,N] = alpha * op(A) * op(B) + beta * C, then optionally C += bias (per column,
   * bias[N]) and C = max(C, 0). op(A) is [M,K]: A is stored [M,K] (lda >= K) or, when
   * transA, [K,M] (lda >= M). op(B) is [K,N]: B stored [K,N] or, when transB, [N,K].
   * beta == 0 means C is write-only (never read, so garbage/NaN in C is ignored).
   * bias == 0 means no bias. options: GEMM_RELU (max(C, 0)) | GEMM_SKIP_ZEROS_A (skip the k
   * where 4 rows of op(A) are all zero; only for a B without Inf or NaN, since 0·Inf is NaN) |
   * GEMM_TRANS_C (C stored transposed: element (i, j) at C[j * ldc + i]).
   * work: gemmWorkspaceBytes() bytes, 64-byte aligned.
   */
  gemm: kernel<(
    transA: number, transB: number, M: number, N: number, K: number, alpha: number,
    A: Ptr, lda: number, B: Ptr, ldb: number, beta: number, C: Ptr, ldc: number,
    bias: Ptr, options: number, work: Ptr,
  ) => void>(),
  /** The k steps of op(A)'s whole 4-row strips (rows 0 .. M & ~3) whose 4 values are all zero: what GEMM_SKIP_ZEROS_A would skip. */
  gemmZeroSteps: kernel<(transA: number, A: Ptr, lda: number, M: number, K: number) => number>(),
  /** dst[c, r] = src[r, c] for src [rows, cols] (dst [cols, rows]; no overlap). */
  transpose2d: kernel<(src: Ptr, rows: number, cols: number, dst: Ptr) => void>(),

  // ---- elementwise.ts ------------------------------------------------------------------
  /** out[i] = unop(x[i]) */
  unary: kernel<(op: UnOp, x: Ptr, out: Ptr, n: number) => void>(),
  /** out[i] = a[i] op b[i] */
  binary: kernel<(op: BinOp, a: Ptr, b: Ptr, out: Ptr, n: number) => void>(),
  /** out[i] = a[i] op s  (reverse != 0: out[i] = s op a[i]) */
  binaryScalar: kernel<(op: BinOp, a: Ptr, s: number, out: Ptr, n: number, reverse: number) => void>(),
  /** a is [rows, cols], b is [cols]: out[r,c] = a[r,c] op b[c]  (reverse: b[c] op a[r,c]) */
  binaryRow: kernel<(op: BinOp, a: Ptr, b: Ptr, out: Ptr, rows: number, cols: number, reverse: number) => void>(),
  /** a is [rows, cols], b is [rows]: out[r,c] = a[r,c] op b[r]  (reverse: b[r] op a[r,c]) */
  binaryCol: kernel<(op: BinOp, a: Ptr, b: Ptr, out: Ptr, rows: number, cols: number, reverse: number) => void>(),
  /**
   * General broadcasting: out has `ndim` dims (shape at shapePtr, i32[ndim]); a and b are
   * read with element strides at aStridesPtr / bStridesPtr (i32[ndim], 0 on broadcast dims).
   */
  binaryStrided: kernel<(op: BinOp, a: Ptr, b: Ptr, out: Ptr, ndim: number, shapePtr: Ptr, aStridesPtr: Ptr, bStridesPtr: Ptr) => void>(),
  /** out[i] = max(x[i], slope * x[i]) style leaky ReLU: x >= 0 ? x : slope * x */
  leakyRelu: kernel<(x: Ptr, out: Ptr, n: number, slope: number) => void>(),
  /** dx[i] = dy[i] * (x[i] >= 0 ? 1 : slope)  (ReLU backward is slope = 0, with x > 0 ? 1 : 0) */
  leakyReluBackward: kernel<(x: Ptr, dy: Ptr, dx: Ptr, n: number, slope: number) => void>(),
  /** dx[i] = dy[i] * (x[i] > 0 ? 1 : 0) */
  reluBackward: kernel<(x: Ptr, dy: Ptr, dx: Ptr, n: number) => void>(),
  /** dx[i] = dy[i] * y[i] * (1 - y[i]), y = sigmoid(x) */
  sigmoidBackward: kernel<(y: Ptr, dy: Ptr, dx: Ptr, n: number) => void>(),
  /** dx[i] = dy[i] * (1 - y[i]^2), y = tanh(x) */
  tanhBackward: kernel<(y: Ptr, dy: Ptr, dx: Ptr, n: number) => void>(),
  /** dx[i] = dy[i] * sigmoid(x[i]) */
  softplusBackward: kernel<(x: Ptr, dy: Ptr, dx: Ptr, n: number) => void>(),
  /** out[i] = x[i] > 0 ? x[i] : alpha * (exp(x[i]) - 1) */
  elu: kernel<(x: Ptr, out: Ptr, n: number, alpha: number) => void>(),
  /** dx[i] = dy[i] * (x[i] > 0 ? 1 : alpha * exp(x[i])) */
  eluBackward: kernel<(x: Ptr, dy: Ptr, dx: Ptr, n: number, alpha: number) => void>(),
  /** dx[i] = lo < x[i] < hi ? dy[i] : 0 */
  clampBackward: kernel<(x: Ptr, dy: Ptr, dx: Ptr, n: number, lo: number, hi: number) => void>(),
  /** x[i] = value */
  fill: kernel<(x: Ptr, value: number, n: number) => void>(),
  /** dst[i] = src[i] (regions may not overlap) */
  copy: kernel<(src: Ptr, dst: Ptr, n: number) => void>(),
  /** y[i] += alpha * x[i] */
  axpy: kernel<(alpha: number, x: Ptr, y: Ptr, n: number) => void>(),
  /** Number of elements that are NaN or +-Inf. */
  countNonFinite: kernel<(x: Ptr, n: number) => number>(),
  /** out[i] = f32(x[i]) for an i32 array x */
  i32ToF32: kernel<(x: Ptr, out: Ptr, n: number) => void>(),

  // ---- reduce.ts -----------------------------------------------------------------------
  /**
   * x viewed as [outer, n, inner]; out[o, i] = scale * sum_k x[o, k, i]  (out is [outer, inner]).
   * Rows: inner = 1; columns: outer = 1; everything: outer = inner = 1.
   */
  reduceSum: kernel<(x: Ptr, out: Ptr, outer: number, n: number, inner: number, scale: number) => void>(),
  /** Same view; out[o, i] = max_k x[o, k, i]; if argmax != 0, writes the first maximising k (i32). n >= 1. */
  reduceMax: kernel<(x: Ptr, out: Ptr, argmax: Ptr, outer: number, n: number, inner: number) => void>(),
  /** Backward of reduceMax: dx [outer, n, inner] (zeroed by the kernel) gets dy[o, i] at k = argmax[o, i] (i32). */
  reduceMaxBackward: kernel<(dy: Ptr, argmax: Ptr, dx: Ptr, outer: number, n: number, inner: number) => void>(),
  /** sum_i x[i] * y[i] (f32 accumulate in SIMD lanes) */
  dot: kernel<(x: Ptr, y: Ptr, n: number) => number>(),

  // ---- softmax.ts ----------------------------------------------------------------------
  /** Row-wise softmax of x [rows, cols] into y (numerically stable, max-shifted). */
  softmax: kernel<(x: Ptr, y: Ptr, rows: number, cols: number) => void>(),
  /** Row-wise log-softmax. */
  logSoftmax: kernel<(x: Ptr, y: Ptr, rows: number, cols: number) => void>(),
  /** dx = y * (dy - sum_c(dy * y)) per row, y = softmax output. */
  softmaxBackward: kernel<(y: Ptr, dy: Ptr, dx: Ptr, rows: number, cols: number) => void>(),
  /** dx = dy - exp(y) * sum_c(dy) per row, y = log-softmax output. */
  logSoftmaxBackward: kernel<(y: Ptr, dy: Ptr, dx: Ptr, rows: number, cols: number) => void>(),

  // ---- attention.ts ----------------------------------------------------------------------
  /**
   * In place on scaled scores s [rows, cols]: row r = softmax(s[r] + bias[r]) over the keys c
   * with keep[c] != 0 (keep 0: all) and, if causal != 0, c <= r + shift; 0 at every other key.
   * bias 0: none. A row with no key left becomes all zeros; returns how many rows did.
   */
  attentionSoftmax: kernel<(s: Ptr, rows: number, cols: number, causal: number, shift: number, keep: Ptr, bias: Ptr) => number>(),

  // ---- loss.ts (labels: i32[rows], each in [0, cols); an invalid one gives NaN / scatters nothing) ----
  /**
   * Fused softmax + cross-entropy: writes probs = softmax(logits) and returns the sum over rows
   * of -log p[r, label[r]] (computed as logsumexp - logit, so it stays finite).
   */
  crossEntropy: kernel<(logits: Ptr, labels: Ptr, probs: Ptr, rows: number, cols: number) => number>(),
  /** dlogits[r, c] = scale * (probs[r, c] - (c == label[r])) */
  crossEntropyBackward: kernel<(probs: Ptr, labels: Ptr, dlogits: Ptr, rows: number, cols: number, scale: number) => void>(),
  /** -sum_r logProbs[r, label[r]] (f64 accumulation). */
  nllLoss: kernel<(logProbs: Ptr, labels: Ptr, rows: number, cols: number) => number>(),
  /** dlogProbs (zeroed by the kernel) = value at [r, label[r]], 0 elsewhere. */
  nllLossBackward: kernel<(labels: Ptr, dlogProbs: Ptr, rows: number, cols: number, value: number) => void>(),

  // ---- shape.ts -------------------------------------------------------------------------
  /**
   * Strided block copy: for every index i of shape (i32[ndim]), dst[i · dstStrides] = src[i · srcStrides]
   * (element strides, i32[ndim]); elements of `bytes` bytes (1, 2, 4, 8); no overlap. ndim 0: one element.
   */
  copyStrided: kernel<(src: Ptr, dst: Ptr, ndim: number, shapePtr: Ptr, srcStridesPtr: Ptr, dstStridesPtr: Ptr, bytes: number) => void>(),

  // ---- optim.ts (all in place on w and the state buffers; g is read only) ---------------
  /**
   * Notes §1.3.5.3: g' = g + wd*w; dw = -lr*g' + momentum*dw_prev; w += dw. `velocity` keeps dw.
   * With momentum == 0 the old velocity is not read; velocity == 0 means no buffer (plain SGD).
   */
  sgdStep: kernel<(w: Ptr, g: Ptr, velocity: Ptr, n: number, lr: number, momentum: number, weightDecay: number) => void>(),
  /** g' = g + wd*w; h += g'^2; w -= lr * g' / (sqrt(h) + eps) */
  adagradStep: kernel<(w: Ptr, g: Ptr, h: Ptr, n: number, lr: number, eps: number, weightDecay: number) => void>(),
  /** g' = g + wd*w; s = rho*s + (1-rho)*g'^2; w -= lr * g' / (sqrt(s) + eps) */
  rmspropStep: kernel<(w: Ptr, g: Ptr, s: Ptr, n: number, lr: number, rho: number, eps: number, weightDecay: number) => void>(),
  /**
   * Adam with bias correction: g' = g + wd*w (decoupled != 0: AdamW, w -= lr*wd*w instead);
   * m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; w -= lr * (m/bc1) / (sqrt(v/bc2) + eps),
   * where bc1 = 1 - b1^t and bc2 = 1 - b2^t are passed in.
   */
  adamStep: kernel<(
    w: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: number, bc1: number, bc2: number,
  ) => void>(),

  // ---- conv.ts (NCHW, one image at a time; no dilation) ---------------------------------
  /**
   * col[(c*kh + i)*kw + j, oy*OW + ox] = x[c, oy*sh - ph + i, ox*sw - pw + j] (0 outside the
   * image). x is one image [C, H, W]; col is [C*kh*kw, OH*OW].
   */
  im2col: kernel<(x: Ptr, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, col: Ptr) => void>(),
  /** The adjoint of im2col: x[c, y, x] += every col entry that im2col read from there. Accumulates. */
  col2im: kernel<(col: Ptr, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, x: Ptr) => void>(),
  /**
   * Direct stride-1 convolution of a batch, for layers with few taps (C*kh*kw small: first
   * layers): y[n, f, oy, ox] = bias[f] + Σ_{c,i,j} w[f, c, i, j] · x[n, c, oy - ph + i, ox - pw + j]
   * (0 outside the image) for x [N, C, H, W], w [F, C, kh, kw], y [N, F, OH, OW] (written),
   * bias [F] or 0 for none. work: conv2dDirectWorkBytes(C, kh, kw, OH, OW, F) bytes, 16-byte aligned.
   */
  conv2dDirect: kernel<(x: Ptr, N: number, C: number, H: number, W: number, kh: number, kw: number,
    ph: number, pw: number, OH: number, OW: number, w: Ptr, F: number, bias: Ptr, y: Ptr, work: Ptr) => void>(),
  /** Bytes of scratch conv2dDirect needs (a multiple of 16). */
  conv2dDirectWorkBytes: kernel<(C: number, kh: number, kw: number, OH: number, OW: number, F: number) => number>(),
  /**
   * conv2d forward by im2col + GEMM over `count` consecutive images: y[n] = W · col(x[n])
   * (+ bias[F] per filter, then max(., 0) when relu != 0) for x [count, C, H, W], w [F, C*kh*kw],
   * y [count, F, OH*OW] (written). col: scratch of C*kh*kw * OH*OW floats, or 0 for a pointwise
   * layer (1x1, stride 1, no padding). work: gemmWorkspaceBytes() bytes.
   */
  conv2dImages: kernel<(x: Ptr, count: number, C: number, H: number, W: number, kh: number, kw: number, sh: number,
    sw: number, ph: number, pw: number, OH: number, OW: number, w: Ptr, F: number, bias: Ptr, relu: number, y: Ptr,
    col: Ptr, work: Ptr) => void>(),
  /**
   * conv2d's gradients over `count` consecutive images, dY in gy [count, F, OH*OW]:
   * mask != 0 first writes gy[n] = dY where out[n] > 0 else 0 (from gyIn; gy may equal gyIn);
   * dwMode 1: dwPart [F, K] (+)= dY[n] · col(x[n])^T, 2: the transposed [K, F]; the first image
   * writes (beta 0) when first != 0, the rest add; dx != 0: dx[n] = col2im(W^T · dY[n])
   * (written). col and work as conv2dImages.
   */
  conv2dBackwardImages: kernel<(x: Ptr, gyIn: Ptr, out: Ptr, gy: Ptr, count: number, C: number, H: number, W: number,
    kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, OH: number, OW: number, w: Ptr, F: number,
    mask: number, dwMode: number, dwPart: Ptr, first: number, dx: Ptr, col: Ptr, work: Ptr) => void>(),
  /**
   * convTranspose2d forward over `count` consecutive images x [count, Cin, OH*OW]: y[n] =
   * col2im(W^T · x[n]) (+ bias[C] per output channel) into y [count, C, H, W] (written), for
   * w [Cin, C*kh*kw]; the im2col geometry is that of the conv2d from y to x. col: scratch of
   * C*kh*kw * OH*OW floats, or 0 for a pointwise layer. work: gemmWorkspaceBytes() bytes.
   */
  convTranspose2dImages: kernel<(x: Ptr, count: number, Cin: number, C: number, H: number, W: number, kh: number,
    kw: number, sh: number, sw: number, ph: number, pw: number, OH: number, OW: number, w: Ptr, bias: Ptr, y: Ptr,
    col: Ptr, work: Ptr) => void>(),
  /**
   * convTranspose2d's gradients over `count` consecutive images, dY in gy [count, C, H, W]:
   * dx != 0: dx[n] = W · col(dY[n]) (written); dwMode 1: dwPart [Cin, C*kh*kw] (+)=
   * x[n] · col(dY[n])^T, 2: the transposed [C*kh*kw, Cin]; first, col and work as
   * conv2dBackwardImages.
   */
  convTranspose2dBackwardImages: kernel<(x: Ptr, gy: Ptr, count: number, Cin: number, C: number, H: number, W: number,
    kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, OH: number, OW: number, w: Ptr,
    dwMode: number, dwPart: Ptr, first: number, dx: Ptr, col: Ptr, work: Ptr) => void>(),

  // ---- pool.ts (NCHW; planes = N*C) -----------------------------------------------------
  /** Max over each window (padding never wins); argmax[plane, o] = y*W + x index inside the plane. */
  maxPool2d: kernel<(x: Ptr, planes: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, y: Ptr, argmax: Ptr) => void>(),
  /** dx (zeroed by the kernel, [planes, H, W]) += dy at the remembered argmax positions. */
  maxPool2dBackward: kernel<(dy: Ptr, argmax: Ptr, planes: number, HW: number, OHW: number, dx: Ptr) => void>(),
  /** Mean over each window; countIncludePad != 0 divides by kh*kw, else by the in-image count. */
  avgPool2d: kernel<(x: Ptr, planes: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, y: Ptr, countIncludePad: number) => void>(),
  /** The adjoint of avgPool2d; dx ([planes, H, W]) is zeroed by the kernel. */
  avgPool2dBackward: kernel<(dy: Ptr, planes: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, dx: Ptr, countIncludePad: number) => void>(),

  // ---- norm.ts ------------------------------------------------------------------------------
  /**
   * Batch norm, training (notes §1.3.5.4): x is [N, C, S] (S = H*W, 1 for BatchNorm1d);
   * per channel c: mean, biased variance over N*S values; y = gamma*(x-mean)*invstd + beta with
   * invstd = 1/sqrt(var + eps). Writes mean[C] and invstd[C] for backward and the statistics.
   * `stride`: elements from one sample to the next (C*S for the whole tensor; a range of
   * channels is then one call on pointers moved by c0*S and c0). `relu` 1: y = max(y, 0) as
   * the unary ReLU computes it (a following ReLU fused).
   */
  batchNormTrain: kernel<(x: Ptr, N: number, C: number, S: number, gamma: Ptr, beta: Ptr, eps: number,
    y: Ptr, mean: Ptr, invstd: Ptr, stride: number, relu: number) => void>(),
  /** Batch norm, evaluation: y = gamma*(x - mean[c]) * invstd[c] + beta, with given per-channel mean/invstd (stride and relu as batchNormTrain). */
  batchNormApply: kernel<(x: Ptr, N: number, C: number, S: number, gamma: Ptr, beta: Ptr, mean: Ptr, invstd: Ptr, y: Ptr,
    stride: number, relu: number) => void>(),
  /**
   * Batch-norm backward (training statistics): writes dx, and dgamma[C], dbeta[C] (overwritten).
   * dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)), M = N*S. `y`: the output of a
   * fused ReLU (dy counts only where y > 0, as reluBackward masks it), or 0.
   */
  batchNormBackward: kernel<(x: Ptr, dy: Ptr, N: number, C: number, S: number, gamma: Ptr, mean: Ptr, invstd: Ptr,
    dx: Ptr, dgamma: Ptr, dbeta: Ptr, stride: number, y: Ptr) => void>(),
  /** runningMean = m·runningMean + (1-m)·mean; runningStd = m·runningStd + (1-m)·sqrt(max(0, 1/invstd² - eps)) (f64). */
  batchNormRunningUpdate: kernel<(mean: Ptr, invstd: Ptr, C: number, eps: number, momentum: number, runningMean: Ptr, runningStd: Ptr) => void>(),
  /** mean = runningMean; invstd = 1/sqrt(runningStd² + eps) (f64). */
  batchNormEvalStats: kernel<(runningMean: Ptr, runningStd: Ptr, C: number, eps: number, mean: Ptr, invstd: Ptr) => void>(),
  /** Layer norm over the last dim: x [rows, cols]; y = gamma[col]*(x-mean_r)*invstd_r + beta[col]. */
  layerNorm: kernel<(x: Ptr, rows: number, cols: number, gamma: Ptr, beta: Ptr, eps: number, y: Ptr, mean: Ptr, invstd: Ptr) => void>(),
  /** Layer-norm backward: writes dx, and dgamma[cols], dbeta[cols] (overwritten). */
  layerNormBackward: kernel<(x: Ptr, dy: Ptr, rows: number, cols: number, gamma: Ptr, mean: Ptr, invstd: Ptr,
    dx: Ptr, dgamma: Ptr, dbeta: Ptr) => void>(),

  // ---- dropout.ts ---------------------------------------------------------------------------
  /**
   * Inverted dropout: mask[i] = (hash(seed, i) uniform in [0,1)) < p ? 0 : 1/(1-p); y = x*mask.
   * The hash is counter-based, so the mask depends only on (seed, i): reproducible and SIMD-able.
   */
  dropout: kernel<(x: Ptr, y: Ptr, mask: Ptr, n: number, p: number, seed: number) => void>(),

  // ---- sequence.ts (buffers are (pointer, row stride in elements) pairs; mask 0: none, else
  // row n is padded when mask[n*ms] == 0: the state is carried, the output is 0) ---------------
  /** The position of the first of n int32 indices outside [0, num), or -1. */
  indexOutOfRange: kernel<(idx: Ptr, n: number, num: number) => number>(),
  /** out[r] = src[idx[r]] for rows of dim 4-byte values (bits copied); indices trusted, so calls split by rows. */
  gatherRowsAt: kernel<(src: Ptr, dim: number, idx: Ptr, n: number, out: Ptr) => void>(),
  /** dW [num, dim] (zeroed by the kernel) += dy[r] at row idx[r], in order, skipping idx[r] == paddingIdx (-1: none). */
  embeddingScatterAdd: kernel<(dy: Ptr, idx: Ptr, n: number, dim: number, num: number, paddingIdx: number, dW: Ptr) => void>(),
  /** Elman step: pre [N,H] (overwritten with a = tanh or relu(pre)); hOut = y = a. */
  rnnForward: kernel<(g: Ptr, gs: number, hPrev: Ptr, hps: number, mask: Ptr, ms: number,
    hOut: Ptr, hos: number, y: Ptr, ys: number, N: number, H: number, relu: number) => void>(),
  /** dG = (dh + dy)·g'(a) on live rows (0 on padded); dh (dense [N,H]) becomes 0 there (caller adds dG·W_hh), unchanged on padded rows. */
  rnnBackward: kernel<(a: Ptr, as: number, dy: Ptr, dys: number, mask: Ptr, ms: number,
    dh: Ptr, dG: Ptr, dgs: number, N: number, H: number, relu: number) => void>(),
  /** LSTM step: gates [N,4H] (i,f,g,o pre-activations, overwritten with their activations); c = f·cPrev + i·g, h = o·tanh(c). */
  lstmForward: kernel<(g: Ptr, gs: number, cPrev: Ptr, cps: number, hPrev: Ptr, hps: number, mask: Ptr, ms: number,
    cOut: Ptr, cos: number, hOut: Ptr, hos: number, y: Ptr, ys: number, N: number, H: number) => void>(),
  /** LSTM step backward: writes dG [N,4H]; dh, dc (dense [N,H]) go from after to before the step (caller adds dG·W_hh to dh). */
  lstmBackward: kernel<(a: Ptr, as: number, cPrev: Ptr, cps: number, cNew: Ptr, cns: number, dy: Ptr, dys: number,
    mask: Ptr, ms: number, dh: Ptr, dc: Ptr, dG: Ptr, dgs: number, N: number, H: number) => void>(),
  /** GRU step: gx [N,3H] (x·W_ihᵀ + b_ih, overwritten with r,z,n), gh [N,3H] = h·W_hhᵀ + b_hh; h = (1-z)·n + z·hPrev. */
  gruForward: kernel<(gx: Ptr, gxs: number, gh: Ptr, ghs: number, hPrev: Ptr, hps: number, mask: Ptr, ms: number,
    hOut: Ptr, hos: number, y: Ptr, ys: number, N: number, H: number) => void>(),
  /** GRU step backward: writes dGx, dGh [N,3H]; dh (dense [N,H]) becomes its direct part dh·z (caller adds dGh·W_hh). */
  gruBackward: kernel<(a: Ptr, as: number, gh: Ptr, ghs: number, hPrev: Ptr, hps: number, dy: Ptr, dys: number,
    mask: Ptr, ms: number, dh: Ptr, dGx: Ptr, dgxs: number, dGh: Ptr, dghs: number, N: number, H: number) => void>(),

  // ---- graph.ts (CSR: indptr i32[rows+1], indices i32[nnz], values f32[nnz] or 0 for all ones;
  // dense operands [·, F] row-major; products take a row range [r0, r1) so threads split rows) ----
  /** -1 if indptr[0] = 0, indptr never decreases and indices are in [0, cols); else r (bad indptr[r]) or rows+1+e (bad indices[e]). */
  csrCheck: kernel<(indptr: Ptr, rows: number, indices: Ptr, cols: number) => number>(),
  /** out[r] = Σ_e values[e]·x[indices[e]] for rows r0..r1-1 (mean != 0: divided by the row's edge count; empty rows 0). */
  spmmSum: kernel<(indptr: Ptr, indices: Ptr, values: Ptr, x: Ptr, F: number, r0: number, r1: number, out: Ptr, mean: number) => void>(),
  /** out[r, f] = max_e values[e]·x[indices[e], f]; argmax i32 [rows, F] = first maximising edge (empty rows: 0 and -1). */
  spmmMax: kernel<(indptr: Ptr, indices: Ptr, values: Ptr, x: Ptr, F: number, r0: number, r1: number, out: Ptr, argmax: Ptr) => void>(),
  /** dx[indices[e]] += values[e]·dy, dvalues[e] += dy·x[indices[e]] (dvalues 0: skipped) at e = argmax; accumulates; one thread. */
  spmmMaxBackward: kernel<(dy: Ptr, argmax: Ptr, indices: Ptr, values: Ptr, x: Ptr, rows: number, F: number, dx: Ptr, dvalues: Ptr) => void>(),
  /** CSR transpose [rows, cols] -> [cols, rows]; tValues = values (÷ source row's edge count when mean != 0). */
  csrTranspose: kernel<(indptr: Ptr, indices: Ptr, values: Ptr, rows: number, cols: number, mean: number,
    tIndptr: Ptr, tIndices: Ptr, tValues: Ptr) => void>(),
  /** out[e] = dy[r]·x[indices[e]] for the edges of rows r0..r1-1 (÷ edge count when mean != 0). */
  spmmValuesGrad: kernel<(indptr: Ptr, indices: Ptr, dy: Ptr, x: Ptr, F: number, r0: number, r1: number, out: Ptr, mean: number) => void>(),

  // ---- energy.ts (uniforms come from the JS generator, never from the kernels) --------------
  /** out[i] = u[i] < p[i] ? 1 : 0 (a Bernoulli(p[i]) draw from a uniform u[i] in [0, 1)). */
  bernoulliSample: kernel<(p: Ptr, u: Ptr, out: Ptr, n: number) => void>(),
  /** out[i] = p[i] >= t ? 1 : 0. */
  thresholdSample: kernel<(p: Ptr, t: number, out: Ptr, n: number) => void>(),
  /** w [n,n] *= scale, then the diagonal is set to 0. */
  scaleZeroDiagonal: kernel<(w: Ptr, n: number, scale: number) => void>(),
  /** out[r] = scale · Σ_c a[r,c]·b[r,c] for a, b [rows, cols]. */
  rowDot: kernel<(a: Ptr, b: Ptr, out: Ptr, rows: number, cols: number, scale: number) => void>(),
  /**
   * Asynchronous Hopfield pass: for each of `batch` ±1 states y [batch, n], units order[0..len)
   * (i32) in turn get sign(w[j]·y) (kept when |w[j]·y| <= tol), row j being unit j's incoming weights. Returns the number of flips.
   */
  hopfieldSweep: kernel<(w: Ptr, n: number, y: Ptr, batch: number, order: Ptr, len: number, tol: number) => number>(),

  // ---- sparse.ts (pruned weights; CSR as in graph.ts, values f32[nnz] always present) --------
  /** out[r, :] = Σ_e values[e]·x[indices[e], :] (+ bias[r], bias 0: none; relu != 0: max(·,0)) for rows r0..r1-1; x [K, F], out [rows, F]. */
  csrMatmul: kernel<(indptr: Ptr, indices: Ptr, values: Ptr, x: Ptr, F: number, r0: number, r1: number, bias: Ptr, relu: number, out: Ptr) => void>(),
  /** Writes indptr i32[rows+1] of the CSR form of dense w [rows, cols] (its non-zeros); returns nnz. */
  denseToCsrCount: kernel<(w: Ptr, rows: number, cols: number, indptr: Ptr) => number>(),
  /** Fills indices i32[nnz] and values f32[nnz] for the indptr denseToCsrCount wrote. */
  denseToCsrFill: kernel<(w: Ptr, rows: number, cols: number, indptr: Ptr, indices: Ptr, values: Ptr) => void>(),
  /** Accumulates |x| into hist i32[65536]: prefix < 0 by the upper 16 bits of |x|'s f32 pattern; else, where those equal prefix, by the lower 16. */
  magnitudeHistogram: kernel<(x: Ptr, n: number, hist: Ptr, prefix: number) => void>(),
  /** m[i] = |w[i]| > threshold ? 1 : 0 (f32); returns the count of ones. */
  magnitudeMask: kernel<(w: Ptr, n: number, threshold: number, m: Ptr) => number>(),
  /** In place: w[i] = m[i] != 0 ? w[i] : 0 (a pruned NaN becomes 0 too). */
  applyMask: kernel<(w: Ptr, m: Ptr, n: number) => void>(),
  /** Number of elements equal to ±0. */
  countZeros: kernel<(x: Ptr, n: number) => number>(),

  // ---- quantize.ts (int8 operands [rows, ld] with ld a multiple of 16, zero padded) ----------
  /** q[r, c] = clamp(round(x[r, c]·s), lo, 127) (int8; s = invScales[r] if invScales != 0, else invScale); q [rows, ldq], zeros past cols. */
  quantizeRows: kernel<(x: Ptr, rows: number, cols: number, invScale: number, invScales: Ptr, lo: number, q: Ptr, ldq: number) => void>(),
  /** q[c, r] = clamp(round(x[r, c]·invScale), lo, 127) (int8) for x [rows, cols]; q [cols, ldq], zeros past rows. */
  quantizeTranspose: kernel<(x: Ptr, rows: number, cols: number, invScale: number, lo: number, q: Ptr, ldq: number) => void>(),
  /** out[r] = max_c |x[r, c]| (f32) for x [rows, cols]. */
  absMaxRows: kernel<(x: Ptr, rows: number, cols: number, out: Ptr) => void>(),
  /** out[0] = min, out[1] = max of x[0..n) (f32). */
  minMax: kernel<(x: Ptr, n: number, out: Ptr) => void>(),
  /**
   * Rows m0..m1-1 of C[m, n] = scaleA·scales[n]·Σ_k A[m, k]·B[n, k] (+ bias[n]; relu) for int8 A [M, Kp],
   * B [N, Kp] (Kp % 16 == 0); C f32 [M, N], or [N, M] when transC. unsigned != 0: every A is in [0, 127].
   */
  gemmI8: kernel<(m0: number, m1: number, M: number, N: number, Kp: number, a: Ptr, b: Ptr, scaleA: number, scales: Ptr,
    bias: Ptr, relu: number, c: Ptr, transC: number, unsigned: number) => void>(),
};

export type Kernels = { readonly [K in keyof typeof KERNEL_TABLE]: (typeof KERNEL_TABLE)[K] };
export type KernelName = keyof Kernels;

/** Bits of gemm's options argument (assembly/gemm.ts). */
export const GEMM_RELU = 1;
export const GEMM_SKIP_ZEROS_A = 2;
/** gemm option: C is stored transposed, element (i, j) at C[j * ldc + i] (C is [N, M]). */
export const GEMM_TRANS_C = 4;

/** Names the loader verifies and the thread pool indexes kernels by. */
export const KERNEL_NAMES = Object.keys(KERNEL_TABLE) as KernelName[];
