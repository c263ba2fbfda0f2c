// Optimizer updates: one fused pass over (w, g, state) per parameter tensor, f32x4 with a
// scalar tail, in place on w and the state buffers; g is only read. Formulas and argument
// order are those of bindings/kernels.ts (SGD with momentum follows notes §1.3.5.3).
//
// Weight decay is applied without branching in the loop: a zero coefficient leaves the
// value bit-identical (g + 0*w == g, w * (1 - 0) == w for finite w).

// a * b + c; fused (single rounding) in the relaxed build when the engine chooses to.
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * g' = g + wd*w; dw = -lr*g' + momentum*dw_prev; w += dw; velocity = dw.
 * With momentum == 0 the old velocity is not read (it may hold garbage) but dw is still
 * stored; velocity == 0 (a null pointer) means no velocity buffer at all (momentum ignored).
 */
export function sgdStep(w: usize, g: usize, velocity: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const nlr = -lr;
  const vnlr = f32x4.splat(nlr);
  const vwd = f32x4.splat(weightDecay);
  const vmu = f32x4.splat(momentum);
  const n4 = n & ~3;
  let i = 0;
  if (velocity == 0) {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      const wv = v128.load(w + o);
      const gp = madd(vwd, wv, v128.load(g + o));
      v128.store(w + o, madd(vnlr, gp, wv));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const wv = load<f32>(w + o);
      const gp = weightDecay * wv + load<f32>(g + o);
      store<f32>(w + o, nlr * gp + wv);
    }
  } else if (momentum == 0) {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      const wv = v128.load(w + o);
      const gp = madd(vwd, wv, v128.load(g + o));
      const dw = f32x4.mul(vnlr, gp);
      v128.store(velocity + o, dw);
      v128.store(w + o, f32x4.add(wv, dw));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const wv = load<f32>(w + o);
      const gp = weightDecay * wv + load<f32>(g + o);
      const dw = nlr * gp;
      store<f32>(velocity + o, dw);
      store<f32>(w + o, wv + dw);
    }
  } else {
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      const wv = v128.load(w + o);
      const gp = madd(vwd, wv, v128.load(g + o));
      const dw = madd(vnlr, gp, f32x4.mul(vmu, v128.load(velocity + o)));
      v128.store(velocity + o, dw);
      v128.store(w + o, f32x4.add(wv, dw));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const wv = load<f32>(w + o);
      const gp = weightDecay * wv + load<f32>(g + o);
      const dw = nlr * gp + momentum * load<f32>(velocity + o);
      store<f32>(velocity + o, dw);
      store<f32>(w + o, wv + dw);
    }
  }
}

/** g' = g + wd*w; h += g'^2; w -= lr * g' / (sqrt(h) + eps) */
export function adagradStep(w: usize, g: usize, h: usize, n: i32, lr: f32, eps: f32, weightDecay: f32): void {
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(weightDecay);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const gp = madd(vwd, wv, v128.load(g + o));
    const hv = madd(gp, gp, v128.load(h + o));
    v128.store(h + o, hv);
    const upd = f32x4.div(f32x4.mul(vlr, gp), f32x4.add(f32x4.sqrt(hv), veps));
    v128.store(w + o, f32x4.sub(wv, upd));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const gp = weightDecay * wv + load<f32>(g + o);
    const hv = gp * gp + load<f32>(h + o);
    store<f32>(h + o, hv);
    store<f32>(w + o, wv - (lr * gp) / (Mathf.sqrt(hv) + eps));
  }
}

/** g' = g + wd*w; s = rho*s + (1-rho)*g'^2; w -= lr * g' / (sqrt(s) + eps) */
export function rmspropStep(w: usize, g: usize, s: usize, n: i32, lr: f32, rho: f32, eps: f32, weightDecay: f32): void {
  const omr: f32 = 1 - rho;
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(weightDecay);
  const vrho = f32x4.splat(rho);
  const vomr = f32x4.splat(omr);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const gp = madd(vwd, wv, v128.load(g + o));
    const sv = madd(vrho, v128.load(s + o), f32x4.mul(vomr, f32x4.mul(gp, gp)));
    v128.store(s + o, sv);
    const upd = f32x4.div(f32x4.mul(vlr, gp), f32x4.add(f32x4.sqrt(sv), veps));
    v128.store(w + o, f32x4.sub(wv, upd));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const gp = weightDecay * wv + load<f32>(g + o);
    const sv = rho * load<f32>(s + o) + omr * (gp * gp);
    store<f32>(s + o, sv);
    store<f32>(w + o, wv - (lr * gp) / (Mathf.sqrt(sv) + eps));
  }
}

/**
 * Adam with bias correction (bc1 = 1 - b1^t, bc2 = 1 - b2^t from the caller):
 * g' = g + wd*w, or with decoupled != 0 (AdamW) g' = g and w -= lr*wd*w;
 * m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; w -= lr * (m/bc1) / (sqrt(v/bc2) + eps).
 */
export function adamStep(
  w: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
  eps: f32, weightDecay: f32, decoupled: i32, bc1: f32, bc2: f32,
): void {
  // Exactly one of the two decay coefficients is non-zero (or both zero).
  const coupledWd: f32 = decoupled != 0 ? 0 : weightDecay;
  const keep: f32 = decoupled != 0 ? 1 - lr * weightDecay : 1;
  const stepSize: f32 = lr / bc1;
  const invBc2: f32 = 1 / bc2;
  const omb1: f32 = 1 - beta1;
  const omb2: f32 = 1 - beta2;
  const vcwd = f32x4.splat(coupledWd);
  const vkeep = f32x4.splat(keep);
  const vstep = f32x4.splat(stepSize);
  const vib2 = f32x4.splat(invBc2);
  const vb1 = f32x4.splat(beta1);
  const vb2 = f32x4.splat(beta2);
  const vomb1 = f32x4.splat(omb1);
  const vomb2 = f32x4.splat(omb2);
  const veps = f32x4.splat(eps);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const gp = madd(vcwd, wv, v128.load(g + o));
    const mv = madd(vb1, v128.load(m + o), f32x4.mul(vomb1, gp));
    const vv = madd(vb2, v128.load(v + o), f32x4.mul(vomb2, f32x4.mul(gp, gp)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vv, vib2)), veps);
    const upd = f32x4.div(f32x4.mul(vstep, mv), denom);
    v128.store(w + o, f32x4.sub(f32x4.mul(wv, vkeep), upd));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const gp = coupledWd * wv + load<f32>(g + o);
    const mv = beta1 * load<f32>(m + o) + omb1 * gp;
    const vv = beta2 * load<f32>(v + o) + omb2 * (gp * gp);
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    const denom = Mathf.sqrt(vv * invBc2) + eps;
    store<f32>(w + o, wv * keep - (stepSize * mv) / denom);
  }
}
