// Mini-batches from in-memory arrays: a tensor-backed Dataset over them, batched by the
// DataLoader (the one batcher). Batch tensors are owned by the graph that consumes them
// (released by the next backward()), so a training loop needs no dispose().
import { Tensor } from '../core/tensor.js';
import { positiveInt } from '../core/validate.js';
import type { Generator as Rng } from '../core/random.js';
import { TensorDataset } from './dataset.js';
import { DataLoader, type LoaderBatch } from './loader.js';

/** A batch: rows x, targets y and the number of examples. */
export type Batch = LoaderBatch;

export interface BatchOptions {
  batchSize: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Generator for the shuffle (default: the global seeded one). */
  generator?: Rng;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return Object.prototype.toString.call(v).slice(8, -1);
  return typeof v;
}

/** A plain array's values, checked to be numbers (nested arrays are refused). */
function plainNumbers(what: string, v: readonly unknown[]): number[] {
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (typeof e === 'number') continue;
    if (Array.isArray(e)) {
      throw new Error(`batches: ${what} must be a flat array of numbers (or a typed array), got a nested array at index ${i}; flatten the examples into one array (e.g. images.flat())`);
    }
    throw new Error(`batches: ${what} must hold numbers, got ${e === undefined ? 'undefined (a hole?)' : typeof e === 'string' ? `string ${JSON.stringify(e)}` : describe(e)} at index ${i}`);
  }
  return v as number[];
}

function asFeatures(x: unknown): Float32Array | Tensor {
  if (x instanceof Float32Array || x instanceof Tensor) return x;
  if (Array.isArray(x)) return Float32Array.from(plainNumbers('x', x));
  throw new Error(`batches: x must be a Float32Array, a float32 tensor or an array of numbers, got ${describe(x)}`);
}

function asTargets(y: unknown, targetWidth: number): Int32Array | Float32Array | Tensor {
  if (y instanceof Int32Array || y instanceof Float32Array || y instanceof Tensor) return y;
  if (Array.isArray(y)) {
    const v = plainNumbers('y', y);
    // Whole numbers, one per example: class indices; anything else: float targets.
    return targetWidth === 1 && v.every((e) => Number.isInteger(e) && e >= -(2 ** 31) && e < 2 ** 31) ? Int32Array.from(v) : Float32Array.from(v);
  }
  throw new Error(`batches: y must be an Int32Array (class labels), a Float32Array, a tensor or an array of numbers, got ${describe(y)}`);
}

/**
 * Yields batches of rows of x (features per example) with their labels y (int32 class
 * indices or float32 targets, `targetWidth` values per example). Plain arrays of numbers are
 * accepted too: x is converted to float32; y to int32 class indices when every value is a
 * whole number and targetWidth is 1, else to float32 targets. Nested arrays are refused.
 * Tensors are accepted too (float32 x; int32 or float32 y): they stay in wasm memory and each
 * batch is gathered from them by a kernel, as with Dataset.fromTensors.
 */
export function* batches(
  images: Float32Array | Tensor | readonly number[], labels: Int32Array | Float32Array | Tensor | readonly number[], features: number, opts: BatchOptions, targetWidth = 1,
): Generator<Batch, void, undefined> {
  const x = asFeatures(images);
  const y = asTargets(labels, targetWidth);
  const xCount = x instanceof Tensor ? x.size : x.length;
  const yCount = y instanceof Tensor ? y.size : y.length;
  const n = xCount / features;
  if (!Number.isInteger(n)) throw new Error(`batches: ${xCount} values are not a whole number of ${features}-feature examples`);
  if (yCount !== n * targetWidth) throw new Error(`batches: ${n} examples but ${yCount} target values (expected ${n * targetWidth})`);
  positiveInt('batches', 'batchSize', opts.batchSize);
  const data = new TensorDataset(x, [features], y, { targetShape: targetWidth === 1 ? [] : [targetWidth] });
  yield* new DataLoader(data, { batchSize: opts.batchSize, shuffle: opts.shuffle ?? false, dropLast: opts.dropLast ?? false, generator: opts.generator });
}
