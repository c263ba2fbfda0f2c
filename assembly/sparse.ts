// Kernels for pruned models: a CSR-weight matrix product with a fused bias/ReLU epilogue, the
// dense -> CSR conversion, and the mask-side helpers (magnitude histograms for top-k selection,
// mask application, zero counting).
//
// The sparse product is written as out[r, :] = Σ_e values[e] · x[indices[e], :] with x dense
// [K, F]. Linear layers call it on xᵀ (F = batch) and convolutions on their im2col matrix
// (F = output pixels), so the SIMD dimension is always one where every output row uses the
// whole vector: a stored weight costs one broadcast and F/4 fused multiply-adds, and a pruned
// weight costs nothing at all.
//
// Selection is a two-level radix select on the bit patterns of |w|: for non-negative floats
// the u32 pattern orders like the value, so a 65536-bin histogram of the upper half-words,
// then one of the lower half-words inside the bin holding the k-th value, finds it exactly in
// two streaming passes, whatever the number of tensors (each pass accumulates across calls).
//
// Contract: bindings/kernels.ts (sparse.ts section).
import { loadPartial, madd, splat, storePartial } from './vmath';

// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function rowPtr(p: usize, r: i32, F: i32): usize {
  return p + ((<usize>r * <usize>F) << 2);
}

// @ts-ignore: decorator
@inline function finish(a: v128, b: v128, relu: i32): v128 {
  const s = f32x4.add(a, b);
  return relu != 0 ? f32x4.max(s, splat(0.0)) : s;
}

/**
 * out[r, :] = Σ_e values[e] · x[indices[e], :] (+ bias[r] when bias != 0, then max(·, 0) when
 * relu != 0) for rows r in [r0, r1); x is [K, F], out [rows, F]. Rows without entries get the
 * bias (or 0).
 */
export function csrMatmul(indptr: usize, indices: usize, values: usize, x: usize, F: i32, r0: i32, r1: i32,
  bias: usize, relu: i32, out: usize): void {
  for (let r = r0; r < r1; r++) {
    const e0 = i32At(indptr, r);
    const e1 = i32At(indptr, r + 1);
    const b = splat(bias != 0 ? load<f32>(bias + (<usize>r << 2)) : <f32>0);
    const dst = rowPtr(out, r, F);
    let j = 0;
    // 32 features per pass keeps eight independent accumulators in flight, enough to hide the
    // latency of the multiply-add chain on both x86 and ARM.
    for (; j + 32 <= F; j += 32) {
      let a0 = splat(0.0), a1 = splat(0.0), a2 = splat(0.0), a3 = splat(0.0);
      let a4 = splat(0.0), a5 = splat(0.0), a6 = splat(0.0), a7 = splat(0.0);
      const off = <usize>j << 2;
      for (let e = e0; e < e1; e++) {
        const src = rowPtr(x, i32At(indices, e), F) + off;
        const w = v128.load32_splat(values + (<usize>e << 2));
        a0 = madd(w, v128.load(src), a0);
        a1 = madd(w, v128.load(src, 16), a1);
        a2 = madd(w, v128.load(src, 32), a2);
        a3 = madd(w, v128.load(src, 48), a3);
        a4 = madd(w, v128.load(src, 64), a4);
        a5 = madd(w, v128.load(src, 80), a5);
        a6 = madd(w, v128.load(src, 96), a6);
        a7 = madd(w, v128.load(src, 112), a7);
      }
      const d = dst + off;
      v128.store(d, finish(a0, b, relu));
      v128.store(d, finish(a1, b, relu), 16);
      v128.store(d, finish(a2, b, relu), 32);
      v128.store(d, finish(a3, b, relu), 48);
      v128.store(d, finish(a4, b, relu), 64);
      v128.store(d, finish(a5, b, relu), 80);
      v128.store(d, finish(a6, b, relu), 96);
      v128.store(d, finish(a7, b, relu), 112);
    }
    for (; j + 8 <= F; j += 8) {
      let a0 = splat(0.0), a1 = splat(0.0);
      const off = <usize>j << 2;
      for (let e = e0; e < e1; e++) {
        const src = rowPtr(x, i32At(indices, e), F) + off;
        const w = v128.load32_splat(values + (<usize>e << 2));
        a0 = madd(w, v128.load(src), a0);
        a1 = madd(w, v128.load(src, 16), a1);
      }
      v128.store(dst + off, finish(a0, b, relu));
      v128.store(dst + off, finish(a1, b, relu), 16);
    }
    for (; j < F; j += 4) {
      const k = F - j;
      const off = <usize>j << 2;
      let a = splat(0.0);
      for (let e = e0; e < e1; e++) {
        const src = rowPtr(x, i32At(indices, e), F) + off;
        a = madd(v128.load32_splat(values + (<usize>e << 2)), k >= 4 ? v128.load(src) : loadPartial(src, k), a);
      }
      if (k >= 4) v128.store(dst + off, finish(a, b, relu));
      else storePartial(dst + off, finish(a, b, relu), k);
    }
  }
}

/** indptr[0..rows] of the CSR form of dense w [rows, cols] (entries are the non-zeros); returns nnz. */
export function denseToCsrCount(w: usize, rows: i32, cols: i32, indptr: usize): i32 {
  let nnz = 0;
  store<i32>(indptr, 0);
  for (let r = 0; r < rows; r++) {
    const p = rowPtr(w, r, cols);
    let c = 0;
    let cnt = i32x4.splat(0);
    for (; c + 4 <= cols; c += 4) {
      // eq gives -1 per zero lane, so subtracting the lanes of ~eq counts the non-zeros.
      cnt = i32x4.sub(cnt, v128.not(f32x4.eq(v128.load(p + (<usize>c << 2)), splat(0.0))));
    }
    let n = i32x4.extract_lane(cnt, 0) + i32x4.extract_lane(cnt, 1) + i32x4.extract_lane(cnt, 2) + i32x4.extract_lane(cnt, 3);
    for (; c < cols; c++) if (load<f32>(p + (<usize>c << 2)) != 0) n++;
    nnz += n;
    store<i32>(indptr + (<usize>(r + 1) << 2), nnz);
  }
  return nnz;
}

/** Fills indices and values of the CSR form whose indptr denseToCsrCount wrote. */
export function denseToCsrFill(w: usize, rows: i32, cols: i32, indptr: usize, indices: usize, values: usize): void {
  for (let r = 0; r < rows; r++) {
    const p = rowPtr(w, r, cols);
    let e = i32At(indptr, r);
    for (let c = 0; c < cols; c++) {
      const v = load<f32>(p + (<usize>c << 2));
      if (v != 0) {
        store<i32>(indices + (<usize>e << 2), c);
        store<f32>(values + (<usize>e << 2), v);
        e++;
      }
    }
  }
}

/**
 * Adds the |x| of n floats to a 65536-bin i32 histogram (not cleared): with prefix < 0 by the
 * upper 16 bits of |x|'s bit pattern; otherwise, only for elements whose upper half-word equals
 * prefix, by the lower 16 bits.
 */
export function magnitudeHistogram(x: usize, n: i32, hist: usize, prefix: i32): void {
  const abs = i32x4.splat(0x7fffffff);
  let i = 0;
  if (prefix < 0) {
    for (; i + 4 <= n; i += 4) {
      const hi = i32x4.shr_u(v128.and(v128.load(x + (<usize>i << 2)), abs), 16);
      const h0 = hist + (<usize>i32x4.extract_lane(hi, 0) << 2);
      store<i32>(h0, load<i32>(h0) + 1);
      const h1 = hist + (<usize>i32x4.extract_lane(hi, 1) << 2);
      store<i32>(h1, load<i32>(h1) + 1);
      const h2 = hist + (<usize>i32x4.extract_lane(hi, 2) << 2);
      store<i32>(h2, load<i32>(h2) + 1);
      const h3 = hist + (<usize>i32x4.extract_lane(hi, 3) << 2);
      store<i32>(h3, load<i32>(h3) + 1);
    }
    for (; i < n; i++) {
      const h = hist + (<usize>((load<u32>(x + (<usize>i << 2)) & 0x7fffffff) >>> 16) << 2);
      store<i32>(h, load<i32>(h) + 1);
    }
    return;
  }
  // Most elements miss the chosen bin: a whole vector is skipped with one compare.
  const want = i32x4.splat(prefix);
  for (; i + 4 <= n; i += 4) {
    const b = v128.and(v128.load(x + (<usize>i << 2)), abs);
    const hit = i32x4.eq(i32x4.shr_u(b, 16), want);
    if (!v128.any_true(hit)) continue;
    for (let l = 0; l < 4; l++) {
      const u = load<u32>(x + (<usize>(i + l) << 2)) & 0x7fffffff;
      if (<i32>(u >>> 16) == prefix) {
        const h = hist + (<usize>(u & 0xffff) << 2);
        store<i32>(h, load<i32>(h) + 1);
      }
    }
  }
  for (; i < n; i++) {
    const u = load<u32>(x + (<usize>i << 2)) & 0x7fffffff;
    if (<i32>(u >>> 16) == prefix) {
      const h = hist + (<usize>(u & 0xffff) << 2);
      store<i32>(h, load<i32>(h) + 1);
    }
  }
}

/** m[i] = |w[i]| > threshold ? 1 : 0 (f32); returns how many are 1. */
export function magnitudeMask(w: usize, n: i32, threshold: f32, m: usize): i32 {
  const t = splat(threshold);
  const one = splat(1.0);
  let kept = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const gt = f32x4.gt(f32x4.abs(v128.load(w + (<usize>i << 2))), t);
    v128.store(m + (<usize>i << 2), v128.and(gt, one));
    kept = i32x4.sub(kept, gt);
  }
  let c = i32x4.extract_lane(kept, 0) + i32x4.extract_lane(kept, 1) + i32x4.extract_lane(kept, 2) + i32x4.extract_lane(kept, 3);
  for (; i < n; i++) {
    const on = Mathf.abs(load<f32>(w + (<usize>i << 2))) > threshold;
    store<f32>(m + (<usize>i << 2), on ? <f32>1 : <f32>0);
    if (on) c++;
  }
  return c;
}

/** w[i] *= m[i] in place (m is a 0/1 float mask; a pruned weight becomes exactly 0, also -0 and NaN ones). */
export function applyMask(w: usize, m: usize, n: i32): void {
  let i = 0;
  // A select rather than a multiply: NaN·0 would keep a NaN alive in a pruned slot.
  for (; i + 8 <= n; i += 8) {
    const p = w + (<usize>i << 2);
    const q = m + (<usize>i << 2);
    v128.store(p, v128.and(v128.load(p), v128.not(f32x4.eq(v128.load(q), splat(0.0)))));
    v128.store(p, v128.and(v128.load(p, 16), v128.not(f32x4.eq(v128.load(q, 16), splat(0.0)))), 16);
  }
  for (; i < n; i++) {
    const p = w + (<usize>i << 2);
    if (load<f32>(m + (<usize>i << 2)) == 0) store<f32>(p, 0);
  }
}

/** Number of elements equal to 0 (either sign). */
export function countZeros(x: usize, n: i32): i32 {
  let cnt = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) cnt = i32x4.sub(cnt, f32x4.eq(v128.load(x + (<usize>i << 2)), splat(0.0)));
  let c = i32x4.extract_lane(cnt, 0) + i32x4.extract_lane(cnt, 1) + i32x4.extract_lane(cnt, 2) + i32x4.extract_lane(cnt, 3);
  for (; i < n; i++) if (load<f32>(x + (<usize>i << 2)) == 0) c++;
  return c;
}
