// Stochastic gradient descent with momentum, notes §1.3.5.3:
//   dw(t) = -lr * grad E(w(t)) + momentum * dw(t-1);  w(t+1) = w(t) + dw(t)
// with optional L2 weight decay folded into the gradient (grad + weightDecay * w).
// Note: the velocity keeps dw itself (lr included), as in the notes, so changing lr
// mid-run scales only the new gradient term (PyTorch keeps lr outside its buffer).
import type { Kernels } from '../../bindings/index';
import type { Tensor } from '../core/tensor';
import { Optimizer, checkOptions, nonNegative, unitInterval, type HyperValue, type ParamState } from './optimizer';

export interface SGDOptions {
  /** Learning rate eta (required). */
  lr: number;
  /** Momentum mu in [0, 1); 0 (default) is plain gradient descent and keeps no state. */
  momentum?: number;
  /** L2 penalty coefficient added to the gradient: g + weightDecay * w (default 0). */
  weightDecay?: number;
}

const KEYS = ['lr', 'momentum', 'weightDecay'] as const;

export class SGD extends Optimizer {
  private _momentum = 0;
  private _weightDecay = 0;

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    if (opts === undefined) throw new Error('SGD: options with a learning rate are required, e.g. new SGD(params, { lr: 0.1 })');
    const o = checkOptions('SGD', opts, KEYS);
    super('SGD', params, o.lr);
    this.momentum = (o.momentum ?? 0) as number;
    this.weightDecay = (o.weightDecay ?? 0) as number;
  }

  get momentum(): number {
    return this._momentum;
  }
  set momentum(v: number) {
    this._momentum = unitInterval('SGD', 'momentum', v);
  }
  get weightDecay(): number {
    return this._weightDecay;
  }
  set weightDecay(v: number) {
    this._weightDecay = nonNegative('SGD', 'weightDecay', v);
  }

  protected nBuffers(): number {
    return this._momentum !== 0 ? 1 : 0;
  }

  protected update(k: Kernels, p: Tensor, g: Tensor, st: ParamState): void {
    // Without momentum there is no velocity buffer: the kernel takes a null pointer.
    k.sgdStep(p.ptr, g.ptr, st.buffers.length > 0 ? st.buffers[0] : 0, p.size, this.lr, this._momentum, this._weightDecay);
  }

  protected hyper(): Record<string, HyperValue> {
    return { momentum: this._momentum, weightDecay: this._weightDecay };
  }
  protected setHyper(h: Record<string, HyperValue>): void {
    const momentum = unitInterval('SGD', 'momentum', h.momentum);
    const weightDecay = nonNegative('SGD', 'weightDecay', h.weightDecay);
    this._momentum = momentum;
    this._weightDecay = weightDecay;
  }
}
