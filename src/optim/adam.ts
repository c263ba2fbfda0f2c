// Adam (notes §1.3.5.3: "combines RMSProp with momentum") with bias correction, and AdamW
// (decoupled weight decay, Loshchilov & Hutter):
//   g' = g + wd*w (Adam)  |  w -= lr*wd*w (AdamW, g' = g)
//   m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
//   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps),  t = updates of this parameter
import { adamUpdate } from '../ops/inplace.js';
import type { Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/validate.js';
import { Optimizer, nonNegative, positive, unitInterval, type HyperValue, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (default 0.001). */
  lr?: number;
  /** Decay rates [beta1, beta2] of the first and second moment averages, each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the root of the second moment, > 0 (default 1e-8). */
  eps?: number;
  /** Weight decay coefficient (default 0 for Adam, 0.01 for AdamW). */
  weightDecay?: number;
  /** true: decoupled weight decay (AdamW); false: L2 penalty added to the gradient (default false; AdamW forces true). */
  decoupled?: boolean;
}

type Hyper = { betas: [number, number]; eps: number; weightDecay: number; decoupled: boolean };

const KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'decoupled'] as const;

export class Adam extends Optimizer<Hyper> {
  /**
   * @param params tensors, or parameter groups `[{ params, lr: 1e-4 }, { params: other, weightDecay: 0 }]`
   * @param opts defaults for every group
   */
  constructor(params: Params<AdamOptions>, opts: AdamOptions = {}) {
    const isW = new.target === AdamW;
    const name = isW ? 'AdamW' : 'Adam';
    const o = checkOptions(name, opts, KEYS) as AdamOptions;
    super(name, params, {
      lr: o.lr ?? 0.001, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? (isW ? 0.01 : 0), decoupled: isW ? (o.decoupled ?? true) : (o.decoupled ?? false),
    }, KEYS);
  }

  get betas(): [number, number] {
    const [b1, b2] = this.hyperOf('betas');
    return [b1, b2];
  }
  set betas(v: [number, number]) {
    this.setHyperAll('betas', v);
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
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  get decoupled(): boolean {
    return this.hyperOf('decoupled');
  }

  protected override normalize(opts: Record<string, unknown>, where: string): Record<string, unknown> {
    if (this.isAdamW() && opts.decoupled === false) {
      throw new Error(`${where}: decoupled weight decay is what AdamW is; use Adam for decoupled: false`);
    }
    return opts;
  }

  private isAdamW(): boolean {
    return this.name === 'AdamW';
  }

  protected override checkHyper(key: string, v: unknown, where: string): HyperValue {
    if (key === 'betas') return checkBetas(where, v);
    if (key === 'eps') return positive(where, key, v);
    if (key === 'weightDecay') return nonNegative(where, key, v);
    if (key === 'decoupled') {
      if (typeof v !== 'boolean') throw new Error(`${where}: decoupled must be true or false, got ${String(v)}`);
      if (this.isAdamW() && !v) throw new Error('AdamW: decoupled must be true');
      return v;
    }
    return super.checkHyper(key, v, where);
  }

  protected nBuffers(): number {
    return 2;
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<Hyper>): void {
    const t = st.step;
    const [b1, b2] = g.betas;
    adamUpdate(p, grad, st.buffers[0], st.buffers[1], g.lr, b1, b2, g.eps, g.weightDecay, g.decoupled, 1 - b1 ** t, 1 - b2 ** t);
  }
}

/** Adam with decoupled weight decay (default weightDecay 0.01): w -= lr*wd*w besides the Adam step. */
export class AdamW extends Adam {
  constructor(params: Params<Omit<AdamOptions, 'decoupled'>>, opts: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, opts);
  }
}

function checkBetas(opt: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(`${opt}: betas must be a pair [beta1, beta2], got ${Array.isArray(v) ? `an array of ${v.length}` : String(v)}`);
  }
  return [unitInterval(opt, 'betas[0]', v[0]), unitInterval(opt, 'betas[1]', v[1])];
}
