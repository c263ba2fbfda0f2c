// Hopfield networks (notes §1.4.1): N fully connected ±1 units with symmetric weights and no
// self-connections, one-shot Hebbian storage of M fundamental memories, and asynchronous
// retrieval (one unit at a time, keeping its state on a zero net input) until a stable state.
// The storage is one GEMM (op `hebbian`); a retrieval pass runs in the `hopfieldUpdate` kernel
// for a whole batch of states at once; energies are a GEMM and row dots (`hopfieldEnergy`).
import { Generator, rng } from '../../core/random.js';
import { Tensor, tensor } from '../../core/tensor.js';
import { hebbian, hopfieldEnergy, hopfieldUpdate } from '../../ops/energy.js';

/** States or patterns: a Tensor [N] / [B, N], nested arrays, or flat values with N per state. */
export type StatesLike = Tensor | readonly (readonly number[])[] | readonly number[];

export interface RecallOptions {
  /**
   * The order units are updated in: an array of unit indices (repeated pass after pass; it
   * must name every unit for a pass without change to mean "stable"), or 'random' (default):
   * a fresh permutation each pass from the seeded generator, the notes' "choose a unit at random".
   */
  order?: readonly number[] | 'random';
  generator?: Generator;
  /** Give up after this many passes (default 100). */
  maxSweeps?: number;
  /** Record the energy after every single unit update (slow: one op call per update; for tests and plots). */
  traceEnergy?: boolean;
  /** |net input| at or below this counts as zero (default 1e-5). */
  tolerance?: number;
}

export interface RecallResult {
  /** The final states, shaped like the input. */
  states: Tensor;
  /** Passes run (the last one changed nothing when stable). */
  sweeps: number;
  stable: boolean;
  /** Energies of each state: at the start, then after every update (with traceEnergy), else at the end. */
  energies: number[][];
}

export class Hopfield {
  /** w [N, N], symmetric, zero diagonal. */
  readonly weights: Tensor;

  constructor(weights: Tensor | readonly (readonly number[])[]) {
    this.weights = weights instanceof Tensor ? weights : tensor(weights.map((r) => [...r]));
    const [a, b] = this.weights.shape;
    if (this.weights.ndim !== 2 || a !== b) throw new Error(`Hopfield: weights must be square [N, N], got [${this.weights.shape}]`);
  }

  /** Stores the ±1 fundamental memories with the notes' Hebbian rule w_ji = (1/M) Σ_k f_k(i) f_k(j), w_jj = 0. */
  static store(patterns: StatesLike, units?: number): Hopfield {
    const f = toStates('Hopfield.store', patterns, units);
    const p = f.ndim === 1 ? tensor(f.data(), [1, f.size]) : f;
    const w = hebbian(p);
    if (p !== f) p.dispose();
    if (!(patterns instanceof Tensor)) f.dispose();
    return new Hopfield(w);
  }

  get units(): number {
    return this.weights.shape[0];
  }

  /** E = −½ Σ_i Σ_j w_ij y_i y_j for each state (one number per row). */
  energy(states: StatesLike): number[] {
    const y = toStates('Hopfield.energy', states, this.units);
    const e = hopfieldEnergy(this.weights, y);
    const out = Array.from(e.data());
    e.dispose();
    if (!(states instanceof Tensor)) y.dispose();
    return out;
  }

  /** States after updating the units of `order` in turn (one asynchronous pass). */
  step(states: StatesLike, order: readonly number[], tolerance?: number): Tensor {
    const y = toStates('Hopfield.step', states, this.units);
    const out = hopfieldUpdate(this.weights, y, order, tolerance === undefined ? {} : { tolerance });
    if (!(states instanceof Tensor)) y.dispose();
    return out;
  }

  /**
   * The retrieval phase: asynchronous passes from the given states until a pass changes no
   * unit (a stable state) or maxSweeps. All states of a batch are updated in the same order.
   */
  recall(states: StatesLike, opts: RecallOptions = {}): RecallResult {
    const N = this.units;
    const order = opts.order ?? 'random';
    const gen = opts.generator ?? rng;
    const maxSweeps = opts.maxSweeps ?? 100;
    const tolerance = opts.tolerance === undefined ? {} : { tolerance: opts.tolerance };
    if (order !== 'random') {
      const seen = new Set(order);
      for (let j = 0; j < N; j++) if (!seen.has(j)) throw new Error(`Hopfield.recall: the order never updates unit ${j}, so no pass could show the state is stable`);
    }
    let y = toStates('Hopfield.recall', states, N);
    if (states instanceof Tensor) y = tensor(y.data(), y.shape);
    const energies: number[][] = this.energy(y).map((e) => [e]);
    let sweeps = 0;
    let stable = false;
    while (sweeps < maxSweeps) {
      const pass = order === 'random' ? Array.from(gen.permutation(N)) : order;
      const before = y.data();
      let next: Tensor;
      if (opts.traceEnergy === true) {
        next = y;
        for (const j of pass) {
          const s = hopfieldUpdate(this.weights, next, [j], tolerance);
          if (next !== y) next.dispose();
          next = s;
          this.energy(next).forEach((e, b) => energies[b].push(e));
        }
      } else {
        next = hopfieldUpdate(this.weights, y, pass, tolerance);
      }
      sweeps++;
      const after = next.data();
      if (next !== y) y.dispose();
      y = next;
      let same = true;
      for (let i = 0; i < after.length && same; i++) same = after[i] === before[i];
      if (same) {
        stable = true;
        break;
      }
    }
    if (opts.traceEnergy !== true) this.energy(y).forEach((e, b) => energies[b].push(e));
    return { states: y, sweeps, stable, energies };
  }

  dispose(): void {
    this.weights.dispose();
  }
}

/** A float32 tensor of states from any StatesLike (flat arrays need `units`). */
function toStates(where: string, s: StatesLike, units?: number): Tensor {
  if (s instanceof Tensor) return s;
  if (s.length > 0 && Array.isArray(s[0])) return tensor((s as readonly (readonly number[])[]).map((r) => [...r]));
  const flat = s as readonly number[];
  const n = units ?? flat.length;
  if (n < 1 || flat.length % n !== 0) throw new Error(`${where}: ${flat.length} values are not whole states of ${n} units`);
  return tensor(Array.from(flat), flat.length === n ? [n] : [flat.length / n, n]);
}

/** ±1 from values in [0, 1] (pixel > threshold → 1), the usual binarisation of images for a Hopfield net. */
export function toBipolar(values: ArrayLike<number>, threshold = 0.5): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] > threshold ? 1 : -1;
  return out;
}

/** Flips a fraction of each ±1 state's units, chosen by the seeded generator (distinct units per state). */
export function corrupt(states: Float32Array, units: number, fraction: number, generator: Generator = rng): Float32Array {
  const out = Float32Array.from(states);
  const flips = Math.round(fraction * units);
  for (let b = 0; b < states.length / units; b++) {
    const p = generator.permutation(units);
    for (let k = 0; k < flips; k++) out[b * units + p[k]] *= -1;
  }
  return out;
}

/** Fraction of units on which two ±1 states agree, per state (1: equal, 0: opposite). */
export function overlap(a: ArrayLike<number>, b: ArrayLike<number>, units: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < a.length / units; s++) {
    let same = 0;
    for (let i = 0; i < units; i++) if (a[s * units + i] === b[s * units + i]) same++;
    out.push(same / units);
  }
  return out;
}

export interface CapacityPoint {
  /** Stored patterns. */
  patterns: number;
  /** patterns / units. */
  load: number;
  /** Mean fraction of correct units after recall started at a stored pattern. */
  meanOverlap: number;
  /** Fraction of stored patterns recalled with at most 1% of units wrong. */
  recalled: number;
}

/**
 * The storage-capacity experiment: for each M, store M random ±1 patterns of `units` units,
 * start retrieval at each stored pattern and measure how much of it survives. Recall stays
 * near perfect while M is well below 0.14·N and breaks down around it (notes §1.4.1.4).
 */
export function capacityCurve(units: number, counts: readonly number[], opts: { trials?: number; generator?: Generator; maxSweeps?: number } = {}): CapacityPoint[] {
  const gen = opts.generator ?? rng;
  const trials = opts.trials ?? 1;
  return counts.map((M) => {
    let overlapSum = 0;
    let recalled = 0;
    for (let t = 0; t < trials; t++) {
      const f = new Float32Array(M * units);
      for (let i = 0; i < f.length; i++) f[i] = gen.uniform() < 0.5 ? -1 : 1;
      const net = Hopfield.store(Array.from(f), units);
      const r = net.recall(Array.from(f), { generator: gen, maxSweeps: opts.maxSweeps ?? 30 });
      for (const o of overlap(r.states.data(), f, units)) {
        overlapSum += o;
        if (o >= 0.99) recalled++;
      }
      r.states.dispose();
      net.dispose();
    }
    return { patterns: M, load: M / units, meanOverlap: overlapSum / (M * trials), recalled: recalled / (M * trials) };
  });
}
