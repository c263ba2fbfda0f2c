// 2-D max and average pooling over NCHW planes (planes = N*C), forward and backward.
//
// Each output row oy is split into border columns (the window hangs over the left or right
// edge: scalar code with per-window clipping) and interior columns, where every window
// column is inside the image. Interior outputs are computed four at a time: lane l of a
// vector holds output ox + l, and window element (i, j) of the four outputs is one strided
// load (stride 1: one v128.load; stride 2: two overlapping loads and a shuffle; larger
// strides: four lane loads). Window rows outside the image are skipped for the whole row
// (padding never wins a max and adds nothing to a sum). When the interior is not a
// multiple of 4 wide, the last vector is placed to end at the interior's last column and
// overlaps the previous one: outputs are pure functions of the input, so writing some of
// them twice is harmless, and small planes (7x7 outputs) need no scalar tail. The common
// 2x2 stride-2 max pool has its own interior path (whole-row loads and even/odd shuffles).
//
// Max pooling: the first maximum in row-major window order wins ties; a NaN in a window
// makes the output NaN (as PyTorch), its argmax then points at a NaN of the window.
//
// Contract: bindings/kernels.ts (pool.ts section). Shapes are validated by src/ops/pool.ts
// (padding <= kernel/2, so every window holds at least one image element).

/** x[p], x[p + s], x[p + 2s], x[p + 3s] (s = stride in elements, >= 1). Reads nothing else. */
// @ts-ignore: decorator
@inline function loadStrided(p: usize, s: i32): v128 {
  if (s == 1) return v128.load(p);
  if (s == 2) return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7);
  const sb = <usize>s << 2;
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + sb, v, 1);
  v = v128.load32_lane(p + 2 * sb, v, 2);
  v = v128.load32_lane(p + 3 * sb, v, 3);
  return v;
}

/** Lanes of a where the lane mask is all ones, of b where it is zero (one blendvps when relaxed). */
// @ts-ignore: decorator
@inline function blend(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

/** First and one-past-last output column whose window lies fully inside the image columns. */
// @ts-ignore: decorator
@inline function interiorLo(pw: i32, sw: i32, OW: i32): i32 {
  return min((pw + sw - 1) / sw, OW);
}
// @ts-ignore: decorator
@inline function interiorHi(W: i32, kw: i32, pw: i32, sw: i32, OW: i32, lo: i32): i32 {
  const last = W - kw + pw; // largest ox*sw allowed
  if (last < 0) return lo;
  return max(lo, min(last / sw + 1, OW));
}

// ---- max pooling ------------------------------------------------------------------------------

/**
 * One output of max pooling with full clipping (border windows). Runs in lane 0 of the
 * vector compare/blend: scalar f32 selects become branches in V8, which mispredict on
 * random data and made these windows several times slower than four SIMD outputs.
 */
// @ts-ignore: decorator
@inline function maxWindow(xp: usize, W: i32, r0: i32, i0: i32, i1: i32, c0: i32, j0: i32, j1: i32, out: usize, arg: usize): void {
  const one = i32x4.splat(1);
  let m = f32x4.splat(<f32>-Infinity);
  let a = i32x4.splat((r0 + i0) * W + c0 + j0);
  for (let i = i0; i < i1; i++) {
    const rowIdx = (r0 + i) * W + c0;
    let idx = i32x4.splat(rowIdx + j0);
    for (let j = j0; j < j1; j++) {
      const v = v128.load32_zero(xp + (<usize>(rowIdx + j) << 2));
      const win = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
      m = blend(v, m, win);
      a = blend(idx, a, win);
      idx = i32x4.add(idx, one);
    }
  }
  store<f32>(out, f32x4.extract_lane(m, 0));
  store<i32>(arg, i32x4.extract_lane(a, 0));
}

/**
 * Four interior outputs starting at column c0 (window left edge of the first one).
 * The window rows are split between two independent chains (even and odd rows), so the
 * compare-and-blend dependency of one chain overlaps with the other's; the chains are then
 * merged keeping the row-major first maximum (smaller index on equal values).
 */
// @ts-ignore: decorator
@inline function maxWindow4(xp: usize, W: i32, r0: i32, i0: i32, i1: i32, c0: i32, kw: i32, sw: i32, laneOff: v128, out: usize, arg: usize): void {
  const one = i32x4.splat(1);
  let mA = f32x4.splat(<f32>-Infinity);
  let mB = mA;
  let aA = i32x4.add(i32x4.splat((r0 + i0) * W + c0), laneOff);
  let aB = i32x4.splat(i32.MAX_VALUE);
  let i = i0;
  for (; i + 1 < i1; i += 2) {
    const rowA = (r0 + i) * W + c0;
    const rpA = xp + (<usize>rowA << 2);
    const rpB = rpA + (<usize>W << 2);
    let idxA = i32x4.add(i32x4.splat(rowA), laneOff);
    let idxB = i32x4.add(idxA, i32x4.splat(W));
    for (let j = 0; j < kw; j++) {
      const vA = loadStrided(rpA + (<usize>j << 2), sw);
      const vB = loadStrided(rpB + (<usize>j << 2), sw);
      const winA = v128.or(f32x4.gt(vA, mA), f32x4.ne(vA, vA));
      const winB = v128.or(f32x4.gt(vB, mB), f32x4.ne(vB, vB));
      mA = blend(vA, mA, winA);
      aA = blend(idxA, aA, winA);
      mB = blend(vB, mB, winB);
      aB = blend(idxB, aB, winB);
      idxA = i32x4.add(idxA, one);
      idxB = i32x4.add(idxB, one);
    }
  }
  if (i < i1) {
    const rowA = (r0 + i) * W + c0;
    const rpA = xp + (<usize>rowA << 2);
    let idxA = i32x4.add(i32x4.splat(rowA), laneOff);
    for (let j = 0; j < kw; j++) {
      const vA = loadStrided(rpA + (<usize>j << 2), sw);
      const winA = v128.or(f32x4.gt(vA, mA), f32x4.ne(vA, vA));
      mA = blend(vA, mA, winA);
      aA = blend(idxA, aA, winA);
      idxA = i32x4.add(idxA, one);
    }
  }
  // B wins if larger, equal with a smaller index, or NaN.
  const pickB = v128.or(
    v128.or(f32x4.gt(mB, mA), v128.and(f32x4.eq(mB, mA), i32x4.lt_s(aB, aA))),
    f32x4.ne(mB, mB),
  );
  v128.store(out, blend(mB, mA, pickB));
  v128.store(arg, blend(aB, aA, pickB));
}

/**
 * The common 2x2 stride-2 case, both window rows in the image: two 8-float loads per row
 * cover four windows exactly; even/odd shuffles give the left and right column of each.
 * Row 0 and row 1 are reduced independently, then merged (row 0 wins ties: its indices
 * are smaller).
 */
// @ts-ignore: decorator
@inline function maxWindow22(xp: usize, W: i32, row: i32, laneOff: v128, out: usize, arg: usize): void {
  const pa = xp + (<usize>row << 2);
  const pb = pa + (<usize>W << 2);
  const a0 = v128.load(pa);
  const a1 = v128.load(pa, 16);
  const b0 = v128.load(pb);
  const b1 = v128.load(pb, 16);
  const ae = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
  const ao = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
  const be = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
  const bo = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
  const one = i32x4.splat(1);
  const ia = i32x4.add(i32x4.splat(row), laneOff);
  const ib = i32x4.add(ia, i32x4.splat(W));
  const wa = v128.or(f32x4.gt(ao, ae), f32x4.ne(ao, ao));
  const wb = v128.or(f32x4.gt(bo, be), f32x4.ne(bo, bo));
  const ma = blend(ao, ae, wa);
  const mb = blend(bo, be, wb);
  const xa = blend(i32x4.add(ia, one), ia, wa);
  const xb = blend(i32x4.add(ib, one), ib, wb);
  const pickB = v128.or(f32x4.gt(mb, ma), f32x4.ne(mb, mb));
  v128.store(out, blend(mb, ma, pickB));
  v128.store(arg, blend(xb, xa, pickB));
}

export function maxPool2d(
  x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, y: usize, argmax: usize,
): void {
  const lo = interiorLo(pw, sw, OW);
  const hi = interiorHi(W, kw, pw, sw, OW, lo);
  const vec = hi - lo >= 4;
  const k22 = kh == 2 && kw == 2 && sh == 2 && sw == 2;
  let laneOff = i32x4.splat(0);
  laneOff = i32x4.replace_lane(laneOff, 1, sw);
  laneOff = i32x4.replace_lane(laneOff, 2, 2 * sw);
  laneOff = i32x4.replace_lane(laneOff, 3, 3 * sw);
  const planeIn = <usize>H * <usize>W << 2;
  const planeOut = <usize>OH * <usize>OW << 2;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * planeIn;
    const yp = y + <usize>p * planeOut;
    const ap = argmax + <usize>p * planeOut;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = oy * sh - ph;
      const i0 = max(0, -r0);
      const i1 = min(kh, H - r0);
      const rowOut = <usize>(oy * OW) << 2;
      let ox = 0;
      if (vec) {
        for (; ox < lo; ox++) {
          const c0 = ox * sw - pw;
          const o = rowOut + (<usize>ox << 2);
          maxWindow(xp, W, r0, i0, i1, c0, max(0, -c0), min(kw, W - c0), yp + o, ap + o);
        }
        const both22 = k22 && i1 - i0 == 2;
        for (; ox < hi; ox += 4) {
          const oxv = min(ox, hi - 4);
          const o = rowOut + (<usize>oxv << 2);
          if (both22) maxWindow22(xp, W, r0 * W + oxv * 2 - pw, laneOff, yp + o, ap + o);
          else maxWindow4(xp, W, r0, i0, i1, oxv * sw - pw, kw, sw, laneOff, yp + o, ap + o);
        }
        ox = hi;
      }
      for (; ox < OW; ox++) {
        const c0 = ox * sw - pw;
        const o = rowOut + (<usize>ox << 2);
        maxWindow(xp, W, r0, i0, i1, c0, max(0, -c0), min(kw, W - c0), yp + o, ap + o);
      }
    }
  }
}

/** Zeroes n f32 at p. */
// @ts-ignore: decorator
@inline function zero(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

export function maxPool2dBackward(dy: usize, argmax: usize, planes: i32, HW: i32, OHW: i32, dx: usize): void {
  zero(dx, planes * HW);
  for (let p = 0; p < planes; p++) {
    const dxp = dx + (<usize>p * <usize>HW << 2);
    const base = <usize>p * <usize>OHW << 2;
    const g = dy + base;
    const a = argmax + base;
    for (let o = 0; o < OHW; o++) {
      const off = <usize>o << 2;
      const q = dxp + (<usize>load<i32>(a + off) << 2);
      store<f32>(q, load<f32>(q) + load<f32>(g + off));
    }
  }
}

// ---- average pooling ----------------------------------------------------------------------------

export function avgPool2d(
  x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, y: usize, countIncludePad: i32,
): void {
  const lo = interiorLo(pw, sw, OW);
  const hi = interiorHi(W, kw, pw, sw, OW, lo);
  const vec = hi - lo >= 4;
  const planeIn = <usize>H * <usize>W << 2;
  const planeOut = <usize>OH * <usize>OW << 2;
  const full = <f32>(kh * kw);
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * planeIn;
    const yp = y + <usize>p * planeOut;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = oy * sh - ph;
      const i0 = max(0, -r0);
      const i1 = min(kh, H - r0);
      const rowOut = yp + (<usize>(oy * OW) << 2);
      let ox = 0;
      if (vec) {
        for (; ox < lo; ox++) avgWindow(xp, W, r0, i0, i1, ox * sw - pw, kw, rowOut + (<usize>ox << 2), countIncludePad, full);
        const div = f32x4.splat(countIncludePad != 0 ? full : <f32>((i1 - i0) * kw));
        for (; ox < hi; ox += 4) {
          const oxv = min(ox, hi - 4);
          const c0 = oxv * sw - pw;
          let s0 = f32x4.splat(0);
          let s1 = f32x4.splat(0);
          for (let i = i0; i < i1; i++) {
            const rp = xp + (<usize>((r0 + i) * W + c0) << 2);
            let j = 0;
            for (; j + 1 < kw; j += 2) {
              s0 = f32x4.add(s0, loadStrided(rp + (<usize>j << 2), sw));
              s1 = f32x4.add(s1, loadStrided(rp + (<usize>(j + 1) << 2), sw));
            }
            if (j < kw) s0 = f32x4.add(s0, loadStrided(rp + (<usize>j << 2), sw));
          }
          v128.store(rowOut + (<usize>oxv << 2), f32x4.div(f32x4.add(s0, s1), div));
        }
        ox = hi;
      }
      for (; ox < OW; ox++) avgWindow(xp, W, r0, i0, i1, ox * sw - pw, kw, rowOut + (<usize>ox << 2), countIncludePad, full);
    }
  }
}

// @ts-ignore: decorator
@inline function avgWindow(xp: usize, W: i32, r0: i32, i0: i32, i1: i32, c0: i32, kw: i32, out: usize, countIncludePad: i32, full: f32): void {
  const j0 = max(0, -c0);
  const j1 = min(kw, W - c0);
  let s: f32 = 0;
  for (let i = i0; i < i1; i++) {
    const rp = xp + (<usize>((r0 + i) * W + c0) << 2);
    for (let j = j0; j < j1; j++) s += load<f32>(rp + (<usize>j << 2));
  }
  store<f32>(out, s / (countIncludePad != 0 ? full : <f32>((i1 - i0) * (j1 - j0))));
}

export function avgPool2dBackward(
  dy: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  ph: i32, pw: i32, OH: i32, OW: i32, dx: usize, countIncludePad: i32,
): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) {
    avgPool2x2Backward(dy, planes, H, W, OH, OW, dx);
    return;
  }
  zero(dx, planes * H * W);
  const lo = interiorLo(pw, sw, OW);
  const hi = interiorHi(W, kw, pw, sw, OW, lo);
  // Scatter-adds of overlapping vectors must not run twice, so the interior is split into
  // whole vectors and a scalar remainder here (no overlapping last vector).
  const vec = sw <= 2 && hi - lo >= 4;
  const planeIn = <usize>H * <usize>W << 2;
  const planeOut = <usize>OH * <usize>OW << 2;
  const full = <f32>(kh * kw);
  for (let p = 0; p < planes; p++) {
    const dxp = dx + <usize>p * planeIn;
    const gp = dy + <usize>p * planeOut;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = oy * sh - ph;
      const i0 = max(0, -r0);
      const i1 = min(kh, H - r0);
      const rowG = gp + (<usize>(oy * OW) << 2);
      let ox = 0;
      if (vec) {
        for (; ox < lo; ox++) avgWindowBack(dxp, W, r0, i0, i1, ox * sw - pw, kw, load<f32>(rowG + (<usize>ox << 2)), countIncludePad, full);
        const div = f32x4.splat(countIncludePad != 0 ? full : <f32>((i1 - i0) * kw));
        for (; ox + 4 <= hi; ox += 4) {
          const c0 = ox * sw - pw;
          const g = f32x4.div(v128.load(rowG + (<usize>ox << 2)), div);
          for (let i = i0; i < i1; i++) {
            const rp = dxp + (<usize>((r0 + i) * W + c0) << 2);
            if (sw == 1) {
              for (let j = 0; j < kw; j++) {
                const q = rp + (<usize>j << 2);
                v128.store(q, f32x4.add(v128.load(q), g));
              }
            } else {
              // Stride 2: lanes go to columns 0, 2, 4, 6 (loads cover exactly columns 0..6).
              const ga = v128.shuffle<f32>(g, f32x4.splat(0), 0, 4, 1, 4);
              const gb = v128.shuffle<f32>(g, f32x4.splat(0), 4, 2, 4, 3);
              for (let j = 0; j < kw; j++) {
                const q = rp + (<usize>j << 2);
                v128.store(q, f32x4.add(v128.load(q), ga));
                v128.store(q, f32x4.add(v128.load(q, 12), gb), 12);
              }
            }
          }
        }
      }
      for (; ox < OW; ox++) avgWindowBack(dxp, W, r0, i0, i1, ox * sw - pw, kw, load<f32>(rowG + (<usize>ox << 2)), countIncludePad, full);
    }
  }
}

/**
 * 2x2 windows, stride 2, no padding: the windows do not overlap, so each input gets one
 * window's share, written once (no zero fill, no read-modify-write of overlapping vectors);
 * a last row or column no window covers (odd H or W) is zeroed. The values are the general
 * path's bit for bit: dy/4 added to 0.
 */
function avgPool2x2Backward(dy: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, dx: usize): void {
  const planeIn = <usize>H * <usize>W << 2;
  const planeOut = <usize>OH * <usize>OW << 2;
  const rowB = <usize>W << 2;
  const four = f32x4.splat(4);
  const z = f32x4.splat(0);
  for (let p = 0; p < planes; p++) {
    const dxp = dx + <usize>p * planeIn;
    const gp = dy + <usize>p * planeOut;
    for (let oy = 0; oy < OH; oy++) {
      const rowG = gp + (<usize>(oy * OW) << 2);
      const r0 = dxp + <usize>(2 * oy) * rowB;
      const r1 = r0 + rowB;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const g = f32x4.add(f32x4.div(v128.load(rowG + (<usize>ox << 2)), four), z);
        const a = v128.shuffle<f32>(g, g, 0, 0, 1, 1);
        const b = v128.shuffle<f32>(g, g, 2, 2, 3, 3);
        const o = <usize>ox << 3;
        v128.store(r0 + o, a);
        v128.store(r0 + o, b, 16);
        v128.store(r1 + o, a);
        v128.store(r1 + o, b, 16);
      }
      for (; ox < OW; ox++) {
        const v = load<f32>(rowG + (<usize>ox << 2)) / <f32>4 + <f32>0;
        const o = <usize>ox << 3;
        store<f32>(r0 + o, v);
        store<f32>(r0 + o, v, 4);
        store<f32>(r1 + o, v);
        store<f32>(r1 + o, v, 4);
      }
      if (W > 2 * OW) {
        store<f32>(r0 + rowB - 4, 0);
        store<f32>(r1 + rowB - 4, 0);
      }
    }
    if (H > 2 * OH) zero(dxp + <usize>(2 * OH) * rowB, W);
  }
}

// @ts-ignore: decorator
@inline function avgWindowBack(dxp: usize, W: i32, r0: i32, i0: i32, i1: i32, c0: i32, kw: i32, g: f32, countIncludePad: i32, full: f32): void {
  const j0 = max(0, -c0);
  const j1 = min(kw, W - c0);
  const v = g / (countIncludePad != 0 ? full : <f32>((i1 - i0) * (j1 - j0)));
  for (let i = i0; i < i1; i++) {
    const rp = dxp + (<usize>((r0 + i) * W + c0) << 2);
    for (let j = j0; j < j1; j++) {
      const q = rp + (<usize>j << 2);
      store<f32>(q, load<f32>(q) + v);
    }
  }
}
