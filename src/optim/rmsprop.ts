// RMSProp (notes §1.3.5.3): AdaGrad with the sum of squared gradients replaced by an
// exponentially weighted average, so steps do not shrink towards zero.
//   g' = g + weightDecay*w;  s = alpha*s + (1-alpha)*g'^2;  w -= lr * g' / (sqrt(s) + eps)
import { rmspropUpdate } from '../ops/inplace.js';
import type { Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/validate.js';
import { Optimizer, nonNegative, positive, unitInterval, type HyperValue, type ParamGroup, type ParamState, type Params } from './optimizer.js';

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

type Hyper = { alpha: number; eps: number; weightDecay: number };

const KEYS = ['lr', 'alpha', 'rho', 'eps', 'weightDecay'] as const;

export class RMSprop extends Optimizer<Hyper> {
  /** @param params tensors, or parameter groups with their own options */
  constructor(params: Params<RMSpropOptions>, opts: RMSpropOptions = {}) {
    const o = checkOptions('RMSprop', opts, KEYS);
    super('RMSprop', params, { lr: o.lr ?? 0.01, alpha: o.alpha, rho: o.rho, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0 }, KEYS);
  }

  get alpha(): number {
    return this.hyperOf('alpha');
  }
  set alpha(v: number) {
    this.setHyperAll('alpha', v);
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

  /** rho is alpha's other name: one of them, stored as alpha (default 0.99). */
  protected override normalize(opts: Record<string, unknown>, where: string): Record<string, unknown> {
    const { rho, ...rest } = opts;
    if (rest.alpha !== undefined && rho !== undefined) {
      throw new Error(`${where}: give alpha or rho (the same decay rate), not both (got alpha ${String(rest.alpha)}, rho ${String(rho)})`);
    }
    if (rho !== undefined) rest.alpha = rho;
    else if ('alpha' in rest && rest.alpha === undefined) rest.alpha = 0.99;
    return rest;
  }

  protected override checkHyper(key: string, v: unknown, where: string): HyperValue {
    if (key === 'alpha') return unitInterval(where, key, v);
    if (key === 'eps') return positive(where, key, v);
    if (key === 'weightDecay') return nonNegative(where, key, v);
    return super.checkHyper(key, v, where);
  }

  protected nBuffers(): number {
    return 1;
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<Hyper>): void {
    rmspropUpdate(p, grad, st.buffers[0], g.lr, g.alpha, g.eps, g.weightDecay);
  }
}
