// Datasets. Any object with `length` and `get(i)` is a dataset of whatever its examples are
// (token sequences, graphs, image pairs, { features, label } records): `Dataset<T>`. The
// DataLoader batches them with a collate function (collate.ts).
//
// `Dataset` without a type argument, and `new Dataset(...)`, is the tensor-backed
// implementation (TensorDataset): N examples of one shape, with int32 class labels or float32
// targets, which the DataLoader batches without any per-example objects. The examples live
// either in JS typed arrays (batches are copied row by row into wasm memory) or in tensors
// (Dataset.fromTensors: the data stays in wasm memory and a kernel gathers each batch, on
// all threads when it is large enough).
import { keep } from '../core/lifetime.js';
import { Tensor, empty, fmt, sizeOf, type Shape } from '../core/tensor.js';
import { copyInto, gatherRowsInto, readElements, writeElements } from '../ops/inplace.js';

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

/** Features or targets: a typed array, or a tensor the dataset reads from (not a copy). */
type Source<A> = A | Tensor;

const sourceLength = (v: Source<Float32Array | Targets>): number => (v instanceof Tensor ? v.size : v.length);

/** A new tensor holding all of a source: copied within wasm memory from a tensor, not through JS. */
function wholeTensor(source: Source<Float32Array | Targets>, shape: number[], dtype: 'float32' | 'int32'): Tensor {
  const t = empty(shape, dtype);
  if (source instanceof Tensor) copyInto(t, 0, source);
  else writeElements(t, 0, source);
  return t;
}

/** A copy of example i's values (rowSize of them) in a source. */
function exampleOf<A extends Float32Array | Targets>(source: Source<A>, rowSize: number, i: number): A {
  return (source instanceof Tensor ? readElements(source, i * rowSize, rowSize) : source.slice(i * rowSize, (i + 1) * rowSize)) as A;
}

/**
 * Examples held in memory: `features` are N examples of `exampleShape` (row-major, example
 * after example), `targets` are int32 class labels or float32 targets, `targetShape` per
 * example. Either may be a tensor instead of a typed array (float32 features; int32 or float32
 * targets): the dataset then keeps and reads that tensor, as PyTorch's TensorDataset does,
 * and the DataLoader gathers batches from it in wasm memory. Such a tensor is taken out of the
 * step rule (as keep() does) and stays the caller's to dispose after the dataset's last use.
 * Exported as `Dataset`.
 */
export class TensorDataset implements MapDataset<Example> {
  /** Where the features are: a Float32Array, or a float32 tensor (kept, not copied). */
  readonly featureSource: Source<Float32Array>;
  /** Where the targets are: an Int32Array or Float32Array, or an int32 or float32 tensor. */
  readonly targetSource: Source<Targets>;
  readonly exampleShape: readonly number[];
  readonly targetShape: readonly number[];
  /** Number of examples. */
  readonly length: number;
  /** Values per example (the product of exampleShape). */
  readonly featureSize: number;
  /** Target values per example. */
  readonly targetSize: number;
  /** Tensors this dataset made itself (a subset's copies), freed by dispose(). */
  private owned: Tensor[] = [];

  constructor(features: Float32Array | Tensor, exampleShape: Shape, targets: Targets | Tensor, opts: DatasetOptions = {}) {
    if (features instanceof Tensor) {
      if (features.dtype !== 'float32') throw new Error(`Dataset: a features tensor must be float32, got ${features.dtype} ${fmt(features.shape)}`);
      if (!features.isAlive) throw new Error(`Dataset: the features tensor ${fmt(features.shape)} ${features.releaseReason}`);
    } else if (!(features instanceof Float32Array)) {
      throw new Error(`Dataset: features must be a Float32Array or a float32 tensor, got ${describe(features)}`);
    }
    if (targets instanceof Tensor) {
      if (targets.dtype !== 'int32' && targets.dtype !== 'float32') {
        throw new Error(`Dataset: a targets tensor must be int32 (class labels) or float32, got ${targets.dtype} ${fmt(targets.shape)}`);
      }
      if (!targets.isAlive) throw new Error(`Dataset: the targets tensor ${fmt(targets.shape)} ${targets.releaseReason}`);
    } else if (!(targets instanceof Int32Array) && !(targets instanceof Float32Array)) {
      throw new Error(`Dataset: targets must be an Int32Array (class labels) or a Float32Array, got ${describe(targets)}`);
    }
    const shape = checkDims('Dataset', 'exampleShape', exampleShape);
    const featureSize = sizeOf(shape);
    if (featureSize === 0) throw new Error(`Dataset: exampleShape ${fmt(shape)} has no elements`);
    const featureCount = sourceLength(features);
    const targetCount = sourceLength(targets);
    const n = featureCount / featureSize;
    if (!Number.isInteger(n)) {
      throw new Error(`Dataset: ${featureCount} feature values are not a whole number of examples of shape ${fmt(shape)} (${featureSize} values each)`);
    }
    let tShape: number[];
    if (opts.targetShape !== undefined) tShape = checkDims('Dataset', 'targetShape', opts.targetShape);
    else if (targetCount === n) tShape = [];
    else if (n > 0 && targetCount % n === 0) tShape = [targetCount / n];
    else throw new Error(`Dataset: ${n} examples but ${targetCount} target values, not a whole number per example`);
    const targetSize = sizeOf(tShape);
    if (targetCount !== n * targetSize) {
      throw new Error(`Dataset: ${n} examples need ${n * targetSize} target values (target shape ${fmt(tShape)}), got ${targetCount}`);
    }
    // The dataset holds its tensors, so the step rule must not release them (an op's result,
    // such as x.reshape(...), would otherwise be freed two steps into training).
    if (features instanceof Tensor) keep(features);
    if (targets instanceof Tensor) keep(targets);
    this.featureSource = features;
    this.targetSource = targets;
    this.exampleShape = Object.freeze(shape);
    this.targetShape = Object.freeze(tShape);
    this.length = n;
    this.featureSize = featureSize;
    this.targetSize = targetSize;
  }

  /**
   * The rows of x ([N, ...exampleShape], float32) and y ([N, ...targetShape], int32 labels or
   * float32), kept in wasm memory: the dataset reads x and y themselves (no copy is made), so
   * they must not be disposed while it is used. Batches are gathered by a kernel, which is faster
   * than copying rows from JS arrays and runs on all threads.
   */
  static fromTensors(x: Tensor, y: Tensor): TensorDataset {
    if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error('Dataset.fromTensors: x and y must be Tensors');
    if (x.dtype !== 'float32') throw new Error(`Dataset.fromTensors: x must be float32, got ${x.dtype} ${fmt(x.shape)}`);
    if (x.ndim < 1 || y.ndim < 1 || x.shape[0] !== y.shape[0]) {
      throw new Error(`Dataset.fromTensors: x and y need the same number of rows, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
    }
    if (x.size === 0) throw new Error(`Dataset.fromTensors: x ${fmt(x.shape)} has no elements`);
    return new TensorDataset(x, x.shape.slice(1), y, { targetShape: y.shape.slice(1) });
  }

  /** All features, flat (example after example). From a tensor-backed dataset: a copy. */
  get features(): Float32Array {
    const f = this.featureSource;
    return f instanceof Tensor ? f.data() as Float32Array : f;
  }

  /** All target values, flat. From a tensor-backed dataset: a copy. */
  get targets(): Targets {
    const t = this.targetSource;
    return t instanceof Tensor ? t.data() as Targets : t;
  }

  /** Whether targets are int32 class labels. */
  get hasLabels(): boolean {
    const t = this.targetSource;
    return t instanceof Tensor ? t.dtype === 'int32' : t instanceof Int32Array;
  }

  /** Example i (copies of its features and target values). */
  get(i: number): Example {
    this.checkIndex('get', i);
    return { x: exampleOf(this.featureSource, this.featureSize, i), y: exampleOf(this.targetSource, this.targetSize, i) };
  }

  /**
   * A new dataset with copies of the given examples, in the given order (repeats allowed).
   * What is held in a tensor is copied into a new tensor (gathered in wasm memory), which the
   * new dataset owns: free it with its dispose(). The rest is copied into typed arrays.
   */
  subset(indices: ArrayLike<number>): TensorDataset {
    const rows = new Int32Array(indices.length);
    for (let k = 0; k < rows.length; k++) {
      this.checkIndex('subset', indices[k]);
      rows[k] = indices[k];
    }
    return this.derived((made) => [
      this.rowsOf(this.featureSource, this.featureSize, [rows.length, ...this.exampleShape], rows, made),
      this.rowsOf(this.targetSource, this.targetSize, [rows.length, ...this.targetShape], rows, made),
    ]);
  }

  /**
   * Frees the tensors this dataset made itself (a subset's, or a split's, copies of a
   * tensor-backed dataset). Tensors given to it stay the caller's.
   */
  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned = [];
  }

  /** The given rows of a source (rowSize values each): a new tensor (recorded in `made`) or typed array. */
  private rowsOf<A extends Float32Array | Targets>(source: A | Tensor, rowSize: number, shape: number[], rows: Int32Array, made: Tensor[]): A | Tensor {
    if (source instanceof Tensor) {
      const t = empty(shape, source.dtype);
      made.push(t);
      if (rows.length > 0) gatherRowsInto(t, source, rowSize, rows);
      return t;
    }
    const out = new (source.constructor as new (n: number) => A)(rows.length * rowSize);
    for (let k = 0; k < rows.length; k++) out.set(source.subarray(rows[k] * rowSize, (rows[k] + 1) * rowSize), k * rowSize);
    return out;
  }

  /**
   * @internal The same examples with new feature values (N · featureSize of them, e.g.
   * standardised): held in a tensor when this dataset's features are, with tensor targets
   * copied too, both owned by the new dataset (its dispose() frees them); typed arrays
   * otherwise, the targets array shared.
   */
  withFeatures(values: Float32Array): TensorDataset {
    if (values.length !== this.length * this.featureSize) {
      throw new Error(`Dataset.withFeatures: ${this.length} examples of ${this.featureSize} values need ${this.length * this.featureSize}, got ${values.length}`);
    }
    return this.derived((made) => {
      let x: Float32Array | Tensor = values;
      if (this.featureSource instanceof Tensor) {
        x = wholeTensor(values, [this.length, ...this.exampleShape], 'float32');
        made.push(x);
      }
      let y: Targets | Tensor = this.targetSource;
      if (y instanceof Tensor) {
        y = this.yTensor();
        made.push(y);
      }
      return [x, y];
    });
  }

  /**
   * A dataset of this one's example and target shapes over the sources `make` returns, owning
   * the tensors it records in `made` (freed if making the dataset fails).
   */
  private derived(make: (made: Tensor[]) => [Float32Array | Tensor, Targets | Tensor]): TensorDataset {
    const made: Tensor[] = [];
    try {
      const [x, y] = make(made);
      const ds = new TensorDataset(x, this.exampleShape, y, { targetShape: this.targetShape });
      ds.owned = made;
      return ds;
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** All features as one tensor [N, ...exampleShape] (the caller owns it). */
  xTensor(): Tensor {
    return wholeTensor(this.featureSource, [this.length, ...this.exampleShape], 'float32');
  }

  /** All targets as one tensor [N, ...targetShape] (the caller owns it). */
  yTensor(): Tensor {
    return wholeTensor(this.targetSource, [this.length, ...this.targetShape], this.hasLabels ? 'int32' : 'float32');
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
