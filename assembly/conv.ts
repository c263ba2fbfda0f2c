// im2col / col2im for convolution as GEMM (contract in bindings/kernels.ts), one NCHW image:
//   col[(c*kh + i)*kw + j, oy*OW + ox] = x[c, oy*sh - ph + i, ox*sw - pw + j]   (0 outside)
// and col2im, its adjoint, which adds every col entry back onto the pixel it was read from.
//
// For one col row (c, i, j) and one output row oy, the source pixels form a strided run of
// one input row; the range of ox whose pixel is inside the image, [ox0, ox1), is computed
// once per (i, j) so the inner loops have no bounds tests: zeros before and after, and a
// plain run in between. Stride 1 (the common case) is a contiguous f32x4 copy / add,
// stride 2 an f32x4 deinterleave (gather) / interleave-with-zeros (scatter-add); other
// strides are scalar. The output size OH x OW is given by the caller, so a larger output
// than the symmetric padding implies (asymmetric 'same' padding) simply reads zeros.

import { binaryCol, fill, reluBackward, unary } from './elementwise';
import { gemm } from './gemm';

/** dst[0 .. n) = 0 */
// @ts-ignore: decorator
@inline function zeroRun(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let t = 0;
  for (; t + 4 <= n; t += 4) v128.store(dst + (<usize>t << 2), z, 0, 4);
  for (; t < n; t++) store<f32>(dst + (<usize>t << 2), 0);
}

/** dst[t] = src[t * s] for t in [0, n); srcEnd bounds the stride-2 vector reads (exclusive). */
// @ts-ignore: decorator
@inline function gatherRun(dst: usize, src: usize, n: i32, s: i32, srcEnd: usize): void {
  let t = 0;
  if (s == 1) {
    for (; t + 8 <= n; t += 8) {
      const o = <usize>t << 2;
      v128.store(dst + o, v128.load(src + o, 0, 4), 0, 4);
      v128.store(dst + o, v128.load(src + o, 16, 4), 16, 4);
    }
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 2;
      v128.store(dst + o, v128.load(src + o, 0, 4), 0, 4);
    }
    for (; t < n; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + (<usize>t << 2)));
  } else if (s == 2) {
    // 4 outputs need source floats 0..6; the vector loads read 0..7, so stop while 8 fit.
    for (; t + 4 <= n && src + (<usize>t << 3) + 32 <= srcEnd; t += 4) {
      const p = src + (<usize>t << 3);
      const a = v128.load(p, 0, 4);
      const b = v128.load(p, 16, 4);
      v128.store(dst + (<usize>t << 2), v128.shuffle<f32>(a, b, 0, 2, 4, 6), 0, 4);
    }
    for (; t < n; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + (<usize>t << 3)));
  } else {
    const sb = <usize>s << 2;
    let p = src;
    for (; t < n; t++) {
      store<f32>(dst + (<usize>t << 2), load<f32>(p));
      p += sb;
    }
  }
}

/** dst[t * s] += src[t] for t in [0, n); dstEnd bounds the stride-2 vector read-modify-writes. */
// @ts-ignore: decorator
@inline function scatterAddRun(dst: usize, src: usize, n: i32, s: i32, dstEnd: usize): void {
  let t = 0;
  if (s == 1) {
    for (; t + 8 <= n; t += 8) {
      const o = <usize>t << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 0, 4), v128.load(src + o, 0, 4)), 0, 4);
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 16, 4), v128.load(src + o, 16, 4)), 16, 4);
    }
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o, 0, 4), v128.load(src + o, 0, 4)), 0, 4);
    }
    for (; t < n; t++) {
      const o = <usize>t << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  } else if (s == 2) {
    // Interleave 4 values with zeros and add 8 consecutive destination floats; the odd
    // lanes get + 0 and keep their value.
    const z = f32x4.splat(0);
    for (; t + 4 <= n && dst + (<usize>t << 3) + 32 <= dstEnd; t += 4) {
      const p = dst + (<usize>t << 3);
      const v = v128.load(src + (<usize>t << 2), 0, 4);
      const lo = v128.shuffle<f32>(v, z, 0, 4, 1, 5);
      const hi = v128.shuffle<f32>(v, z, 2, 6, 3, 7);
      v128.store(p, f32x4.add(v128.load(p, 0, 4), lo), 0, 4);
      v128.store(p, f32x4.add(v128.load(p, 16, 4), hi), 16, 4);
    }
    for (; t < n; t++) {
      const p = dst + (<usize>t << 3);
      store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>t << 2)));
    }
  } else {
    const sb = <usize>s << 2;
    let p = dst;
    for (; t < n; t++) {
      store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>t << 2)));
      p += sb;
    }
  }
}

/** First ox whose column ox*s - p + j is >= 0. */
// @ts-ignore: decorator
@inline function firstInside(p: i32, j: i32, s: i32): i32 {
  const a = p - j;
  return a <= 0 ? 0 : (a + s - 1) / s;
}

/** One past the last ox (capped at OW) whose column ox*s - p + j is <= W - 1; >= lo. */
// @ts-ignore: decorator
@inline function endInside(W: i32, p: i32, j: i32, s: i32, OW: i32, lo: i32): i32 {
  const a = W - 1 + p - j;
  if (a < 0) return lo;
  const e = min(OW, a / s + 1);
  return max(e, lo);
}

export function im2col(
  x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, col: usize,
): void {
  const P = <usize>OH * <usize>OW;
  const rowBytes = <usize>W << 2;
  const planeBytes = <usize>H * rowBytes;
  // Stride 1 with OW == W ('same' padding and the like): the source of col row (c, i, j) is
  // the plane shifted by a constant offset, so the valid rows are one contiguous copy; the
  // few entries that wrapped around a row edge are then overwritten with zeros.
  const shifted = sh == 1 && sw == 1 && OW == W;
  let dst = col;
  for (let c = 0; c < C; c++) {
    const plane = x + <usize>c * planeBytes;
    const planeEnd = plane + planeBytes;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const ox0 = min(firstInside(pw, j, sw), OW);
        const ox1 = endInside(W, pw, j, sw, OW, ox0);
        const n = ox1 - ox0;
        // Column of the first inside output in its input row (>= 0 by construction).
        const ix0 = ox0 * sw - pw + j;
        if (shifted) {
          const oyLo = min(max(ph - i, 0), OH);
          const oyHi = max(min(H + ph - i, OH), oyLo);
          if (n <= 0 || oyHi == oyLo) {
            zeroRun(dst, <i32>P);
          } else {
            zeroRun(dst, oyLo * OW);
            const first = oyLo * OW + ox0;
            const last = (oyHi - 1) * OW + ox1;
            const src = plane + <usize>(oyLo - ph + i) * rowBytes + (<usize>ix0 << 2);
            gatherRun(dst + (<usize>first << 2), src, last - first, 1, planeEnd);
            for (let oy = oyLo; oy < oyHi; oy++) {
              const row = dst + (<usize>(oy * OW) << 2);
              for (let t = 0; t < ox0; t++) store<f32>(row + (<usize>t << 2), 0);
              for (let t = ox1; t < OW; t++) store<f32>(row + (<usize>t << 2), 0);
            }
            zeroRun(dst + (<usize>(oyHi * OW) << 2), (OH - oyHi) * OW);
          }
          dst += P << 2;
          continue;
        }
        let d = dst;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= H || n <= 0) {
            zeroRun(d, OW);
          } else {
            zeroRun(d, ox0);
            const src = plane + <usize>iy * rowBytes + (<usize>ix0 << 2);
            gatherRun(d + (<usize>ox0 << 2), src, n, sw, planeEnd);
            zeroRun(d + (<usize>ox1 << 2), OW - ox1);
          }
          d += <usize>OW << 2;
        }
        dst += P << 2;
      }
    }
  }
}

export function col2im(
  col: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, x: usize,
): void {
  const P = <usize>OH * <usize>OW;
  const rowBytes = <usize>W << 2;
  const planeBytes = <usize>H * rowBytes;
  let src = col;
  for (let c = 0; c < C; c++) {
    const plane = x + <usize>c * planeBytes;
    const planeEnd = plane + planeBytes;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const ox0 = min(firstInside(pw, j, sw), OW);
        const ox1 = endInside(W, pw, j, sw, OW, ox0);
        const n = ox1 - ox0;
        const ix0 = ox0 * sw - pw + j;
        if (n > 0) {
          // Only the output rows whose input row is inside the image contribute.
          let s = src;
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - ph + i;
            if (iy >= 0 && iy < H) {
              const dst = plane + <usize>iy * rowBytes + (<usize>ix0 << 2);
              scatterAddRun(dst, s + (<usize>ox0 << 2), n, sw, planeEnd);
            }
            s += <usize>OW << 2;
          }
        }
        src += P << 2;
      }
    }
  }
}

// ---- direct convolution for few taps (first layers) ---------------------------------------
//
// With C*kh*kw small (a one-channel 3x3 layer has 9 taps) im2col + GEMM spends most of its
// time copying the column matrix and starting and finishing 9-step tiles. conv2dDirect
// computes stride-1 convolutions of a whole batch straight from a zero-padded copy of each
// image, without a column matrix:
//   y[n, f, oy, ox] = bias[f] + sum_{c,i,j} w[f, c, i, j] * xp[c, oy + i, ox + j]
// where xp is x[n] placed at (ph, pw) in C planes of Hp x Wp zeros (Hp = OH + kh - 1,
// Wp = OW + kw - 1). Each output row is cut into slots of 4 columns (the last one may be
// partial) and two consecutive slots (possibly on two rows) form a tile of 4 filters x 8
// outputs: per tap, 2 f32x4 loads of the padded image at the tap's offset, 4 weight
// broadcasts and 8 multiply-adds into 8 accumulators (the GEMM micro-kernel's shape, see
// gemm.ts). Slots cover each row exactly, so no output is computed twice. Each output sums
// its taps in the order (c, i, j) from +0 and then adds the bias, as im2col + GEMM + a bias
// pass do, so both paths give bitwise the same results (threads split the GEMM path).

// @ts-ignore: decorator
@inline function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Stores lanes 0 .. n-1 of v (n in 1..4) at p. */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// Scratch layout (bytes from `work`, 16-byte aligned pieces):
//   padded planes   C * Hp * Wp floats + 16 floats of slack (a partial slot's vector loads
//                   may run 3 floats past the last row), rounded up to whole vectors
//   tap records     per group of 4 filters and tap t = (c, i, j), 20 bytes: the tap's byte
//                   offset c*Hp*Wp + i*Wp + j (x 4) from an output's first input pixel, then
//                   w[4g + r, t] for r = 0..3 (0 past F)
//   bias            per group, 4 floats (0 without bias or past F)
// @ts-ignore: decorator
@inline function padFloatsOf(C: i32, Hp: i32, Wp: i32): i32 {
  return ((C * Hp * Wp + 16 + 3) >> 2) << 2;
}
// @ts-ignore: decorator
@inline function recordBytesOf(groups: i32, K: i32): i32 {
  return (groups * K * 20 + 15) & ~15;
}

/**
 * One tile of conv2dDirect: 4 filters (the tap records at pw4) x 8 outputs (4 at in0, 4 at
 * in1), stored at yo0 / yo1 (rows of filters yPlane bytes apart), the bias added from pb
 * (0: none). Returns the tap records of the next group. Inlined twice with `whole` constant:
 * true (n0 = n1 = rows = 4) stores plain vectors, false stores n0 / n1 lanes of `rows` rows;
 * the compiler drops the other branch at each site.
 */
// @ts-ignore: decorator
@inline function directTile(pw4: usize, restBytes: usize, in0: usize, in1: usize, pb: usize, yo0: usize, yo1: usize,
  yPlane: usize, whole: bool, n0: i32, n1: i32, rows: i32): usize {
  const zero = f32x4.splat(0);
  // The first tap is peeled (sums start from +0 as in the GEMM, without zeroing 8 registers
  // first); the loop runs over the other K - 1.
  const o0 = <usize>load<i32>(pw4);
  let b0 = v128.load(in0 + o0);
  let b1 = v128.load(in1 + o0);
  let a = v128.load32_splat(pw4, 4);
  let c00 = madd4(a, b0, zero);
  let c01 = madd4(a, b1, zero);
  a = v128.load32_splat(pw4, 8);
  let c10 = madd4(a, b0, zero);
  let c11 = madd4(a, b1, zero);
  a = v128.load32_splat(pw4, 12);
  let c20 = madd4(a, b0, zero);
  let c21 = madd4(a, b1, zero);
  a = v128.load32_splat(pw4, 16);
  let c30 = madd4(a, b0, zero);
  let c31 = madd4(a, b1, zero);
  pw4 += 20;
  const end = pw4 + restBytes;
  while (pw4 < end) {
    const o = <usize>load<i32>(pw4);
    b0 = v128.load(in0 + o);
    b1 = v128.load(in1 + o);
    a = v128.load32_splat(pw4, 4);
    c00 = madd4(a, b0, c00);
    c01 = madd4(a, b1, c01);
    a = v128.load32_splat(pw4, 8);
    c10 = madd4(a, b0, c10);
    c11 = madd4(a, b1, c11);
    a = v128.load32_splat(pw4, 12);
    c20 = madd4(a, b0, c20);
    c21 = madd4(a, b1, c21);
    a = v128.load32_splat(pw4, 16);
    c30 = madd4(a, b0, c30);
    c31 = madd4(a, b1, c31);
    pw4 += 20;
  }
  if (pb != 0) {
    // Added last, as a separate bias pass after a GEMM would (same rounding).
    let bb = v128.load32_splat(pb);
    c00 = f32x4.add(c00, bb);
    c01 = f32x4.add(c01, bb);
    bb = v128.load32_splat(pb, 4);
    c10 = f32x4.add(c10, bb);
    c11 = f32x4.add(c11, bb);
    bb = v128.load32_splat(pb, 8);
    c20 = f32x4.add(c20, bb);
    c21 = f32x4.add(c21, bb);
    bb = v128.load32_splat(pb, 12);
    c30 = f32x4.add(c30, bb);
    c31 = f32x4.add(c31, bb);
  }
  if (whole) {
    v128.store(yo0, c00);
    v128.store(yo0 + yPlane, c10);
    v128.store(yo0 + 2 * yPlane, c20);
    v128.store(yo0 + 3 * yPlane, c30);
    v128.store(yo1, c01);
    v128.store(yo1 + yPlane, c11);
    v128.store(yo1 + 2 * yPlane, c21);
    v128.store(yo1 + 3 * yPlane, c31);
  } else {
    storeLanes(yo0, c00, n0);
    if (n1 > 0) storeLanes(yo1, c01, n1);
    if (rows > 1) {
      storeLanes(yo0 + yPlane, c10, n0);
      if (n1 > 0) storeLanes(yo1 + yPlane, c11, n1);
    }
    if (rows > 2) {
      storeLanes(yo0 + 2 * yPlane, c20, n0);
      if (n1 > 0) storeLanes(yo1 + 2 * yPlane, c21, n1);
    }
    if (rows > 3) {
      storeLanes(yo0 + 3 * yPlane, c30, n0);
      if (n1 > 0) storeLanes(yo1 + 3 * yPlane, c31, n1);
    }
  }
  return pw4;
}

/** Bytes of scratch conv2dDirect needs for these sizes (f64: may exceed 2^31 for absurd sizes). */
export function conv2dDirectWorkBytes(C: i32, kh: i32, kw: i32, OH: i32, OW: i32, F: i32): f64 {
  const Hp = <f64>OH + kh - 1;
  const Wp = <f64>OW + kw - 1;
  const groups = <f64>((F + 3) >> 2);
  const K = <f64>C * kh * kw;
  return Math.ceil((<f64>C * Hp * Wp + 16) / 4) * 16 + Math.ceil(groups * K * 20 / 16) * 16 + groups * 16;
}

export function conv2dDirect(
  x: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, w: usize, F: i32, bias: usize, y: usize, work: usize,
): void {
  if (N <= 0 || F <= 0 || OH <= 0 || OW <= 0) return;
  const K = C * kh * kw;
  const Hp = OH + kh - 1;
  const Wp = OW + kw - 1;
  const planeF = Hp * Wp;
  const padFloats = padFloatsOf(C, Hp, Wp);
  const groups = (F + 3) >> 2;
  const fullGroups = F >> 2;
  const xp = work;
  const wq = xp + (<usize>padFloats << 2);
  const bq = wq + <usize>recordBytesOf(groups, K);
  const P = OH * OW;
  const yPlane = <usize>P << 2;
  const yImage = <usize>F * yPlane;
  const yGroup = yPlane << 2;
  const restBytes = <usize>(K - 1) * 20; // tap records after the first

  // Zero the padded planes once: only the interior is rewritten per image.
  const zero = f32x4.splat(0);
  for (let t = 0; t < padFloats; t += 4) v128.store(xp + (<usize>t << 2), zero);
  for (let g = 0; g < groups; g++) {
    let t = 0;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const d = wq + <usize>(g * K + t) * 20;
          store<i32>(d, (c * planeF + i * Wp + j) << 2);
          for (let r = 0; r < 4; r++) {
            const f = 4 * g + r;
            store<f32>(d + (<usize>r << 2), f < F ? load<f32>(w + (<usize>(f * K + t) << 2)) : 0, 4);
          }
          t++;
        }
      }
    }
  }
  for (let f = 0; f < 4 * groups; f++) {
    store<f32>(bq + (<usize>f << 2), bias != 0 && f < F ? load<f32>(bias + (<usize>f << 2)) : 0);
  }
  // Image rows/columns that land inside the padded planes (all of them unless the caller's
  // output size cuts the image short).
  const rowsIn = max(0, min(H, Hp - ph));
  const colsIn = max(0, min(W, Wp - pw));
  const slotsPerRow = (OW + 3) >> 2;
  const slots = OH * slotsPerRow;
  const rowBytesP = <usize>Wp << 2;

  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>n * <usize>(C * H * W) << 2);
    for (let c = 0; c < C; c++) {
      const src = xn + (<usize>(c * H * W) << 2);
      const dst = xp + (<usize>(c * planeF + ph * Wp + pw) << 2);
      for (let iy = 0; iy < rowsIn; iy++) {
        const s = src + (<usize>(iy * W) << 2);
        const d = dst + <usize>iy * rowBytesP;
        let ix = 0;
        for (; ix + 4 <= colsIn; ix += 4) v128.store(d + (<usize>ix << 2), v128.load(s + (<usize>ix << 2)));
        for (; ix < colsIn; ix++) store<f32>(d + (<usize>ix << 2), load<f32>(s + (<usize>ix << 2)));
      }
    }
    const yn = y + <usize>n * yImage;
    // Slot (oy, sx) covers output columns 4*sx .. 4*sx + 3 of row oy; pairs of slots in
    // row-major order make the tiles.
    let oy0 = 0, sx0 = 0;
    for (let s = 0; s < slots; s += 2) {
      let oy1 = oy0, sx1 = sx0 + 1;
      if (sx1 == slotsPerRow) {
        sx1 = 0;
        oy1++;
      }
      const ox0 = sx0 << 2;
      const ox1 = sx1 << 2;
      const n0 = min(4, OW - ox0);
      const n1 = s + 1 < slots ? min(4, OW - ox1) : 0;
      const in0 = xp + (<usize>(oy0 * Wp + ox0) << 2);
      const in1 = n1 > 0 ? xp + (<usize>(oy1 * Wp + ox1) << 2) : in0;
      let yo0 = yn + (<usize>(oy0 * OW + ox0) << 2);
      let yo1 = yn + (<usize>(oy1 * OW + ox1) << 2);
      let pw4 = wq;
      let g = 0;
      if (n0 == 4 && n1 == 4) {
        // Whole slots and whole groups of 4 filters: plain vector stores.
        for (; g < fullGroups; g++) {
          pw4 = directTile(pw4, restBytes, in0, in1, bias != 0 ? bq + (<usize>g << 4) : 0, yo0, yo1, yPlane, true, 4, 4, 4);
          yo0 += yGroup;
          yo1 += yGroup;
        }
      }
      for (; g < groups; g++) {
        pw4 = directTile(pw4, restBytes, in0, in1, bias != 0 ? bq + (<usize>g << 4) : 0, yo0, yo1, yPlane, false, n0, n1, min(4, F - 4 * g));
        yo0 += yGroup;
        yo1 += yGroup;
      }
      sx0 = sx1 + 1;
      oy0 = oy1;
      if (sx0 == slotsPerRow) {
        sx0 = 0;
        oy0++;
      }
    }
  }
}

// ---- conv2d over runs of images, im2col + GEMM ------------------------------------------
// One call per run of consecutive images rather than five or six kernel calls per image from
// JavaScript: on one thread the whole batch is one call, and a parallel job's task is one
// call to write. The per-image steps are the kernels the op used to call one by one, in the
// same order, so the results are bitwise those of that sequence.

const BIN_ADD: i32 = 0; // BinOp.Add of binaryCol
const UN_RELU: i32 = 3; // UnOp.Relu of unary
/** dwMode of conv2dBackwardImages: no weight gradient, dW [F, K], or its transpose [K, F]. */
const DW_NONE: i32 = 0;
const DW_TRANSPOSED: i32 = 2;

/** The column matrix of image xn: im2col into col, or the image itself when col is 0 (pointwise). */
// @ts-ignore: decorator
@inline function columnsOf(
  xn: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32, col: usize,
): usize {
  if (col == 0) return xn;
  im2col(xn, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, col);
  return col;
}

/**
 * y[n] = W · col(x[n]) (+ bias per filter, then ReLU when relu != 0) for the `count` images
 * from x [., C, H, W] into y [., F, OH·OW]. col: scratch [C·kh·kw, OH·OW], or 0 for a
 * pointwise layer (1×1, stride 1, no padding: the image is its own column matrix).
 */
export function conv2dImages(
  x: usize, count: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, w: usize, F: i32, bias: usize, relu: i32, y: usize, col: usize, work: usize,
): void {
  const K = C * kh * kw;
  const P = OH * OW;
  const xBytes = <usize>(C * H * W) << 2;
  const yBytes = <usize>(F * P) << 2;
  for (let n = 0; n < count; n++) {
    const xn = x + <usize>n * xBytes;
    const yn = y + <usize>n * yBytes;
    const c = columnsOf(xn, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, col);
    gemm(0, 0, F, P, K, 1, w, K, c, P, 0, yn, P, 0, 0, work);
    if (bias != 0) binaryCol(BIN_ADD, yn, bias, yn, F, P, 0);
    if (relu != 0) unary(UN_RELU, yn, yn, F * P);
  }
}

/**
 * conv2d's gradients for the `count` images from x [., C, H, W], with dY [., F, OH·OW] in gy:
 *   mask != 0: gy[n] = reluBackward(out[n], gyIn[n]) first (a fused ReLU; gy may be gyIn);
 *   dwMode 1: dWpart[F, K] (+)= dY[n] · col(x[n])ᵀ; dwMode 2: its transpose [K, F] (+)= ...
 *     — written by the first image when first != 0, added to after;
 *   dx != 0: dx[n] = col2im(Wᵀ · dY[n]) (written).
 * col: scratch [K, OH·OW], or 0 for a pointwise layer (no im2col/col2im).
 */
export function conv2dBackwardImages(
  x: usize, gyIn: usize, out: usize, gy: usize, count: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32, w: usize, F: i32, mask: i32,
  dwMode: i32, dwPart: usize, first: i32, dx: usize, col: usize, work: usize,
): void {
  const K = C * kh * kw;
  const P = OH * OW;
  const xBytes = <usize>(C * H * W) << 2;
  const yBytes = <usize>(F * P) << 2;
  for (let n = 0; n < count; n++) {
    const xn = x + <usize>n * xBytes;
    const gn = gy + <usize>n * yBytes;
    if (mask != 0) reluBackward(out + <usize>n * yBytes, gyIn + <usize>n * yBytes, gn, F * P);
    if (dwMode != DW_NONE) {
      const c = columnsOf(xn, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, col);
      const beta: f32 = first != 0 && n == 0 ? 0 : 1;
      if (dwMode == DW_TRANSPOSED) gemm(0, 1, K, F, P, 1, c, P, gn, P, beta, dwPart, F, 0, 0, work);
      else gemm(0, 1, F, K, P, 1, gn, P, c, P, beta, dwPart, K, 0, 0, work);
    }
    if (dx != 0) {
      const dxn = dx + <usize>n * xBytes;
      if (col == 0) {
        gemm(1, 0, K, P, F, 1, w, K, gn, P, 0, dxn, P, 0, 0, work);
      } else {
        gemm(1, 0, K, P, F, 1, w, K, gn, P, 0, col, P, 0, 0, work);
        // col2im adds into the image: zeroed first.
        fill(dxn, 0, C * H * W);
        col2im(col, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, dxn);
      }
    }
  }
}

/**
 * convTranspose2d forward over `count` consecutive images x [., Cin, OH·OW] (the input side
 * is the small one): y[n] = col2im(Wᵀ · x[n]) (+ bias per output channel) into
 * y [., C, H, W], with w [Cin, C·kh·kw]. col: scratch [C·kh·kw, OH·OW], or 0 for a pointwise
 * layer (the product is written to y[n] directly).
 */
export function convTranspose2dImages(
  x: usize, count: i32, Cin: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  OH: i32, OW: i32, w: usize, bias: usize, y: usize, col: usize, work: usize,
): void {
  const Ko = C * kh * kw;
  const Pin = OH * OW;
  const Pout = H * W;
  const xBytes = <usize>(Cin * Pin) << 2;
  const yBytes = <usize>(C * Pout) << 2;
  for (let n = 0; n < count; n++) {
    const yn = y + <usize>n * yBytes;
    const c = col == 0 ? yn : col;
    gemm(1, 0, Ko, Pin, Cin, 1, w, Ko, x + <usize>n * xBytes, Pin, 0, c, Pin, 0, 0, work);
    if (col != 0) {
      // col2im adds into the image: zeroed first.
      fill(yn, 0, C * Pout);
      col2im(col, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, yn);
    }
    if (bias != 0) binaryCol(BIN_ADD, yn, bias, yn, C, Pout, 0);
  }
}

/**
 * convTranspose2d's gradients over `count` consecutive images, dY in gy [., C, H, W]:
 * dx != 0: dx[n] = W · col(dY[n]) (written, [Cin, OH·OW]); dwMode 1: dwPart [Cin, C·kh·kw]
 * (+)= x[n] · col(dY[n])ᵀ, 2: its transpose; first, col and work as conv2dBackwardImages.
 */
export function convTranspose2dBackwardImages(
  x: usize, gy: usize, count: i32, Cin: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, w: usize, dwMode: i32, dwPart: usize, first: i32, dx: usize, col: usize, work: usize,
): void {
  const Ko = C * kh * kw;
  const Pin = OH * OW;
  const xBytes = <usize>(Cin * Pin) << 2;
  const yBytes = <usize>(C * H * W) << 2;
  for (let n = 0; n < count; n++) {
    const xn = x + <usize>n * xBytes;
    const c = columnsOf(gy + <usize>n * yBytes, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW, col);
    if (dx != 0) gemm(0, 0, Cin, Pin, Ko, 1, w, Ko, c, Pin, 0, dx + <usize>n * xBytes, Pin, 0, 0, work);
    if (dwMode != DW_NONE) {
      const beta: f32 = first != 0 && n == 0 ? 0 : 1;
      if (dwMode == DW_TRANSPOSED) gemm(0, 1, Ko, Cin, Pin, 1, c, Pin, xn, Pin, beta, dwPart, Cin, 0, 0, work);
      else gemm(0, 1, Cin, Ko, Pin, 1, xn, Pin, c, Pin, beta, dwPart, Ko, 0, 0, work);
    }
  }
}
