import { view } from '../../bindings/memory.js';
import { Tensor, checkShape, createOptions, empty, type CreateOptions, type Shape } from './tensor.js';

// The one seeded random number generator behind every random draw in simdgrad:
// initialisation, shuffling, dropout and sampling. Same seed, same numbers, in every runtime.
//
// xoshiro128** (32-bit state words, so it is exact in JS integer arithmetic) seeded through
// splitmix32, so that nearby seeds give unrelated streams.

export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new Error(`manualSeed: seed must be a finite number, got ${seed}`);
    let x = Math.floor(seed) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The global generator. */
export const rng = new Generator(0);

/** Re-seeds the global generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  rng.seed(seed);
}

// ---- random tensors, all drawn from the one generator above ----

function filled(op: string, shape: Shape, options: CreateOptions | undefined, draw: () => number): Tensor {
  checkShape(op, shape);
  const opts = createOptions(op, options, true);
  const t = empty(shape);
  const values = new Float32Array(t.size);
  for (let i = 0; i < t.size; i++) values[i] = draw();
  t.setData(values);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform values in [low, high). */
export function rand(shape: Shape, low = 0, high = 1, opts?: CreateOptions): Tensor {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high)) throw new Error(`rand: need finite low <= high, got ${low}, ${high}`);
  return filled('rand', shape, opts, () => low + (high - low) * rng.uniform());
}

/** Normal values with the given mean and standard deviation. */
export function randn(shape: Shape, mean = 0, std = 1, opts?: CreateOptions): Tensor {
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) throw new Error(`randn: need finite mean and std >= 0, got ${mean}, ${std}`);
  return filled('randn', shape, opts, () => mean + std * rng.normal());
}

/** Uniform integers in [low, high) as int32. */
export function randint(shape: Shape, low: number, high: number): Tensor {
  checkShape('randint', shape);
  if (!(Number.isInteger(low) && Number.isInteger(high) && low < high)) throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
  const t = empty(shape, 'int32');
  const values = view('int32', t.ptr, t.size);
  for (let i = 0; i < t.size; i++) values[i] = low + rng.int(high - low);
  return t;
}
