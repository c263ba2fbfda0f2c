// collate: a list of examples -> one batch, position by position. Each leaf is written straight
// into the batch tensor's memory (one copy per example, no intermediate JS array), and batch
// tensors are transient: the graph that consumes them frees them at its backward().
//
//   Tensor [...s]                  -> Tensor [N, ...s] (same dtype)
//   typed array of length L        -> Tensor [N, L], its dtype (Float32Array float32, Int32Array
//                                     int32 such as token ids, Int8Array int8, Uint8Array uint8;
//                                     Float64Array float32, other integer arrays int32)
//   number[] of length L           -> Tensor [N, L] float32 (features)
//   number                         -> Tensor [N]: int32 when every number of the batch is an
//                                     integer (class labels), else float32 (targets)
//   tuple / array of other things  -> the same tuple of collated positions ([x, y] pairs)
//   object                         -> the same object of collated fields ({ tokens, label })
//   string, boolean, null, ...     -> the array of the values (ids, flags)
//
// Examples must agree in structure and shapes (sequences of one length: pad them, or pass your
// own collate, e.g. for graphs of different sizes).
import { markTransient } from '../core/autograd.js';
import { Tensor, empty, fmt, type DType } from '../core/tensor.js';
import { copyInto, writeElements } from '../ops/inplace.js';

type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array;

/** The batch the default collate makes from examples of type T. */
export type Collated<T> =
  T extends Tensor ? Tensor
  : T extends number ? Tensor
  : T extends TypedArray ? Tensor
  : T extends readonly number[] ? Tensor
  : T extends readonly unknown[] ? { -readonly [K in keyof T]: Collated<T[K]> }
  : T extends string | boolean | bigint | symbol | null | undefined ? T[]
  : T extends object ? { -readonly [K in keyof T]: Collated<T[K]> }
  : never;

/** A collate function: examples -> batch. */
export type CollateFn<T, B> = (examples: T[]) => B;

function typedDtype(a: ArrayBufferView): DType {
  if (a instanceof Float32Array || a instanceof Float64Array) return 'float32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  return 'int32';
}

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function kind(v: unknown): string {
  if (v instanceof Tensor) return 'tensor';
  if (isTyped(v)) return 'typed';
  if (typeof v === 'number') return 'number';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'number') ? 'numbers' : 'tuple';
  if (v !== null && typeof v === 'object') return 'object';
  return 'value';
}

function label(path: string): string {
  return path === '' ? 'the examples' : `'${path}'`;
}

function collateAt(values: unknown[], path: string, made: Tensor[]): unknown {
  const n = values.length;
  const k = kind(values[0]);
  for (let i = 1; i < n; i++) {
    const ki = kind(values[i]);
    const compatible = ki === k || (k === 'numbers' && ki === 'tuple' && (values[i] as unknown[]).length === 0);
    if (!compatible) throw new Error(`collate: ${label(path)} differ in kind: example 0 has a ${k}, example ${i} a ${ki}`);
  }
  const track = (t: Tensor): Tensor => {
    made.push(t);
    return markTransient(t);
  };
  switch (k) {
    case 'tensor': {
      const first = values[0] as Tensor;
      const out = track(empty([n, ...first.shape], first.dtype));
      values.forEach((v, i) => {
        const t = v as Tensor;
        if (t.dtype !== first.dtype || t.shape.join() !== first.shape.join()) {
          throw new Error(`collate: ${label(path)}: example ${i} is ${t.dtype} ${fmt(t.shape)}, example 0 ${first.dtype} ${fmt(first.shape)}`);
        }
        copyInto(out, i * first.size, t);
      });
      return out;
    }
    case 'typed':
    case 'numbers': {
      const first = values[0] as ArrayLike<number>;
      const len = first.length;
      const dtype = k === 'typed' ? typedDtype(first as TypedArray) : 'float32';
      const out = track(empty([n, len], dtype));
      values.forEach((v, i) => {
        const a = v as ArrayLike<number>;
        if (a.length !== len) {
          throw new Error(`collate: ${label(path)} have different lengths: example 0 has ${len}, example ${i} ${a.length} (pad them to one length or pass a collate function)`);
        }
        if (k === 'typed' && a.constructor !== first.constructor) {
          throw new Error(`collate: ${label(path)}: example 0 is a ${first.constructor.name}, example ${i} a ${a.constructor.name}`);
        }
        writeElements(out, i * len, a);
      });
      return out;
    }
    case 'number': {
      const nums = values as number[];
      const dtype: DType = nums.every(Number.isInteger) ? 'int32' : 'float32';
      const out = track(empty([n], dtype));
      writeElements(out, 0, nums);
      return out;
    }
    case 'tuple': {
      const len = (values[0] as unknown[]).length;
      values.forEach((v, i) => {
        if ((v as unknown[]).length !== len) throw new Error(`collate: ${label(path)} are tuples of different lengths: ${len} in example 0, ${(v as unknown[]).length} in example ${i}`);
      });
      return Array.from({ length: len }, (_, j) => collateAt(values.map((v) => (v as unknown[])[j]), path === '' ? String(j) : `${path}.${j}`, made));
    }
    case 'object': {
      const keys = Object.keys(values[0] as object);
      const out: Record<string, unknown> = {};
      values.forEach((v, i) => {
        const ks = Object.keys(v as object);
        if (ks.length !== keys.length || !keys.every((key) => Object.prototype.hasOwnProperty.call(v, key))) {
          throw new Error(`collate: ${label(path)} have different fields: {${keys.join(', ')}} in example 0, {${ks.join(', ')}} in example ${i}`);
        }
      });
      for (const key of keys) out[key] = collateAt(values.map((v) => (v as Record<string, unknown>)[key]), path === '' ? key : `${path}.${key}`, made);
      return out;
    }
    default:
      return values.slice();
  }
}

/**
 * The default collate: stacks a list of examples into a batch of the same structure (see the
 * table at the top of this file): tensors, typed arrays and number arrays gain a leading batch
 * axis, numbers become a [N] tensor, tuples and objects are collated position by position.
 */
export function collate<T>(examples: readonly T[]): Collated<T> {
  if (!Array.isArray(examples) || examples.length === 0) throw new Error('collate: expected a non-empty array of examples');
  const made: Tensor[] = [];
  try {
    return collateAt(examples as unknown[], '', made) as Collated<T>;
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}
