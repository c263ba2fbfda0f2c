// DataLoader: iterates a dataset in mini-batches. Every batch is written once, straight into
// the memory of its batch tensors: a tensor-backed Dataset's rows are copied from its typed
// arrays into the batch tensor, or gathered by a kernel when they are in tensors (and
// transformed there, in place); other datasets' examples go through a collate function
// (collate.ts by default) that does the same per leaf.
import { markTransient } from '../core/autograd.js';
import { Generator, rng as globalRng } from '../core/random.js';
import { Tensor, empty, fmt } from '../core/tensor.js';
import { checkOptions, positiveInt } from '../core/validate.js';
import { editElements, gatherRowsInto, writeElements } from '../ops/inplace.js';
import { collate, type Collated } from './collate.js';
import { TensorDataset, describe, isDataset, type Example, type MapDataset } from './dataset.js';
import { toTransform, type TransformLike } from './transforms.js';

/** A batch of a tensor-backed Dataset. */
export interface LoaderBatch {
  /** Features [size, ...exampleShape], float32. */
  x: Tensor;
  /** Targets [size, ...targetShape]: int32 labels or float32 values. */
  y: Tensor;
  /** Number of examples in this batch (the last one may be smaller). */
  size: number;
}

export interface DataLoaderOptions<T = Example, B = unknown> {
  batchSize?: number;
  /** Draw a new order of the examples at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Skip a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Generator for shuffling and for transforms without their own (default: the global one). */
  generator?: Generator;
  /**
   * Applied to every example's features, in place in the batch tensor's memory, as the batch is
   * assembled (augmentation, standardisation); it must not create tensors. Tensor-backed
   * datasets only: other datasets transform in their get().
   */
  transform?: TransformLike;
  /** Examples -> batch (default: `collate`). A tensor-backed dataset without one takes a faster path. */
  collate?: (examples: T[]) => B;
}

/** The example type of a dataset. */
export type ExampleOf<D> = D extends MapDataset<infer T> ? T : never;
/** The batch type a DataLoader over D yields without a collate option. */
export type DefaultBatch<D> = D extends TensorDataset ? LoaderBatch : Collated<ExampleOf<D>>;

/** One batch with its bookkeeping, as `DataLoader.iterate()` yields it. */
export interface SizedBatch<B> {
  batch: B;
  /** Number of examples in the batch. */
  size: number;
  /** Their indices in the dataset. */
  indices: Int32Array;
}

const KEYS = ['batchSize', 'shuffle', 'dropLast', 'generator', 'transform', 'collate'];

/**
 * Iterates a dataset in mini-batches. Each `for (const b of loader)` is one epoch; with
 * `shuffle` every epoch draws a fresh permutation from the generator, so the sequence of
 * epochs is reproducible from the seed. Batch tensors are transient, like `batches()`: the
 * graph that consumes them frees them at the next backward(); code that only runs them
 * under noGrad should dispose them (fit/evaluate do).
 */
export class DataLoader<D extends MapDataset<unknown> = TensorDataset, B = DefaultBatch<D>> implements Iterable<B> {
  readonly dataset: D;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  private readonly transform: ReturnType<typeof toTransform> | null;
  private readonly collateFn: ((examples: ExampleOf<D>[]) => B) | null;
  private targetScratch: Int32Array | Float32Array = new Int32Array(0);

  constructor(dataset: D, opts: DataLoaderOptions<ExampleOf<D>, B> = {}) {
    if (!isDataset(dataset)) throw new Error(`DataLoader: expected a Dataset (an object with length and get(i)), got ${describe(dataset)}`);
    checkOptions('DataLoader', opts, KEYS);
    const bs = opts.batchSize ?? 32;
    positiveInt('DataLoader', 'batchSize', bs);
    if (opts.generator !== undefined && !(opts.generator instanceof Generator)) throw new Error('DataLoader: generator must be a Generator');
    if (opts.collate !== undefined && typeof opts.collate !== 'function') throw new Error(`DataLoader: collate must be a function (examples) => batch, got ${typeof opts.collate}`);
    if (opts.transform !== undefined && !(dataset instanceof TensorDataset)) {
      throw new Error('DataLoader: transform applies to a tensor-backed Dataset; transform other examples in the dataset\'s get(i)');
    }
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? globalRng;
    this.transform = opts.transform === undefined ? null : toTransform('DataLoader', opts.transform);
    this.collateFn = opts.collate ?? null;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Number of examples per epoch (after dropLast). */
  get numExamples(): number {
    return this.dropLast ? this.length * this.batchSize : this.dataset.length;
  }

  *[Symbol.iterator](): Iterator<B> {
    for (const b of this.iterate()) yield b.batch;
  }

  /** One epoch of batches with their sizes and example indices (what fit() iterates). */
  *iterate(): IterableIterator<SizedBatch<B>> {
    const n = this.dataset.length;
    // The order is drawn when the epoch starts, so each epoch consumes the generator once.
    const order = this.shuffle ? this.generator.permutation(n) : null;
    for (let start = 0; start < n; start += this.batchSize) {
      const size = Math.min(this.batchSize, n - start);
      if (size < this.batchSize && this.dropLast) break;
      const indices = new Int32Array(size);
      for (let k = 0; k < size; k++) indices[k] = order === null ? start + k : order[start + k];
      yield { batch: this.makeBatch(indices), size, indices };
    }
  }

  private makeBatch(indices: Int32Array): B {
    const ds = this.dataset;
    if (this.collateFn === null && ds instanceof TensorDataset) return this.tensorBatch(ds, indices) as B;
    const examples = Array.from(indices, (i) => ds.get(i)) as ExampleOf<D>[];
    return this.collateFn !== null ? this.collateFn(examples) : (collate(examples) as B);
  }

  /** Rows of a tensor-backed dataset, written (and transformed) in place in the batch tensors. */
  private tensorBatch(ds: TensorDataset, indices: Int32Array): LoaderBatch {
    const size = indices.length;
    const fs = ds.featureSize;
    const ts = ds.targetSize;
    const isInt = ds.hasLabels;
    const features = ds.featureSource;
    const targets = ds.targetSource;
    const x = empty([size, ...ds.exampleShape]);
    const y = empty([size, ...ds.targetShape], isInt ? 'int32' : 'float32');
    try {
      if (features instanceof Tensor) gatherRowsInto(x, alive(features, 'features'), fs, indices);
      if (targets instanceof Tensor) gatherRowsInto(y, alive(targets, 'targets'), ts, indices);
      // One view of the batch tensor for all rows (valid while no tensor is made: transforms make none).
      const tf = this.transform;
      if (!(features instanceof Tensor) || tf !== null) {
        editElements(x, 0, size * fs, (view) => {
          const xv = view as Float32Array;
          for (let k = 0; k < size; k++) {
            if (!(features instanceof Tensor)) {
              const r = indices[k];
              xv.set(features.subarray(r * fs, (r + 1) * fs), k * fs);
            }
            if (tf !== null) tf(xv.subarray(k * fs, (k + 1) * fs), ds.exampleShape, this.generator);
          }
        });
      }
      if (!(targets instanceof Tensor)) this.copyTargets(y, targets, ts, indices);
    } catch (e) {
      x.dispose();
      y.dispose();
      throw e;
    }
    return { x: markTransient(x), y: markTransient(y), size };
  }

  /** Targets are few values per row: gathered into a reused array, then written at once. */
  private copyTargets(y: Tensor, targets: Float32Array | Int32Array, ts: number, indices: Int32Array): void {
    const size = indices.length;
    const isInt = targets instanceof Int32Array;
    const n = size * ts;
    if (this.targetScratch.length < n || (this.targetScratch instanceof Int32Array) !== isInt) {
      this.targetScratch = isInt ? new Int32Array(this.batchSize * ts) : new Float32Array(this.batchSize * ts);
    }
    const by = this.targetScratch.subarray(0, n);
    for (let k = 0; k < size; k++) {
      const r = indices[k];
      if (ts === 1) by[k] = targets[r];
      else by.set(targets.subarray(r * ts, (r + 1) * ts), k * ts);
    }
    writeElements(y, 0, by);
  }
}

/** The dataset's tensor, or an error saying it was disposed. */
function alive(src: Tensor, what: string): Tensor {
  if (!src.isAlive) {
    throw new Error(`DataLoader: the dataset's ${what} tensor ${fmt(src.shape)} ${src.releaseReason}; a dataset made from tensors reads them, so dispose them after its last use`);
  }
  return src;
}
