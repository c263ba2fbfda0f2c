// Sparse kernels for graph neural networks: products of a CSR matrix with a dense [n, F]
// matrix (SpMM) under sum, mean and max aggregation, their adjoints, and the CSR transpose.
//
// Every product works on a range of rows [r0, r1), so TypeScript can hand disjoint row blocks
// to different threads (rows write only their own output). The feature dimension is the SIMD
// dimension: an edge contributes a whole row of x, so the inner loop is a scaled row add with
// the accumulators of 16 features held in registers across all edges of the row.
//
// A CSR matrix is (indptr i32[rows + 1], indices i32[nnz], values f32[nnz] or 0 for all ones).
//
// Contract: bindings/kernels.ts (graph.ts section).
import { dotContig, loadPartial, madd, splat, storePartial } from './vmath';

// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function f32At(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function row(p: usize, r: i32, F: i32): usize {
  return p + ((<usize>r * <usize>F) << 2);
}

// @ts-ignore: decorator
@inline function weight(values: usize, e: i32): f32 {
  return values == 0 ? <f32>1 : f32At(values, e);
}

/**
 * Validates a CSR structure: returns -1 when indptr starts at 0, never decreases and every
 * index is in [0, cols); otherwise r (0..rows) for the first bad indptr entry, or rows + 1 + e
 * for the first index e out of range.
 */
export function csrCheck(indptr: usize, rows: i32, indices: usize, cols: i32): i32 {
  if (i32At(indptr, 0) != 0) return 0;
  for (let r = 1; r <= rows; r++) if (i32At(indptr, r) < i32At(indptr, r - 1)) return r;
  const nnz = i32At(indptr, rows);
  for (let e = 0; e < nnz; e++) {
    const c = i32At(indices, e);
    if (c < 0 || c >= cols) return rows + 1 + e;
  }
  return -1;
}

/**
 * out[r, :] = Σ_e values[e] · x[indices[e], :] over the edges e of row r, for r in [r0, r1);
 * with mean != 0 divided by the row's edge count. A row without edges gets zeros.
 */
export function spmmSum(indptr: usize, indices: usize, values: usize, x: usize, F: i32, r0: i32, r1: i32, out: usize, mean: i32): void {
  for (let r = r0; r < r1; r++) {
    const e0 = i32At(indptr, r);
    const e1 = i32At(indptr, r + 1);
    const scale = splat(mean != 0 && e1 > e0 ? <f32>1 / <f32>(e1 - e0) : <f32>1);
    const dst = row(out, r, F);
    let j = 0;
    // 16 features per pass: four accumulators stay in registers over all edges of the row.
    for (; j + 16 <= F; j += 16) {
      let a0 = splat(0.0);
      let a1 = splat(0.0);
      let a2 = splat(0.0);
      let a3 = splat(0.0);
      const off = <usize>j << 2;
      for (let e = e0; e < e1; e++) {
        const src = row(x, i32At(indices, e), F) + off;
        const w = splat(weight(values, e));
        a0 = madd(w, v128.load(src), a0);
        a1 = madd(w, v128.load(src, 16), a1);
        a2 = madd(w, v128.load(src, 32), a2);
        a3 = madd(w, v128.load(src, 48), a3);
      }
      v128.store(dst + off, f32x4.mul(a0, scale));
      v128.store(dst + off, f32x4.mul(a1, scale), 16);
      v128.store(dst + off, f32x4.mul(a2, scale), 32);
      v128.store(dst + off, f32x4.mul(a3, scale), 48);
    }
    for (; j < F; j += 4) {
      const k = F - j;
      const off = <usize>j << 2;
      let a = splat(0.0);
      for (let e = e0; e < e1; e++) {
        const src = row(x, i32At(indices, e), F) + off;
        a = madd(splat(weight(values, e)), k >= 4 ? v128.load(src) : loadPartial(src, k), a);
      }
      a = f32x4.mul(a, scale);
      if (k >= 4) v128.store(dst + off, a);
      else storePartial(dst + off, a, k);
    }
  }
}

/**
 * out[r, f] = max_e values[e] · x[indices[e], f] over the edges of row r, for r in [r0, r1);
 * argmax[r, f] (i32) = the first edge attaining it. A row without edges gets 0 and argmax -1.
 */
export function spmmMax(indptr: usize, indices: usize, values: usize, x: usize, F: i32, r0: i32, r1: i32, out: usize, argmax: usize): void {
  for (let r = r0; r < r1; r++) {
    const e0 = i32At(indptr, r);
    const e1 = i32At(indptr, r + 1);
    const dst = row(out, r, F);
    const am = row(argmax, r, F);
    for (let j = 0; j < F; j += 4) {
      const k = F - j;
      const off = <usize>j << 2;
      let best = splat(0.0);
      let arg = i32x4.splat(-1);
      if (e1 > e0) {
        const s0 = row(x, i32At(indices, e0), F) + off;
        best = f32x4.mul(splat(weight(values, e0)), k >= 4 ? v128.load(s0) : loadPartial(s0, k));
        arg = i32x4.splat(e0);
        for (let e = e0 + 1; e < e1; e++) {
          const src = row(x, i32At(indices, e), F) + off;
          const c = f32x4.mul(splat(weight(values, e)), k >= 4 ? v128.load(src) : loadPartial(src, k));
          // Strictly greater: the first maximising edge keeps a tie, as in reduceMax.
          const gt = f32x4.gt(c, best);
          best = v128.bitselect(c, best, gt);
          arg = v128.bitselect(i32x4.splat(e), arg, gt);
        }
      }
      if (k >= 4) {
        v128.store(dst + off, best);
        v128.store(am + off, arg);
      } else {
        storePartial(dst + off, best, k);
        storePartial(am + off, arg, k);
      }
    }
  }
}

/**
 * Adjoint of spmmMax, routed through the argmax: dx[indices[e], f] += values[e] · dy[r, f] and,
 * when dvalues != 0, dvalues[e] += dy[r, f] · x[indices[e], f], for e = argmax[r, f] >= 0.
 * Accumulates into dx and dvalues (the caller zeroes them). Rows scatter into shared rows of
 * dx, so this runs on one thread.
 */
export function spmmMaxBackward(dy: usize, argmax: usize, indices: usize, values: usize, x: usize, rows: i32, F: i32, dx: usize, dvalues: usize): void {
  const n = rows * F;
  for (let i = 0; i < n; i++) {
    const e = i32At(argmax, i);
    if (e < 0) continue;
    const f = i % F;
    const c = i32At(indices, e);
    const g = f32At(dy, i);
    const p = row(dx, c, F) + (<usize>f << 2);
    store<f32>(p, load<f32>(p) + weight(values, e) * g);
    if (dvalues != 0) {
      const q = dvalues + (<usize>e << 2);
      store<f32>(q, load<f32>(q) + g * f32At(row(x, c, F), f));
    }
  }
}

/**
 * The transpose of a CSR matrix [rows, cols] as CSR [cols, rows]: tIndptr i32[cols + 1],
 * tIndices i32[nnz] (the source rows, ascending within each new row), tValues f32[nnz] =
 * values[e] (1 when values == 0), divided by the source row's edge count when mean != 0 —
 * so that a sum-SpMM with the transpose is the adjoint of the mean-SpMM.
 */
export function csrTranspose(indptr: usize, indices: usize, values: usize, rows: i32, cols: i32, mean: i32,
  tIndptr: usize, tIndices: usize, tValues: usize): void {
  for (let c = 0; c <= cols; c++) store<i32>(tIndptr + (<usize>c << 2), 0);
  const nnz = i32At(indptr, rows);
  for (let e = 0; e < nnz; e++) {
    const p = tIndptr + (<usize>(i32At(indices, e) + 1) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  for (let c = 1; c <= cols; c++) {
    const p = tIndptr + (<usize>c << 2);
    store<i32>(p, load<i32>(p) + load<i32>(p - 4));
  }
  // tIndptr[c] serves as the write cursor of new row c, then is shifted back to its start.
  for (let r = 0; r < rows; r++) {
    const e0 = i32At(indptr, r);
    const e1 = i32At(indptr, r + 1);
    const scale: f32 = mean != 0 && e1 > e0 ? <f32>1 / <f32>(e1 - e0) : <f32>1;
    for (let e = e0; e < e1; e++) {
      const p = tIndptr + (<usize>i32At(indices, e) << 2);
      const pos = load<i32>(p);
      store<i32>(p, pos + 1);
      store<i32>(tIndices + (<usize>pos << 2), r);
      store<f32>(tValues + (<usize>pos << 2), weight(values, e) * scale);
    }
  }
  for (let c = cols; c >= 1; c--) store<i32>(tIndptr + (<usize>c << 2), i32At(tIndptr, c - 1));
  store<i32>(tIndptr, 0);
}

/**
 * Gradient of a sum- or mean-SpMM with respect to its values: out[e] = dy[r, :] · x[indices[e], :]
 * for the edges of rows [r0, r1) (divided by the row's edge count when mean != 0).
 */
export function spmmValuesGrad(indptr: usize, indices: usize, dy: usize, x: usize, F: i32, r0: i32, r1: i32, out: usize, mean: i32): void {
  for (let r = r0; r < r1; r++) {
    const e0 = i32At(indptr, r);
    const e1 = i32At(indptr, r + 1);
    const scale: f32 = mean != 0 && e1 > e0 ? <f32>1 / <f32>(e1 - e0) : <f32>1;
    const g = row(dy, r, F);
    for (let e = e0; e < e1; e++) {
      store<f32>(out + (<usize>e << 2), dotContig(g, row(x, i32At(indices, e), F), F) * scale);
    }
  }
}
