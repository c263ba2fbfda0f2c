// Learning-rate schedules, notes §1.3.5.3 ("Learning rate scheduling"): η as a function of
// the step or epoch τ (τ = 0 is the first one), used by fit() or by hand:
//   optimizer.lr = schedule.lr(tau)
// Linear, power law and exponential decay are exactly the notes' formulas; step decay and
// cosine annealing are the two other common ones.

/** A learning-rate schedule: η(τ) for τ = 0, 1, 2, ... (steps or epochs). */
export interface LRSchedule {
  lr(tau: number): number;
}

function finiteNonNeg(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}
function finitePos(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${where}: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}
function checkTau(where: string, tau: number): void {
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau < 0) throw new Error(`${where}.lr: tau must be a finite number >= 0, got ${String(tau)}`);
}

/**
 * Linear: η(τ) = (1 − τ/K)·η0 + (τ/K)·ηK for τ ≤ K, then fixed at ηK.
 */
export class LinearLR implements LRSchedule {
  readonly lr0: number;
  readonly lrK: number;
  readonly K: number;
  constructor(opts: { lr0: number; lrK: number; K: number }) {
    this.lr0 = finiteNonNeg('LinearLR', 'lr0', opts?.lr0);
    this.lrK = finiteNonNeg('LinearLR', 'lrK', opts.lrK);
    this.K = finitePos('LinearLR', 'K', opts.K);
  }
  lr(tau: number): number {
    checkTau('LinearLR', tau);
    if (tau >= this.K) return this.lrK;
    const a = tau / this.K;
    return (1 - a) * this.lr0 + a * this.lrK;
  }
}

/**
 * Power law: η(τ) = η0·(1 + τ/s)^c. The scale s sets how fast it decreases, c < 0 the shape
 * (usually −0.5, the default).
 */
export class PowerLR implements LRSchedule {
  readonly lr0: number;
  readonly s: number;
  readonly c: number;
  constructor(opts: { lr0: number; s: number; c?: number }) {
    this.lr0 = finiteNonNeg('PowerLR', 'lr0', opts?.lr0);
    this.s = finitePos('PowerLR', 's', opts.s);
    const c = opts.c ?? -0.5;
    if (typeof c !== 'number' || !Number.isFinite(c)) throw new Error(`PowerLR: c must be a finite number, got ${String(c)}`);
    this.c = c;
  }
  lr(tau: number): number {
    checkTau('PowerLR', tau);
    return this.lr0 * Math.pow(1 + tau / this.s, this.c);
  }
}

/**
 * Exponential decay: η(τ) = η0·c^(τ/s), decay factor c < 1 (usually in [0.95, 1)), scale s.
 * (PyTorch's ExponentialLR is the special case s = 1.)
 */
export class ExponentialLR implements LRSchedule {
  readonly lr0: number;
  readonly c: number;
  readonly s: number;
  constructor(opts: { lr0: number; c: number; s?: number }) {
    this.lr0 = finiteNonNeg('ExponentialLR', 'lr0', opts?.lr0);
    this.c = finitePos('ExponentialLR', 'c', opts.c);
    this.s = finitePos('ExponentialLR', 's', opts.s ?? 1);
  }
  lr(tau: number): number {
    checkTau('ExponentialLR', tau);
    return this.lr0 * Math.pow(this.c, tau / this.s);
  }
}

/** Step decay: η(τ) = η0·γ^⌊τ/stepSize⌋ (γ = 0.1 by default). */
export class StepLR implements LRSchedule {
  readonly lr0: number;
  readonly stepSize: number;
  readonly gamma: number;
  constructor(opts: { lr0: number; stepSize: number; gamma?: number }) {
    this.lr0 = finiteNonNeg('StepLR', 'lr0', opts?.lr0);
    this.stepSize = finitePos('StepLR', 'stepSize', opts.stepSize);
    this.gamma = finiteNonNeg('StepLR', 'gamma', opts.gamma ?? 0.1);
  }
  lr(tau: number): number {
    checkTau('StepLR', tau);
    return this.lr0 * Math.pow(this.gamma, Math.floor(tau / this.stepSize));
  }
}

/**
 * Cosine annealing: η(τ) = ηmin + ½(η0 − ηmin)(1 + cos(π·τ/T)) for τ ≤ T, then ηmin.
 */
export class CosineAnnealingLR implements LRSchedule {
  readonly lr0: number;
  readonly lrMin: number;
  readonly T: number;
  constructor(opts: { lr0: number; T: number; lrMin?: number }) {
    this.lr0 = finiteNonNeg('CosineAnnealingLR', 'lr0', opts?.lr0);
    this.T = finitePos('CosineAnnealingLR', 'T', opts.T);
    this.lrMin = finiteNonNeg('CosineAnnealingLR', 'lrMin', opts.lrMin ?? 0);
  }
  lr(tau: number): number {
    checkTau('CosineAnnealingLR', tau);
    if (tau >= this.T) return this.lrMin;
    return this.lrMin + 0.5 * (this.lr0 - this.lrMin) * (1 + Math.cos((Math.PI * tau) / this.T));
  }
}

/** A schedule object or a plain function τ → η. */
export type ScheduleLike = LRSchedule | ((tau: number) => number);

/** @internal */
export function scheduleFn(where: string, s: ScheduleLike): (tau: number) => number {
  if (typeof s === 'function') return s;
  if (s !== null && typeof s === 'object' && typeof s.lr === 'function') return (tau) => s.lr(tau);
  throw new Error(`${where}: schedule must be a function tau => lr or an object with lr(tau), got ${s === null ? 'null' : typeof s}`);
}
