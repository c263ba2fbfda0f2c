// AdaGrad (notes §1.3.5.3, "learning rate scheduling"): each weight's step is divided by the
// root of the sum of all its squared gradients so far.
//   g' = g + weightDecay*w;  h += g'^2;  w -= lr * g' / (sqrt(h) + eps)
import { adagradUpdate } from '../ops/inplace.js';
import type { Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/validate.js';
import { Optimizer, nonNegative, positive, type HyperValue, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdagradOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Added to sqrt(h) to avoid dividing by zero, > 0 (default 1e-10). */
  eps?: number;
  /** L2 penalty coefficient added to the gradient (default 0). */
  weightDecay?: number;
  /** Starting value of the accumulator h (default 0). */
  initialAccumulatorValue?: number;
}

type Hyper = { eps: number; weightDecay: number; initialAccumulatorValue: number };

const KEYS = ['lr', 'eps', 'weightDecay', 'initialAccumulatorValue'] as const;

export class Adagrad extends Optimizer<Hyper> {
  /** @param params tensors, or parameter groups with their own options */
  constructor(params: Params<AdagradOptions>, opts: AdagradOptions = {}) {
    const o = checkOptions('Adagrad', opts, KEYS);
    super('Adagrad', params, {
      lr: o.lr ?? 0.01, eps: o.eps ?? 1e-10, weightDecay: o.weightDecay ?? 0, initialAccumulatorValue: o.initialAccumulatorValue ?? 0,
    }, KEYS);
  }

  get eps(): number {
    return this.hyperOf('eps');
  }
  set eps(v: number) {
    this.setHyperAll('eps', v);
  }
  get weightDecay(): number {
    return this.hyperOf('weightDecay');
  }
  set weightDecay(v: number) {
    this.setHyperAll('weightDecay', v);
  }
  /** Starting value of the accumulator (used when a parameter's state is created). */
  get initialAccumulatorValue(): number {
    return this.hyperOf('initialAccumulatorValue');
  }

  protected override checkHyper(key: string, v: unknown, where: string): HyperValue {
    if (key === 'eps') return positive(where, key, v);
    if (key === 'weightDecay' || key === 'initialAccumulatorValue') return nonNegative(where, key, v);
    return super.checkHyper(key, v, where);
  }

  protected nBuffers(): number {
    return 1;
  }
  protected override initialStateValue(_b: number, g: ParamGroup<Hyper>): number {
    return g.initialAccumulatorValue;
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<Hyper>): void {
    adagradUpdate(p, grad, st.buffers[0], g.lr, g.eps, g.weightDecay);
  }
}
