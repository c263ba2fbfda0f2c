// Adam (notes §1.3.5.3: "combines RMSProp with momentum") with bias correction, and AdamW
// (decoupled weight decay, Loshchilov & Hutter):
//   g' = g + wd*w (Adam)  |  w -= lr*wd*w (AdamW, g' = g)
//   m = b1*m + (1-b1)*g';  v = b2*v + (1-b2)*g'^2
//   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps),  t = updates of this parameter
import type { Kernels } from '../../bindings/index';
import type { Tensor } from '../core/tensor';
import { Optimizer, checkOptions, nonNegative, positive, unitInterval, type HyperValue, type ParamState } from './optimizer';

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

const KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'decoupled'] as const;

export class Adam extends Optimizer {
  private _beta1 = 0.9;
  private _beta2 = 0.999;
  private _eps = 1e-8;
  private _weightDecay = 0;
  private _decoupled = false;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    const isW = new.target === AdamW;
    const name = isW ? 'AdamW' : 'Adam';
    const o = checkOptions(name, opts, KEYS) as AdamOptions;
    super(name, params, o.lr ?? 0.001);
    if (isW && o.decoupled === false) throw new Error('AdamW: decoupled weight decay is what AdamW is; use Adam for decoupled: false');
    this.setHyper({
      betas: (o.betas ?? [0.9, 0.999]) as number[],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? (isW ? 0.01 : 0),
      decoupled: isW ? true : (o.decoupled ?? false),
    });
  }

  get betas(): [number, number] {
    return [this._beta1, this._beta2];
  }
  set betas(v: [number, number]) {
    const [b1, b2] = checkBetas(this.name, v);
    this._beta1 = b1;
    this._beta2 = b2;
  }
  get eps(): number {
    return this._eps;
  }
  set eps(v: number) {
    this._eps = positive(this.name, 'eps', v);
  }
  get weightDecay(): number {
    return this._weightDecay;
  }
  set weightDecay(v: number) {
    this._weightDecay = nonNegative(this.name, 'weightDecay', v);
  }
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  get decoupled(): boolean {
    return this._decoupled;
  }

  protected nBuffers(): number {
    return 2;
  }

  protected update(k: Kernels, p: Tensor, g: Tensor, st: ParamState): void {
    const t = st.step;
    const bc1 = 1 - this._beta1 ** t;
    const bc2 = 1 - this._beta2 ** t;
    k.adamStep(
      p.ptr, g.ptr, st.buffers[0], st.buffers[1], p.size, this.lr, this._beta1, this._beta2,
      this._eps, this._weightDecay, this._decoupled ? 1 : 0, bc1, bc2,
    );
  }

  protected hyper(): Record<string, HyperValue> {
    return { betas: [this._beta1, this._beta2], eps: this._eps, weightDecay: this._weightDecay, decoupled: this._decoupled };
  }
  protected setHyper(h: Record<string, HyperValue>): void {
    const [b1, b2] = checkBetas(this.name, h.betas);
    const eps = positive(this.name, 'eps', h.eps);
    const weightDecay = nonNegative(this.name, 'weightDecay', h.weightDecay);
    const decoupled = h.decoupled;
    if (typeof decoupled !== 'boolean') throw new Error(`${this.name}: decoupled must be true or false, got ${String(decoupled)}`);
    if (this.name === 'AdamW' && !decoupled) throw new Error('AdamW: decoupled must be true');
    this._beta1 = b1;
    this._beta2 = b2;
    this._eps = eps;
    this._weightDecay = weightDecay;
    this._decoupled = decoupled;
  }
}

/** Adam with decoupled weight decay (default weightDecay 0.01): w -= lr*wd*w besides the Adam step. */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, opts);
  }
}

function checkBetas(opt: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(`${opt}: betas must be a pair [beta1, beta2], got ${Array.isArray(v) ? `an array of ${v.length}` : String(v)}`);
  }
  return [unitInterval(opt, 'betas[0]', v[0]), unitInterval(opt, 'betas[1]', v[1])];
}
