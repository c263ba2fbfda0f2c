// Dropout (notes §1.5.1.7): inverted dropout while training, the identity in eval().
import { dropout } from '../../ops/dropout.js';
import type { Shape, Tensor } from '../../core/tensor.js';
import { numberIn } from '../../core/validate.js';
import { Module } from '../module.js';
import { checkShapeArg } from './shape.js';

/** Inverted dropout with probability p while training; the identity in eval(). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    numberIn('Dropout', 'p', p, 0, 1, { hiOpen: true });
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  outputShape(inputShape: Shape): number[] {
    checkShapeArg('Dropout', inputShape);
    return inputShape.slice();
  }
}
