// Reductions over the middle axis of an [outer, n, inner] view (and max's backward), and dot.
//
// inner == 1 (rows): each row is contiguous; SIMD runs along n with 16 partial sums.
// inner > 1: SIMD runs across inner, 16 columns (4 vectors) at a time, walking down n;
// the last inner % 4 columns use partial vectors. Sums are formed in f32 over short
// blocks that are then added up in f64, which keeps the rounding error of long sums small.

import { dotContig, hmax, loadPartial, splat, storePartial, sumContig } from './vmath';

const CHUNK: i32 = 1024;

// ---- sum ---------------------------------------------------------------------------------------

// Column sums are formed in f32 over CHUNK_ROWS rows, then added into f64x2 totals.
const CHUNK_ROWS: i32 = 64;

// @ts-ignore: decorator
@inline function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)); }
/** f32x4 of (lo[0], lo[1], hi[0], hi[1]) * scale, rounded once from f64. */
// @ts-ignore: decorator
@inline function narrowScaled(lo: v128, hi: v128, scale: v128): v128 {
  const a = f32x4.demote_f64x2_zero(f64x2.mul(lo, scale));
  const b = f32x4.demote_f64x2_zero(f64x2.mul(hi, scale));
  return v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}

/** Column sums of a [n, inner] block at p into out[inner], times scale. */
function sumColumns(p: usize, out: usize, n: i32, inner: i32, scale: f32): void {
  const rowBytes = <usize>inner << 2;
  const sv = f64x2.splat(<f64>scale);
  let j = 0;
  for (; j + 16 <= inner; j += 16) {
    let t0 = f64x2.splat(0), t1 = f64x2.splat(0), t2 = f64x2.splat(0), t3 = f64x2.splat(0);
    let t4 = f64x2.splat(0), t5 = f64x2.splat(0), t6 = f64x2.splat(0), t7 = f64x2.splat(0);
    let q = p + (<usize>j << 2);
    for (let k0 = 0; k0 < n; k0 += CHUNK_ROWS) {
      const kEnd = min(n, k0 + CHUNK_ROWS);
      let a0 = splat(0.0), a1 = splat(0.0), a2 = splat(0.0), a3 = splat(0.0);
      for (let k = k0; k < kEnd; k++) {
        a0 = f32x4.add(a0, v128.load(q));
        a1 = f32x4.add(a1, v128.load(q, 16));
        a2 = f32x4.add(a2, v128.load(q, 32));
        a3 = f32x4.add(a3, v128.load(q, 48));
        q += rowBytes;
      }
      t0 = f64x2.add(t0, lo64(a0)); t1 = f64x2.add(t1, hi64(a0));
      t2 = f64x2.add(t2, lo64(a1)); t3 = f64x2.add(t3, hi64(a1));
      t4 = f64x2.add(t4, lo64(a2)); t5 = f64x2.add(t5, hi64(a2));
      t6 = f64x2.add(t6, lo64(a3)); t7 = f64x2.add(t7, hi64(a3));
    }
    const o = out + (<usize>j << 2);
    v128.store(o, narrowScaled(t0, t1, sv));
    v128.store(o, narrowScaled(t2, t3, sv), 16);
    v128.store(o, narrowScaled(t4, t5, sv), 32);
    v128.store(o, narrowScaled(t6, t7, sv), 48);
  }
  for (; j < inner; j += 4) {
    const k4 = min(4, inner - j);
    let tl = f64x2.splat(0), th = f64x2.splat(0);
    let q = p + (<usize>j << 2);
    for (let k0 = 0; k0 < n; k0 += CHUNK_ROWS) {
      const kEnd = min(n, k0 + CHUNK_ROWS);
      let a = splat(0.0);
      if (k4 == 4) {
        for (let k = k0; k < kEnd; k++) { a = f32x4.add(a, v128.load(q)); q += rowBytes; }
      } else {
        for (let k = k0; k < kEnd; k++) { a = f32x4.add(a, loadPartial(q, k4)); q += rowBytes; }
      }
      tl = f64x2.add(tl, lo64(a));
      th = f64x2.add(th, hi64(a));
    }
    const r = narrowScaled(tl, th, sv);
    if (k4 == 4) v128.store(out + (<usize>j << 2), r);
    else storePartial(out + (<usize>j << 2), r, k4);
  }
}

/** Sum of a contiguous run: f32 sums of CHUNK elements (16 lanes each) added in f64. */
function sumRow(p: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let k0 = 0; k0 < n; k0 += CHUNK) {
    total += <f64>sumContig(p + (<usize>k0 << 2), min(CHUNK, n - k0));
  }
  return total;
}

/** x viewed as [outer, n, inner]; out[o, i] = scale * sum_k x[o, k, i]. */
export function reduceSum(x: usize, out: usize, outer: i32, n: i32, inner: i32, scale: f32): void {
  if (outer <= 0 || inner <= 0) return;
  const total = outer * inner;
  if (n <= 0) {
    for (let i = 0; i < total; i++) store<f32>(out + (<usize>i << 2), 0);
    return;
  }
  const block = (<usize>n * <usize>inner) << 2;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      store<f32>(out + (<usize>o << 2), <f32>(<f64>scale * sumRow(x + <usize>o * block, n)));
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    sumColumns(x + <usize>o * block, out + ((<usize>o * <usize>inner) << 2), n, inner, scale);
  }
}

// ---- max ---------------------------------------------------------------------------------------

/** Max of a contiguous run (n >= 1); NaN if any element is NaN. */
function maxRow(p: usize, n: i32): f32 {
  let i = 0;
  let m: f32;
  if (n >= 16) {
    let m0 = v128.load(p), m1 = v128.load(p, 16), m2 = v128.load(p, 32), m3 = v128.load(p, 48);
    for (i = 16; i + 16 <= n; i += 16) {
      const q = p + (<usize>i << 2);
      m0 = f32x4.max(m0, v128.load(q));
      m1 = f32x4.max(m1, v128.load(q, 16));
      m2 = f32x4.max(m2, v128.load(q, 32));
      m3 = f32x4.max(m3, v128.load(q, 48));
    }
    for (; i + 4 <= n; i += 4) m0 = f32x4.max(m0, v128.load(p + (<usize>i << 2)));
    m = hmax(f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3)));
  } else {
    m = load<f32>(p);
    i = 1;
  }
  for (; i < n; i++) m = max<f32>(m, load<f32>(p + (<usize>i << 2)));
  return m;
}

/** First k with p[k] == m (or the first NaN when m is NaN); n >= 1 and m occurs. */
function firstIndexOf(p: usize, n: i32, m: f32): i32 {
  const isNan = m != m;
  const mv = splat(m);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const hit = isNan ? f32x4.ne(v, v) : f32x4.eq(v, mv);
    const bits = i32x4.bitmask(hit);
    if (bits != 0) return i + ctz(bits);
  }
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (isNan ? v != v : v == m) return i;
  }
  return 0;
}

// @ts-ignore: decorator
@inline function takeMask(v: v128, best: v128): v128 {
  // v beats the best so far: strictly greater, or the first NaN (NaN wins and stays).
  const gt = f32x4.gt(v, best);
  const firstNan = v128.and(f32x4.ne(v, v), f32x4.eq(best, best));
  return v128.or(gt, firstNan);
}

/** Column max (and first argmax) of a [n, inner] block; n >= 1. */
function maxColumns(p: usize, out: usize, arg: usize, n: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  let j = 0;
  if (arg == 0) {
    for (; j + 16 <= inner; j += 16) {
      let q = p + (<usize>j << 2);
      let m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32), m3 = v128.load(q, 48);
      for (let k = 1; k < n; k++) {
        q += rowBytes;
        m0 = f32x4.max(m0, v128.load(q));
        m1 = f32x4.max(m1, v128.load(q, 16));
        m2 = f32x4.max(m2, v128.load(q, 32));
        m3 = f32x4.max(m3, v128.load(q, 48));
      }
      const o = out + (<usize>j << 2);
      v128.store(o, m0);
      v128.store(o, m1, 16);
      v128.store(o, m2, 32);
      v128.store(o, m3, 48);
    }
  }
  for (; j < inner; j += 4) {
    const k4 = min(4, inner - j);
    let q = p + (<usize>j << 2);
    // Partial columns read zeros in the unused lanes; those lanes are never stored.
    let m = k4 == 4 ? v128.load(q) : loadPartial(q, k4);
    let best = m;
    let idx = i32x4.splat(0);
    for (let k = 1; k < n; k++) {
      q += rowBytes;
      const v = k4 == 4 ? v128.load(q) : loadPartial(q, k4);
      m = f32x4.max(m, v);
      if (arg != 0) {
        const take = takeMask(v, best);
        best = v128.bitselect(v, best, take);
        idx = v128.bitselect(i32x4.splat(k), idx, take);
      }
    }
    if (k4 == 4) {
      v128.store(out + (<usize>j << 2), m);
      if (arg != 0) v128.store(arg + (<usize>j << 2), idx);
    } else {
      storePartial(out + (<usize>j << 2), m, k4);
      if (arg != 0) storePartial(arg + (<usize>j << 2), idx, k4);
    }
  }
}

/**
 * x viewed as [outer, n, inner]; out[o, i] = max_k x[o, k, i] (NaN if any is NaN); if
 * argmax != 0 also writes the first maximising k as i32 (the first NaN if the max is NaN).
 * n >= 1; for n <= 0 it writes -Inf and index -1.
 */
export function reduceMax(x: usize, out: usize, argmax: usize, outer: i32, n: i32, inner: i32): void {
  if (outer <= 0 || inner <= 0) return;
  if (n <= 0) {
    const total = outer * inner;
    for (let i = 0; i < total; i++) {
      store<f32>(out + (<usize>i << 2), -Infinity);
      if (argmax != 0) store<i32>(argmax + (<usize>i << 2), -1);
    }
    return;
  }
  const block = (<usize>n * <usize>inner) << 2;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const p = x + <usize>o * block;
      const m = maxRow(p, n);
      store<f32>(out + (<usize>o << 2), m);
      if (argmax != 0) store<i32>(argmax + (<usize>o << 2), firstIndexOf(p, n, m));
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const oo = (<usize>o * <usize>inner) << 2;
    maxColumns(x + <usize>o * block, out + oo, argmax != 0 ? argmax + oo : 0, n, inner);
  }
}

/**
 * The backward of reduceMax: dx ([outer, n, inner], zeroed here) gets dy[o, i] at
 * k = argmax[o, i], every other element 0. An index outside [0, n) scatters nothing.
 */
export function reduceMaxBackward(dy: usize, argmax: usize, dx: usize, outer: i32, n: i32, inner: i32): void {
  if (outer <= 0 || n <= 0 || inner <= 0) return;
  memory.fill(dx, 0, (<usize>outer * <usize>n * <usize>inner) << 2);
  for (let o = 0; o < outer; o++) {
    const row = <usize>o * <usize>inner;
    const block = dx + ((row * <usize>n) << 2);
    for (let i = 0; i < inner; i++) {
      const k = load<i32>(argmax + ((row + <usize>i) << 2));
      if (<u32>k < <u32>n) store<f32>(block + ((<usize>k * <usize>inner + <usize>i) << 2), load<f32>(dy + ((row + <usize>i) << 2)));
    }
  }
}

// ---- dot ---------------------------------------------------------------------------------------

/** sum_i x[i] * y[i] */
export function dot(x: usize, y: usize, n: i32): f32 {
  if (n <= CHUNK) return dotContig(x, y, n);
  let total: f64 = 0;
  for (let k0 = 0; k0 < n; k0 += CHUNK) {
    const off = <usize>k0 << 2;
    total += <f64>dotContig(x + off, y + off, min(CHUNK, n - k0));
  }
  return <f32>total;
}
