// In-memory datasets, a DataLoader over them, the seeded train/validation/test split (notes
// §1.1.1.6) and data standardisation (notes §1.3.5.4). Examples live in ordinary JS typed
// arrays; only the batches a loader yields are copied into wasm memory.
import { f32, i32 } from '../../bindings/index';
import { markTransient } from '../core/autograd';
import { Generator, rng as globalRng } from '../core/random';
import { Tensor, empty, fmt, sizeOf, type Shape } from '../core/tensor';
import { toTransform, type TransformLike } from './transforms';

export type Targets = Int32Array | Float32Array;

export interface DatasetOptions {
  /**
   * Shape of one example's target. Default: [] (one value per example: a class index or a
   * scalar) when there are as many target values as examples, else [targets / examples].
   */
  targetShape?: Shape;
}

/** One example: its features (a copy, shaped `exampleShape`) and its target values. */
export interface Example {
  x: Float32Array;
  /** The target values (one for a class label or a scalar target). */
  y: Targets;
}

function checkDims(where: string, what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: ${what} must be an array of integers >= 0, got ${JSON.stringify(shape)}`);
  }
  return shape.slice();
}

/**
 * Examples held in memory: `features` are N examples of `exampleShape` (row-major, example
 * after example), `targets` are int32 class labels or float32 targets, `targetShape` per
 * example.
 */
export class Dataset {
  readonly features: Float32Array;
  readonly targets: Targets;
  readonly exampleShape: readonly number[];
  readonly targetShape: readonly number[];
  /** Number of examples. */
  readonly length: number;
  /** Values per example (the product of exampleShape). */
  readonly featureSize: number;
  /** Target values per example. */
  readonly targetSize: number;

  constructor(features: Float32Array, exampleShape: Shape, targets: Targets, opts: DatasetOptions = {}) {
    if (!(features instanceof Float32Array)) throw new Error(`Dataset: features must be a Float32Array, got ${describe(features)}`);
    if (!(targets instanceof Int32Array) && !(targets instanceof Float32Array)) {
      throw new Error(`Dataset: targets must be an Int32Array (class labels) or a Float32Array, got ${describe(targets)}`);
    }
    const shape = checkDims('Dataset', 'exampleShape', exampleShape);
    const featureSize = sizeOf(shape);
    if (featureSize === 0) throw new Error(`Dataset: exampleShape ${fmt(shape)} has no elements`);
    const n = features.length / featureSize;
    if (!Number.isInteger(n)) {
      throw new Error(`Dataset: ${features.length} feature values are not a whole number of examples of shape ${fmt(shape)} (${featureSize} values each)`);
    }
    let tShape: number[];
    if (opts.targetShape !== undefined) tShape = checkDims('Dataset', 'targetShape', opts.targetShape);
    else if (targets.length === n) tShape = [];
    else if (n > 0 && targets.length % n === 0) tShape = [targets.length / n];
    else throw new Error(`Dataset: ${n} examples but ${targets.length} target values, not a whole number per example`);
    const targetSize = sizeOf(tShape);
    if (targets.length !== n * targetSize) {
      throw new Error(`Dataset: ${n} examples need ${n * targetSize} target values (target shape ${fmt(tShape)}), got ${targets.length}`);
    }
    this.features = features;
    this.targets = targets;
    this.exampleShape = Object.freeze(shape);
    this.targetShape = Object.freeze(tShape);
    this.length = n;
    this.featureSize = featureSize;
    this.targetSize = targetSize;
  }

  /** A dataset of the rows of x ([N, ...exampleShape], float32) and y ([N, ...targetShape]). */
  static fromTensors(x: Tensor, y: Tensor): Dataset {
    if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error('Dataset.fromTensors: x and y must be Tensors');
    if (x.dtype !== 'float32') throw new Error(`Dataset.fromTensors: x must be float32, got ${x.dtype} ${fmt(x.shape)}`);
    if (x.ndim < 1 || y.ndim < 1 || x.shape[0] !== y.shape[0]) {
      throw new Error(`Dataset.fromTensors: x and y need the same number of rows, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
    }
    return new Dataset(x.data() as Float32Array, x.shape.slice(1), y.data() as Float32Array | Int32Array, { targetShape: y.shape.slice(1) });
  }

  /** Whether targets are int32 class labels. */
  get hasLabels(): boolean {
    return this.targets instanceof Int32Array;
  }

  /** Example i (copies of its features and target values). */
  get(i: number): Example {
    this.checkIndex('get', i);
    return {
      x: this.features.slice(i * this.featureSize, (i + 1) * this.featureSize),
      y: this.targets.slice(i * this.targetSize, (i + 1) * this.targetSize),
    };
  }

  /** A new dataset with copies of the given examples, in the given order (repeats allowed). */
  subset(indices: ArrayLike<number>): Dataset {
    const m = indices.length;
    const fs = this.featureSize;
    const ts = this.targetSize;
    const x = new Float32Array(m * fs);
    const y = this.targets instanceof Int32Array ? new Int32Array(m * ts) : new Float32Array(m * ts);
    for (let k = 0; k < m; k++) {
      const i = indices[k];
      this.checkIndex('subset', i);
      x.set(this.features.subarray(i * fs, (i + 1) * fs), k * fs);
      y.set(this.targets.subarray(i * ts, (i + 1) * ts), k * ts);
    }
    return new Dataset(x, this.exampleShape, y, { targetShape: this.targetShape });
  }

  /** All features as one tensor [N, ...exampleShape] (the caller owns it). */
  xTensor(): Tensor {
    const t = empty([this.length, ...this.exampleShape]);
    f32().set(this.features, t.ptr >>> 2);
    return t;
  }

  /** All targets as one tensor [N, ...targetShape] (the caller owns it). */
  yTensor(): Tensor {
    const isInt = this.targets instanceof Int32Array;
    const t = empty([this.length, ...this.targetShape], isInt ? 'int32' : 'float32');
    if (isInt) i32().set(this.targets, t.ptr >>> 2);
    else f32().set(this.targets, t.ptr >>> 2);
    return t;
  }

  private checkIndex(where: string, i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new Error(`Dataset.${where}: index ${i} is out of range for a dataset of ${this.length} examples`);
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

// ---- DataLoader ---------------------------------------------------------------------------

export interface LoaderBatch {
  /** Features [size, ...exampleShape], float32. */
  x: Tensor;
  /** Targets [size, ...targetShape]: int32 labels or float32 values. */
  y: Tensor;
  /** Number of examples in this batch (the last one may be smaller). */
  size: number;
}

export interface DataLoaderOptions {
  batchSize?: number;
  /** Draw a new order of the examples at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Skip a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Generator for shuffling and for transforms without their own (default: the global one). */
  generator?: Generator;
  /** Applied to every example's features, in place, as the batch is assembled (augmentation, standardisation). */
  transform?: TransformLike;
}

/**
 * Iterates a dataset in mini-batches. Each `for (const b of loader)` is one epoch; with
 * `shuffle` every epoch draws a fresh permutation from the generator, so the sequence of
 * epochs is reproducible from the seed. Batch tensors are transient, like `batches()`: the
 * graph that consumes them frees them at the next backward(); code that only runs them
 * under noGrad should dispose them (fit/evaluate do).
 */
export class DataLoader implements Iterable<LoaderBatch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  private readonly transform: ReturnType<typeof toTransform> | null;
  private scratch = new Float32Array(0);

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    if (!(dataset instanceof Dataset)) throw new Error(`DataLoader: expected a Dataset, got ${describe(dataset)}`);
    const bs = opts.batchSize ?? 32;
    if (!Number.isInteger(bs) || bs <= 0) throw new Error(`DataLoader: batchSize must be a positive integer, got ${bs}`);
    if (opts.generator !== undefined && !(opts.generator instanceof Generator)) throw new Error('DataLoader: generator must be a Generator');
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? globalRng;
    this.transform = opts.transform === undefined ? null : toTransform('DataLoader', opts.transform);
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

  *[Symbol.iterator](): Iterator<LoaderBatch> {
    const ds = this.dataset;
    const n = ds.length;
    // The order is drawn when the epoch starts, so each epoch consumes the generator once.
    const order = this.shuffle ? this.generator.permutation(n) : null;
    const fs = ds.featureSize;
    const ts = ds.targetSize;
    const isInt = ds.targets instanceof Int32Array;
    for (let start = 0; start < n; start += this.batchSize) {
      const size = Math.min(this.batchSize, n - start);
      if (size < this.batchSize && this.dropLast) break;
      if (this.scratch.length < size * fs) this.scratch = new Float32Array(this.batchSize * fs);
      const bx = this.scratch.subarray(0, size * fs);
      const by = isInt ? new Int32Array(size * ts) : new Float32Array(size * ts);
      for (let k = 0; k < size; k++) {
        const r = order === null ? start + k : order[start + k];
        bx.set(ds.features.subarray(r * fs, (r + 1) * fs), k * fs);
        by.set(ds.targets.subarray(r * ts, (r + 1) * ts), k * ts);
        if (this.transform !== null) this.transform(bx.subarray(k * fs, (k + 1) * fs), ds.exampleShape, this.generator);
      }
      const x = empty([size, ...ds.exampleShape]);
      f32().set(bx, x.ptr >>> 2);
      const y = empty([size, ...ds.targetShape], isInt ? 'int32' : 'float32');
      if (isInt) i32().set(by, y.ptr >>> 2);
      else f32().set(by, y.ptr >>> 2);
      yield { x: markTransient(x), y: markTransient(y), size };
    }
  }
}

// ---- train / validation / test split -------------------------------------------------------

export interface SplitSizes {
  /** Fractions of the dataset (all in [0, 1], summing to at most 1) or example counts. */
  train: number;
  val?: number;
  test?: number;
}

export interface Split {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  /** Indices into the original dataset of each part (disjoint). */
  indices: { train: Int32Array; val: Int32Array; test: Int32Array };
}

/**
 * Splits a dataset into disjoint training, validation and test sets (notes §1.1.1.6) after a
 * seeded shuffle. Sizes are fractions (e.g. { train: 0.8, val: 0.1, test: 0.1 }: validation
 * and test are rounded, training takes the rest when the fractions sum to 1) or counts.
 * `seed` is a number (its own generator) or a Generator; default: the global generator.
 */
export function splitTrainValTest(dataset: Dataset, sizes: SplitSizes, seed?: number | Generator): Split {
  if (!(dataset instanceof Dataset)) throw new Error(`splitTrainValTest: expected a Dataset, got ${describe(dataset)}`);
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
  return {
    train: dataset.subset(train),
    val: dataset.subset(val),
    test: dataset.subset(test),
    indices: { train, val, test },
  };
}

// ---- standardisation ----------------------------------------------------------------------

export interface StandardizerOptions {
  /**
   * 'feature': one μ, σ per value of the example (tabular data); 'channel': one per entry of
   * the first example axis, over all its positions (images [C, H, W]). Default: 'feature'
   * for 1-D examples, 'channel' otherwise.
   */
  per?: 'feature' | 'channel';
  /** σ below this is treated as 1 (constant features are only centred). Default 1e-12. */
  minStd?: number;
}

/**
 * Data normalisation of notes §1.3.5.4: μ_i = 1/N Σ_n x_ni, σ_i² = 1/N Σ_n (x_ni − μ_i)²,
 * x̂_ni = (x_ni − μ_i)/σ_i. `fit` it on the training set only, then `transform` any set
 * (or pass it as a DataLoader transform), so validation and test data never leak into the
 * statistics.
 */
export class Standardizer {
  private _mean: Float64Array | null = null;
  private _std: Float64Array | null = null;
  private _shape: number[] | null = null;
  private _per: 'feature' | 'channel' | null = null;
  private readonly opts: StandardizerOptions;

  constructor(opts: StandardizerOptions = {}) {
    if (opts.per !== undefined && opts.per !== 'feature' && opts.per !== 'channel') {
      throw new Error(`Standardizer: per must be 'feature' or 'channel', got '${String(opts.per)}'`);
    }
    this.opts = opts;
  }

  /** A standardizer with given statistics (e.g. restored from a file). */
  static fromStats(mean: ArrayLike<number>, std: ArrayLike<number>, exampleShape: Shape, per: 'feature' | 'channel'): Standardizer {
    const s = new Standardizer({ per });
    const shape = checkDims('Standardizer.fromStats', 'exampleShape', exampleShape);
    const groups = per === 'feature' ? sizeOf(shape) : shape[0] ?? 1;
    if (mean.length !== groups || std.length !== groups) {
      throw new Error(`Standardizer.fromStats: example shape ${fmt(shape)} per ${per} needs ${groups} means and stds, got ${mean.length} and ${std.length}`);
    }
    for (let i = 0; i < groups; i++) {
      if (!(std[i] > 0) || !Number.isFinite(std[i]) || !Number.isFinite(mean[i])) {
        throw new Error(`Standardizer.fromStats: need finite means and stds > 0, got mean ${mean[i]}, std ${std[i]} at ${i}`);
      }
    }
    s._mean = Float64Array.from(mean);
    s._std = Float64Array.from(std);
    s._shape = shape;
    s._per = per;
    return s;
  }

  /** Whether fit() (or fromStats) has run. */
  get fitted(): boolean {
    return this._mean !== null;
  }
  /** μ per feature or channel. */
  get mean(): Float32Array {
    return Float32Array.from(this.need('mean'));
  }
  /** σ per feature or channel (the population standard deviation, 1/N). */
  get std(): Float32Array {
    this.need('std');
    return Float32Array.from(this._std!);
  }

  /** Computes μ and σ from the (training) dataset. */
  fit(data: Dataset): this {
    if (!(data instanceof Dataset)) throw new Error(`Standardizer.fit: expected a Dataset, got ${describe(data)}`);
    if (data.length === 0) throw new Error('Standardizer.fit: the dataset is empty');
    const shape = data.exampleShape.slice();
    const per = this.opts.per ?? (shape.length <= 1 ? 'feature' : 'channel');
    if (per === 'channel' && shape.length < 1) throw new Error('Standardizer.fit: per channel needs examples with at least one axis');
    const fs = data.featureSize;
    const groups = per === 'feature' ? fs : shape[0];
    const inner = fs / groups; // positions per group within one example
    const count = data.length * inner;
    const x = data.features;
    // Two passes in float64: the mean first, then the squared deviations from it.
    const mean = new Float64Array(groups);
    for (let n = 0; n < data.length; n++) {
      const base = n * fs;
      for (let g = 0; g < groups; g++) {
        let s = 0;
        const o = base + g * inner;
        for (let k = 0; k < inner; k++) s += x[o + k];
        mean[g] += s;
      }
    }
    for (let g = 0; g < groups; g++) mean[g] /= count;
    const varc = new Float64Array(groups);
    for (let n = 0; n < data.length; n++) {
      const base = n * fs;
      for (let g = 0; g < groups; g++) {
        let s = 0;
        const o = base + g * inner;
        const m = mean[g];
        for (let k = 0; k < inner; k++) s += (x[o + k] - m) ** 2;
        varc[g] += s;
      }
    }
    const minStd = this.opts.minStd ?? 1e-12;
    const std = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      const sd = Math.sqrt(varc[g] / count);
      std[g] = sd < minStd ? 1 : sd;
    }
    this._mean = mean;
    this._std = std;
    this._shape = shape;
    this._per = per;
    return this;
  }

  /** Standardises one example's values in place (the DataLoader transform interface). */
  apply(x: Float32Array, shape: Shape = this._shape ?? [x.length]): void {
    const mean = this.need('apply');
    const std = this._std!;
    if (shape.join() !== this._shape!.join() || x.length !== sizeOf(shape)) {
      throw new Error(`Standardizer.apply: fitted on examples ${fmt(this._shape!)}, got ${x.length} values of shape ${fmt(shape)}`);
    }
    const groups = mean.length;
    const inner = x.length / groups;
    for (let g = 0; g < groups; g++) {
      const m = mean[g];
      const inv = 1 / std[g];
      const o = g * inner;
      for (let k = 0; k < inner; k++) x[o + k] = (x[o + k] - m) * inv;
    }
  }

  /** A standardised copy of a dataset (targets shared). */
  transform(data: Dataset): Dataset {
    if (!(data instanceof Dataset)) throw new Error(`Standardizer.transform: expected a Dataset, got ${describe(data)}`);
    this.need('transform');
    if (data.exampleShape.join() !== this._shape!.join()) {
      throw new Error(`Standardizer.transform: fitted on examples ${fmt(this._shape!)}, the dataset has ${fmt(data.exampleShape)}`);
    }
    const out = data.features.slice();
    const fs = data.featureSize;
    for (let n = 0; n < data.length; n++) this.apply(out.subarray(n * fs, (n + 1) * fs), data.exampleShape);
    return new Dataset(out, data.exampleShape, data.targets, { targetShape: data.targetShape });
  }

  /** fit on data, then transform it. */
  fitTransform(data: Dataset): Dataset {
    return this.fit(data).transform(data);
  }

  private need(where: string): Float64Array {
    if (this._mean === null) throw new Error(`Standardizer.${where}: call fit(trainingData) first`);
    return this._mean;
  }
}
