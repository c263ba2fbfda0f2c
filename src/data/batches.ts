// Mini-batches from in-memory arrays. Batch tensors are owned by the graph that consumes
// them (released by the next backward()), so a training loop needs no dispose().
import { markTransient } from '../core/autograd';
import { rng as globalRng, type Generator as Rng } from '../core/random';
import { tensor, type Tensor } from '../core/tensor';

export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Number of examples in this batch (the last one may be smaller). */
  size: number;
}

export interface BatchOptions {
  batchSize: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Generator for the shuffle (default: the global seeded one). */
  generator?: Rng;
}

/**
 * Yields batches of rows of x (features per example) with their labels y (int32 class
 * indices or float32 targets, `targetWidth` values per example).
 */
export function* batches(
  x: Float32Array, y: Int32Array | Float32Array, features: number, opts: BatchOptions, targetWidth = 1,
): Generator<Batch> {
  const n = x.length / features;
  if (!Number.isInteger(n)) throw new Error(`batches: ${x.length} values are not a whole number of ${features}-feature examples`);
  if (y.length !== n * targetWidth) throw new Error(`batches: ${n} examples but ${y.length} target values (expected ${n * targetWidth})`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new Error(`batches: batchSize must be a positive integer, got ${opts.batchSize}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (opts.shuffle) (opts.generator ?? globalRng).shuffle(order);
  const isInt = y instanceof Int32Array;
  for (let start = 0; start < n; start += opts.batchSize) {
    const size = Math.min(opts.batchSize, n - start);
    if (size < opts.batchSize && opts.dropLast) break;
    const bx = new Float32Array(size * features);
    const by = isInt ? new Int32Array(size * targetWidth) : new Float32Array(size * targetWidth);
    for (let i = 0; i < size; i++) {
      const r = order[start + i];
      bx.set(x.subarray(r * features, (r + 1) * features), i * features);
      by.set(y.subarray(r * targetWidth, (r + 1) * targetWidth), i * targetWidth);
    }
    yield {
      x: markTransient(tensor(bx, [size, features])),
      y: markTransient(tensor(by, targetWidth === 1 ? [size] : [size, targetWidth])),
      size,
    };
  }
}
