// Convolution layers: Conv2d and ConvTranspose2d (PyTorch layouts and defaults), each with
// outputShape() for shape inference when building a model.
import {
  conv2d, conv2dOutputShape, convTranspose2d, convTranspose2dOutputShape, size2,
  type Conv2dOptions, type ConvTranspose2dOptions, type Size2,
} from '../../ops/conv.js';
import { zeros, type Shape, type Tensor } from '../../core/tensor.js';
import { positiveInt } from '../../core/validate.js';
import { initTensor, type Init } from '../init.js';
import { Module, parameter, type AnyModule } from '../module.js';
import { ReLU } from './activation.js';

// A following ReLU module is fused by Sequential, so the layer has no relu option of its own.
export interface Conv2dLayerOptions extends Omit<Conv2dOptions, 'relu'> {
  /** Learnable per-channel bias (default true; initialised to zero, like Linear). */
  bias?: boolean;
  /**
   * Weight initialiser (default 'xavier': U[-1/√M, 1/√M] with M = inChannels·kh·kw, PyTorch's
   * default range; 'he' for ReLU networks).
   */
  init?: Init;
}

export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  /** Learnable per-channel bias (default true; initialised to zero). */
  bias?: boolean;
  /** Weight initialiser (default 'xavier' with M = outChannels·kh·kw, PyTorch's fan-in for this layout). */
  init?: Init;
}

/** [N, C, H, W] -> output shape; a [C, H, W] shape (no batch) gives [F, OH, OW]. */
function inferShape(layer: string, inputShape: Shape, f: (s: Shape) => number[]): number[] {
  if (!Array.isArray(inputShape)) throw new Error(`${layer}.outputShape: expected an array [N, C, H, W] or [C, H, W], got ${String(inputShape)}`);
  if (inputShape.length === 3) return f([1, ...inputShape]).slice(1);
  return f(inputShape);
}

/** 2-D convolution layer: weight [outChannels, inChannels, kh, kw], bias [outChannels]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same';
  private readonly opts: Conv2dOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Size2, opts: Conv2dLayerOptions = {}) {
    super();
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    const [kh, kw] = size2('Conv2d', 'kernelSize', kernelSize, 1);
    this.kernelSize = [kh, kw];
    this.stride = size2('Conv2d', 'stride', opts.stride ?? 1, 1);
    const pad = opts.padding ?? 0;
    this.padding = pad === 'same' ? 'same' : pad === 'valid' ? [0, 0] : size2('Conv2d', 'padding', pad, 0);
    this.opts = { stride: this.stride, padding: this.padding };
    // Validates the combination ('same' with a stride) before any weight is drawn.
    conv2dOutputShape([1, inChannels, kh, kw], [outChannels, inChannels, kh, kw], this.opts);
    const fanIn = inChannels * kh * kw;
    const fanOut = outChannels * kh * kw;
    this.weight = parameter(initTensor(opts.init ?? 'xavier', [outChannels, inChannels, kh, kw], fanIn, fanOut));
    this.bias = opts.bias === false ? null : parameter(zeros([outChannels]));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }

  /** The layer followed by ReLU, fused into the convolution. */
  forwardRelu(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { ...this.opts, relu: true });
  }

  /** A following ReLU runs inside the convolution (on each image while it is in cache). */
  override fuseNext(next: AnyModule): AnyModule | null {
    return next instanceof ReLU ? new Conv2dReLU(this) : null;
  }

  /** Output shape for an input shape [N, C, H, W] (or [C, H, W]); throws what forward would. */
  outputShape(inputShape: Shape): number[] {
    return inferShape('Conv2d', inputShape, (s) => conv2dOutputShape(s, this.weight.shape, this.opts));
  }
}

/** Conv2d then ReLU as one fused op; reads the Conv2d's parameters when it runs. */
export class Conv2dReLU extends Module {
  constructor(readonly conv: Conv2d) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.conv.forwardRelu(x);
  }
}

/** Transposed 2-D convolution layer: weight [inChannels, outChannels, kh, kw], bias [outChannels]. */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  private readonly opts: ConvTranspose2dOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Size2, opts: ConvTranspose2dLayerOptions = {}) {
    super();
    positiveInt('ConvTranspose2d', 'inChannels', inChannels);
    positiveInt('ConvTranspose2d', 'outChannels', outChannels);
    const [kh, kw] = size2('ConvTranspose2d', 'kernelSize', kernelSize, 1);
    this.kernelSize = [kh, kw];
    this.stride = size2('ConvTranspose2d', 'stride', opts.stride ?? 1, 1);
    this.padding = size2('ConvTranspose2d', 'padding', opts.padding ?? 0, 0);
    this.outputPadding = size2('ConvTranspose2d', 'outputPadding', opts.outputPadding ?? 0, 0);
    if (this.outputPadding[0] >= this.stride[0] || this.outputPadding[1] >= this.stride[1]) {
      throw new Error(`ConvTranspose2d: outputPadding [${this.outputPadding}] must be smaller than the stride [${this.stride}]`);
    }
    this.opts = { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding };
    const fanIn = outChannels * kh * kw;
    const fanOut = inChannels * kh * kw;
    this.weight = parameter(initTensor(opts.init ?? 'xavier', [inChannels, outChannels, kh, kw], fanIn, fanOut));
    this.bias = opts.bias === false ? null : parameter(zeros([outChannels]));
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.opts);
  }

  /** Output shape for an input shape [N, C, H, W] (or [C, H, W]); throws what forward would. */
  outputShape(inputShape: Shape): number[] {
    return inferShape('ConvTranspose2d', inputShape, (s) => convTranspose2dOutputShape(s, this.weight.shape, this.opts));
  }
}
