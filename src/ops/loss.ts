// Loss functions (notes §1.1.1.5, §1.2.4, §1.3.5.1). Losses take (prediction, target) and
// return a scalar; 'mean' averages over examples (rows) as the notes' 1/n Σ_x does.
import { f32, i32, kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt } from '../core/tensor';
import { add, clamp, log, mul, neg, softplus, square, sub } from './elementwise';
import { mean, sum } from './reduce';
import { assertFloat, assertTensor, sameShape } from '../core/validate';

export type Reduction = 'mean' | 'sum' | 'none';

function checkPair(op: string, pred: Tensor, target: Tensor): void {
  assertFloat(op, pred);
  assertTensor(op, target, 'target');
  if (target.dtype !== 'float32') throw new Error(`${op}: target must be float32, got ${target.dtype} ${fmt(target.shape)}`);
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`${op}: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
}

function reduce(op: string, perElement: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return perElement;
  if (reduction === 'sum') return sum(perElement);
  if (reduction === 'mean') return mean(perElement);
  throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

/** Mean squared error: mean over all elements of (pred - target)². */
export function mseLoss(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('mseLoss', pred, target);
  return reduce('mseLoss', square(sub(pred, target)), reduction);
}

/**
 * The notes' quadratic cost C_x = ½ Σ_j (y_j - z_j)² (§1.3.4.2), averaged over the examples
 * (rows) of a batch: C = 1/n Σ_x C_x. A 1-D prediction is a single example.
 */
export function quadraticCost(pred: Tensor, target: Tensor): Tensor {
  checkPair('quadraticCost', pred, target);
  const examples = pred.ndim >= 2 ? pred.shape[0] : 1;
  if (examples === 0) throw new Error(`quadraticCost: empty batch ${fmt(pred.shape)}`);
  return mul(sum(square(sub(target, pred))), 0.5 / examples);
}

const PROB_EPS = 1e-7;

/**
 * Binary cross-entropy on probabilities z ∈ [0,1] (notes §1.3.5.1):
 * -[y ln z + (1-y) ln(1-z)], averaged over all elements by default. z is clamped to
 * [1e-7, 1-1e-7] so a saturated output gives a large finite loss instead of Inf.
 */
export function binaryCrossEntropy(prob: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('binaryCrossEntropy', prob, target);
  const z = clamp(prob, PROB_EPS, 1 - PROB_EPS);
  const term = add(mul(target, log(z)), mul(sub(1, target), log(sub(1, z))));
  return reduce('binaryCrossEntropy', neg(term), reduction);
}

/**
 * Binary cross-entropy on logits a (sigmoid folded in, as libraries do "for numerical
 * reasons", §1.3.5.1): softplus(a) - y·a, whose gradient is σ(a) - y.
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('binaryCrossEntropyWithLogits', logits, target);
  return reduce('binaryCrossEntropyWithLogits', sub(softplus(logits), mul(target, logits)), reduction);
}

function checkLabels(op: string, logits: Tensor, labels: Tensor): void {
  assertFloat(op, logits);
  assertTensor(op, labels, 'labels');
  if (labels.dtype !== 'int32') {
    throw new Error(`${op}: labels must be int32 class indices, got ${labels.dtype} ${fmt(labels.shape)} (use tensor(values, { dtype: 'int32' }))`);
  }
  if (logits.ndim !== 2 || labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`${op}: expected logits [batch, classes] and labels [batch], got ${fmt(logits.shape)} and ${fmt(labels.shape)}`);
  }
  const classes = logits.shape[1];
  const m = i32();
  const p = labels.ptr >>> 2;
  for (let r = 0; r < labels.size; r++) {
    const c = m[p + r];
    if (c < 0 || c >= classes) throw new Error(`${op}: label ${c} at row ${r} is out of range [0, ${classes}) for logits ${fmt(logits.shape)}`);
  }
}

/**
 * Softmax + log-likelihood on integer labels (notes §1.3.5.1: C = -ln z_y), averaged over the
 * batch. Fused: one kernel for the forward, and the backward is (softmax - onehot)/n.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: Exclude<Reduction, 'none'> = 'mean'): Tensor {
  checkLabels('crossEntropy', logits, labels);
  const [rows, cols] = logits.shape;
  if (rows === 0) throw new Error(`crossEntropy: empty batch ${fmt(logits.shape)}`);
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`crossEntropy: reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  const probs = empty(logits.shape);
  const total = kernels().softmaxCrossEntropy(logits.ptr, labels.ptr, probs.ptr, rows, cols);
  const scale = reduction === 'mean' ? 1 / rows : 1;
  const out = empty([]);
  f32()[out.ptr >>> 2] = total * scale;
  // labels are an input of the node (without gradient) so that the graph owns them too.
  return record('crossEntropy', out, [logits, labels], (g) => {
    const dx = empty(logits.shape);
    kernels().softmaxCrossEntropyBackward(probs.ptr, labels.ptr, dx.ptr, rows, cols, scale * g.data()[0]);
    return [dx, null];
  }, [probs]);
}

/** Negative log-likelihood of log-probabilities (e.g. logSoftmax output) at integer labels, averaged. */
export function nllLoss(logProbs: Tensor, labels: Tensor): Tensor {
  checkLabels('nllLoss', logProbs, labels);
  const [rows, cols] = logProbs.shape;
  if (rows === 0) throw new Error(`nllLoss: empty batch ${fmt(logProbs.shape)}`);
  const m = f32();
  const lab = labels.data();
  const base = logProbs.ptr >>> 2;
  let total = 0;
  for (let r = 0; r < rows; r++) total -= m[base + r * cols + lab[r]];
  const out = empty([]);
  f32()[out.ptr >>> 2] = total / rows;
  return record('nllLoss', out, [logProbs, labels], (g) => {
    const dx = empty(logProbs.shape);
    kernels().fill(dx.ptr, 0, dx.size);
    const v = -g.data()[0] / rows;
    const mm = f32();
    const d = dx.ptr >>> 2;
    for (let r = 0; r < rows; r++) mm[d + r * cols + lab[r]] = v;
    return [dx, null];
  });
}

/**
 * Kullback-Leibler divergence D_KL(P || Q) = Σ_x P(x) ln(P(x)/Q(x)) (notes §1.2.4.2) between
 * distributions along the last axis, averaged over the leading (batch) dims. Terms with
 * P(x) = 0 contribute 0.
 */
export function klDivergence(p: Tensor, q: Tensor): Tensor {
  checkPair('klDivergence', p, q);
  if (p.ndim === 0) throw new Error('klDivergence: needs at least one dimension');
  const rows = p.size / Math.max(p.shape[p.ndim - 1], 1);
  const logRatio = sub(log(clamp(p, 1e-30, Infinity)), log(clamp(q, 1e-30, Infinity)));
  return mul(sum(mul(p, logRatio)), 1 / Math.max(rows, 1));
}
