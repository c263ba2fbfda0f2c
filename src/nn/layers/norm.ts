// Normalisation layers (notes §1.3.5.4): BatchNorm1d, BatchNorm2d and LayerNorm. Batch norm
// follows module.training (train()/eval()).
//
// Batch norm keeps the notes' running averages as buffers (so they are saved in state dicts):
// runningMean (μ̄, starts at 0) and runningStd (σ̄, the standard deviation, starts at 1),
// updated as μ̄ ← α μ̄ + (1-α) μ and σ̄ ← α σ̄ + (1-α) σ with α = momentum (default 0.9,
// the weight of the old value). Evaluation normalises by sqrt(σ̄² + eps). Note the names:
// PyTorch's running_var holds a variance and its momentum 0.1 weighs the new value.
import { batchNorm, layerNorm } from '../../ops/norm.js';
import { fmt, full, type Shape, type Tensor } from '../../core/tensor.js';
import { positiveInt } from '../../core/validate.js';
import { Module, buffer, parameter, type AnyModule } from '../module.js';
import { ReLU } from './activation.js';
import { checkShapeArg } from './shape.js';

export interface BatchNormLayerOptions {
  /** α of the notes' running averages: weight of the old value, in [0, 1] (default 0.9). */
  momentum?: number;
  /** δ added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable γ (weight) and β (bias) (default true). */
  affine?: boolean;
}

abstract class BatchNormBase extends Module {
  /** γ, one per channel (starts at 1). */
  readonly weight: Tensor | null;
  /** β, one per channel (starts at 0). */
  readonly bias: Tensor | null;
  /** μ̄: running average of the batch means. */
  readonly runningMean: Tensor;
  /** σ̄: running average of the batch standard deviations (biased, as the notes). */
  readonly runningStd: Tensor;
  readonly momentum: number;
  readonly eps: number;

  constructor(private readonly layer: string, readonly numFeatures: number, opts: BatchNormLayerOptions) {
    super();
    positiveInt(layer, 'numFeatures', numFeatures);
    const momentum = opts.momentum ?? 0.9;
    const eps = opts.eps ?? 1e-5;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new Error(`${layer}: momentum must be in [0, 1], got ${String(momentum)}`);
    if (typeof eps !== 'number' || !(eps > 0 && Number.isFinite(eps))) throw new Error(`${layer}: eps must be a finite number > 0, got ${String(eps)}`);
    this.momentum = momentum;
    this.eps = eps;
    const affine = opts.affine ?? true;
    this.weight = affine ? parameter(full([numFeatures], 1)) : null;
    this.bias = affine ? parameter(full([numFeatures], 0)) : null;
    this.runningMean = buffer(full([numFeatures], 0));
    this.runningStd = buffer(full([numFeatures], 1));
  }

  /** γ of the notes (the same tensor as weight). */
  get gamma(): Tensor | null { return this.weight; }
  /** β of the notes (the same tensor as bias). */
  get beta(): Tensor | null { return this.bias; }

  protected abstract checkRank(shape: Shape): void;

  forward(x: Tensor): Tensor {
    return this.normalize(x, false);
  }

  /** The layer followed by ReLU, applied as the output is written. */
  forwardRelu(x: Tensor): Tensor {
    return this.normalize(x, true);
  }

  /** A following ReLU runs inside the normalisation (one pass over the output instead of two). */
  override fuseNext(next: AnyModule): AnyModule | null {
    return next instanceof ReLU ? new BatchNormReLU(this) : null;
  }

  private normalize(x: Tensor, relu: boolean): Tensor {
    this.checkRank(x.shape);
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.layer}: channel mismatch: input ${fmt(x.shape)} has ${x.shape[1]} channels on axis 1, the layer has ${this.numFeatures}`);
    }
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningStd, {
      training: this.training, momentum: this.momentum, eps: this.eps, relu,
    });
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg(this.layer, inputShape);
    this.checkRank(inputShape);
    if (inputShape[1] !== this.numFeatures) {
      throw new Error(`${this.layer}: channel mismatch: input ${fmt(inputShape)} has ${inputShape[1]} channels on axis 1, the layer has ${this.numFeatures}`);
    }
    return inputShape.slice();
  }
}

/** Batch norm over [N, C] (or [N, C, L]) inputs, per feature C. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super('BatchNorm1d', numFeatures, opts);
  }
  protected checkRank(shape: Shape): void {
    if (shape.length !== 2 && shape.length !== 3) throw new Error(`BatchNorm1d: input must be [N, C] or [N, C, L], got ${fmt(shape)}`);
  }
}

/** Batch norm over [N, C, H, W] inputs, per channel C (statistics over N, H and W). */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super('BatchNorm2d', numFeatures, opts);
  }
  protected checkRank(shape: Shape): void {
    if (shape.length !== 4) throw new Error(`BatchNorm2d: input must be 4-D [N, C, H, W], got ${fmt(shape)}`);
  }
}

/** BatchNorm1d/2d then ReLU as one fused op; reads the norm layer's parameters and mode when it runs. */
export class BatchNormReLU extends Module {
  constructor(readonly norm: Module & { forwardRelu(x: Tensor): Tensor }) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.norm.forwardRelu(x);
  }
}

export interface LayerNormOptions {
  /** δ added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable per-unit γ (weight) and β (bias) of the normalized shape (default true). */
  elementwiseAffine?: boolean;
}

/** Layer norm over the trailing dims `normalizedShape` of each example. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? normalizedShape.slice() : null;
    if (shape === null || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`LayerNorm: normalizedShape must be a positive integer or a non-empty array of them, got ${String(normalizedShape)}`);
    }
    const eps = opts.eps ?? 1e-5;
    if (typeof eps !== 'number' || !(eps > 0 && Number.isFinite(eps))) throw new Error(`LayerNorm: eps must be a finite number > 0, got ${String(eps)}`);
    this.normalizedShape = shape;
    this.eps = eps;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? parameter(full(shape, 1)) : null;
    this.bias = affine ? parameter(full(shape, 0)) : null;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x.shape);
    return layerNorm(x, this.weight, this.bias, this.eps, this.normalizedShape);
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('LayerNorm', inputShape);
    this.checkInput(inputShape);
    return inputShape.slice();
  }

  private checkInput(shape: Shape): void {
    const n = this.normalizedShape.length;
    const tail = shape.slice(shape.length - n);
    if (shape.length < n || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(`LayerNorm: input ${fmt(shape)} does not end in the normalized shape ${fmt(this.normalizedShape)}`);
    }
  }
}
