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
