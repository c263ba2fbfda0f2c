// Pooling layers for convolutional networks: MaxPool2d, AvgPool2d, GlobalAvgPool2d. None has
// parameters (notes §1.5.1.5); each has outputShape() for shape inference when building a model.
import { size2, type Size2 } from '../../ops/conv.js';
import { avgPool2d, globalAvgPool2d, maxPool2d, poolOutputShape, type AvgPool2dOptions, type Pool2dOptions } from '../../ops/pool.js';
import { fmt, type Shape, type Tensor } from '../../core/tensor.js';
import { Module } from '../module.js';
import { checkShapeArg } from './shape.js';

function checkPadding(layer: string, k: [number, number], p: [number, number]): void {
  if (2 * p[0] > k[0] || 2 * p[1] > k[1]) throw new Error(`${layer}: padding [${p}] must be at most half the kernel ${k[0]}x${k[1]}`);
}

/** Max pooling over kernel windows (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernelSize: Size2, opts: Pool2dOptions = {}) {
    super();
    this.kernelSize = size2('MaxPool2d', 'kernel size', kernelSize, 1);
    this.stride = size2('MaxPool2d', 'stride', opts.stride ?? this.kernelSize, 1);
    this.padding = size2('MaxPool2d', 'padding', opts.padding ?? 0, 0);
    checkPadding('MaxPool2d', this.kernelSize, this.padding);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('MaxPool2d', inputShape);
    return poolOutputShape('MaxPool2d', inputShape, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

/** Average pooling over kernel windows (stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly countIncludePad: boolean;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = size2('AvgPool2d', 'kernel size', kernelSize, 1);
    this.stride = size2('AvgPool2d', 'stride', opts.stride ?? this.kernelSize, 1);
    this.padding = size2('AvgPool2d', 'padding', opts.padding ?? 0, 0);
    checkPadding('AvgPool2d', this.kernelSize, this.padding);
    this.countIncludePad = opts.countIncludePad ?? true;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('AvgPool2d', inputShape);
    return poolOutputShape('AvgPool2d', inputShape, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

/** Mean of each channel's plane: [N, C, H, W] -> [N, C]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('GlobalAvgPool2d', inputShape);
    if (inputShape.length !== 4 && inputShape.length !== 3) {
      throw new Error(`GlobalAvgPool2d: input must be 4-D [N, C, H, W] or 3-D [C, H, W], got ${fmt(inputShape)}`);
    }
    return inputShape.slice(0, -2);
  }
}
