// Plain-JS references of the optimizer updates, in the operation order of the kernel contract
// (assembly/optim.ts). `f` rounds every intermediate: Math.fround (default) emulates float32
// arithmetic step by step, `exact` keeps float64. Used by the kernel tests and the optimizer tests.

/** An array the references update in place (Float32Array or number[]). */
export type Vec = { [i: number]: number; readonly length: number };
export type Round = (x: number) => number;

export const exact: Round = (x) => x;

/** SGD with momentum, notes §1.3.5.3: g' = g + wd·w; dw = −lr·g' + μ·dw_prev (μ = 0: no history); w += dw; vel = dw. */
export function refSgd(w: Vec, g: ArrayLike<number>, vel: Vec, lr: number, mu: number, wd: number, f: Round = Math.fround): void {
  const nlr = f(-f(lr)), m = f(mu), d = f(wd);
  for (let i = 0; i < w.length; i++) {
    const gp = f(f(d * w[i]) + g[i]);
    const dw = m === 0 ? f(nlr * gp) : f(f(nlr * gp) + f(m * vel[i]));
    vel[i] = dw;
    w[i] = f(w[i] + dw);
  }
}

/** AdaGrad: g' = g + wd·w; h += g'²; w −= lr·g'/(√h + eps). */
export function refAdagrad(w: Vec, g: ArrayLike<number>, h: Vec, lr: number, eps: number, wd: number, f: Round = Math.fround): void {
  const l = f(lr), e = f(eps), d = f(wd);
  for (let i = 0; i < w.length; i++) {
    const gp = f(f(d * w[i]) + g[i]);
    h[i] = f(f(gp * gp) + h[i]);
    w[i] = f(w[i] - f(f(l * gp) / f(f(Math.sqrt(h[i])) + e)));
  }
}

/** RMSProp: g' = g + wd·w; s = ρs + (1−ρ)g'²; w −= lr·g'/(√s + eps). */
export function refRmsprop(w: Vec, g: ArrayLike<number>, s: Vec, lr: number, rho: number, eps: number, wd: number, f: Round = Math.fround): void {
  const l = f(lr), r = f(rho), e = f(eps), d = f(wd), omr = f(1 - r);
  for (let i = 0; i < w.length; i++) {
    const gp = f(f(d * w[i]) + g[i]);
    s[i] = f(f(r * s[i]) + f(omr * f(gp * gp)));
    w[i] = f(w[i] - f(f(l * gp) / f(f(Math.sqrt(s[i])) + e)));
  }
}

/**
 * Adam with bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t; coupled L2 (g' = g + wd·w) or
 * decoupled (AdamW: w ← w·(1 − lr·wd)).
 */
export function refAdam(
  w: Vec, g: ArrayLike<number>, m: Vec, v: Vec, lr: number, b1: number, b2: number,
  eps: number, wd: number, decoupled: boolean, bc1: number, bc2: number, f: Round = Math.fround,
): void {
  const l = f(lr), B1 = f(b1), B2 = f(b2), e = f(eps), d = f(wd);
  const cwd = decoupled ? 0 : d;
  const keep = decoupled ? f(1 - f(l * d)) : 1;
  const stepSize = f(l / f(bc1));
  const ib2 = f(1 / f(bc2));
  const omb1 = f(1 - B1), omb2 = f(1 - B2);
  for (let i = 0; i < w.length; i++) {
    const gp = f(f(cwd * w[i]) + g[i]);
    m[i] = f(f(B1 * m[i]) + f(omb1 * gp));
    v[i] = f(f(B2 * v[i]) + f(omb2 * f(gp * gp)));
    const denom = f(f(Math.sqrt(f(v[i] * ib2))) + e);
    w[i] = f(f(w[i] * keep) - f(f(stepSize * m[i]) / denom));
  }
}
