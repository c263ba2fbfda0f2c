// Representation learning by contrast and domain adaptation (notes §1.8.2.2, §1.8.4.1): the
// gradient-reversal layer, SimCLR's encoder + projection head trained with InfoNCE on two
// augmentations of each example, and MoCo's queue of negatives with a momentum (EMA) encoder.
import { noGrad } from '../../core/autograd.js';
import { Tensor, tensor } from '../../core/tensor.js';
import { assertFiniteNumber, numberIn, positiveInt } from '../../core/validate.js';
import { add, div, mul, sqrt, square } from '../../ops/elementwise.js';
import { gradReverse, infoNce } from '../../ops/generative.js';
import { copyInto, writeElements } from '../../ops/inplace.js';
import { crossEntropy } from '../../ops/loss.js';
import { matmul } from '../../ops/matmul.js';
import { sum } from '../../ops/reduce.js';
import { concat, transpose } from '../../ops/shape.js';
import { randn } from '../../core/random.js';
import { Sequential } from '../../nn/containers.js';
import { Linear } from '../../nn/layers/linear.js';
import { ReLU } from '../../nn/layers/activation.js';
import { Module, type AnyModule } from '../../nn/module.js';

/** Identity forward, −λ·gradient backward (Ganin & Lempitsky): put it between the features and a domain classifier. */
export class GradientReversal extends Module {
  constructor(public lambda = 1) {
    super();
    assertFiniteNumber('GradientReversal', 'lambda', lambda);
  }
  forward(x: Tensor): Tensor {
    return gradReverse(x, this.lambda);
  }
}

/** SimCLR's projection head: Linear → ReLU → Linear; the loss is taken on its output, the features below it are kept. */
export function projectionHead(inputs: number, hidden: number, out: number): Sequential {
  positiveInt('projectionHead', 'inputs', inputs);
  positiveInt('projectionHead', 'hidden', hidden);
  positiveInt('projectionHead', 'out', out);
  return new Sequential(new Linear(inputs, hidden, { init: 'he' }), new ReLU(), new Linear(hidden, out));
}

/** An encoder with a projection head: features = encoder(x), z = head(features). */
export class SimClr extends Module<[Tensor], Tensor> {
  constructor(readonly encoder: AnyModule, readonly head: AnyModule, readonly temperature = 0.5) {
    super();
    numberIn('SimClr', 'temperature', temperature, 0, Infinity, { loOpen: true, hiOpen: true });
  }
  /** The projection z of x. */
  forward(x: Tensor): Tensor {
    return this.head.call(this.encoder.call(x) as Tensor) as Tensor;
  }
  /** The representation (below the head) used downstream. */
  features(x: Tensor): Tensor {
    return this.encoder.call(x) as Tensor;
  }
  /** InfoNCE of two augmented views of the same batch (row i of each is a positive pair). */
  loss(view1: Tensor, view2: Tensor): Tensor {
    return infoNce(this.forward(view1), this.forward(view2), this.temperature);
  }
}

function unit(z: Tensor): Tensor {
  return div(z, sqrt(add(sum(square(z), 1, true), 1e-8)));
}

/**
 * MoCo (He et al. 2020): queries from the encoder, keys from a momentum encoder updated as
 * θ_k ← m·θ_k + (1 − m)·θ_q, and a queue of the last `queueSize` keys as negatives, so the
 * number of negatives does not depend on the batch size. `query` and `key` are two modules of
 * the same architecture (the key one is never trained by gradients).
 */
export class Moco extends Module<[Tensor], Tensor> {
  readonly queue: Tensor;
  private next = 0;
  private filled = 0;

  constructor(readonly query: AnyModule, readonly key: AnyModule, dim: number, readonly queueSize = 1024, readonly momentum = 0.99, readonly temperature = 0.2) {
    super();
    positiveInt('Moco', 'dim', dim);
    positiveInt('Moco', 'queueSize', queueSize);
    numberIn('Moco', 'momentum', momentum, 0, 1);
    numberIn('Moco', 'temperature', temperature, 0, Infinity, { loOpen: true, hiOpen: true });
    const qp = query.parameters();
    const kp = key.parameters();
    if (qp.length !== kp.length || qp.some((p, i) => p.size !== kp[i].size)) throw new Error('Moco: the query and key encoders must have the same parameters');
    noGrad(() => kp.forEach((p, i) => copyInto(p, 0, qp[i])));
    for (const p of kp) p.requiresGrad = false;
    // A random unit start, so that the first batches have negatives before the queue fills.
    const start = randn([queueSize, dim]);
    this.queue = tensor(noGrad(() => unit(start)).data(), [queueSize, dim]);
    start.dispose();
  }

  forward(x: Tensor): Tensor {
    return this.query.call(x) as Tensor;
  }

  /** θ_k ← m·θ_k + (1 − m)·θ_q. */
  momentumUpdate(): void {
    const m = this.momentum;
    const qp = this.query.parameters();
    const kp = this.key.parameters();
    noGrad(() => {
      kp.forEach((p, i) => {
        const mixed = add(mul(p, m), mul(qp[i], 1 - m));
        copyInto(p, 0, mixed);
      });
    });
  }

  /**
   * The InfoNCE loss of queries q = f_q(view1) against their keys k = f_k(view2) (positives)
   * and the queue (negatives), cosine similarity over τ; then enqueues the keys.
   */
  loss(view1: Tensor, view2: Tensor): Tensor {
    const q = unit(this.forward(view1));
    const k = noGrad(() => unit(this.key.call(view2) as Tensor));
    const n = q.shape[0];
    const pos = sum(mul(q, k), 1, true);
    const neg = matmul(q, transpose(this.queue));
    const logits = div(concat([pos, neg], 1), this.temperature);
    const loss = crossEntropy(logits, tensor(new Int32Array(n), [n], { dtype: 'int32' }));
    this.enqueue(k);
    return loss;
  }

  /** Negatives seen so far (up to queueSize; the rest of the queue is the random start). */
  get queued(): number {
    return this.filled;
  }

  private enqueue(k: Tensor): void {
    const [n, d] = k.shape;
    const rows = k.data();
    const take = Math.min(n, this.queueSize);
    for (let i = 0; i < take; i++) {
      writeElements(this.queue, this.next * d, rows.subarray(i * d, (i + 1) * d));
      this.next = (this.next + 1) % this.queueSize;
    }
    this.filled = Math.min(this.queueSize, this.filled + take);
  }
}
