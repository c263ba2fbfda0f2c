// Mini-batches from in-memory arrays: a tensor-backed Dataset over them, batched by the
// DataLoader (the one batcher). Batch tensors are owned by the graph that consumes them
// (released by the next backward()), so a training loop needs no dispose().
import { positiveInt } from '../core/validate';
import type { Generator as Rng } from '../core/random';
import { TensorDataset } from './dataset';
import { DataLoader, type LoaderBatch } from './loader';

/** A batch: rows x, targets y and the number of examples. */
export type Batch = LoaderBatch;

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
  positiveInt('batches', 'batchSize', opts.batchSize);
  const data = new TensorDataset(x, [features], y, { targetShape: targetWidth === 1 ? [] : [targetWidth] });
  yield* new DataLoader(data, { batchSize: opts.batchSize, shuffle: opts.shuffle ?? false, dropLast: opts.dropLast ?? false, generator: opts.generator });
}
