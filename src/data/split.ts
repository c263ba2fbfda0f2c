// The seeded train / validation / test split (notes §1.1.1.6).
import { Generator, rng as globalRng } from '../core/random.js';
import { Subset, TensorDataset, describe, isDataset, type MapDataset } from './dataset.js';

export interface SplitSizes {
  /** Fractions of the dataset (all in [0, 1], summing to at most 1) or example counts. */
  train: number;
  val?: number;
  test?: number;
}

export interface Split<D = TensorDataset> {
  train: D;
  val: D;
  test: D;
  /** Indices into the original dataset of each part (disjoint). */
  indices: { train: Int32Array; val: Int32Array; test: Int32Array };
}

/**
 * Splits a dataset into disjoint training, validation and test sets (notes §1.1.1.6) after a
 * seeded shuffle. Sizes are fractions (e.g. { train: 0.8, val: 0.1, test: 0.1 }: validation
 * and test are rounded, training takes the rest when the fractions sum to 1) or counts.
 * `seed` is a number (its own generator) or a Generator; default: the global generator.
 * A tensor-backed Dataset splits into tensor-backed copies; any other dataset into Subsets
 * (views that copy nothing).
 */
export function splitTrainValTest(dataset: TensorDataset, sizes: SplitSizes, seed?: number | Generator): Split;
export function splitTrainValTest<T>(dataset: MapDataset<T>, sizes: SplitSizes, seed?: number | Generator): Split<Subset<T>>;
export function splitTrainValTest<T>(dataset: MapDataset<T>, sizes: SplitSizes, seed?: number | Generator): Split<TensorDataset | Subset<T>> {
  if (!isDataset(dataset)) throw new Error(`splitTrainValTest: expected a Dataset, got ${describe(dataset)}`);
  if (sizes === null || typeof sizes !== 'object') throw new Error('splitTrainValTest: sizes must be an object { train, val, test }');
  const n = dataset.length;
  const raw = [sizes.train, sizes.val ?? 0, sizes.test ?? 0];
  raw.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`splitTrainValTest: ${['train', 'val', 'test'][i]} must be a number >= 0, got ${String(v)}`);
    }
  });
  const total = raw[0] + raw[1] + raw[2];
  let counts: number[];
  if (raw.every((v) => v <= 1) && total <= 1 + 1e-9) {
    const val = Math.round(raw[1] * n);
    const test = Math.round(raw[2] * n);
    const train = Math.abs(total - 1) <= 1e-9 ? n - val - test : Math.round(raw[0] * n);
    counts = [train, val, test];
  } else {
    if (!raw.every(Number.isInteger)) {
      throw new Error(`splitTrainValTest: sizes must be fractions summing to <= 1 or integer counts, got ${JSON.stringify(sizes)}`);
    }
    counts = raw;
  }
  if (counts.some((c) => c < 0) || counts[0] + counts[1] + counts[2] > n) {
    throw new Error(`splitTrainValTest: sizes ${JSON.stringify(sizes)} ask for ${counts.join(' + ')} examples, the dataset has ${n}`);
  }
  const gen = seed === undefined ? globalRng : seed instanceof Generator ? seed : new Generator(seed);
  const perm = gen.permutation(n);
  const train = perm.slice(0, counts[0]);
  const val = perm.slice(counts[0], counts[0] + counts[1]);
  const test = perm.slice(counts[0] + counts[1], counts[0] + counts[1] + counts[2]);
  const part = (idx: Int32Array): TensorDataset | Subset<T> => (dataset instanceof TensorDataset ? dataset.subset(idx) : new Subset(dataset, idx));
  return { train: part(train), val: part(val), test: part(test), indices: { train, val, test } };
}
