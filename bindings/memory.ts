// The memory API: the only code that knows how many bytes an element of each dtype takes, how
// typed-array views index the wasm memory, and where temporary scratch comes from. src/ reads,
// writes and offsets tensor data through these functions only (no `>>> 2`, no `* 4` there),
// so a new dtype (float16, packed int4) is a change here, not in every op.
import { runtime } from './index.js';

/** Element types a tensor can hold. */
export type DType = 'float32' | 'int32' | 'int8' | 'uint8';

export const DTYPES: readonly DType[] = ['float32', 'int32', 'int8', 'uint8'];

export type TypedData = Float32Array | Int32Array | Int8Array | Uint8Array;

type ViewCtor = Float32ArrayConstructor | Int32ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor;

const INFO: Record<DType, { bytes: number; shift: number; ctor: ViewCtor; integer: boolean; min: number; max: number }> = {
  float32: { bytes: 4, shift: 2, ctor: Float32Array, integer: false, min: -Infinity, max: Infinity },
  int32: { bytes: 4, shift: 2, ctor: Int32Array, integer: true, min: -(2 ** 31), max: 2 ** 31 - 1 },
  int8: { bytes: 1, shift: 0, ctor: Int8Array, integer: true, min: -128, max: 127 },
  uint8: { bytes: 1, shift: 0, ctor: Uint8Array, integer: true, min: 0, max: 255 },
};

const MAX_BYTES = 2 ** 32;

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(INFO, v);
}

/** Bytes one element of `dtype` takes. */
export function bytesPerElement(dtype: DType): number {
  return INFO[dtype].bytes;
}

/** Whether `dtype` holds integers only, and their range. */
export function integerRange(dtype: DType): { integer: boolean; min: number; max: number } {
  const i = INFO[dtype];
  return { integer: i.integer, min: i.min, max: i.max };
}

/** Bytes of `n` elements of `dtype`; throws (naming `op`) when that exceeds the 32-bit address space. */
export function byteLength(op: string, dtype: DType, n: number): number {
  const bytes = n * INFO[dtype].bytes;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes >= MAX_BYTES) {
    throw new Error(`${op}: ${n} ${dtype} elements (${bytes} bytes) exceed the 4 GiB wasm32 address space`);
  }
  return bytes;
}

/** The byte offset `elements` elements of `dtype` after `ptr` (kernels take byte offsets). */
export function advance(ptr: number, dtype: DType, elements: number): number {
  return ptr + elements * INFO[dtype].bytes;
}

// Typed-array views over memory.buffer, re-derived whenever the buffer object changed: growth
// detaches them (non-shared memory) or leaves them covering only the old pages (shared memory).
// Views index by byteOffset >>> shift, which stays correct for pointers >= 2 GiB.
let viewBuffer: ArrayBufferLike | null = null;
const views = new Map<DType, TypedData>();

function whole(dtype: DType): TypedData {
  const buf = runtime().memory.buffer;
  if (buf !== viewBuffer) {
    viewBuffer = buf;
    views.clear();
  }
  let v = views.get(dtype);
  if (v === undefined) {
    v = new INFO[dtype].ctor(buf as ArrayBuffer);
    views.set(dtype, v);
  }
  return v;
}

function index(dtype: DType, ptr: number): number {
  return ptr >>> INFO[dtype].shift;
}

/** A view of `n` elements at `ptr`. Valid until the next allocation: do not keep it. */
export function view(dtype: DType, ptr: number, n: number): TypedData {
  const i = index(dtype, ptr);
  return whole(dtype).subarray(i, i + n);
}

/** A copy of `n` elements at `ptr`. */
export function read(dtype: DType, ptr: number, n: number): TypedData {
  const i = index(dtype, ptr);
  return whole(dtype).slice(i, i + n);
}

/** Writes `values` at `ptr` (converted to `dtype` as typed arrays convert). */
export function write(dtype: DType, ptr: number, values: ArrayLike<number>): void {
  whole(dtype).set(values, index(dtype, ptr));
}

/** Element i of the array at `ptr`. */
export function readAt(dtype: DType, ptr: number, i: number): number {
  return whole(dtype)[index(dtype, ptr) + i];
}

/** Sets element i of the array at `ptr`. */
export function writeAt(dtype: DType, ptr: number, i: number, value: number): void {
  whole(dtype)[index(dtype, ptr) + i] = value;
}

/** Sets `n` elements at `ptr` to `value` (any dtype; float32 callers may prefer the fill kernel). */
export function fillElements(dtype: DType, ptr: number, n: number, value: number): void {
  const i = index(dtype, ptr);
  whole(dtype).fill(value, i, i + n);
}

/** Copies `n` elements from `src` to `dst` (overlap allowed). */
export function copyElements(dtype: DType, src: number, dst: number, n: number): void {
  const s = index(dtype, src);
  whole(dtype).copyWithin(index(dtype, dst), s, s + n);
}

/**
 * Runs fn with scratch blocks of the given element counts (of `dtype`), freed afterwards.
 * Scratch is the library's own: it never appears as a tensor and is gone when fn returns.
 */
export function withScratch<T>(dtype: DType, counts: readonly number[], fn: (ptrs: number[]) => T): T {
  const alloc = runtime().allocator;
  const ptrs: number[] = [];
  try {
    for (const n of counts) ptrs.push(alloc.alloc(byteLength('scratch', dtype, n)));
    return fn(ptrs);
  } finally {
    for (const p of ptrs) alloc.release(p);
  }
}

/** Runs fn with small int32 arrays (shapes, strides, indices) copied into scratch. */
export function withInt32Arrays<T>(arrays: readonly (readonly number[])[], fn: (ptrs: number[]) => T): T {
  return withScratch('int32', arrays.map((a) => a.length), (ptrs) => {
    arrays.forEach((a, i) => write('int32', ptrs[i], a));
    return fn(ptrs);
  });
}
