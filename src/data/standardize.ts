// Data standardisation (notes §1.3.5.4), fitted on the training set only.
import { fmt, sizeOf, type Shape } from '../core/tensor.js';
import { TensorDataset, checkDims, describe } from './dataset.js';

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
  fit(data: TensorDataset): this {
    if (!(data instanceof TensorDataset)) throw new Error(`Standardizer.fit: expected a Dataset, got ${describe(data)}`);
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

  /**
   * A standardised copy of a dataset. A tensor-backed dataset gives a tensor-backed copy (its
   * tensors owned by the copy: free them with its dispose()); otherwise the targets array is
   * shared.
   */
  transform(data: TensorDataset): TensorDataset {
    if (!(data instanceof TensorDataset)) throw new Error(`Standardizer.transform: expected a Dataset, got ${describe(data)}`);
    this.need('transform');
    if (data.exampleShape.join() !== this._shape!.join()) {
      throw new Error(`Standardizer.transform: fitted on examples ${fmt(this._shape!)}, the dataset has ${fmt(data.exampleShape)}`);
    }
    // The features getter of a tensor-backed dataset is a copy already.
    const out = data.featureSource instanceof Float32Array ? data.features.slice() : data.features;
    const fs = data.featureSize;
    for (let n = 0; n < data.length; n++) this.apply(out.subarray(n * fs, (n + 1) * fs), data.exampleShape);
    return data.withFeatures(out);
  }

  /** fit on data, then transform it. */
  fitTransform(data: TensorDataset): TensorDataset {
    return this.fit(data).transform(data);
  }

  private need(where: string): Float64Array {
    if (this._mean === null) throw new Error(`Standardizer.${where}: call fit(trainingData) first`);
    return this._mean;
  }
}
