// Kernels of the classic energy-based models (src/ops/energy.ts): stochastic binary units,
// Hebbian storage, Hopfield energies and asynchronous Hopfield sweeps.
//
// Random numbers never come from here: the caller draws uniforms from the one seeded JS
// generator and passes them in, so a run is reproducible from its seed in every runtime and
// the sampling stays a plain SIMD compare.
//
// Contract: bindings/kernels.ts (energy.ts section).

import { dotContig, loadPartial, splat, storePartial } from './vmath';

/** out[i] = u[i] < p[i] ? 1 : 0: a Bernoulli(p) draw per element from the uniforms u in [0, 1). */
export function bernoulliSample(p: usize, u: usize, out: usize, n: i32): void {
  const one = splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, v128.and(f32x4.lt(v128.load(u + off), v128.load(p + off)), one));
  }
  if (i < n) {
    const off = <usize>i << 2;
    const r = n - i;
    storePartial(out + off, v128.and(f32x4.lt(loadPartial(u + off, r), loadPartial(p + off, r)), one), r);
  }
}

/** out[i] = p[i] >= t ? 1 : 0: the deterministic "sampling" of worked examples (t = 0.5). */
export function thresholdSample(p: usize, t: f32, out: usize, n: i32): void {
  const one = splat(1.0);
  const vt = splat(t);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, v128.and(f32x4.ge(v128.load(p + off), vt), one));
  }
  if (i < n) {
    const off = <usize>i << 2;
    const r = n - i;
    storePartial(out + off, v128.and(f32x4.ge(loadPartial(p + off, r), vt), one), r);
  }
}

/** w [n, n] *= scale, then w[i, i] = 0 (Hebbian storage: the 1/M average, no self-connections). */
export function scaleZeroDiagonal(w: usize, n: i32, scale: f32): void {
  const total = n * n;
  const vs = splat(scale);
  let i = 0;
  for (; i + 4 <= total; i += 4) {
    const q = w + (<usize>i << 2);
    v128.store(q, f32x4.mul(v128.load(q), vs));
  }
  for (; i < total; i++) {
    const q = w + (<usize>i << 2);
    store<f32>(q, load<f32>(q) * scale);
  }
  for (let d = 0; d < n; d++) store<f32>(w + ((<usize>d * <usize>(n + 1)) << 2), 0);
}

/** out[r] = scale * sum_c a[r, c] * b[r, c] for a, b [rows, cols]. */
export function rowDot(a: usize, b: usize, out: usize, rows: i32, cols: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const off = (<usize>r * <usize>cols) << 2;
    store<f32>(out + (<usize>r << 2), scale * dotContig(a + off, b + off, cols));
  }
}

/**
 * One asynchronous Hopfield pass over each of `batch` states y [batch, n] (values ±1): for
 * each unit j = order[t], t < len, in turn, v = sum_i w[j, i] y[i] with the current y, and
 * y[j] = 1 if v > tol, -1 if v < -tol, unchanged otherwise. w must be symmetric (row j is
 * then unit j's incoming weights). Returns how many unit updates changed a state.
 */
export function hopfieldSweep(w: usize, n: i32, y: usize, batch: i32, order: usize, len: i32, tol: f32): i32 {
  let changes = 0;
  for (let b = 0; b < batch; b++) {
    const state = y + ((<usize>b * <usize>n) << 2);
    for (let t = 0; t < len; t++) {
      const j = load<i32>(order + (<usize>t << 2));
      const v = dotContig(w + ((<usize>j * <usize>n) << 2), state, n);
      const q = state + (<usize>j << 2);
      const old = load<f32>(q);
      let next = old;
      if (v > tol) next = 1;
      else if (v < -tol) next = -1;
      if (next != old) {
        store<f32>(q, next);
        changes++;
      }
    }
  }
  return changes;
}
