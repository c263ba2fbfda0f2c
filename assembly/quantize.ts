// int8 inference kernels: symmetric quantisation of activations and weights, and an
// i8 x i8 -> i32 matrix product that dequantises in its epilogue.
//
// Both operands of the product are stored with the reduction dimension contiguous and padded
// with zeros to a multiple of 16 (one v128 of int8): A [M, Kp] activations, B [N, Kp] weights.
// Linear is then C = A·Bᵀ directly, and a convolution is the same product on the transposed,
// quantised im2col matrix, written back transposed (transC) into NCHW. Padding means the inner
// loop never has a tail.
//
// Plain SIMD widens to i16 and uses i32x4.dot_i16x8_s. The relaxed build uses
// i32x4.relaxed_dot_i8x16_i7x16_add_s (pmaddubsw + pmaddwd on x86, sdot on ARM) when the caller
// guarantees A in [0, 127] (activations after a ReLU, image pixels): the instruction is only
// defined for a 7-bit second operand. Weights are clamped to [-127, 127] so the pairwise i16
// sums of that instruction cannot saturate.
//
// Contract: bindings/kernels.ts (quantize.ts section).

// @ts-ignore: decorator
@inline function q8(v: f32, inv: f32, lo: f32): i32 {
  // nearest, ties to even, as the SIMD path rounds; NaN becomes 0 there too
  if (v != v) return 0;
  return <i32>nearest<f32>(Mathf.min(Mathf.max(v * inv, lo), 127));
}

// @ts-ignore: decorator
@inline function quantVec(v: v128, inv: v128, lo: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.min(f32x4.max(f32x4.mul(v, inv), lo), f32x4.splat(127))));
}

/**
 * q[r, c] = clamp(round(x[r, c] · s), lo, 127) as int8 for x f32 [rows, cols], q [rows, ldq]
 * with zeros in columns [cols, ldq); s = invScales[r] when invScales != 0, else invScale.
 */
export function quantizeRows(x: usize, rows: i32, cols: i32, invScale: f32, invScales: usize, lo: f32, q: usize, ldq: i32): void {
  const vlo = f32x4.splat(lo);
  for (let r = 0; r < rows; r++) {
    const s = invScales != 0 ? load<f32>(invScales + (<usize>r << 2)) : invScale;
    const inv = f32x4.splat(s);
    const src = x + ((<usize>r * <usize>cols) << 2);
    const dst = q + <usize>r * <usize>ldq;
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      const p = src + (<usize>c << 2);
      const a = quantVec(v128.load(p), inv, vlo);
      const b = quantVec(v128.load(p, 16), inv, vlo);
      const d = quantVec(v128.load(p, 32), inv, vlo);
      const e = quantVec(v128.load(p, 48), inv, vlo);
      // i32 -> i16 -> i8 narrowing saturates, but values are already within [-127, 127].
      v128.store(dst + c, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(d, e)));
    }
    for (; c < cols; c++) store<i8>(dst + c, <i8>q8(load<f32>(src + (<usize>c << 2)), s, lo));
    for (; c < ldq; c++) store<i8>(dst + c, 0);
  }
}

/**
 * q[c, r] = clamp(round(x[r, c] · invScale), lo, 127) as int8 for x f32 [rows, cols], q
 * [cols, ldq] with zeros in columns [rows, ldq): the im2col matrix [K, P] becomes the [P, Kp]
 * operand of gemmI8.
 */
export function quantizeTranspose(x: usize, rows: i32, cols: i32, invScale: f32, lo: f32, q: usize, ldq: i32): void {
  // Blocks of 16 source rows x 16 columns: reads stay within a few cache lines per row, and the
  // writes are whole 16-byte runs of one destination row.
  const inv = f32x4.splat(invScale);
  const vlo = f32x4.splat(lo);
  let r = 0;
  for (; r + 16 <= rows; r += 16) {
    for (let c = 0; c < cols; c++) {
      let v = i8x16.splat(0);
      const src = x + ((<usize>r * <usize>cols + <usize>c) << 2);
      const stride = <usize>cols << 2;
      // gather 16 values of a column, 4 at a time, through a scalar lane insert
      let f0 = f32x4.splat(0), f1 = f32x4.splat(0), f2 = f32x4.splat(0), f3 = f32x4.splat(0);
      f0 = f32x4.replace_lane(f0, 0, load<f32>(src));
      f0 = f32x4.replace_lane(f0, 1, load<f32>(src + stride));
      f0 = f32x4.replace_lane(f0, 2, load<f32>(src + 2 * stride));
      f0 = f32x4.replace_lane(f0, 3, load<f32>(src + 3 * stride));
      f1 = f32x4.replace_lane(f1, 0, load<f32>(src + 4 * stride));
      f1 = f32x4.replace_lane(f1, 1, load<f32>(src + 5 * stride));
      f1 = f32x4.replace_lane(f1, 2, load<f32>(src + 6 * stride));
      f1 = f32x4.replace_lane(f1, 3, load<f32>(src + 7 * stride));
      f2 = f32x4.replace_lane(f2, 0, load<f32>(src + 8 * stride));
      f2 = f32x4.replace_lane(f2, 1, load<f32>(src + 9 * stride));
      f2 = f32x4.replace_lane(f2, 2, load<f32>(src + 10 * stride));
      f2 = f32x4.replace_lane(f2, 3, load<f32>(src + 11 * stride));
      f3 = f32x4.replace_lane(f3, 0, load<f32>(src + 12 * stride));
      f3 = f32x4.replace_lane(f3, 1, load<f32>(src + 13 * stride));
      f3 = f32x4.replace_lane(f3, 2, load<f32>(src + 14 * stride));
      f3 = f32x4.replace_lane(f3, 3, load<f32>(src + 15 * stride));
      v = i8x16.narrow_i16x8_s(
        i16x8.narrow_i32x4_s(quantVec(f0, inv, vlo), quantVec(f1, inv, vlo)),
        i16x8.narrow_i32x4_s(quantVec(f2, inv, vlo), quantVec(f3, inv, vlo)));
      v128.store(q + <usize>c * <usize>ldq + <usize>r, v);
    }
  }
  for (; r < rows; r++) {
    const src = x + ((<usize>r * <usize>cols) << 2);
    for (let c = 0; c < cols; c++) store<i8>(q + <usize>c * <usize>ldq + <usize>r, <i8>q8(load<f32>(src + (<usize>c << 2)), invScale, lo));
  }
  for (let c = 0; c < cols; c++) {
    for (let k = rows; k < ldq; k++) store<i8>(q + <usize>c * <usize>ldq + <usize>k, 0);
  }
}

/** max |x[r, :]| per row into out[r] (f32), 0 for an empty row: per-channel weight ranges. */
export function absMaxRows(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const src = x + ((<usize>r * <usize>cols) << 2);
    let m = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) m = f32x4.max(m, f32x4.abs(v128.load(src + (<usize>c << 2))));
    let s = Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (; c < cols; c++) s = Mathf.max(s, Mathf.abs(load<f32>(src + (<usize>c << 2))));
    store<f32>(out + (<usize>r << 2), s);
  }
}

/** out[0] = min, out[1] = max of x[0..n) (f32; +Inf / -Inf for n = 0): calibration ranges. */
export function minMax(x: usize, n: i32, out: usize): void {
  let lo = f32x4.splat(Infinity);
  let hi = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo = f32x4.min(lo, v);
    hi = f32x4.max(hi, v);
  }
  let a = Mathf.min(Mathf.min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), Mathf.min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  let b = Mathf.max(Mathf.max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), Mathf.max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    a = Mathf.min(a, v);
    b = Mathf.max(b, v);
  }
  store<f32>(out, a);
  store<f32>(out, b, 4);
}

// Sum of the 4 lanes of an i32 accumulator.
// @ts-ignore: decorator
@inline function hsum32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// acc + dot of two 16-lane int8 vectors: a is the activation side (7-bit when unsigned), w the weights.
// @ts-ignore: decorator
@inline function dot16(w: v128, a: v128, acc: v128, unsigned: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    // The fused i32x4.relaxed_dot_i8x16_i7x16_add_s gave wrong sums for some accumulators under
    // Node 20's V8 (x64, experimental relaxed SIMD); the i16 form plus a pairwise add is exact.
    if (unsigned) return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a)));
  }
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_s(a));
  const hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_s(a));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

// @ts-ignore: decorator
@inline function put(c: usize, m: i32, n: i32, M: i32, N: i32, transC: i32, v: f32): void {
  const idx = transC != 0 ? <usize>n * <usize>M + <usize>m : <usize>m * <usize>N + <usize>n;
  store<f32>(c + (idx << 2), v);
}

// @ts-ignore: decorator
@inline function epilogue(acc: i32, scaleA: f32, scales: usize, bias: usize, n: i32, relu: i32): f32 {
  let v = <f32>acc * scaleA * load<f32>(scales + (<usize>n << 2));
  if (bias != 0) v += load<f32>(bias + (<usize>n << 2));
  return relu != 0 && v < 0 ? <f32>0 : v;
}

// The product over rows [m0, m1) for one choice of the dot instruction (resolved per call site).
// @ts-ignore: decorator
@inline function gemmI8Body(m0: i32, m1: i32, M: i32, N: i32, Kp: i32, a: usize, b: usize, scaleA: f32, scales: usize,
  bias: usize, relu: i32, c: usize, transC: i32, unsigned: bool): void {
  let m = m0;
  // 2 activation rows x 4 weight rows: each 16-byte load feeds 2 or 4 dot products.
  for (; m + 2 <= m1; m += 2) {
    const a0 = a + <usize>m * <usize>Kp;
    const a1 = a0 + <usize>Kp;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const b0 = b + <usize>n * <usize>Kp;
      const b1 = b0 + <usize>Kp;
      const b2 = b1 + <usize>Kp;
      const b3 = b2 + <usize>Kp;
      let s00 = i32x4.splat(0), s01 = i32x4.splat(0), s02 = i32x4.splat(0), s03 = i32x4.splat(0);
      let s10 = i32x4.splat(0), s11 = i32x4.splat(0), s12 = i32x4.splat(0), s13 = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const x0 = v128.load(a0 + k);
        const x1 = v128.load(a1 + k);
        const w0 = v128.load(b0 + k);
        const w1 = v128.load(b1 + k);
        const w2 = v128.load(b2 + k);
        const w3 = v128.load(b3 + k);
        if (ASC_FEATURE_RELAXED_SIMD && unsigned) {
          s00 = dot16(w0, x0, s00, true); s01 = dot16(w1, x0, s01, true);
          s02 = dot16(w2, x0, s02, true); s03 = dot16(w3, x0, s03, true);
          s10 = dot16(w0, x1, s10, true); s11 = dot16(w1, x1, s11, true);
          s12 = dot16(w2, x1, s12, true); s13 = dot16(w3, x1, s13, true);
        } else {
          // Widen each operand once: 12 extends feed 16 i16 dot products, where widening per
          // product took 32.
          const x0l = i16x8.extend_low_i8x16_s(x0), x0h = i16x8.extend_high_i8x16_s(x0);
          const x1l = i16x8.extend_low_i8x16_s(x1), x1h = i16x8.extend_high_i8x16_s(x1);
          let wl = i16x8.extend_low_i8x16_s(w0), wh = i16x8.extend_high_i8x16_s(w0);
          s00 = i32x4.add(s00, i32x4.add(i32x4.dot_i16x8_s(wl, x0l), i32x4.dot_i16x8_s(wh, x0h)));
          s10 = i32x4.add(s10, i32x4.add(i32x4.dot_i16x8_s(wl, x1l), i32x4.dot_i16x8_s(wh, x1h)));
          wl = i16x8.extend_low_i8x16_s(w1); wh = i16x8.extend_high_i8x16_s(w1);
          s01 = i32x4.add(s01, i32x4.add(i32x4.dot_i16x8_s(wl, x0l), i32x4.dot_i16x8_s(wh, x0h)));
          s11 = i32x4.add(s11, i32x4.add(i32x4.dot_i16x8_s(wl, x1l), i32x4.dot_i16x8_s(wh, x1h)));
          wl = i16x8.extend_low_i8x16_s(w2); wh = i16x8.extend_high_i8x16_s(w2);
          s02 = i32x4.add(s02, i32x4.add(i32x4.dot_i16x8_s(wl, x0l), i32x4.dot_i16x8_s(wh, x0h)));
          s12 = i32x4.add(s12, i32x4.add(i32x4.dot_i16x8_s(wl, x1l), i32x4.dot_i16x8_s(wh, x1h)));
          wl = i16x8.extend_low_i8x16_s(w3); wh = i16x8.extend_high_i8x16_s(w3);
          s03 = i32x4.add(s03, i32x4.add(i32x4.dot_i16x8_s(wl, x0l), i32x4.dot_i16x8_s(wh, x0h)));
          s13 = i32x4.add(s13, i32x4.add(i32x4.dot_i16x8_s(wl, x1l), i32x4.dot_i16x8_s(wh, x1h)));
        }
      }
      put(c, m, n, M, N, transC, epilogue(hsum32(s00), scaleA, scales, bias, n, relu));
      put(c, m, n + 1, M, N, transC, epilogue(hsum32(s01), scaleA, scales, bias, n + 1, relu));
      put(c, m, n + 2, M, N, transC, epilogue(hsum32(s02), scaleA, scales, bias, n + 2, relu));
      put(c, m, n + 3, M, N, transC, epilogue(hsum32(s03), scaleA, scales, bias, n + 3, relu));
      put(c, m + 1, n, M, N, transC, epilogue(hsum32(s10), scaleA, scales, bias, n, relu));
      put(c, m + 1, n + 1, M, N, transC, epilogue(hsum32(s11), scaleA, scales, bias, n + 1, relu));
      put(c, m + 1, n + 2, M, N, transC, epilogue(hsum32(s12), scaleA, scales, bias, n + 2, relu));
      put(c, m + 1, n + 3, M, N, transC, epilogue(hsum32(s13), scaleA, scales, bias, n + 3, relu));
    }
    for (; n < N; n++) {
      const b0 = b + <usize>n * <usize>Kp;
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const w0 = v128.load(b0 + k);
        s0 = dot16(w0, v128.load(a0 + k), s0, unsigned);
        s1 = dot16(w0, v128.load(a1 + k), s1, unsigned);
      }
      put(c, m, n, M, N, transC, epilogue(hsum32(s0), scaleA, scales, bias, n, relu));
      put(c, m + 1, n, M, N, transC, epilogue(hsum32(s1), scaleA, scales, bias, n, relu));
    }
  }
  for (; m < m1; m++) {
    const a0 = a + <usize>m * <usize>Kp;
    for (let n = 0; n < N; n++) {
      const b0 = b + <usize>n * <usize>Kp;
      let s = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) s = dot16(v128.load(b0 + k), v128.load(a0 + k), s, unsigned);
      put(c, m, n, M, N, transC, epilogue(hsum32(s), scaleA, scales, bias, n, relu));
    }
  }
}

/**
 * C = dequantised A·Bᵀ for rows m in [m0, m1): C[m, n] = scaleA · scales[n] · Σ_k A[m, k]·B[n, k]
 * (+ bias[n] when bias != 0; max(·, 0) when relu != 0). A int8 [M, Kp], B int8 [N, Kp], Kp a
 * multiple of 16 with zero padding; C f32 [M, N], or [N, M] when transC != 0. unsigned != 0
 * promises every A value is in [0, 127] (the relaxed build then uses the 8-bit dot product).
 */
export function gemmI8(m0: i32, m1: i32, M: i32, N: i32, Kp: i32, a: usize, b: usize, scaleA: f32, scales: usize,
  bias: usize, relu: i32, c: usize, transC: i32, unsigned: i32): void {
  if (unsigned != 0) gemmI8Body(m0, m1, M, N, Kp, a, b, scaleA, scales, bias, relu, c, transC, true);
  else gemmI8Body(m0, m1, M, N, Kp, a, b, scaleA, scales, bias, relu, c, transC, false);
}
