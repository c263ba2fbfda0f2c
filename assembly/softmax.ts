// Row-wise softmax family on [rows, cols] matrices. The row helpers (rowMax, expShiftSum,
// scaleRow) are exported for the fused cross-entropy in loss.ts; index.ts re-exports only the
// kernels.
//
// Forward is three passes over a row that stays in L1: max, then exp(x - max) stored and
// summed in the same pass, then a scale by 1/sum. exp is vexpLow (its input is <= 0).
// A NaN anywhere in a row makes that row's sum NaN, so the whole row comes out NaN.

import { dotContig, hsum, laneMask, loadPartial, nmadd, splat, storePartial, sumContig, vexpLow } from './vmath';

/** max of p[0..n), n >= 1 (NaN lanes may be skipped: callers get NaN later via exp). */
export function rowMax(p: usize, n: i32): f32 {
  const ninf = splat(-Infinity);
  let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    m0 = f32x4.pmax(m0, v128.load(q));
    m1 = f32x4.pmax(m1, v128.load(q, 16));
    m2 = f32x4.pmax(m2, v128.load(q, 32));
    m3 = f32x4.pmax(m3, v128.load(q, 48));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(p + (<usize>i << 2)));
  m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  m0 = f32x4.pmax(m0, v128.shuffle<f32>(m0, m0, 2, 3, 0, 1));
  m0 = f32x4.pmax(m0, v128.shuffle<f32>(m0, m0, 1, 0, 3, 2));
  let m = f32x4.extract_lane(m0, 0);
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (v > m || v != v) m = v;
  }
  return m;
}

/** y[i] = exp(x[i] - m) (if store), returns the sum of those exps. */
// @ts-ignore: decorator
@inline export function expShiftSum(x: usize, y: usize, n: i32, m: f32, doStore: bool): f32 {
  const mv = splat(m);
  // Two vectors per step, not four: four spill registers in V8.
  let s0 = splat(0.0), s1 = splat(0.0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const off = <usize>i << 2;
    const p = x + off;
    const e0 = vexpLow(f32x4.sub(v128.load(p), mv));
    const e1 = vexpLow(f32x4.sub(v128.load(p, 16), mv));
    if (doStore) {
      const q = y + off;
      v128.store(q, e0);
      v128.store(q, e1, 16);
    }
    s0 = f32x4.add(s0, e0);
    s1 = f32x4.add(s1, e1);
  }
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const e = vexpLow(f32x4.sub(v128.load(x + off), mv));
    if (doStore) v128.store(y + off, e);
    s0 = f32x4.add(s0, e);
  }
  if (i < n) {
    const k = n - i;
    const off = <usize>i << 2;
    const e = vexpLow(f32x4.sub(loadPartial(x + off, k), mv));
    if (doStore) storePartial(y + off, e, k);
    s1 = f32x4.add(s1, v128.and(e, laneMask(k)));
  }
  return hsum(f32x4.add(s0, s1));
}

/** y[i] *= s */
export function scaleRow(y: usize, n: i32, s: f32): void {
  const sv = splat(s);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = y + (<usize>i << 2);
    const a0 = f32x4.mul(v128.load(q), sv);
    const a1 = f32x4.mul(v128.load(q, 16), sv);
    const a2 = f32x4.mul(v128.load(q, 32), sv);
    const a3 = f32x4.mul(v128.load(q, 48), sv);
    v128.store(q, a0);
    v128.store(q, a1, 16);
    v128.store(q, a2, 32);
    v128.store(q, a3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const q = y + (<usize>i << 2);
    v128.store(q, f32x4.mul(v128.load(q), sv));
  }
  if (i < n) {
    const q = y + (<usize>i << 2);
    const k = n - i;
    storePartial(q, f32x4.mul(loadPartial(q, k), sv), k);
  }
}

/** y = softmax of one row. */
// @ts-ignore: decorator
@inline function softmaxRow(x: usize, y: usize, n: i32): void {
  const m = rowMax(x, n);
  const s = expShiftSum(x, y, n, m, true);
  scaleRow(y, n, <f32>1.0 / s);
}

/** Row-wise softmax of x [rows, cols] into y (y == x allowed). */
export function softmax(x: usize, y: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    softmaxRow(x + off, y + off, cols);
  }
}

/** Row-wise log-softmax: y = (x - max) - log(sum exp(x - max)). */
export function logSoftmax(x: usize, y: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    const xr = x + off;
    const yr = y + off;
    const m = rowMax(xr, cols);
    const ls = Mathf.log(expShiftSum(xr, 0, cols, m, false));
    const mv = splat(m);
    const lv = splat(ls);
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      const o = <usize>i << 2;
      const a0 = f32x4.sub(f32x4.sub(v128.load(xr + o), mv), lv);
      const a1 = f32x4.sub(f32x4.sub(v128.load(xr + o, 16), mv), lv);
      v128.store(yr + o, a0);
      v128.store(yr + o, a1, 16);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(yr + o, f32x4.sub(f32x4.sub(v128.load(xr + o), mv), lv));
    }
    if (i < cols) {
      const o = <usize>i << 2;
      const k = cols - i;
      storePartial(yr + o, f32x4.sub(f32x4.sub(loadPartial(xr + o, k), mv), lv), k);
    }
  }
}

/** dx = y * (dy - sum_c(dy * y)) per row. */
export function softmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    const yr = y + off;
    const gr = dy + off;
    const dr = dx + off;
    const sv = splat(dotContig(yr, gr, cols));
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      const o = <usize>i << 2;
      const a0 = f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(gr + o), sv));
      const a1 = f32x4.mul(v128.load(yr + o, 16), f32x4.sub(v128.load(gr + o, 16), sv));
      v128.store(dr + o, a0);
      v128.store(dr + o, a1, 16);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(dr + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(gr + o), sv)));
    }
    if (i < cols) {
      const o = <usize>i << 2;
      const k = cols - i;
      storePartial(dr + o, f32x4.mul(loadPartial(yr + o, k), f32x4.sub(loadPartial(gr + o, k), sv)), k);
    }
  }
}

/** dx = dy - exp(y) * sum_c(dy) per row, y = log-softmax output (<= 0, so vexpLow fits). */
export function logSoftmaxBackward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  if (cols <= 0) return;
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    const yr = y + off;
    const gr = dy + off;
    const dr = dx + off;
    const sv = splat(sumContig(gr, cols));
    let i = 0;
    for (; i + 8 <= cols; i += 8) {
      const o = <usize>i << 2;
      const a0 = nmadd(vexpLow(v128.load(yr + o)), sv, v128.load(gr + o));
      const a1 = nmadd(vexpLow(v128.load(yr + o, 16)), sv, v128.load(gr + o, 16));
      v128.store(dr + o, a0);
      v128.store(dr + o, a1, 16);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(dr + o, nmadd(vexpLow(v128.load(yr + o)), sv, v128.load(gr + o)));
    }
    if (i < cols) {
      const o = <usize>i << 2;
      const k = cols - i;
      storePartial(dr + o, nmadd(vexpLow(loadPartial(yr + o, k)), sv, loadPartial(gr + o, k)), k);
    }
  }
}
