// Helpers for kernel tests: move plain arrays in and out of wasm memory.
import { f32, i32, runtime } from '../../bindings/index';

/** Copies `data` into a fresh wasm block and returns its byte offset. */
export function putF32(data: ArrayLike<number>): number {
  const ptr = runtime().allocator.alloc(data.length * 4);
  f32().set(data, ptr >>> 2);
  return ptr;
}
export function putI32(data: ArrayLike<number>): number {
  const ptr = runtime().allocator.alloc(data.length * 4);
  i32().set(data, ptr >>> 2);
  return ptr;
}
/** A wasm block of n f32s filled with `value` (NaN by default, so unwritten outputs show). */
export function blankF32(n: number, value = Number.NaN): number {
  const ptr = runtime().allocator.alloc(n * 4);
  f32().fill(value, ptr >>> 2, (ptr >>> 2) + n);
  return ptr;
}
export function getF32(ptr: number, n: number): Float32Array {
  return f32().slice(ptr >>> 2, (ptr >>> 2) + n);
}
export function getI32(ptr: number, n: number): Int32Array {
  return i32().slice(ptr >>> 2, (ptr >>> 2) + n);
}
export function free(...ptrs: number[]): void {
  for (const p of ptrs) runtime().allocator.release(p);
}

/** Deterministic pseudo-random floats in [-1, 1) for references (independent of the library RNG). */
export function randomF32(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Max |a-b| / max(1, |b|) over all elements. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

// Guarded outputs: GUARD sentinel floats after an output block, which a kernel must not write.
export const GUARD = 8;
export const GUARD_VALUE = 12345.5;

/** Output block of n NaNs (unwritten outputs show) followed by GUARD sentinels. */
export function blankGuarded(n: number): number {
  const ptr = blankF32(n + GUARD);
  f32().fill(GUARD_VALUE, (ptr >>> 2) + n, (ptr >>> 2) + n + GUARD);
  return ptr;
}
/** `data` followed by GUARD sentinels. */
export function putGuarded(data: ArrayLike<number>): number {
  const buf = new Float32Array(data.length + GUARD).fill(GUARD_VALUE);
  buf.set(data);
  return putF32(buf);
}
/** Fails unless the GUARD sentinels after n elements are untouched. */
export function expectGuards(ptr: number, n: number, what: string): void {
  const tail = Array.from(getF32(ptr, n + GUARD).subarray(n));
  if (tail.some((v) => v !== GUARD_VALUE)) throw new Error(`${what}: elements past the output were written: ${tail.join(', ')}`);
}

/** Logits with spread `amp` (random in [-amp, amp)). */
export function logits(rows: number, cols: number, seed: number, amp = 8): Float32Array {
  return Float32Array.from(randomF32(rows * cols, seed), (v) => v * amp);
}

/** max |got - want| / max(|want|, floor); NaN counts as Infinity. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}
