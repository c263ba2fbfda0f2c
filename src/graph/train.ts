// Semi-supervised node classification (notes §1.13.6.1): the whole graph goes through the
// model every step and the loss Σ_v L(y_v, DEC(ENC(A, x_v))) covers the labelled nodes only.
import { backward, noGrad } from '../core/autograd.js';
import { scope, tensor, type Tensor } from '../core/tensor.js';
import { gatherRows } from '../ops/graph.js';
import { crossEntropy } from '../ops/loss.js';
import type { AnyModule } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import type { Graph } from './graph.js';
import { accuracyOn, argmaxRows } from './metrics.js';

export interface NodeTrainingOptions {
  /** The labelled nodes the loss sees. */
  train: ArrayLike<number>;
  /** Nodes to report accuracy on (default: every node not in train). */
  evaluate?: ArrayLike<number>;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
}

export interface NodeTrainingResult {
  /** Loss per epoch. */
  losses: number[];
  /** Predicted class of every node after training. */
  predictions: Int32Array;
  /** Accuracy over the evaluated nodes. */
  accuracy: number;
}

/**
 * Trains `model` (called as model.call(graph, x), logits [n, C]) with Adam on the labelled
 * nodes of `graph` and reports the accuracy on the others. Works for any node model: a GCN,
 * message-passing layers, or an MLP that ignores the graph (the features-only baseline).
 */
export function trainNodeClassifier(model: AnyModule, graph: Graph, opts: NodeTrainingOptions): NodeTrainingResult {
  if (graph.labels === null) throw new Error('trainNodeClassifier: the graph has no labels');
  const labels = graph.labels;
  const trainIdx = Int32Array.from(opts.train);
  const inTrain = new Uint8Array(graph.numNodes);
  for (const v of trainIdx) inTrain[v] = 1;
  const evaluate = opts.evaluate ?? Array.from({ length: graph.numNodes }, (_, v) => v).filter((v) => inTrain[v] === 0);
  const opt = new Adam(model.parameters(), { lr: opts.lr ?? 0.01, weightDecay: opts.weightDecay ?? 5e-4 });
  const x = graph.x();
  const losses: number[] = [];
  try {
    model.train();
    for (let epoch = 0; epoch < (opts.epochs ?? 200); epoch++) {
      losses.push(scope(() => {
        const idx = tensor(trainIdx, [trainIdx.length], { dtype: 'int32' });
        const y = tensor(Int32Array.from(trainIdx, (v) => labels[v]), [trainIdx.length], { dtype: 'int32' });
        const logits = model.call(graph, x) as Tensor;
        const loss = crossEntropy(gatherRows(logits, idx), y);
        opt.zeroGrad();
        backward(loss);
        opt.step();
        return loss.item();
      }));
    }
    model.eval();
    const predictions = noGrad(() => scope(() => argmaxRows(model.call(graph, x) as Tensor)));
    return { losses, predictions, accuracy: accuracyOn(predictions, labels, evaluate) };
  } finally {
    opt.dispose();
  }
}
