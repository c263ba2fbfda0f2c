// Batch normalisation (notes §1.3.5.4) and layer normalisation, forward and backward.
//
// Statistics are two-pass (mean, then the mean of squared deviations), not E[x²] - E[x]²,
// which cancels catastrophically in f32 when |mean| >> std. The passes of one channel
// (batch norm) or one row (layer norm) run back to back, so the second and third reads hit
// the cache. Partial sums are f32x4 lanes per contiguous segment, added up in f64.
//
// Batch norm has two layouts:
//  - S > 1 ([N, C, S], S = H*W): a channel is N contiguous segments of S values; SIMD runs
//    along each segment, channel by channel.
//  - S == 1 ([N, C], BatchNorm1d): a channel is a strided column, so SIMD runs across 4
//    channels at a time and walks down the N rows, statistics kept in registers.
//
// Contract: bindings/kernels.ts (norm.ts section).
import { madd, hsum, loadPartial, storePartial } from './vmath';

// ---- segment helpers -----------------------------------------------------------------------------

/** Σ p[0..n) */
function segSum(p: usize, n: i32): f64 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
  }
  if (i + 4 <= n) {
    a0 = f32x4.add(a0, v128.load(p + (<usize>i << 2)));
    i += 4;
  }
  let s = <f64>hsum(f32x4.add(a0, a1));
  for (; i < n; i++) s += <f64>load<f32>(p + (<usize>i << 2));
  return s;
}

/** Σ (p[i] - m)² over i < n */
function segSqDev(p: usize, n: i32, m: f32): f64 {
  const vm = f32x4.splat(m);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 2);
    const d0 = f32x4.sub(v128.load(q), vm);
    const d1 = f32x4.sub(v128.load(q, 16), vm);
    a0 = madd(d0, d0, a0);
    a1 = madd(d1, d1, a1);
  }
  if (i + 4 <= n) {
    const d = f32x4.sub(v128.load(p + (<usize>i << 2)), vm);
    a0 = madd(d, d, a0);
    i += 4;
  }
  let s = <f64>hsum(f32x4.add(a0, a1));
  for (; i < n; i++) {
    const d = load<f32>(p + (<usize>i << 2)) - m;
    s += <f64>(d * d);
  }
  return s;
}

/** ReLU as the unary kernel computes it (pmax: -0 and NaN pass through), when `relu`. */
// @ts-ignore: decorator
@inline function reluIf(v: v128, relu: bool): v128 {
  return relu ? f32x4.pmax(v, f32x4.splat(0)) : v;
}

/** q[i] = (p[i] - m) * g + b for i < n, then ReLU when `relu` */
function segAffine(p: usize, q: usize, n: i32, m: f32, g: f32, b: f32, relu: bool): void {
  const vm = f32x4.splat(m);
  const vg = f32x4.splat(g);
  const vb = f32x4.splat(b);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const x0 = v128.load(p + o);
    const x1 = v128.load(p + o, 16);
    v128.store(q + o, reluIf(madd(f32x4.sub(x0, vm), vg, vb), relu));
    v128.store(q + o, reluIf(madd(f32x4.sub(x1, vm), vg, vb), relu), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(q + o, reluIf(madd(f32x4.sub(v128.load(p + o), vm), vg, vb), relu));
  }
  if (i < n) {
    const o = <usize>i << 2;
    storePartial(q + o, reluIf(madd(f32x4.sub(loadPartial(p + o, n - i), vm), vg, vb), relu), n - i);
  }
}

// How the backward reads dy: as it is (DyPlain), or where a fused ReLU's output y is > 0,
// else dy·0, as reluBackward computes it (DyRelu). A type parameter, so the plain loops carry
// no test for the mask.
class DyPlain {
  @inline v(g: v128, y: usize, o: usize, k: i32): v128 { return g; }
  @inline s(g: f32, y: usize, o: usize): f32 { return g; }
}
class DyRelu {
  @inline v(g: v128, y: usize, o: usize, k: i32): v128 {
    const v = k == 4 ? v128.load(y + o) : loadPartial(y + o, k);
    return f32x4.mul(g, v128.and(f32x4.gt(v, f32x4.splat(0)), f32x4.splat(1)));
  }
  @inline s(g: f32, y: usize, o: usize): f32 { return g * (load<f32>(y + o) > 0 ? <f32>1 : <f32>0); }
}

// Two sums returned by segDyStats (AssemblyScript functions return one value).
let sumDy: f64 = 0;
let sumDyDev: f64 = 0;

/** sumDy += Σ dy[i], sumDyDev += Σ dy[i] * (x[i] - m), dy read through Dy (y: a fused ReLU's output) */
function segDyStats<Dy>(x: usize, dy: usize, n: i32, m: f32, y: usize): void {
  const d = changetype<Dy>(0);
  const vm = f32x4.splat(m);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g0 = d.v(v128.load(dy + o), y, o, 4);
    const g1 = d.v(v128.load(dy + o, 16), y, o + 16, 4);
    a0 = f32x4.add(a0, g0);
    a1 = f32x4.add(a1, g1);
    b0 = madd(g0, f32x4.sub(v128.load(x + o), vm), b0);
    b1 = madd(g1, f32x4.sub(v128.load(x + o, 16), vm), b1);
  }
  if (i + 4 <= n) {
    const o = <usize>i << 2;
    const g0 = d.v(v128.load(dy + o), y, o, 4);
    a0 = f32x4.add(a0, g0);
    b0 = madd(g0, f32x4.sub(v128.load(x + o), vm), b0);
    i += 4;
  }
  let s = <f64>hsum(f32x4.add(a0, a1));
  let t = <f64>hsum(f32x4.add(b0, b1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = d.s(load<f32>(dy + o), y, o);
    s += <f64>g;
    t += <f64>(g * (load<f32>(x + o) - m));
  }
  sumDy += s;
  sumDyDev += t;
}

/** dx[i] = A*dy[i] + B*(x[i] - m) + D for i < n, dy read through Dy (y: a fused ReLU's output) */
function segBackward<Dy>(x: usize, dy: usize, dx: usize, n: i32, m: f32, A: f32, B: f32, D: f32, y: usize): void {
  const d = changetype<Dy>(0);
  const vm = f32x4.splat(m);
  const va = f32x4.splat(A);
  const vb = f32x4.splat(B);
  const vd = f32x4.splat(D);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, madd(va, d.v(v128.load(dy + o), y, o, 4), madd(vb, f32x4.sub(v128.load(x + o), vm), vd)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    const k = n - i;
    storePartial(dx + o, madd(va, d.v(loadPartial(dy + o, k), y, o, k), madd(vb, f32x4.sub(loadPartial(x + o, k), vm), vd)), k);
  }
}

// ---- batch norm ------------------------------------------------------------------------------------

export function batchNormTrain(x: usize, N: i32, C: i32, S: i32, gamma: usize, beta: usize, eps: f32,
  y: usize, mean: usize, invstd: usize, stride: i32, relu: i32): void {
  if (S == 1) {
    bnTrainColumns(x, N, C, gamma, beta, eps, y, mean, invstd, stride, relu != 0);
    return;
  }
  const M = <f64>N * <f64>S;
  const rowBytes = <usize>stride << 2; // from sample n to n + 1
  for (let c = 0; c < C; c++) {
    const base = <usize>c * <usize>S << 2;
    let s: f64 = 0;
    for (let n = 0; n < N; n++) s += segSum(x + base + <usize>n * rowBytes, S);
    const m = <f32>(s / M);
    let q: f64 = 0;
    for (let n = 0; n < N; n++) q += segSqDev(x + base + <usize>n * rowBytes, S, m);
    const is = <f32>(1.0 / Math.sqrt(q / M + <f64>eps));
    const off = <usize>c << 2;
    store<f32>(mean + off, m);
    store<f32>(invstd + off, is);
    const g = load<f32>(gamma + off) * is;
    const b = load<f32>(beta + off);
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowBytes;
      segAffine(x + o, y + o, S, m, g, b, relu != 0);
    }
  }
}

/** [N, C] batch norm, 4 channels per vector; the last C % 4 channels use partial vectors. */
function bnTrainColumns(x: usize, N: i32, C: i32, gamma: usize, beta: usize, eps: f32,
  y: usize, mean: usize, invstd: usize, stride: i32, relu: bool): void {
  const rowBytes = <usize>stride << 2;
  const vn = f32x4.splat(<f32>N);
  const veps = f32x4.splat(eps);
  for (let c = 0; c < C; c += 4) {
    const k = min(4, C - c);
    const off = <usize>c << 2;
    // Sums over rows in f32 lanes, folded into f64 every 256 rows.
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let acc = f32x4.splat(0);
    for (let n = 0; n < N; n++) {
      acc = f32x4.add(acc, loadPartial4(x + off + <usize>n * rowBytes, k));
      if ((n & 255) == 255 || n == N - 1) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(acc));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(acc, acc, 2, 3, 0, 1)));
        acc = f32x4.splat(0);
      }
    }
    const m = f32x4.div(combine(s0, s1), vn);
    s0 = f64x2.splat(0);
    s1 = f64x2.splat(0);
    for (let n = 0; n < N; n++) {
      const d = f32x4.sub(loadPartial4(x + off + <usize>n * rowBytes, k), m);
      acc = madd(d, d, acc);
      if ((n & 255) == 255 || n == N - 1) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(acc));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(acc, acc, 2, 3, 0, 1)));
        acc = f32x4.splat(0);
      }
    }
    const is = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(f32x4.div(combine(s0, s1), vn), veps)));
    storePartial4(mean + off, m, k);
    storePartial4(invstd + off, is, k);
    const g = f32x4.mul(loadPartial4(gamma + off, k), is);
    const b = loadPartial4(beta + off, k);
    for (let n = 0; n < N; n++) {
      const o = off + <usize>n * rowBytes;
      storePartial4(y + o, reluIf(madd(f32x4.sub(loadPartial4(x + o, k), m), g, b), relu), k);
    }
  }
}

/** f32x4 of two f64x2 halves. */
// @ts-ignore: decorator
@inline function combine(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** A full vector when k == 4, else the low k lanes (rest 0). */
// @ts-ignore: decorator
@inline function loadPartial4(p: usize, k: i32): v128 {
  return k == 4 ? v128.load(p) : loadPartial(p, k);
}
// @ts-ignore: decorator
@inline function storePartial4(p: usize, v: v128, k: i32): void {
  if (k == 4) v128.store(p, v);
  else storePartial(p, v, k);
}

export function batchNormApply(x: usize, N: i32, C: i32, S: i32, gamma: usize, beta: usize, mean: usize,
  invstd: usize, y: usize, stride: i32, relu: i32): void {
  if (S == 1) {
    const rowBytes = <usize>stride << 2;
    for (let c = 0; c < C; c += 4) {
      const k = min(4, C - c);
      const off = <usize>c << 2;
      const m = loadPartial4(mean + off, k);
      const g = f32x4.mul(loadPartial4(gamma + off, k), loadPartial4(invstd + off, k));
      const b = loadPartial4(beta + off, k);
      for (let n = 0; n < N; n++) {
        const o = off + <usize>n * rowBytes;
        storePartial4(y + o, reluIf(madd(f32x4.sub(loadPartial4(x + o, k), m), g, b), relu != 0), k);
      }
    }
    return;
  }
  const rowBytes = <usize>stride << 2;
  for (let c = 0; c < C; c++) {
    const off = <usize>c << 2;
    const m = load<f32>(mean + off);
    const g = load<f32>(gamma + off) * load<f32>(invstd + off);
    const b = load<f32>(beta + off);
    const base = <usize>c * <usize>S << 2;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowBytes;
      segAffine(x + o, y + o, S, m, g, b, relu != 0);
    }
  }
}

// Running averages and evaluation statistics: C values, computed in f64 like the JavaScript
// they replace (momentum and eps arrive as f64), each result rounded to f32 once.

/**
 * The notes' running averages after a training step: runningMean = α·runningMean + (1 - α)·mean,
 * runningStd = α·runningStd + (1 - α)·σ, with σ = sqrt(max(0, 1/invstd² - eps)) the batch's
 * biased standard deviation recovered from the invstd batchNormTrain wrote.
 */
export function batchNormRunningUpdate(mean: usize, invstd: usize, C: i32, eps: f64, momentum: f64,
  runningMean: usize, runningStd: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const is = <f64>load<f32>(invstd + o);
    const sigma = Math.sqrt(max<f64>(0, 1 / (is * is) - eps));
    store<f32>(runningMean + o, <f32>(momentum * <f64>load<f32>(runningMean + o) + (1 - momentum) * <f64>load<f32>(mean + o)));
    store<f32>(runningStd + o, <f32>(momentum * <f64>load<f32>(runningStd + o) + (1 - momentum) * sigma));
  }
}

/** Evaluation statistics from the running averages: mean = runningMean, invstd = 1/sqrt(runningStd² + eps). */
export function batchNormEvalStats(runningMean: usize, runningStd: usize, C: i32, eps: f64, mean: usize, invstd: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(mean + o, load<f32>(runningMean + o));
    const s = <f64>load<f32>(runningStd + o);
    store<f32>(invstd + o, <f32>(1 / Math.sqrt(s * s + eps)));
  }
}

// dx = gamma*invstd/M * (M*dy - Σdy - xhat*Σ(dy*xhat)) = A*dy + B*(x - mean) + D with
// A = gamma*invstd, B = -A*invstd*Σ(dy*xhat)/M, D = -A*Σdy/M.
export function batchNormBackward(x: usize, dy: usize, N: i32, C: i32, S: i32, gamma: usize, mean: usize,
  invstd: usize, dx: usize, dgamma: usize, dbeta: usize, stride: i32, y: usize): void {
  if (S == 1) {
    if (y == 0) bnBackwardColumns<DyPlain>(x, dy, N, C, gamma, mean, invstd, dx, dgamma, dbeta, stride, y);
    else bnBackwardColumns<DyRelu>(x, dy, N, C, gamma, mean, invstd, dx, dgamma, dbeta, stride, y);
  } else if (y == 0) {
    bnBackwardSegments<DyPlain>(x, dy, N, C, S, gamma, mean, invstd, dx, dgamma, dbeta, stride, y);
  } else {
    bnBackwardSegments<DyRelu>(x, dy, N, C, S, gamma, mean, invstd, dx, dgamma, dbeta, stride, y);
  }
}

function bnBackwardSegments<Dy>(x: usize, dy: usize, N: i32, C: i32, S: i32, gamma: usize, mean: usize,
  invstd: usize, dx: usize, dgamma: usize, dbeta: usize, stride: i32, y: usize): void {
  const M = <f64>N * <f64>S;
  const rowBytes = <usize>stride << 2;
  for (let c = 0; c < C; c++) {
    const off = <usize>c << 2;
    const m = load<f32>(mean + off);
    const is = load<f32>(invstd + off);
    const base = <usize>c * <usize>S << 2;
    sumDy = 0;
    sumDyDev = 0;
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowBytes;
      segDyStats<Dy>(x + o, dy + o, S, m, y + o);
    }
    const sdxh = sumDyDev * <f64>is;
    store<f32>(dgamma + off, <f32>sdxh);
    store<f32>(dbeta + off, <f32>sumDy);
    const A = <f64>load<f32>(gamma + off) * <f64>is;
    const B = <f32>(-A * <f64>is * sdxh / M);
    const D = <f32>(-A * sumDy / M);
    for (let n = 0; n < N; n++) {
      const o = base + <usize>n * rowBytes;
      segBackward<Dy>(x + o, dy + o, dx + o, S, m, <f32>A, B, D, y + o);
    }
  }
}

function bnBackwardColumns<Dy>(x: usize, dy: usize, N: i32, C: i32, gamma: usize, mean: usize, invstd: usize,
  dx: usize, dgamma: usize, dbeta: usize, stride: i32, y: usize): void {
  const d = changetype<Dy>(0);
  const rowBytes = <usize>stride << 2;
  const vn = f32x4.splat(<f32>N);
  for (let c = 0; c < C; c += 4) {
    const k = min(4, C - c);
    const off = <usize>c << 2;
    const m = loadPartial4(mean + off, k);
    const is = loadPartial4(invstd + off, k);
    let sdy = f32x4.splat(0);
    let sdd = f32x4.splat(0);
    for (let n = 0; n < N; n++) {
      const o = off + <usize>n * rowBytes;
      const g = d.v(loadPartial4(dy + o, k), y, o, k);
      sdy = f32x4.add(sdy, g);
      sdd = madd(g, f32x4.sub(loadPartial4(x + o, k), m), sdd);
    }
    const sdxh = f32x4.mul(sdd, is);
    storePartial4(dgamma + off, sdxh, k);
    storePartial4(dbeta + off, sdy, k);
    const A = f32x4.mul(loadPartial4(gamma + off, k), is);
    const B = f32x4.neg(f32x4.div(f32x4.mul(f32x4.mul(A, is), sdxh), vn));
    const D = f32x4.neg(f32x4.div(f32x4.mul(A, sdy), vn));
    for (let n = 0; n < N; n++) {
      const o = off + <usize>n * rowBytes;
      storePartial4(dx + o, madd(A, d.v(loadPartial4(dy + o, k), y, o, k), madd(B, f32x4.sub(loadPartial4(x + o, k), m), D)), k);
    }
  }
}

// ---- layer norm ------------------------------------------------------------------------------------

export function layerNorm(x: usize, rows: i32, cols: i32, gamma: usize, beta: usize, eps: f32,
  y: usize, mean: usize, invstd: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    const yp = y + <usize>r * rowBytes;
    const m = <f32>(segSum(xp, cols) / <f64>cols);
    const is = <f32>(1.0 / Math.sqrt(segSqDev(xp, cols, m) / <f64>cols + <f64>eps));
    store<f32>(mean + (<usize>r << 2), m);
    store<f32>(invstd + (<usize>r << 2), is);
    const vm = f32x4.splat(m);
    const vis = f32x4.splat(is);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      const h = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vis);
      v128.store(yp + o, madd(h, v128.load(gamma + o), v128.load(beta + o)));
    }
    if (i < cols) {
      const o = <usize>i << 2;
      const k = cols - i;
      const h = f32x4.mul(f32x4.sub(loadPartial(xp + o, k), vm), vis);
      storePartial(yp + o, madd(h, loadPartial(gamma + o, k), loadPartial(beta + o, k)), k);
    }
  }
}

// With g = dy*gamma and xhat = (x - mean)*invstd, per row:
// dx = invstd * (g - Σg/cols - xhat * Σ(g*xhat)/cols) = invstd*g + B*(x - mean) + D,
// B = -invstd² * Σ(g*xhat)/cols, D = -invstd * Σg/cols; dgamma = Σ_rows dy*xhat, dbeta = Σ_rows dy.
// Partial vectors at the row end load zeros into the unused lanes, so g = 0 there and the
// sums are unaffected; dgamma/dbeta only store the valid lanes.
export function layerNormBackward(x: usize, dy: usize, rows: i32, cols: i32, gamma: usize, mean: usize,
  invstd: usize, dx: usize, dgamma: usize, dbeta: usize): void {
  memory.fill(dgamma, 0, <usize>cols << 2);
  memory.fill(dbeta, 0, <usize>cols << 2);
  const rowBytes = <usize>cols << 2;
  const c4 = cols & ~3;
  const tail = cols - c4;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    const gp = dy + <usize>r * rowBytes;
    const dp = dx + <usize>r * rowBytes;
    const m = load<f32>(mean + (<usize>r << 2));
    const is = load<f32>(invstd + (<usize>r << 2));
    const vm = f32x4.splat(m);
    const vis = f32x4.splat(is);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const d = v128.load(gp + o);
      const xh = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vis);
      const g = f32x4.mul(d, v128.load(gamma + o));
      s1 = f32x4.add(s1, g);
      s2 = madd(g, xh, s2);
      v128.store(dgamma + o, madd(d, xh, v128.load(dgamma + o)));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
    }
    if (tail > 0) {
      const o = <usize>c4 << 2;
      const d = loadPartial(gp + o, tail);
      const xh = f32x4.mul(f32x4.sub(loadPartial(xp + o, tail), vm), vis);
      const g = f32x4.mul(d, loadPartial(gamma + o, tail));
      s1 = f32x4.add(s1, g);
      s2 = madd(g, xh, s2);
      storePartial(dgamma + o, madd(d, xh, loadPartial(dgamma + o, tail)), tail);
      storePartial(dbeta + o, f32x4.add(loadPartial(dbeta + o, tail), d), tail);
    }
    const inv = <f32>1 / <f32>cols;
    const vB = f32x4.splat(-is * is * hsum(s2) * inv);
    const vD = f32x4.splat(-is * hsum(s1) * inv);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const g = f32x4.mul(v128.load(gp + o), v128.load(gamma + o));
      v128.store(dp + o, madd(vis, g, madd(vB, f32x4.sub(v128.load(xp + o), vm), vD)));
    }
    if (tail > 0) {
      const o = <usize>c4 << 2;
      const g = f32x4.mul(loadPartial(gp + o, tail), loadPartial(gamma + o, tail));
      storePartial(dp + o, madd(vis, g, madd(vB, f32x4.sub(loadPartial(xp + o, tail), vm), vD)), tail);
    }
  }
}
