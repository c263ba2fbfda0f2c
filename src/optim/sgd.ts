// Stochastic gradient descent with momentum, notes §1.3.5.3:
//   dw(t) = -lr * grad E(w(t)) + momentum * dw(t-1);  w(t+1) = w(t) + dw(t)
// with optional L2 weight decay folded into the gradient (grad + weightDecay * w).
// Note: the velocity keeps dw itself (lr included), as in the notes, so changing lr
// mid-run scales only the new gradient term (PyTorch keeps lr outside its buffer).
import { sgdUpdate } from '../ops/inplace.js';
import type { Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/validate.js';
import { Optimizer, nonNegative, unitInterval, type HyperValue, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate eta (required, here or in every parameter group). */
  lr: number;
  /** Momentum mu in [0, 1); 0 (default) is plain gradient descent and keeps no state. */
  momentum?: number;
  /** L2 penalty coefficient added to the gradient: g + weightDecay * w (default 0). */
  weightDecay?: number;
}

type Hyper = { momentum: number; weightDecay: number };

const KEYS = ['lr', 'momentum', 'weightDecay'] as const;

export class SGD extends Optimizer<Hyper> {
  /**
   * @param params tensors, or parameter groups `[{ params, lr?, momentum?, weightDecay?, lrScale? }, ...]`
   * @param opts defaults for every group
   */
  constructor(params: Params<Partial<SGDOptions>>, opts?: SGDOptions) {
    const list = params !== null && params !== undefined && typeof (params as Iterable<unknown>)[Symbol.iterator] === 'function' ? Array.from(params as Iterable<unknown>) : params;
    const grouped = Array.isArray(list) && list.length > 0 && list.every((g) => g !== null && typeof g === 'object' && 'params' in g && !('ptr' in g));
    if (opts === undefined && !grouped) throw new Error('SGD: options with a learning rate are required, e.g. new SGD(params, { lr: 0.1 })');
    const o = checkOptions('SGD', opts, KEYS);
    super('SGD', list as Params, { lr: o.lr, momentum: o.momentum ?? 0, weightDecay: o.weightDecay ?? 0 }, KEYS);
  }

  get momentum(): number {
    return this.hyperOf('momentum');
  }
  set momentum(v: number) {
    this.setHyperAll('momentum', v);
  }
  get weightDecay(): number {
    return this.hyperOf('weightDecay');
  }
  set weightDecay(v: number) {
    this.setHyperAll('weightDecay', v);
  }

  protected override checkHyper(key: string, v: unknown, where: string): HyperValue {
    if (key === 'momentum') return unitInterval(where, key, v);
    if (key === 'weightDecay') return nonNegative(where, key, v);
    return super.checkHyper(key, v, where);
  }

  protected nBuffers(g: ParamGroup<Hyper>): number {
    return g.momentum !== 0 ? 1 : 0;
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<Hyper>): void {
    // Without momentum there is no velocity tensor: the kernel gets a null pointer.
    sgdUpdate(p, grad, st.buffers.length > 0 ? st.buffers[0] : null, g.lr, g.momentum, g.weightDecay);
  }
}
