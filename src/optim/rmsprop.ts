// RMSProp (notes §1.3.5.3): AdaGrad with the sum of squared gradients replaced by an
// exponentially weighted average, so steps do not shrink towards zero.
//   g' = g + weightDecay*w;  s = alpha*s + (1-alpha)*g'^2;  w -= lr * g' / (sqrt(s) + eps)
import type { Kernels } from '../../bindings/index';
import type { Tensor } from '../core/tensor';
import { Optimizer, checkOptions, nonNegative, positive, unitInterval, type HyperValue, type ParamState } from './optimizer';

export interface RMSpropOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Decay rate of the squared-gradient average, in [0, 1) (default 0.99). */
  alpha?: number;
  /** Keras' name for alpha; give one or the other. */
  rho?: number;
  /** Added to sqrt(s), > 0 (default 1e-8). */
  eps?: number;
  /** L2 penalty coefficient added to the gradient (default 0). */
  weightDecay?: number;
}

const KEYS = ['lr', 'alpha', 'rho', 'eps', 'weightDecay'] as const;

export class RMSprop extends Optimizer {
  private _alpha = 0.99;
  private _eps = 1e-8;
  private _weightDecay = 0;

  constructor(params: Iterable<Tensor>, opts: RMSpropOptions = {}) {
    const o = checkOptions('RMSprop', opts, KEYS);
    if (o.alpha !== undefined && o.rho !== undefined) {
      throw new Error(`RMSprop: give alpha or rho (the same decay rate), not both (got alpha ${String(o.alpha)}, rho ${String(o.rho)})`);
    }
    super('RMSprop', params, o.lr ?? 0.01);
    this.setHyper({
      alpha: (o.alpha ?? o.rho ?? 0.99) as number,
      eps: (o.eps ?? 1e-8) as number,
      weightDecay: (o.weightDecay ?? 0) as number,
    });
  }

  get alpha(): number {
    return this._alpha;
  }
  set alpha(v: number) {
    this._alpha = unitInterval('RMSprop', 'alpha', v);
  }
  get eps(): number {
    return this._eps;
  }
  set eps(v: number) {
    this._eps = positive('RMSprop', 'eps', v);
  }
  get weightDecay(): number {
    return this._weightDecay;
  }
  set weightDecay(v: number) {
    this._weightDecay = nonNegative('RMSprop', 'weightDecay', v);
  }

  protected nBuffers(): number {
    return 1;
  }

  protected update(k: Kernels, p: Tensor, g: Tensor, st: ParamState): void {
    k.rmspropStep(p.ptr, g.ptr, st.buffers[0], p.size, this.lr, this._alpha, this._eps, this._weightDecay);
  }

  protected hyper(): Record<string, HyperValue> {
    return { alpha: this._alpha, eps: this._eps, weightDecay: this._weightDecay };
  }
  protected setHyper(h: Record<string, HyperValue>): void {
    const alpha = unitInterval('RMSprop', 'alpha', h.alpha);
    const eps = positive('RMSprop', 'eps', h.eps);
    const weightDecay = nonNegative('RMSprop', 'weightDecay', h.weightDecay);
    this._alpha = alpha;
    this._eps = eps;
    this._weightDecay = weightDecay;
  }
}
