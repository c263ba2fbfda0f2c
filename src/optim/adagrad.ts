// AdaGrad (notes §1.3.5.3, "learning rate scheduling"): each weight's step is divided by the
// root of the sum of all its squared gradients so far.
//   g' = g + weightDecay*w;  h += g'^2;  w -= lr * g' / (sqrt(h) + eps)
import type { Kernels } from '../../bindings/index';
import type { Tensor } from '../core/tensor';
import { Optimizer, checkOptions, nonNegative, positive, type HyperValue, type ParamState } from './optimizer';

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

const KEYS = ['lr', 'eps', 'weightDecay', 'initialAccumulatorValue'] as const;

export class Adagrad extends Optimizer {
  private _eps = 1e-10;
  private _weightDecay = 0;
  private _initial = 0;

  constructor(params: Iterable<Tensor>, opts: AdagradOptions = {}) {
    const o = checkOptions('Adagrad', opts, KEYS);
    super('Adagrad', params, o.lr ?? 0.01);
    this.setHyper({
      eps: (o.eps ?? 1e-10) as number,
      weightDecay: (o.weightDecay ?? 0) as number,
      initialAccumulatorValue: (o.initialAccumulatorValue ?? 0) as number,
    });
  }

  get eps(): number {
    return this._eps;
  }
  set eps(v: number) {
    this._eps = positive('Adagrad', 'eps', v);
  }
  get weightDecay(): number {
    return this._weightDecay;
  }
  set weightDecay(v: number) {
    this._weightDecay = nonNegative('Adagrad', 'weightDecay', v);
  }
  /** Starting value of the accumulator (used when a parameter's state is created). */
  get initialAccumulatorValue(): number {
    return this._initial;
  }

  protected nBuffers(): number {
    return 1;
  }
  protected override initialStateValue(): number {
    return this._initial;
  }

  protected update(k: Kernels, p: Tensor, g: Tensor, st: ParamState): void {
    k.adagradStep(p.ptr, g.ptr, st.buffers[0], p.size, this.lr, this._eps, this._weightDecay);
  }

  protected hyper(): Record<string, HyperValue> {
    return { eps: this._eps, weightDecay: this._weightDecay, initialAccumulatorValue: this._initial };
  }
  protected setHyper(h: Record<string, HyperValue>): void {
    const eps = positive('Adagrad', 'eps', h.eps);
    const weightDecay = nonNegative('Adagrad', 'weightDecay', h.weightDecay);
    const initial = nonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    this._eps = eps;
    this._weightDecay = weightDecay;
    this._initial = initial;
  }
}
