// SIMD math on f32x4 lanes shared by the elementwise, reduce and softmax kernels.
// Not re-exported by index.ts: nothing here is a kernel.
//
// Everything is written on whole v128 vectors. Kernels handle the last n % 4 elements by
// loading a partial vector (unused lanes are zero), running the same vector code and
// storing only the valid lanes, so tails get bit-identical results to the main loop and no
// scalar copy of each function is needed.
//
// Polynomial coefficients were fitted here (Lawson's iteration for a minimax fit of the
// relative error) and rounded to f32; the errors quoted are of the fit, before rounding.

// ---- basic helpers -----------------------------------------------------------------------

/** a * b + c; fused (one rounding) in the relaxed build, mul + add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** c - a * b; fused in the relaxed build. */
// @ts-ignore: decorator
@inline export function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** Loads k (1..3) f32s from p into the low lanes; the other lanes are 0. */
// @ts-ignore: decorator
@inline export function loadPartial(p: usize, k: i32): v128 {
  let v = v128.load32_zero(p);
  if (k > 1) v = v128.load32_lane(p, v, 1, 4);
  if (k > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the low k (1..3) lanes of v at p. */
// @ts-ignore: decorator
@inline export function storePartial(p: usize, v: v128, k: i32): void {
  v128.store32_lane(p, v, 0);
  if (k > 1) v128.store32_lane(p, v, 1, 4);
  if (k > 2) v128.store32_lane(p, v, 2, 8);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Max of the four lanes (NaN if any lane is NaN). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.max(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

// ---- exp ---------------------------------------------------------------------------------
//
// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2] (ln2 split
// into a short high part, so n*LN2_HI is exact, and a low part). n comes from the
// "add 1.5*2^23" trick: the float sum t = x*log2(e) + 1.5*2^23 holds n in its low mantissa
// bits (bits(t) = 0x4B400000 + n), so no float-to-int conversion is needed.
// exp(r) = 1 + r + r^2*P(r), P of degree 4 (fit error 3.1e-9).

const LOG2E: f32 = 1.44269502;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const EXP_C2: f32 = 0.4999999403953552;
const EXP_C3: f32 = 0.1666652113199234;
const EXP_C4: f32 = 0.04166838899254799;
const EXP_C5: f32 = 0.008368710055947304;
const EXP_C6: f32 = 0.001381461275741458;

/** exp(r) for |r| <= ln2/2. */
// @ts-ignore: decorator
@inline function expPoly(r: v128): v128 {
  let p = madd(splat(EXP_C6), r, splat(EXP_C5));
  p = madd(p, r, splat(EXP_C4));
  p = madd(p, r, splat(EXP_C3));
  p = madd(p, r, splat(EXP_C2));
  const r2 = f32x4.mul(r, r);
  return f32x4.add(madd(p, r2, r), splat(1.0));
}

/**
 * exp on the whole f32 range: overflow gives +Inf, underflow gives correctly scaled
 * subnormals and then 0, NaN stays NaN. 2^n is applied in two factors so that n from
 * -150 to 128 works without an intermediate overflow or a double rounding.
 */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // pmin/pmax with x first keep a NaN x (the comparison is false, x is returned).
  let c = f32x4.pmin(x, splat(89.0));
  c = f32x4.pmax(c, splat(-104.0));
  const t = madd(c, splat(LOG2E), splat(ROUND_MAGIC));
  const nf = f32x4.sub(t, splat(ROUND_MAGIC));
  let r = nmadd(nf, splat(LN2_HI), c);
  r = nmadd(nf, splat(LN2_LO), r);
  const p = expPoly(r);
  const n = i32x4.sub(t, i32x4.splat(0x4B400000));
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// Faster exp for the softmax family (inputs x - max <= 0) and tanh. Range reduction in
// base 2: t = x*log2(e), n = round(t), f = t - n in [-1/2, 1/2], 2^f by a degree-5
// polynomial (fit error 9.1e-8). Rounding x*log2(e) costs up to |t| * 2^-24 of relative
// error, the same order as the rounding already in x - max, and saves three operations
// over the two-constant reduction of vexp.
const E2_C1: f32 = 0.6931470036506653;
const E2_C2: f32 = 0.24022242426872253;
const E2_C3: f32 = 0.05550733581185341;
const E2_C4: f32 = 0.009671512991189957;
const E2_C5: f32 = 0.001326472731307149;

/**
 * exp for x <= 88: t is clamped at -127, where the scale 2^n becomes +0, so results below
 * about 2^-126.5 are 0 (no subnormal tail). NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function vexpLow(x: v128): v128 {
  const t = f32x4.pmax(f32x4.mul(x, splat(LOG2E)), splat(-127.0));
  const u = f32x4.add(t, splat(ROUND_MAGIC));
  const f = f32x4.sub(t, f32x4.sub(u, splat(ROUND_MAGIC)));
  let p = madd(splat(E2_C5), f, splat(E2_C4));
  p = madd(p, f, splat(E2_C3));
  p = madd(p, f, splat(E2_C2));
  p = madd(p, f, splat(E2_C1));
  p = madd(p, f, splat(1.0));
  // bits(u) = 0x4B400000 + n; shifting left by 23 drops the 0x4B4 part.
  return f32x4.mul(p, i32x4.add(i32x4.shl(u, 23), i32x4.splat(0x3F800000)));
}

// ---- log ---------------------------------------------------------------------------------
//
// x = 2^k * m with m in [sqrt(1/2), sqrt(2)); f = m - 1 (exact);
// log(1 + f) = 2s + s^3 * Q(s^2) with s = f / (2 + f), |s| <= 0.1716 (fit error 8e-10).

const LN2_HI_L: f32 = 0.693145751953125; // 0x3f317200: 16 significant bits, so k * LN2_HI_L is exact
const LN2_LO_L: f32 = 1.4286068e-6;
const LOG_Q1: f32 = 0.6666677594184875;
const LOG_Q2: f32 = 0.39977574348449707;
const LOG_Q3: f32 = 0.2987093925476074;
const SQRT_HALF_BITS: i32 = 0x3f3504f3;

/** log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]. */
// @ts-ignore: decorator
@inline function log1pCore(f: v128): v128 {
  const s = f32x4.div(f, f32x4.add(f, splat(2.0)));
  const z = f32x4.mul(s, s);
  let q = madd(splat(LOG_Q3), z, splat(LOG_Q2));
  q = madd(q, z, splat(LOG_Q1));
  const s3 = f32x4.mul(s, z);
  return madd(s3, q, f32x4.add(s, s));
}

/** Natural log: log(0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, subnormals handled. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // Subnormals: scale by 2^25 first and take 25 off the exponent.
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(33554432.0)), x, sub);
  const ix = i32x4.add(xs, i32x4.splat(0x3f800000 - SQRT_HALF_BITS));
  let k = i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(127));
  k = i32x4.sub(k, v128.and(sub, i32x4.splat(25)));
  const m = i32x4.add(v128.and(ix, i32x4.splat(0x007fffff)), i32x4.splat(SQRT_HALF_BITS));
  const f = f32x4.sub(m, splat(1.0));
  const dk = f32x4.convert_i32x4_s(k);
  const lo = madd(dk, splat(LN2_LO_L), log1pCore(f));
  const res = madd(dk, splat(LN2_HI_L), lo);
  // Lanes outside (0, Inf): 0 -> -Inf, negative -> NaN (OR the quiet-NaN bits into a
  // negative number), +Inf and NaN -> themselves.
  const ok = v128.and(f32x4.gt(x, splat(0.0)), f32x4.lt(x, splat(Infinity)));
  let special = v128.or(x, v128.and(f32x4.lt(x, splat(0.0)), i32x4.splat(0x7fc00000)));
  special = v128.bitselect(splat(-Infinity), special, f32x4.eq(x, splat(0.0)));
  return v128.bitselect(res, special, ok);
}

/** log(1 + u) for u in [0, 1] (NaN stays NaN); accurate relative to the result for small u. */
// @ts-ignore: decorator
@inline export function vlog1pUnit(u: v128): v128 {
  // 1 + u < sqrt(2): log1p(u) = log1pCore(u). Otherwise (1+u)/2 - 1 = (u - 1)/2 and add ln2.
  const hi = f32x4.ge(u, splat(0.41421356));
  const f = v128.bitselect(f32x4.mul(f32x4.sub(u, splat(1.0)), splat(0.5)), u, hi);
  const core = log1pCore(f);
  return f32x4.add(core, v128.and(hi, splat(0.693147182)));
}

// ---- activations -------------------------------------------------------------------------

/** 1 / (1 + exp(-x)), computed from e = exp(-|x|) so neither tail overflows or cancels. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(e, splat(1.0), f32x4.lt(x, splat(0.0)));
  return f32x4.div(num, f32x4.add(e, splat(1.0)));
}

const TANH_SMALL: f32 = 0.625;
const TANH_P0: f32 = -0.3333328068256378;
const TANH_P1: f32 = 0.13331441581249237;
const TANH_P2: f32 = -0.05373971536755562;
const TANH_P3: f32 = 0.02063908614218235;
const TANH_P4: f32 = -0.005704985000193119;

/**
 * tanh: |x| < 0.625 uses x + x^3 * P(x^2) (fit error 4.4e-9); larger
 * |x| uses (1 - e) / (1 + e) with e = exp(-2|x|) <= 0.29 (no cancellation), sign restored.
 */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  // Both branches work on |x| (so tanh(-0) = -0 comes out right); the sign is ORed back.
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  let p = madd(splat(TANH_P4), z, splat(TANH_P3));
  p = madd(p, z, splat(TANH_P2));
  p = madd(p, z, splat(TANH_P1));
  p = madd(p, z, splat(TANH_P0));
  const small = madd(f32x4.mul(a, z), p, a);
  const e = vexpLow(f32x4.mul(a, splat(-2.0)));
  const big = f32x4.div(f32x4.sub(splat(1.0), e), f32x4.add(splat(1.0), e));
  const r = v128.bitselect(small, big, f32x4.lt(a, splat(TANH_SMALL)));
  return v128.or(r, v128.and(x, i32x4.splat(0x80000000)));
}

/** log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). */
// @ts-ignore: decorator
@inline export function vsoftplus(x: v128): v128 {
  const u = vexp(f32x4.neg(f32x4.abs(x)));
  return f32x4.add(f32x4.pmax(x, splat(0.0)), vlog1pUnit(u));
}

// ---- ops as types ---------------------------------------------------------------------------
//
// Kernels are generic over an op type and call its @inline methods on a null instance
// (`changetype<K>(0).f(...)`, no field is ever read), so every instantiation is a loop
// specialised for one op at compile time, with no per-element dispatch.

// Unary ops: f(v, param); heavy() picks a shorter unroll for the expensive math.
export class UNeg { @inline f(v: v128, p: v128): v128 { return f32x4.neg(v); } @inline heavy(): bool { return false; } }
export class UExp { @inline f(v: v128, p: v128): v128 { return vexp(v); } @inline heavy(): bool { return true; } }
export class ULog { @inline f(v: v128, p: v128): v128 { return vlog(v); } @inline heavy(): bool { return true; } }
/** x < 0 ? 0 : x (NaN stays NaN, -0 stays -0). */
export class URelu { @inline f(v: v128, p: v128): v128 { return f32x4.pmax(v, splat(0.0)); } @inline heavy(): bool { return false; } }
export class USigmoid { @inline f(v: v128, p: v128): v128 { return vsigmoid(v); } @inline heavy(): bool { return true; } }
export class UTanh { @inline f(v: v128, p: v128): v128 { return vtanh(v); } @inline heavy(): bool { return true; } }
export class USoftplus { @inline f(v: v128, p: v128): v128 { return vsoftplus(v); } @inline heavy(): bool { return true; } }
export class USqrt { @inline f(v: v128, p: v128): v128 { return f32x4.sqrt(v); } @inline heavy(): bool { return false; } }
export class USquare { @inline f(v: v128, p: v128): v128 { return f32x4.mul(v, v); } @inline heavy(): bool { return false; } }
export class UAbs { @inline f(v: v128, p: v128): v128 { return f32x4.abs(v); } @inline heavy(): bool { return false; } }
/** x >= 0 ? x : slope * x, slope in p. */
export class ULeaky {
  @inline f(v: v128, p: v128): v128 { return v128.bitselect(v, f32x4.mul(v, p), f32x4.ge(v, splat(0.0))); }
  @inline heavy(): bool { return false; }
}

// Binary ops: f(a, b, param) on vectors, s(a, b) on scalars with the same IEEE semantics
// (f32x4.max/min and f32.max/min both propagate NaN, like Math.max/min).
export class BAdd { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.add(a, b); } @inline s(a: f32, b: f32): f32 { return a + b; } @inline heavy(): bool { return false; } }
export class BSub { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.sub(a, b); } @inline s(a: f32, b: f32): f32 { return a - b; } @inline heavy(): bool { return false; } }
export class BMul { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.mul(a, b); } @inline s(a: f32, b: f32): f32 { return a * b; } @inline heavy(): bool { return false; } }
export class BDiv { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.div(a, b); } @inline s(a: f32, b: f32): f32 { return a / b; } @inline heavy(): bool { return false; } }
export class BMax { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.max(a, b); } @inline s(a: f32, b: f32): f32 { return max<f32>(a, b); } @inline heavy(): bool { return false; } }
export class BMin { @inline f(a: v128, b: v128, p: v128): v128 { return f32x4.min(a, b); } @inline s(a: f32, b: f32): f32 { return min<f32>(a, b); } @inline heavy(): bool { return false; } }

// ---- row helpers shared by reduce and softmax ------------------------------------------------

/** All-ones in the low k lanes (k in 0..4), zero elsewhere. */
// @ts-ignore: decorator
@inline export function laneMask(k: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(k));
}

/** sum of p[0..n) with 16 partial sums (4 vectors), plus the tail. */
export function sumContig(p: usize, n: i32): f32 {
  let a0 = splat(0.0);
  let a1 = splat(0.0);
  let a2 = splat(0.0);
  let a3 = splat(0.0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(p + (<usize>i << 2)));
  if (i < n) a1 = f32x4.add(a1, loadPartial(p + (<usize>i << 2), n - i));
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

/** sum of p[i] * q[i] for i < n, 16 partial sums; fused multiply-add in the relaxed build. */
export function dotContig(p: usize, q: usize, n: i32): f32 {
  let a0 = splat(0.0);
  let a1 = splat(0.0);
  let a2 = splat(0.0);
  let a3 = splat(0.0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    const x = p + off;
    const y = q + off;
    a0 = madd(v128.load(x), v128.load(y), a0);
    a1 = madd(v128.load(x, 16), v128.load(y, 16), a1);
    a2 = madd(v128.load(x, 32), v128.load(y, 32), a2);
    a3 = madd(v128.load(x, 48), v128.load(y, 48), a3);
  }
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    a0 = madd(v128.load(p + off), v128.load(q + off), a0);
  }
  if (i < n) {
    const off = <usize>i << 2;
    a1 = madd(loadPartial(p + off, n - i), loadPartial(q + off, n - i), a1);
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}
