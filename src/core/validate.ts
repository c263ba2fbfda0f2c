// Argument checks shared by every part of simdgrad. Each throws an Error whose message starts
// with the name of the op, layer or function (`where`) and shows the offending value or shapes,
// so a user sees what was wrong where they called it, never a NaN or a trap inside a kernel.
import { Tensor, fmt, type Shape } from './tensor.js';

export type TensorLike = Tensor | number;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Tensor) return `a ${v.dtype} tensor ${fmt(v.shape)}`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function assertTensor(where: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${where}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
}

export function assertFloat(where: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    assertTensor(where, x);
    if (x.dtype !== 'float32') throw new Error(`${where}: expected float32 tensors, got ${x.dtype} ${fmt(x.shape)}`);
  }
}

/** Normalises a possibly negative axis against ndim. */
export function normAxis(where: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    // String(): a template literal throws its own TypeError on a Symbol.
    throw new Error(`${where}: axis ${String(axis)} is out of range for a tensor with ${ndim} dimension${ndim === 1 ? '' : 's'}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function assertFiniteNumber(where: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: ${name} must be a finite number, got ${describe(v)}`);
}

/**
 * A number in [lo, hi] (open at lo with loOpen, at hi with hiOpen); returns it.
 * The message shows the interval as the check understood it.
 */
export function numberIn(where: string, name: string, v: unknown, lo: number, hi: number, opts: { loOpen?: boolean; hiOpen?: boolean } = {}): number {
  const ok = typeof v === 'number' && !Number.isNaN(v) && (opts.loOpen ? v > lo : v >= lo) && (opts.hiOpen ? v < hi : v <= hi) && (Number.isFinite(v) || v === hi && !opts.hiOpen);
  if (!ok) throw new Error(`${where}: ${name} must be a number in ${opts.loOpen ? '(' : '['}${lo}, ${hi}${opts.hiOpen ? ')' : ']'}, got ${describe(v)}`);
  return v as number;
}

/** An integer >= 1; returns it. */
export function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${name} must be a positive integer, got ${describe(v)}`);
  return v;
}

/** An integer >= 0; returns it. */
export function nonNegativeInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${where}: ${name} must be an integer >= 0, got ${describe(v)}`);
  return v;
}

export function assertBoolean(where: string, name: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new Error(`${where}: ${name} must be true or false, got ${describe(v)}`);
}

/**
 * An options object: undefined (→ {}) or a plain object whose keys are all in `allowed`
 * (catches `weight_decay`-style typos). Returns it.
 */
export function checkOptions<T extends object>(where: string, opts: T | undefined, allowed: readonly string[]): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`${where}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new Error(`${where}: unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
  return opts;
}

/** One of the listed string values; returns it. */
export function oneOf<T extends string>(where: string, name: string, v: unknown, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new Error(`${where}: ${name} must be ${values.map((x) => `'${x}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}
