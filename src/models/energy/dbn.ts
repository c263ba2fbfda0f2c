// Deep belief nets by greedy layer-wise unsupervised pretraining (notes §1.4.2.5, §1.8.3):
// RBM k is trained on the hidden probabilities RBM k−1 gives the data (the notes' figure 6,
// UnsupervisedLearn = an RBM, repr k+1 = its hidden probabilities). The stack then either
// initialises a feed-forward net (Linear + Sigmoid per RBM, the RBM's w and c as the layer's
// weight and bias) that a classifier head and backprop fine-tune, or generates: Gibbs sampling
// in the top RBM, then one top-down pass through the lower RBMs' p(v|h).
import { Generator, rng } from '../../core/random.js';
import { Tensor, scope } from '../../core/tensor.js';
import { Sequential } from '../../nn/containers.js';
import { Linear } from '../../nn/layers/linear.js';
import { Sigmoid } from '../../nn/layers/activation.js';
import type { AnyModule } from '../../nn/module.js';
import { RBM, type FitOptions, type RBMEpoch, type Sampling } from './rbm.js';

export interface DBNOptions {
  generator?: Generator;
  /** Standard deviation of each RBM's initial weights (default 0.01). */
  initStd?: number;
}

export class DBN {
  /** sizes[0] visible units, then the hidden layers' sizes. */
  readonly sizes: readonly number[];
  readonly rbms: RBM[];

  constructor(sizes: readonly number[], opts: DBNOptions = {}) {
    if (sizes.length < 2) throw new Error(`DBN: need the visible size and at least one hidden size, got [${sizes}]`);
    this.sizes = [...sizes];
    const generator = opts.generator ?? rng;
    this.rbms = [];
    for (let k = 0; k + 1 < sizes.length; k++) this.rbms.push(new RBM(sizes[k], sizes[k + 1], { generator, initStd: opts.initStd }));
  }

  /**
   * Greedy layer-wise pretraining on unlabelled rows `data`: each RBM in turn, on the hidden
   * probabilities of the one below. `opts` applies to every layer, or give one per layer.
   */
  pretrain(data: Float32Array, opts: FitOptions | readonly FitOptions[] = {}): RBMEpoch[][] {
    const histories: RBMEpoch[][] = [];
    let repr = data;
    this.rbms.forEach((rbm, k) => {
      const o = Array.isArray(opts) ? (opts as readonly FitOptions[])[k] ?? {} : (opts as FitOptions);
      histories.push(rbm.fit(repr, o));
      if (k + 1 < this.rbms.length) repr = rbm.transform(repr);
    });
    return histories;
  }

  /** The representation of the top hidden layer: hidden probabilities propagated up. */
  transform(data: Float32Array): Float32Array {
    let repr = data;
    for (const rbm of this.rbms) repr = rbm.transform(repr);
    return repr;
  }

  /**
   * The stack unrolled into a feed-forward net: Linear(w, c) + Sigmoid per RBM, the weights
   * copied (the net and the DBN then train independently). With `classes`, a Linear head of
   * that many outputs (logits, for softmax cross-entropy) is appended, initialised as nn.Linear is.
   */
  toSequential(classes?: number): Sequential {
    const layers: AnyModule[] = [];
    for (const rbm of this.rbms) {
      const lin = new Linear(rbm.visible, rbm.hidden);
      lin.weight.setData(rbm.weight.data());
      lin.bias!.setData(rbm.hiddenBias.data());
      layers.push(lin, new Sigmoid());
    }
    if (classes !== undefined) layers.push(new Linear(this.sizes[this.sizes.length - 1], classes));
    return new Sequential(...layers);
  }

  /**
   * n samples: a Gibbs chain of `steps` steps in the top RBM from random states, then p(v|h)
   * down through the lower RBMs (each layer's probabilities taken as the states below).
   */
  generate(n: number, steps = 200, sampling: Sampling = 'bernoulli'): Tensor {
    const top = this.rbms[this.rbms.length - 1];
    return scope(() => {
      let x = top.generate(n, steps, sampling);
      for (let k = this.rbms.length - 2; k >= 0; k--) x = this.rbms[k].visibleProbabilities(x);
      return x;
    });
  }

  dispose(): void {
    for (const r of this.rbms) r.dispose();
  }
}
