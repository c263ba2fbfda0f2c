// Sequence kernels: the embedding gather and its scatter-add adjoint, and the fused per-step
// kernels of the recurrent layers (Elman RNN, LSTM, GRU) with their BPTT backwards.
//
// The recurrent GEMMs (input projection of all steps, the recurrent projection of each step,
// the weight gradients over all steps) run on the gemm kernel from TypeScript; what is here
// is everything between two GEMMs of a step, in one pass over the [N, H] state: the gate
// nonlinearities, the cell update, the padding mask and the writes of the state and output.
// Every buffer is addressed by (pointer, row stride in elements), so the same kernels read
// and write rows of time step t inside [N, T, ·] tensors without copies.
//
// Masking: mask == 0 means no mask; otherwise row n is a padded step when mask[n * ms] == 0.
// A padded step carries the state unchanged, writes 0 to its output and, in the backward,
// passes the state's gradient through untouched and gives no gradient to the gates.
//
// Contract: bindings/kernels.ts (sequence.ts section).
import { loadPartial, madd, splat, storePartial, vsigmoid, vtanh } from './vmath';

// @ts-ignore: decorator
@inline function ld(p: usize, k: i32): v128 {
  return k >= 4 ? v128.load(p) : loadPartial(p, k);
}

// @ts-ignore: decorator
@inline function st(p: usize, v: v128, k: i32): void {
  if (k >= 4) v128.store(p, v);
  else storePartial(p, v, k);
}

// @ts-ignore: decorator
@inline function at(p: usize, row: i32, stride: i32): usize {
  return p + ((<usize>row * <usize>stride) << 2);
}

// @ts-ignore: decorator
@inline function live(mask: usize, n: i32, ms: i32): bool {
  return mask == 0 || load<f32>(at(mask, n, ms)) != 0;
}

/** dst[r, :] = src[r, :] for r < rows, cols columns (the carried state of padded rows). */
// @ts-ignore: decorator
@inline function copyRow(src: usize, dst: usize, cols: i32): void {
  if (src == dst) return;
  for (let j = 0; j < cols; j += 4) {
    const k = cols - j;
    const off = <usize>j << 2;
    st(dst + off, ld(src + off, k), k);
  }
}

// @ts-ignore: decorator
@inline function zeroRow(dst: usize, cols: i32): void {
  for (let j = 0; j < cols; j += 4) st(dst + (<usize>j << 2), splat(0.0), cols - j);
}

// ---- embedding -----------------------------------------------------------------------------

/** The position of the first of n int32 indices outside [0, num), or -1 when all are inside. */
export function indexOutOfRange(idx: usize, n: i32, num: i32): i32 {
  for (let r = 0; r < n; r++) {
    const v = load<i32>(idx + (<usize>r << 2));
    if (v < 0 || v >= num) return r;
  }
  return -1;
}

/**
 * out[r, :] = src[idx[r], :] for r < n, rows of dim 4-byte values (float32 or int32: the bits
 * are copied). Indices are trusted (indexOutOfRange checked them), so a call can be cut into
 * ranges of r and run on several threads.
 */
export function gatherRowsAt(src: usize, dim: i32, idx: usize, n: i32, out: usize): void {
  for (let r = 0; r < n; r++) {
    const from = at(src, load<i32>(idx + (<usize>r << 2)), dim);
    const to = at(out, r, dim);
    let j = 0;
    for (; j + 16 <= dim; j += 16) {
      const off = <usize>j << 2;
      v128.store(to + off, v128.load(from + off));
      v128.store(to + off + 16, v128.load(from + off + 16));
      v128.store(to + off + 32, v128.load(from + off + 32));
      v128.store(to + off + 48, v128.load(from + off + 48));
    }
    for (; j < dim; j += 4) {
      const off = <usize>j << 2;
      st(to + off, ld(from + off, dim - j), dim - j);
    }
  }
}

/**
 * dW (zeroed here, [num, dim]) = Σ_r dy[r, :] into row idx[r], skipping rows whose index is
 * paddingIdx (-1: none). Indices are trusted (the forward checked them). Rows are added in
 * order, so repeated indices accumulate deterministically.
 */
export function embeddingScatterAdd(dy: usize, idx: usize, n: i32, dim: i32, num: i32, paddingIdx: i32, dW: usize): void {
  const total = num * dim;
  let i = 0;
  for (; i + 4 <= total; i += 4) v128.store(dW + (<usize>i << 2), splat(0.0));
  for (; i < total; i++) store<f32>(dW + (<usize>i << 2), 0);
  for (let r = 0; r < n; r++) {
    const v = load<i32>(idx + (<usize>r << 2));
    if (v == paddingIdx) continue;
    const src = at(dy, r, dim);
    const dst = at(dW, v, dim);
    for (let j = 0; j < dim; j += 4) {
      const off = <usize>j << 2;
      const k = dim - j;
      st(dst + off, f32x4.add(ld(dst + off, k), ld(src + off, k)), k);
    }
  }
}

// ---- Elman RNN -------------------------------------------------------------------------------

/**
 * One step: a = g(pre) with g = tanh (relu == 0) or ReLU, pre [N, H] at (g, gs) holding
 * x·W_ihᵀ + b + h_prev·W_hhᵀ, overwritten with a. Live rows: hOut = y = a; padded rows:
 * hOut = hPrev, y = 0.
 */
export function rnnForward(g: usize, gs: i32, hPrev: usize, hps: i32, mask: usize, ms: i32,
  hOut: usize, hos: i32, y: usize, ys: i32, N: i32, H: i32, relu: i32): void {
  for (let n = 0; n < N; n++) {
    const gr = at(g, n, gs);
    const hr = at(hOut, n, hos);
    const yr = at(y, n, ys);
    if (!live(mask, n, ms)) {
      copyRow(at(hPrev, n, hps), hr, H);
      zeroRow(yr, H);
      continue;
    }
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const off = <usize>j << 2;
      const pre = ld(gr + off, k);
      const a = relu != 0 ? f32x4.pmax(pre, splat(0.0)) : vtanh(pre);
      st(gr + off, a, k);
      st(hr + off, a, k);
      st(yr + off, a, k);
    }
  }
}

/**
 * Backward of rnnForward. dh [N, H] (dense) holds the gradient of the state after the step;
 * dy (0: none) the output's. Live rows: dG = (dy + dh)·g'(a), dh = 0 (the caller adds
 * dG·W_hh); padded rows: dG = 0, dh unchanged.
 */
export function rnnBackward(a: usize, ast: i32, dy: usize, dys: i32, mask: usize, ms: i32,
  dh: usize, dG: usize, dgs: i32, N: i32, H: i32, relu: i32): void {
  for (let n = 0; n < N; n++) {
    const dgr = at(dG, n, dgs);
    const dhr = at(dh, n, H);
    if (!live(mask, n, ms)) {
      zeroRow(dgr, H);
      continue;
    }
    const ar = at(a, n, ast);
    const dyr = at(dy, n, dys);
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const off = <usize>j << 2;
      let d = ld(dhr + off, k);
      if (dy != 0) d = f32x4.add(d, ld(dyr + off, k));
      const av = ld(ar + off, k);
      const da = relu != 0
        ? v128.and(d, f32x4.gt(av, splat(0.0)))
        : f32x4.mul(d, f32x4.sub(splat(1.0), f32x4.mul(av, av)));
      st(dgr + off, da, k);
      st(dhr + off, splat(0.0), k);
    }
  }
}

// ---- LSTM ------------------------------------------------------------------------------------

/**
 * One step. g [N, 4H] at (g, gs): pre-activations of the gates in PyTorch's order i, f, g
 * (the candidate C̃), o, overwritten with σ(i), σ(f), tanh(g), σ(o). Live rows:
 * c = f·cPrev + i·C̃, h = o·tanh(c), written to cOut, hOut and y; padded rows carry cPrev and
 * hPrev and write y = 0.
 */
export function lstmForward(g: usize, gs: i32, cPrev: usize, cps: i32, hPrev: usize, hps: i32, mask: usize, ms: i32,
  cOut: usize, cos: i32, hOut: usize, hos: i32, y: usize, ys: i32, N: i32, H: i32): void {
  const gate = <usize>H << 2;
  for (let n = 0; n < N; n++) {
    const gr = at(g, n, gs);
    const cr = at(cOut, n, cos);
    const hr = at(hOut, n, hos);
    const yr = at(y, n, ys);
    const cpr = at(cPrev, n, cps);
    if (!live(mask, n, ms)) {
      copyRow(cpr, cr, H);
      copyRow(at(hPrev, n, hps), hr, H);
      zeroRow(yr, H);
      continue;
    }
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const p = gr + (<usize>j << 2);
      const i = vsigmoid(ld(p, k));
      const f = vsigmoid(ld(p + gate, k));
      const cc = vtanh(ld(p + 2 * gate, k));
      const o = vsigmoid(ld(p + 3 * gate, k));
      st(p, i, k);
      st(p + gate, f, k);
      st(p + 2 * gate, cc, k);
      st(p + 3 * gate, o, k);
      const off = <usize>j << 2;
      const c = madd(f, ld(cpr + off, k), f32x4.mul(i, cc));
      const h = f32x4.mul(o, vtanh(c));
      st(cr + off, c, k);
      st(hr + off, h, k);
      st(yr + off, h, k);
    }
  }
}

/**
 * Backward of lstmForward. a [N, 4H]: the activated gates; cNew: the cell state the step
 * wrote (read on live rows only). dh, dc [N, H] (dense) hold the gradients of the state after
 * the step and become those of the state before it, except for the recurrent term dG·W_hh
 * that the caller adds to dh. dy (0: none) is the output's gradient. Writes dG [N, 4H]
 * (pre-activation gradients; 0 on padded rows).
 */
export function lstmBackward(a: usize, ast: i32, cPrev: usize, cps: i32, cNew: usize, cns: i32, dy: usize, dys: i32,
  mask: usize, ms: i32, dh: usize, dc: usize, dG: usize, dgs: i32, N: i32, H: i32): void {
  const gate = <usize>H << 2;
  const one = splat(1.0);
  for (let n = 0; n < N; n++) {
    const dgr = at(dG, n, dgs);
    if (!live(mask, n, ms)) {
      zeroRow(dgr, 4 * H);
      continue;
    }
    const ar = at(a, n, ast);
    const dhr = at(dh, n, H);
    const dcr = at(dc, n, H);
    const cpr = at(cPrev, n, cps);
    const cnr = at(cNew, n, cns);
    const dyr = at(dy, n, dys);
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const off = <usize>j << 2;
      const p = ar + off;
      const i = ld(p, k);
      const f = ld(p + gate, k);
      const cc = ld(p + 2 * gate, k);
      const o = ld(p + 3 * gate, k);
      let dhv = ld(dhr + off, k);
      if (dy != 0) dhv = f32x4.add(dhv, ld(dyr + off, k));
      const tc = vtanh(ld(cnr + off, k));
      const dov = f32x4.mul(dhv, tc);
      const dcv = madd(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(tc, tc)), ld(dcr + off, k));
      const di = f32x4.mul(dcv, cc);
      const dcc = f32x4.mul(dcv, i);
      const df = f32x4.mul(dcv, ld(cpr + off, k));
      const q = dgr + off;
      st(q, f32x4.mul(di, f32x4.mul(i, f32x4.sub(one, i))), k);
      st(q + gate, f32x4.mul(df, f32x4.mul(f, f32x4.sub(one, f))), k);
      st(q + 2 * gate, f32x4.mul(dcc, f32x4.sub(one, f32x4.mul(cc, cc))), k);
      st(q + 3 * gate, f32x4.mul(dov, f32x4.mul(o, f32x4.sub(one, o))), k);
      st(dcr + off, f32x4.mul(dcv, f), k);
      st(dhr + off, splat(0.0), k);
    }
  }
}

// ---- GRU (PyTorch's formulation) ---------------------------------------------------------------

/**
 * One step. gx [N, 3H]: x·W_ihᵀ + b_ih in the order r, z, n, overwritten with r, z, n;
 * gh [N, 3H]: h_prev·W_hhᵀ + b_hh (kept: the backward needs its n part).
 * r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r·gh_n), h = (1 − z)·n + z·h_prev.
 */
export function gruForward(gx: usize, gxs: i32, gh: usize, ghs: i32, hPrev: usize, hps: i32, mask: usize, ms: i32,
  hOut: usize, hos: i32, y: usize, ys: i32, N: i32, H: i32): void {
  const gate = <usize>H << 2;
  for (let n = 0; n < N; n++) {
    const xr = at(gx, n, gxs);
    const hr = at(hOut, n, hos);
    const yr = at(y, n, ys);
    const hpr = at(hPrev, n, hps);
    if (!live(mask, n, ms)) {
      copyRow(hpr, hr, H);
      zeroRow(yr, H);
      continue;
    }
    const rr = at(gh, n, ghs);
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const off = <usize>j << 2;
      const p = xr + off;
      const q = rr + off;
      const r = vsigmoid(f32x4.add(ld(p, k), ld(q, k)));
      const z = vsigmoid(f32x4.add(ld(p + gate, k), ld(q + gate, k)));
      const nn = vtanh(madd(r, ld(q + 2 * gate, k), ld(p + 2 * gate, k)));
      st(p, r, k);
      st(p + gate, z, k);
      st(p + 2 * gate, nn, k);
      const h = madd(z, f32x4.sub(ld(hpr + off, k), nn), nn);
      st(hr + off, h, k);
      st(yr + off, h, k);
    }
  }
}

/**
 * Backward of gruForward: a [N, 3H] the activated r, z, n; gh as in the forward. dh [N, H]
 * holds the gradient of the state after the step and becomes its direct part before it
 * (dh·z); the caller adds dGh·W_hh. Writes dGx (of gx) and dGh (of gh), 0 on padded rows.
 */
export function gruBackward(a: usize, ast: i32, gh: usize, ghs: i32, hPrev: usize, hps: i32, dy: usize, dys: i32,
  mask: usize, ms: i32, dh: usize, dGx: usize, dgxs: i32, dGh: usize, dghs: i32, N: i32, H: i32): void {
  const gate = <usize>H << 2;
  const one = splat(1.0);
  for (let n = 0; n < N; n++) {
    const dxr = at(dGx, n, dgxs);
    const dhhr = at(dGh, n, dghs);
    if (!live(mask, n, ms)) {
      zeroRow(dxr, 3 * H);
      zeroRow(dhhr, 3 * H);
      continue;
    }
    const ar = at(a, n, ast);
    const ghr = at(gh, n, ghs);
    const hpr = at(hPrev, n, hps);
    const dhr = at(dh, n, H);
    const dyr = at(dy, n, dys);
    for (let j = 0; j < H; j += 4) {
      const k = H - j;
      const off = <usize>j << 2;
      const p = ar + off;
      const r = ld(p, k);
      const z = ld(p + gate, k);
      const nn = ld(p + 2 * gate, k);
      let d = ld(dhr + off, k);
      if (dy != 0) d = f32x4.add(d, ld(dyr + off, k));
      const dz = f32x4.mul(d, f32x4.sub(ld(hpr + off, k), nn));
      const dan = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(nn, nn)));
      const dar = f32x4.mul(f32x4.mul(dan, ld(ghr + off + 2 * gate, k)), f32x4.mul(r, f32x4.sub(one, r)));
      const daz = f32x4.mul(dz, f32x4.mul(z, f32x4.sub(one, z)));
      st(dxr + off, dar, k);
      st(dxr + off + gate, daz, k);
      st(dxr + off + 2 * gate, dan, k);
      st(dhhr + off, dar, k);
      st(dhhr + off + gate, daz, k);
      st(dhhr + off + 2 * gate, f32x4.mul(dan, r), k);
      st(dhr + off, f32x4.mul(d, z), k);
    }
  }
}
