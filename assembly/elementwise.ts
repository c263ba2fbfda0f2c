// Elementwise kernels: unary/binary maps, broadcasting, activation backwards, fill/copy/axpy.
//
// Each kernel switches on its opcode once and runs a loop specialised for that opcode: the
// loops are @inline generics over an op type (see vmath.ts), so there is no per-element
// dispatch. Main loops work on 4 vectors (2 for the expensive math) per
// iteration; the last n % 4 elements go through the same vector code as a partial vector.
// out == input is allowed everywhere (each vector is loaded before its result is stored).

import {
  loadPartial, madd, splat, storePartial, vexp, vsigmoid,
  UNeg, UExp, ULog, URelu, USigmoid, UTanh, USoftplus, USqrt, USquare, UAbs, ULeaky,
  BAdd, BSub, BMul, BDiv, BMax, BMin,
} from './vmath';

// Opcodes of bindings/kernels.ts.
const BIN_ADD: i32 = 0;
const BIN_SUB: i32 = 1;
const BIN_MUL: i32 = 2;
const BIN_DIV: i32 = 3;
const BIN_MAX: i32 = 4;
const UN_NEG: i32 = 0;
const UN_EXP: i32 = 1;
const UN_LOG: i32 = 2;
const UN_RELU: i32 = 3;
const UN_SIGMOID: i32 = 4;
const UN_TANH: i32 = 5;
const UN_SOFTPLUS: i32 = 6;
const UN_SQRT: i32 = 7;
const UN_SQUARE: i32 = 8;

// ---- one-input maps ------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function map1<K>(x: usize, out: usize, n: i32, pv: v128): void {
  const k = changetype<K>(0);
  let i = 0;
  if (k.heavy()) {
    for (; i + 8 <= n; i += 8) {
      const p = x + (<usize>i << 2);
      const q = out + (<usize>i << 2);
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      v128.store(q, k.f(v0, pv));
      v128.store(q, k.f(v1, pv), 16);
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const p = x + (<usize>i << 2);
      const q = out + (<usize>i << 2);
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const v2 = v128.load(p, 32);
      const v3 = v128.load(p, 48);
      v128.store(q, k.f(v0, pv));
      v128.store(q, k.f(v1, pv), 16);
      v128.store(q, k.f(v2, pv), 32);
      v128.store(q, k.f(v3, pv), 48);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(out + (<usize>i << 2), k.f(v128.load(p), pv));
  }
  if (i < n) {
    const r = n - i;
    const v = loadPartial(x + (<usize>i << 2), r);
    storePartial(out + (<usize>i << 2), k.f(v, pv), r);
  }
}

/** out[i] = unop(x[i]) */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  const z = splat(0.0);
  switch (op) {
    case UN_NEG: map1<UNeg>(x, out, n, z); break;
    case UN_EXP: map1<UExp>(x, out, n, z); break;
    case UN_LOG: map1<ULog>(x, out, n, z); break;
    case UN_RELU: map1<URelu>(x, out, n, z); break;
    case UN_SIGMOID: map1<USigmoid>(x, out, n, z); break;
    case UN_TANH: map1<UTanh>(x, out, n, z); break;
    case UN_SOFTPLUS: map1<USoftplus>(x, out, n, z); break;
    case UN_SQRT: map1<USqrt>(x, out, n, z); break;
    case UN_SQUARE: map1<USquare>(x, out, n, z); break;
    default: map1<UAbs>(x, out, n, z); break;
  }
}

/** out[i] = x[i] >= 0 ? x[i] : slope * x[i] */
export function leakyRelu(x: usize, out: usize, n: i32, slope: f32): void {
  map1<ULeaky>(x, out, n, splat(slope));
}

/** ELU (alpha in p): x > 0 ? x : alpha * (e^x - 1). */
class UElu {
  @inline f(v: v128, p: v128): v128 { return v128.bitselect(v, f32x4.mul(p, f32x4.sub(vexp(v), splat(1.0))), f32x4.gt(v, splat(0.0))); }
  @inline heavy(): bool { return true; }
}

/** out[i] = x[i] > 0 ? x[i] : alpha * (exp(x[i]) - 1) */
export function elu(x: usize, out: usize, n: i32, alpha: f32): void {
  map1<UElu>(x, out, n, splat(alpha));
}

// ---- two-input maps ------------------------------------------------------------------------

// Activation backwards as binary ops on (x or y, dy).
class GLeaky { @inline f(x: v128, dy: v128, p: v128): v128 { return f32x4.mul(dy, v128.bitselect(splat(1.0), p, f32x4.ge(x, splat(0.0)))); } @inline heavy(): bool { return false; } }
class GRelu { @inline f(x: v128, dy: v128, p: v128): v128 { return f32x4.mul(dy, v128.and(f32x4.gt(x, splat(0.0)), splat(1.0))); } @inline heavy(): bool { return false; } }
class GSigmoid { @inline f(y: v128, dy: v128, p: v128): v128 { return f32x4.mul(f32x4.mul(dy, y), f32x4.sub(splat(1.0), y)); } @inline heavy(): bool { return false; } }
class GTanh { @inline f(y: v128, dy: v128, p: v128): v128 { return f32x4.mul(dy, f32x4.sub(splat(1.0), f32x4.mul(y, y))); } @inline heavy(): bool { return false; } }
class GElu { @inline f(x: v128, dy: v128, p: v128): v128 { return f32x4.mul(dy, v128.bitselect(splat(1.0), f32x4.mul(p, vexp(x)), f32x4.gt(x, splat(0.0)))); } @inline heavy(): bool { return true; } }
class GSoftplus { @inline f(x: v128, dy: v128, p: v128): v128 { return f32x4.mul(dy, vsigmoid(x)); } @inline heavy(): bool { return true; } }

// Where the operands come from: l/r load the left/right operand at byte offset off
// (lp/rp: a partial vector of k lanes); s is the splatted scalar.
class VV { // a[i] op b[i]
  @inline l(a: usize, b: usize, off: usize, s: v128): v128 { return v128.load(a + off); }
  @inline r(a: usize, b: usize, off: usize, s: v128): v128 { return v128.load(b + off); }
  @inline lp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return loadPartial(a + off, k); }
  @inline rp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return loadPartial(b + off, k); }
}
class VS { // a[i] op s
  @inline l(a: usize, b: usize, off: usize, s: v128): v128 { return v128.load(a + off); }
  @inline r(a: usize, b: usize, off: usize, s: v128): v128 { return s; }
  @inline lp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return loadPartial(a + off, k); }
  @inline rp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return s; }
}
class SV { // s op a[i]
  @inline l(a: usize, b: usize, off: usize, s: v128): v128 { return s; }
  @inline r(a: usize, b: usize, off: usize, s: v128): v128 { return v128.load(a + off); }
  @inline lp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return s; }
  @inline rp(a: usize, b: usize, off: usize, s: v128, k: i32): v128 { return loadPartial(a + off, k); }
}

// @ts-ignore: decorator
@inline function map2<K, M>(a: usize, b: usize, out: usize, n: i32, s: v128, pv: v128): void {
  const k = changetype<K>(0);
  const m = changetype<M>(0);
  let i = 0;
  if (k.heavy()) {
    for (; i + 8 <= n; i += 8) {
      const off = <usize>i << 2;
      const a0 = m.l(a, b, off, s);
      const b0 = m.r(a, b, off, s);
      const a1 = m.l(a, b, off + 16, s);
      const b1 = m.r(a, b, off + 16, s);
      v128.store(out + off, k.f(a0, b0, pv));
      v128.store(out + off, k.f(a1, b1, pv), 16);
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const off = <usize>i << 2;
      const a0 = m.l(a, b, off, s);
      const b0 = m.r(a, b, off, s);
      const a1 = m.l(a, b, off + 16, s);
      const b1 = m.r(a, b, off + 16, s);
      const a2 = m.l(a, b, off + 32, s);
      const b2 = m.r(a, b, off + 32, s);
      const a3 = m.l(a, b, off + 48, s);
      const b3 = m.r(a, b, off + 48, s);
      const q = out + off;
      v128.store(q, k.f(a0, b0, pv));
      v128.store(q, k.f(a1, b1, pv), 16);
      v128.store(q, k.f(a2, b2, pv), 32);
      v128.store(q, k.f(a3, b3, pv), 48);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, k.f(m.l(a, b, off, s), m.r(a, b, off, s), pv));
  }
  if (i < n) {
    const r = n - i;
    const off = <usize>i << 2;
    storePartial(out + off, k.f(m.lp(a, b, off, s, r), m.rp(a, b, off, s, r), pv), r);
  }
}

/** a[i] op b[i] for i < n (both contiguous). */
function binVV(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  const z = splat(0.0);
  switch (op) {
    case BIN_ADD: map2<BAdd, VV>(a, b, out, n, z, z); break;
    case BIN_SUB: map2<BSub, VV>(a, b, out, n, z, z); break;
    case BIN_MUL: map2<BMul, VV>(a, b, out, n, z, z); break;
    case BIN_DIV: map2<BDiv, VV>(a, b, out, n, z, z); break;
    case BIN_MAX: map2<BMax, VV>(a, b, out, n, z, z); break;
    default: map2<BMin, VV>(a, b, out, n, z, z); break;
  }
}

/** a[i] op s, or s op a[i] when reverse. */
function binVS(op: i32, a: usize, s: f32, out: usize, n: i32, reverse: bool): void {
  const z = splat(0.0);
  const sv = splat(s);
  if (!reverse) {
    switch (op) {
      case BIN_ADD: map2<BAdd, VS>(a, 0, out, n, sv, z); break;
      case BIN_SUB: map2<BSub, VS>(a, 0, out, n, sv, z); break;
      case BIN_MUL: map2<BMul, VS>(a, 0, out, n, sv, z); break;
      case BIN_DIV: map2<BDiv, VS>(a, 0, out, n, sv, z); break;
      case BIN_MAX: map2<BMax, VS>(a, 0, out, n, sv, z); break;
      default: map2<BMin, VS>(a, 0, out, n, sv, z); break;
    }
  } else {
    switch (op) {
      case BIN_ADD: map2<BAdd, SV>(a, 0, out, n, sv, z); break;
      case BIN_SUB: map2<BSub, SV>(a, 0, out, n, sv, z); break;
      case BIN_MUL: map2<BMul, SV>(a, 0, out, n, sv, z); break;
      case BIN_DIV: map2<BDiv, SV>(a, 0, out, n, sv, z); break;
      case BIN_MAX: map2<BMax, SV>(a, 0, out, n, sv, z); break;
      default: map2<BMin, SV>(a, 0, out, n, sv, z); break;
    }
  }
}

/** Scalar a op b with the same semantics as the vector ops. */
function binScalar(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_MAX: return max<f32>(a, b);
    default: return min<f32>(a, b);
  }
}

/** out[i] = a[i] op b[i] */
export function binary(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  binVV(op, a, b, out, n);
}

/** out[i] = a[i] op s  (reverse != 0: out[i] = s op a[i]) */
export function binaryScalar(op: i32, a: usize, s: f32, out: usize, n: i32, reverse: i32): void {
  binVS(op, a, s, out, n, reverse != 0);
}

/** a [rows, cols], b [cols]: out[r,c] = a[r,c] op b[c]  (reverse: b[c] op a[r,c]) */
export function binaryRow(op: i32, a: usize, b: usize, out: usize, rows: i32, cols: i32, reverse: i32): void {
  if (rows <= 0 || cols <= 0) return;
  if (cols == 1) { binVS(op, a, load<f32>(b), out, rows, reverse != 0); return; }
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const ar = a + <usize>r * stride;
    const orow = out + <usize>r * stride;
    if (reverse != 0) binVV(op, b, ar, orow, cols);
    else binVV(op, ar, b, orow, cols);
  }
}

/** a [rows, cols], b [rows]: out[r,c] = a[r,c] op b[r]  (reverse: b[r] op a[r,c]) */
export function binaryCol(op: i32, a: usize, b: usize, out: usize, rows: i32, cols: i32, reverse: i32): void {
  if (rows <= 0 || cols <= 0) return;
  if (cols == 1) {
    if (reverse != 0) binVV(op, b, a, out, rows);
    else binVV(op, a, b, out, rows);
    return;
  }
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    binVS(op, a + off, load<f32>(b + (<usize>r << 2)), out + off, cols, reverse != 0);
  }
}

// ---- general broadcasting ------------------------------------------------------------------

// @ts-ignore: decorator
@inline function stridedScalarLoop<K>(a: usize, b: usize, out: usize, n: i32, sa: usize, sb: usize): void {
  const k = changetype<K>(0);
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), k.s(load<f32>(a), load<f32>(b)));
    a += sa;
    b += sb;
  }
}

function stridedScalar(op: i32, a: usize, b: usize, out: usize, n: i32, sa: usize, sb: usize): void {
  switch (op) {
    case BIN_ADD: stridedScalarLoop<BAdd>(a, b, out, n, sa, sb); break;
    case BIN_SUB: stridedScalarLoop<BSub>(a, b, out, n, sa, sb); break;
    case BIN_MUL: stridedScalarLoop<BMul>(a, b, out, n, sa, sb); break;
    case BIN_DIV: stridedScalarLoop<BDiv>(a, b, out, n, sa, sb); break;
    case BIN_MAX: stridedScalarLoop<BMax>(a, b, out, n, sa, sb); break;
    default: stridedScalarLoop<BMin>(a, b, out, n, sa, sb); break;
  }
}

/** One innermost run of n outputs; sa, sb are element strides. */
function stridedInner(op: i32, a: usize, b: usize, out: usize, n: i32, sa: i32, sb: i32): void {
  if (sa == 1 && sb == 1) binVV(op, a, b, out, n);
  else if (sa == 1 && sb == 0) binVS(op, a, load<f32>(b), out, n, false);
  else if (sa == 0 && sb == 1) binVS(op, b, load<f32>(a), out, n, true);
  else stridedScalar(op, a, b, out, n, <usize>(sa << 2), <usize>(sb << 2));
}

/** Walks dims [dim, dEnd) recursively; returns the output pointer after the written block. */
function stridedRec(
  op: i32, dim: i32, dEnd: i32, a: usize, b: usize, out: usize,
  shapes: usize, aStrides: usize, bStrides: usize, n: i32, sa: i32, sb: i32,
): usize {
  if (dim == dEnd) {
    stridedInner(op, a, b, out, n, sa, sb);
    return out + (<usize>n << 2);
  }
  const len = load<i32>(shapes + (<usize>dim << 2));
  const da = <usize>(load<i32>(aStrides + (<usize>dim << 2)) << 2);
  const db = <usize>(load<i32>(bStrides + (<usize>dim << 2)) << 2);
  for (let i = 0; i < len; i++) {
    out = stridedRec(op, dim + 1, dEnd, a, b, out, shapes, aStrides, bStrides, n, sa, sb);
    a += da;
    b += db;
  }
  return out;
}

/**
 * General broadcasting: out has `ndim` dims (shape at shapePtr, i32[ndim]); a and b are
 * read with element strides (i32[ndim], 0 on broadcast dims). Trailing dims that are
 * contiguous for both inputs (or of size 1) are merged into one inner run first, so e.g.
 * [N,C,H,W] + [1,C,1,1] becomes an (N*C) x (H*W) walk whose inner loop is the vector
 * a-op-scalar loop.
 */
export function binaryStrided(
  op: i32, a: usize, b: usize, out: usize, ndim: i32, shapePtr: usize, aStridesPtr: usize, bStridesPtr: usize,
): void {
  if (ndim <= 0) {
    store<f32>(out, binScalar(op, load<f32>(a), load<f32>(b)));
    return;
  }
  for (let d = 0; d < ndim; d++) if (load<i32>(shapePtr + (<usize>d << 2)) <= 0) return;
  let d = ndim - 1;
  let n = load<i32>(shapePtr + (<usize>d << 2));
  let sa = load<i32>(aStridesPtr + (<usize>d << 2));
  let sb = load<i32>(bStridesPtr + (<usize>d << 2));
  while (d > 0) {
    const m = load<i32>(shapePtr + (<usize>(d - 1) << 2));
    const sa2 = load<i32>(aStridesPtr + (<usize>(d - 1) << 2));
    const sb2 = load<i32>(bStridesPtr + (<usize>(d - 1) << 2));
    if (m == 1) { d--; continue; }
    if (n == 1) { n = m; sa = sa2; sb = sb2; d--; continue; }
    if (sa2 == sa * n && sb2 == sb * n) { n *= m; d--; continue; }
    break;
  }
  if (n == 1) { sa = 0; sb = 0; }
  stridedRec(op, 0, d, a, b, out, shapePtr, aStridesPtr, bStridesPtr, n, sa, sb);
}

// ---- activation backwards --------------------------------------------------------------------

/** dx[i] = dy[i] * (x[i] >= 0 ? 1 : slope) */
export function leakyReluBackward(x: usize, dy: usize, dx: usize, n: i32, slope: f32): void {
  map2<GLeaky, VV>(x, dy, dx, n, splat(0.0), splat(slope));
}

/** dx[i] = dy[i] * (x[i] > 0 ? 1 : 0) */
export function reluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  map2<GRelu, VV>(x, dy, dx, n, splat(0.0), splat(0.0));
}

/** dx[i] = dy[i] * y[i] * (1 - y[i]) */
export function sigmoidBackward(y: usize, dy: usize, dx: usize, n: i32): void {
  map2<GSigmoid, VV>(y, dy, dx, n, splat(0.0), splat(0.0));
}

/** dx[i] = dy[i] * (1 - y[i]^2) */
export function tanhBackward(y: usize, dy: usize, dx: usize, n: i32): void {
  map2<GTanh, VV>(y, dy, dx, n, splat(0.0), splat(0.0));
}

/** dx[i] = dy[i] * sigmoid(x[i]) */
export function softplusBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  map2<GSoftplus, VV>(x, dy, dx, n, splat(0.0), splat(0.0));
}

/** dx[i] = dy[i] * (x[i] > 0 ? 1 : alpha * exp(x[i])) */
export function eluBackward(x: usize, dy: usize, dx: usize, n: i32, alpha: f32): void {
  map2<GElu, VV>(x, dy, dx, n, splat(0.0), splat(alpha));
}

/** dx[i] = lo < x[i] < hi ? dy[i] : 0 (the gradient of clamp; none where it clamped) */
export function clampBackward(x: usize, dy: usize, dx: usize, n: i32, lo: f32, hi: f32): void {
  const vlo = splat(lo);
  const vhi = splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const v = v128.load(x + off);
    const inside = v128.and(f32x4.gt(v, vlo), f32x4.lt(v, vhi));
    v128.store(dx + off, v128.and(v128.load(dy + off), inside));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const v = load<f32>(x + off);
    store<f32>(dx + off, v > lo && v < hi ? load<f32>(dy + off) : 0);
  }
}

// ---- memory-ish ------------------------------------------------------------------------------

/** x[i] = value */
export function fill(x: usize, value: f32, n: i32): void {
  const v = splat(value);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    v128.store(p, v);
    v128.store(p, v, 16);
    v128.store(p, v, 32);
    v128.store(p, v, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), v);
  if (i < n) storePartial(x + (<usize>i << 2), v, n - i);
}

/** dst[i] = src[i] */
export function copy(src: usize, dst: usize, n: i32): void {
  if (n > 0) memory.copy(dst, src, <usize>n << 2);
}

/** y[i] += alpha * x[i] */
export function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  const av = splat(alpha);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const off = <usize>i << 2;
    const p = x + off;
    const q = y + off;
    const y0 = madd(av, v128.load(p), v128.load(q));
    const y1 = madd(av, v128.load(p, 16), v128.load(q, 16));
    const y2 = madd(av, v128.load(p, 32), v128.load(q, 32));
    const y3 = madd(av, v128.load(p, 48), v128.load(q, 48));
    v128.store(q, y0);
    v128.store(q, y1, 16);
    v128.store(q, y2, 32);
    v128.store(q, y3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, madd(av, v128.load(x + off), v128.load(y + off)));
  }
  if (i < n) {
    const k = n - i;
    const off = <usize>i << 2;
    storePartial(y + off, madd(av, loadPartial(x + off, k), loadPartial(y + off, k)), k);
  }
}

/** Number of elements that are NaN or +-Inf (exponent bits all ones). */
export function countNonFinite(x: usize, n: i32): i32 {
  const em = i32x4.splat(0x7f800000);
  let c0 = i32x4.splat(0);
  let c1 = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    // eq gives -1 in matching lanes, so subtracting counts them.
    c0 = i32x4.sub(c0, i32x4.eq(v128.and(v128.load(p), em), em));
    c1 = i32x4.sub(c1, i32x4.eq(v128.and(v128.load(p, 16), em), em));
  }
  for (; i + 4 <= n; i += 4) {
    c0 = i32x4.sub(c0, i32x4.eq(v128.and(v128.load(x + (<usize>i << 2)), em), em));
  }
  const c = i32x4.add(c0, c1);
  let count = i32x4.extract_lane(c, 0) + i32x4.extract_lane(c, 1) + i32x4.extract_lane(c, 2) + i32x4.extract_lane(c, 3);
  for (; i < n; i++) {
    if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) count++;
  }
  return count;
}

/** out[i] = f32(x[i]) for i32 x */
export function i32ToF32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const off = <usize>i << 2;
    const v0 = v128.load(x + off);
    const v1 = v128.load(x + off, 16);
    v128.store(out + off, f32x4.convert_i32x4_s(v0));
    v128.store(out + off, f32x4.convert_i32x4_s(v1), 16);
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, <f32>load<i32>(x + off));
  }
}
