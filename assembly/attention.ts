// The fused mask + softmax step of scaled dot-product attention (src/ops/attention.ts). The
// scores arrive already scaled (the GEMM that forms Q·Kᵀ applies 1/√D_k as its alpha), so
// one pass per row adds the additive mask, blocks padded and future keys, and turns the row
// into weights in place: the score matrix exists once, as the weights the backward reads.
//
// Blocked keys get exactly 0 (they are written as zeros, not left to exp(-inf)). A row with no
// key left (all blocked, or every additive mask entry -Infinity) is all zeros, so its query's
// output is the zero vector and its gradient is zero: a defined result instead of 0/0 = NaN.

import { expShiftSum, rowMax, scaleRow } from './softmax';
import { splat } from './vmath';

/** Adds bias[0..n) to s[0..n). */
// @ts-ignore: decorator
@inline function addRow(s: usize, bias: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(s + o, f32x4.add(v128.load(s + o), v128.load(bias + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(s + o, load<f32>(s + o) + load<f32>(bias + o));
  }
}

/** s[c] = -Infinity where keep[c] == 0, for c < n. */
// @ts-ignore: decorator
@inline function blockRow(s: usize, keep: usize, n: i32): void {
  const ninf = splat(-Infinity);
  const zero = splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const live = f32x4.ne(v128.load(keep + o), zero);
    v128.store(s + o, v128.bitselect(v128.load(s + o), ninf, live));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    if (load<f32>(keep + o) == 0) store<f32>(s + o, -Infinity);
  }
}

/**
 * In place on scores s [rows, cols] (dense): row r becomes softmax(s[r] + bias[r]) over its
 * allowed keys and 0 elsewhere. Allowed: keep[c] != 0 (keep == 0: every key) and, when causal
 * != 0, c <= r + shift (shift = cols - rows aligns the last query with the last key, so a
 * query appended to a KV cache sees everything before it). bias == 0: no additive mask.
 * Returns the number of rows left with no allowed key (written as zeros).
 */
export function attentionSoftmax(s: usize, rows: i32, cols: i32, causal: i32, shift: i32, keep: usize, bias: usize): i32 {
  if (cols <= 0) return rows > 0 ? rows : 0;
  const stride = <usize>cols << 2;
  let empty = 0;
  for (let r = 0; r < rows; r++) {
    const sr = s + <usize>r * stride;
    let limit = cols;
    if (causal != 0) {
      const l = r + shift + 1;
      limit = l < 0 ? 0 : l > cols ? cols : l;
    }
    if (bias != 0) addRow(sr, bias + <usize>r * stride, limit);
    if (keep != 0) blockRow(sr, keep, limit);
    const m = limit > 0 ? rowMax(sr, limit) : -Infinity;
    if (m == -Infinity) {
      memory.fill(sr, 0, stride);
      empty++;
      continue;
    }
    const sum = expShiftSum(sr, sr, limit, m, true);
    scaleRow(sr, limit, <f32>1.0 / sum);
    if (limit < cols) memory.fill(sr + (<usize>limit << 2), 0, <usize>(cols - limit) << 2);
  }
  return empty;
}
