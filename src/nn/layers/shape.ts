// Reshaping layers (Flatten) and the shape-argument check every layer's outputShape() uses.
import { flatten } from '../../ops/shape.js';
import { fmt, type Shape, type Tensor } from '../../core/tensor.js';
import { Module } from '../module.js';

/** @internal outputShape()'s argument: an array of integers >= 0. */
export function checkShapeArg(layer: string, inputShape: Shape): void {
  if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${layer}.outputShape: expected an array of integers >= 0, got ${String(inputShape)}`);
  }
}

/** Flattens the dims from startDim on (default 1): [N, C, H, W] -> [N, C*H*W]. */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
    if (!Number.isInteger(startDim)) throw new Error(`Flatten: startDim must be an integer, got ${startDim}`);
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('Flatten', inputShape);
    const n = inputShape.length;
    if (n === 0) return [1];
    const s = this.startDim < 0 ? this.startDim + n : this.startDim;
    if (s < 0 || s >= n) throw new Error(`Flatten: startDim ${this.startDim} is out of range for input ${fmt(inputShape)}`);
    return [...inputShape.slice(0, s), inputShape.slice(s).reduce((a, b) => a * b, 1)];
  }
}
