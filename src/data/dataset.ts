// Datasets. Any object with `length` and `get(i)` is a dataset of whatever its examples are
// (token sequences, graphs, image pairs, { features, label } records): `Dataset<T>`. The
// DataLoader batches them with a collate function (collate.ts).
//
// `Dataset` without a type argument, and `new Dataset(...)`, is the tensor-backed
// implementation (TensorDataset): N examples of one shape held in a Float32Array, with int32
// class labels or float32 targets, which the DataLoader batches without any per-example
// objects. Examples live in ordinary JS typed arrays; only batches are copied into wasm memory.
import { Tensor, empty, fmt, sizeOf, type Shape } from '../core/tensor.js';
import { writeElements } from '../ops/inplace.js';

/** A map-style dataset: `length` examples, example i from `get(i)`. */
export interface MapDataset<T> {
  readonly length: number;
  get(i: number): T;
}

// `Dataset` with no type argument names the tensor-backed class (what `new Dataset(...)` makes).
declare const TENSOR_BACKED: unique symbol;
type TensorBacked = typeof TENSOR_BACKED;

/**
 * `Dataset<T>`: any dataset of examples T (an object with `length` and `get(i): T`).
 * `Dataset` (no argument): the tensor-backed class, as `new Dataset(features, shape, targets)` makes.
 */
export type Dataset<T = TensorBacked> = [T] extends [TensorBacked] ? TensorDataset : MapDataset<T>;

export type Targets = Int32Array | Float32Array;

export interface DatasetOptions {
  /**
   * Shape of one example's target. Default: [] (one value per example: a class index or a
   * scalar) when there are as many target values as examples, else [targets / examples].
   */
  targetShape?: Shape;
}

/** One example of a tensor-backed dataset: its features (a copy, flat) and its target values. */
export interface Example {
  x: Float32Array;
  /** The target values (one for a class label or a scalar target). */
  y: Targets;
}

/** @internal A shape argument: an array of integers >= 0 (copied). */
export function checkDims(where: string, what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: ${what} must be an array of integers >= 0, got ${JSON.stringify(shape)}`);
  }
  return shape.slice();
}

/** @internal A value's type for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Whether v looks like a dataset: a `length` and a `get(i)` method. */
export function isDataset(v: unknown): v is MapDataset<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as MapDataset<unknown>).get === 'function'
    && Number.isInteger((v as MapDataset<unknown>).length) && (v as MapDataset<unknown>).length >= 0;
}

/**
 * Examples held in memory: `features` are N examples of `exampleShape` (row-major, example
 * after example), `targets` are int32 class labels or float32 targets, `targetShape` per
 * example. Exported as `Dataset`.
 */
export class TensorDataset implements MapDataset<Example> {
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
  static fromTensors(x: Tensor, y: Tensor): TensorDataset {
    if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error('Dataset.fromTensors: x and y must be Tensors');
    if (x.dtype !== 'float32') throw new Error(`Dataset.fromTensors: x must be float32, got ${x.dtype} ${fmt(x.shape)}`);
    if (x.ndim < 1 || y.ndim < 1 || x.shape[0] !== y.shape[0]) {
      throw new Error(`Dataset.fromTensors: x and y need the same number of rows, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
    }
    return new TensorDataset(x.data() as Float32Array, x.shape.slice(1), y.data() as Float32Array | Int32Array, { targetShape: y.shape.slice(1) });
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
  subset(indices: ArrayLike<number>): TensorDataset {
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
    return new TensorDataset(x, this.exampleShape, y, { targetShape: this.targetShape });
  }

  /** All features as one tensor [N, ...exampleShape] (the caller owns it). */
  xTensor(): Tensor {
    const t = empty([this.length, ...this.exampleShape]);
    writeElements(t, 0, this.features);
    return t;
  }

  /** All targets as one tensor [N, ...targetShape] (the caller owns it). */
  yTensor(): Tensor {
    const t = empty([this.length, ...this.targetShape], this.targets instanceof Int32Array ? 'int32' : 'float32');
    writeElements(t, 0, this.targets);
    return t;
  }

  private checkIndex(where: string, i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new Error(`Dataset.${where}: index ${i} is out of range for a dataset of ${this.length} examples`);
    }
  }
}

/** The tensor-backed dataset class, under the name users know (`new Dataset(...)`). */
export const Dataset = TensorDataset;

/** A view of some examples of another dataset, in the given order (nothing is copied). */
export class Subset<T> implements MapDataset<T> {
  private readonly indices: Int32Array;

  constructor(readonly dataset: MapDataset<T>, indices: ArrayLike<number>) {
    if (!isDataset(dataset)) throw new Error(`Subset: expected a dataset (length and get(i)), got ${describe(dataset)}`);
    this.indices = Int32Array.from(indices as ArrayLike<number>);
    for (const i of this.indices) {
      if (i < 0 || i >= dataset.length) throw new Error(`Subset: index ${i} is out of range for a dataset of ${dataset.length} examples`);
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this.indices.length) {
      throw new Error(`Subset.get: index ${i} is out of range for a subset of ${this.indices.length} examples`);
    }
    return this.dataset.get(this.indices[i]);
  }
}
