// Loss functions (notes §1.1.1.5, §1.2.4, §1.3.5.1). Losses take (prediction, target) and
// return a scalar; 'mean' averages over examples (rows) as the notes' 1/n Σ_x does.
// crossEntropy and nllLoss are registry ops on kernels in assembly/loss.ts (the graph records
// crossEntropy { reduction }); the others are composed of elementwise ops and reductions.
import { kernels } from '../../bindings/index.js';
import { readAt } from '../../bindings/memory.js';
import { Tensor, empty, fmt, full, tensor, type Shape } from '../core/tensor.js';
import { assertFloat, assertTensor, oneOf, sameShape } from '../core/validate.js';
import { add, clamp, log, mul, neg, softplus, square, sub } from './elementwise.js';
import { hostSize } from './host.js';
import { mean, sum } from './reduce.js';
import { callOp, defineComposite, defineOp, type BadInput, type HostTensor, type InputSpec, type OpFn } from './registry.js';
import { logSoftmax } from './softmax.js';

export type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

function checkPair(op: string, pred: Tensor, target: Tensor): void {
  assertFloat(op, pred);
  assertTensor(op, target, 'target');
  if (target.dtype !== 'float32') throw new Error(`${op}: target must be float32, got ${target.dtype} ${fmt(target.shape)}`);
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`${op}: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
}

function reduce(perElement: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return perElement;
  return reduction === 'sum' ? sum(perElement) : mean(perElement);
}

/** Per-element host values reduced as the op's `reduction` says. */
function hostReduction(shape: readonly number[], values: number[], reduction: Reduction): HostTensor {
  if (reduction === 'none') return { shape, data: values };
  const total = values.reduce((a, b) => a + b, 0);
  return { shape: [], data: [reduction === 'sum' ? total : total / values.length] };
}

/** f over the element pairs of two host tensors of one shape. */
function hostPairs(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number): number[] {
  return Array.from(a.data, (x, i) => f(x, b.data[i]));
}

const PAIR: readonly InputSpec[] = [{ shape: [3, 4] }, { shape: [3, 4] }];
/** Bad inputs of the (prediction, target) losses. */
function pairBadInputs(op: string, reduction: boolean): BadInput[] {
  const bad: BadInput[] = [
    { label: 'shapes differ', call: () => callOp(op, full([4, 3], 0.5), full([4, 2], 0.5)), error: `${op}: prediction [4,3] and target [4,2] must have the same shape` },
    { label: 'int32 target', call: () => callOp(op, full([2], 0.5), full([2], 1, { dtype: 'int32' })), error: `${op}: target must be float32, got int32 [2]` },
  ];
  if (reduction) {
    bad.push({ label: 'unknown reduction', call: () => callOp(op, full([2], 0.5), full([2], 0.5), 'avg'), error: `${op}: reduction must be 'mean', 'sum', 'none', got 'avg'` });
  }
  return bad;
}

// ---- composed losses -------------------------------------------------------------------------

/** Mean squared error: mean over all elements of (pred - target)². */
export const mseLoss: OpFn<[pred: Tensor, target: Tensor, reduction?: Reduction], false> = defineComposite({
  name: 'mseLoss', family: 'loss', summary: '(pred - target)² averaged (or summed) over all elements', inputs: ['pred', 'target'],
  fn: (pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor => {
    checkPair('mseLoss', pred, target);
    oneOf('mseLoss', 'reduction', reduction, REDUCTIONS);
    return reduce(square(sub(pred, target)), reduction);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (p: HostTensor, t: HostTensor, reduction: Reduction = 'mean') => hostReduction(p.shape, hostPairs(p, t, (a, b) => (a - b) ** 2), reduction) },
    samples: [
      { label: 'mean', inputs: PAIR },
      { label: 'sum', inputs: PAIR, args: ['sum'] },
      { label: 'none', inputs: PAIR, args: ['none'] },
    ],
    badInputs: [
      ...pairBadInputs('mseLoss', true),
      // Found by test/fuzz/ops.fuzz.test.ts: the message started with the inner op's name ('mean: ').
      { label: 'empty batch, mean', call: () => callOp('mseLoss', full([0, 4], 0), full([0, 4], 0)), error: 'mseLoss: mean: cannot take the mean over an empty axis of [0,4]' },
    ],
  } : undefined,
});

/**
 * The notes' quadratic cost C_x = ½ Σ_j (y_j - z_j)² (§1.3.4.2), averaged over the examples
 * (rows) of a batch: C = 1/n Σ_x C_x. A 1-D prediction is a single example.
 */
export const quadraticCost: OpFn<[pred: Tensor, target: Tensor], false> = defineComposite({
  name: 'quadraticCost', family: 'loss', summary: '½ Σ (target - pred)² averaged over the examples (rows)', inputs: ['pred', 'target'],
  fn: (pred: Tensor, target: Tensor): Tensor => {
    checkPair('quadraticCost', pred, target);
    const examples = pred.ndim >= 2 ? pred.shape[0] : 1;
    if (examples === 0) throw new Error(`quadraticCost: empty batch ${fmt(pred.shape)}`);
    return mul(sum(square(sub(target, pred))), 0.5 / examples);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (p: HostTensor, t: HostTensor) => {
        const examples = p.shape.length >= 2 ? p.shape[0] : 1;
        return { shape: [], data: [0.5 * hostPairs(p, t, (a, b) => (b - a) ** 2).reduce((x, y) => x + y, 0) / examples] };
      },
    },
    samples: [
      { label: 'batch', inputs: PAIR },
      { label: 'one example', inputs: [{ shape: [5] }, { shape: [5] }] },
    ],
    badInputs: [
      ...pairBadInputs('quadraticCost', false),
      { label: 'empty batch', call: () => callOp('quadraticCost', full([0, 3], 0), full([0, 3], 0)), error: 'quadraticCost: empty batch [0,3]' },
    ],
  } : undefined,
});

const PROB_EPS = 1e-7;
const PROBS: readonly InputSpec[] = [{ shape: [3, 4], lo: 0.1, hi: 0.9 }, { shape: [3, 4], lo: 0, hi: 1, grad: false }];

/**
 * Binary cross-entropy on probabilities z ∈ [0,1] (notes §1.3.5.1):
 * -[y ln z + (1-y) ln(1-z)], averaged over all elements by default. z is clamped to
 * [1e-7, 1-1e-7] so a saturated output gives a large finite loss instead of Inf.
 */
export const binaryCrossEntropy: OpFn<[prob: Tensor, target: Tensor, reduction?: Reduction], false> = defineComposite({
  name: 'binaryCrossEntropy', family: 'loss', summary: '-[y ln z + (1-y) ln(1-z)] on probabilities z (clamped to [1e-7, 1-1e-7])',
  inputs: ['prob', 'target'],
  fn: (prob: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor => {
    checkPair('binaryCrossEntropy', prob, target);
    oneOf('binaryCrossEntropy', 'reduction', reduction, REDUCTIONS);
    const z = clamp(prob, PROB_EPS, 1 - PROB_EPS);
    const term = add(mul(target, log(z)), mul(sub(1, target), log(sub(1, z))));
    return reduce(neg(term), reduction);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (p: HostTensor, t: HostTensor, reduction: Reduction = 'mean') => hostReduction(p.shape, hostPairs(p, t, (z, y) => {
        const c = Math.min(Math.max(z, Math.fround(PROB_EPS)), Math.fround(1 - PROB_EPS));
        return -(y * Math.log(c) + (1 - y) * Math.log(1 - c));
      }), reduction),
    },
    samples: [
      { label: 'mean', inputs: PROBS },
      { label: 'sum', inputs: PROBS, args: ['sum'] },
      { label: 'none', inputs: PROBS, args: ['none'] },
      { label: 'saturated (clamped, finite)', inputs: [{ shape: [4], kind: 'values', values: [0, 1, 0.5, 1] }, { shape: [4], kind: 'values', values: [1, 0, 1, 1], grad: false }], noGradcheck: 'the clamp kinks sit at the sample' },
    ],
    badInputs: pairBadInputs('binaryCrossEntropy', true),
  } : undefined,
});

/**
 * Binary cross-entropy on logits a (sigmoid folded in, as libraries do "for numerical
 * reasons", §1.3.5.1): softplus(a) - y·a, whose gradient is σ(a) - y.
 */
export const binaryCrossEntropyWithLogits: OpFn<[logits: Tensor, target: Tensor, reduction?: Reduction], false> = defineComposite({
  name: 'binaryCrossEntropyWithLogits', family: 'loss', summary: 'binary cross-entropy on logits: softplus(a) - y·a',
  inputs: ['logits', 'target'],
  fn: (logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor => {
    checkPair('binaryCrossEntropyWithLogits', logits, target);
    oneOf('binaryCrossEntropyWithLogits', 'reduction', reduction, REDUCTIONS);
    return reduce(sub(softplus(logits), mul(target, logits)), reduction);
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (a: HostTensor, t: HostTensor, reduction: Reduction = 'mean') =>
        hostReduction(a.shape, hostPairs(a, t, (x, y) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))) - y * x), reduction),
    },
    samples: [
      { label: 'mean', inputs: [{ shape: [3, 4], lo: -3, hi: 3 }, { shape: [3, 4], lo: 0, hi: 1, grad: false }] },
      { label: 'none', inputs: [{ shape: [2, 3], lo: -3, hi: 3 }, { shape: [2, 3], lo: 0, hi: 1, grad: false }], args: ['none'] },
    ],
    badInputs: pairBadInputs('binaryCrossEntropyWithLogits', true),
  } : undefined,
});

/**
 * Kullback-Leibler divergence D_KL(P || Q) = Σ_x P(x) ln(P(x)/Q(x)) (notes §1.2.4.2) between
 * distributions along the last axis, averaged over the leading (batch) dims. Terms with
 * P(x) = 0 contribute 0.
 */
export const klDivergence: OpFn<[p: Tensor, q: Tensor], false> = defineComposite({
  name: 'klDivergence', family: 'loss', summary: 'Σ P ln(P/Q) along the last axis, averaged over the leading dims', inputs: ['p', 'q'],
  fn: (p: Tensor, q: Tensor): Tensor => {
    checkPair('klDivergence', p, q);
    if (p.ndim === 0) throw new Error('klDivergence: needs at least one dimension');
    const rows = p.size / Math.max(p.shape[p.ndim - 1], 1);
    const logRatio = sub(log(clamp(p, 1e-30, Infinity)), log(clamp(q, 1e-30, Infinity)));
    return mul(sum(mul(p, logRatio)), 1 / Math.max(rows, 1));
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (p: HostTensor, q: HostTensor) => {
        const rows = hostSize(p.shape) / Math.max(p.shape[p.shape.length - 1], 1);
        const tiny = Math.fround(1e-30);
        const total = hostPairs(p, q, (a, b) => a * (Math.log(Math.max(a, tiny)) - Math.log(Math.max(b, tiny)))).reduce((x, y) => x + y, 0);
        return { shape: [], data: [total / Math.max(rows, 1)] };
      },
    },
    samples: [
      { label: 'rows', inputs: [{ shape: [2, 4], lo: 0.1, hi: 0.6 }, { shape: [2, 4], lo: 0.1, hi: 0.6 }] },
      { label: 'zeros in P contribute 0', inputs: [{ shape: [3], kind: 'values', values: [0, 0.3, 0.7], grad: false }, { shape: [3], kind: 'values', values: [0.2, 0.3, 0.5] }] },
    ],
    badInputs: [
      ...pairBadInputs('klDivergence', false),
      { label: 'a scalar', call: () => callOp('klDivergence', full([], 0.5), full([], 0.5)), error: 'klDivergence: needs at least one dimension' },
    ],
  } : undefined,
});

// ---- losses on integer labels (kernels in assembly/loss.ts) -------------------------------------

function checkLabelTypes(op: string, x: Tensor, labels: Tensor): void {
  assertFloat(op, x);
  assertTensor(op, labels, 'labels');
  if (labels.dtype !== 'int32') {
    throw new Error(`${op}: labels must be int32 class indices, got ${labels.dtype} ${fmt(labels.shape)} (use tensor(values, { dtype: 'int32' }))`);
  }
}

/** [rows, cols] of x [batch, classes] with labels [batch]; the batch must not be empty. */
function labelShapes(op: string, x: Shape, labels: Shape): [number, number] {
  if (x.length !== 2 || labels.length !== 1 || labels[0] !== x[0]) {
    throw new Error(`${op}: expected ${op === 'nllLoss' ? 'log-probabilities' : 'logits'} [batch, classes] and labels [batch], got ${fmt(x)} and ${fmt(labels)}`);
  }
  if (x[0] === 0) throw new Error(`${op}: empty batch ${fmt(x)}`);
  return [x[0], x[1]];
}

/** Every label in [0, classes) (reads the labels: not part of the shape rule). */
function checkLabelRange(op: string, x: Tensor, labels: Tensor): void {
  const classes = x.shape[1];
  const lab = labels.data();
  for (let r = 0; r < lab.length; r++) {
    const c = lab[r];
    if (c < 0 || c >= classes) throw new Error(`${op}: label ${c} at row ${r} is out of range [0, ${classes}) for ${op === 'nllLoss' ? 'log-probabilities' : 'logits'} ${fmt(x.shape)}`);
  }
}

const labelsOf = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });

function labelBadInputs(op: string, x: string): BadInput[] {
  return [
    { label: 'float labels', call: () => callOp(op, full([2, 3], 0), full([2], 0)), error: `${op}: labels must be int32 class indices, got float32 [2] (use tensor(values, { dtype: 'int32' }))` },
    { label: 'label out of range', call: () => callOp(op, full([2, 3], 0), labelsOf([0, 3])), error: `${op}: label 3 at row 1 is out of range [0, 3) for ${x} [2,3]` },
    { label: 'negative label', call: () => callOp(op, full([2, 3], 0), labelsOf([-1, 0])), error: `${op}: label -1 at row 0 is out of range [0, 3) for ${x} [2,3]` },
    { label: 'label count differs from the batch', call: () => callOp(op, full([2, 3], 0), labelsOf([0, 1, 2])), error: `${op}: expected ${x} [batch, classes] and labels [batch], got [2,3] and [3]` },
    { label: '1-D input', call: () => callOp(op, full([3], 0), labelsOf([0])), error: `${op}: expected ${x} [batch, classes] and labels [batch], got [3] and [1]` },
    { label: 'empty batch', call: () => callOp(op, full([0, 3], 0), labelsOf([])), error: `${op}: empty batch [0,3]` },
  ];
}

interface LabelState {
  rows: number;
  cols: number;
  scale: number;
}

/**
 * Softmax + log-likelihood on integer labels (notes §1.3.5.1: C = -ln z_y), averaged (or
 * summed) over the batch. Fused: one kernel for the forward, and the backward is
 * (softmax - onehot)/n.
 */
export const crossEntropy: OpFn<[logits: Tensor, labels: Tensor, reduction?: Exclude<Reduction, 'none'>], false> = defineOp({
  name: 'crossEntropy', family: 'loss', summary: 'softmax cross-entropy of logits at int32 labels (fused)', inputs: ['logits', 'labels'],
  parse: (logits: Tensor, labels: Tensor, reduction: Exclude<Reduction, 'none'> = 'mean') => {
    checkLabelTypes('crossEntropy', logits, labels);
    oneOf('crossEntropy', 'reduction', reduction, ['mean', 'sum']);
    return { inputs: [logits, labels], attrs: { reduction } };
  },
  shape: ([logits, labels]) => {
    labelShapes('crossEntropy', logits!, labels!);
    return [];
  },
  forward: ([logits, labels], { reduction }) => {
    checkLabelRange('crossEntropy', logits!, labels!);
    const [rows, cols] = logits!.shape;
    const probs = empty(logits!.shape);
    const total = kernels().crossEntropy(logits!.ptr, labels!.ptr, probs.ptr, rows, cols);
    const scale = reduction === 'mean' ? 1 / rows : 1;
    // labels are an input of the node (without gradient) so that the graph owns them too.
    return { out: full([], total * scale), saved: [probs], state: { rows, cols, scale } as LabelState };
  },
  backward: (g, { inputs: [, labels], saved: [probs], state: { rows, cols, scale } }) => {
    const dx = empty(probs.shape);
    kernels().crossEntropyBackward(probs.ptr, labels!.ptr, dx.ptr, rows, cols, scale * readAt('float32', g.ptr, 0));
    return [dx, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      composed: (logits: Tensor, labels: Tensor, reduction: Exclude<Reduction, 'none'> = 'mean') => {
        const nll = nllLoss(logSoftmax(logits), labels);
        return reduction === 'sum' ? mul(nll, logits.shape[0]) : nll;
      },
    },
    samples: [
      { label: 'mean', inputs: [{ shape: [3, 5], lo: -2, hi: 2 }, { shape: [3], kind: 'int', values: [2, 0, 4] }] },
      { label: 'sum', inputs: [{ shape: [2, 5], lo: -2, hi: 2 }, { shape: [2], kind: 'int', values: [1, 3] }], args: ['sum'] },
      { label: 'wide spread, 7 classes', inputs: [{ shape: [4, 7], lo: -6, hi: 6 }, { shape: [4], kind: 'int', values: [6, 0, 3, 3] }] },
      { label: 'one class', inputs: [{ shape: [3, 1] }, { shape: [3], kind: 'int', values: [0, 0, 0] }] },
    ],
    badInputs: [
      ...labelBadInputs('crossEntropy', 'logits'),
      { label: "reduction 'none'", call: () => callOp('crossEntropy', full([2, 3], 0), labelsOf([0, 1]), 'none'), error: "crossEntropy: reduction must be 'mean', 'sum', got 'none'" },
    ],
  } : undefined,
});

/** Negative log-likelihood of log-probabilities (e.g. logSoftmax output) at integer labels, averaged. */
export const nllLoss: OpFn<[logProbs: Tensor, labels: Tensor], false> = defineOp({
  name: 'nllLoss', family: 'loss', summary: '-mean of log-probabilities at int32 labels', inputs: ['logProbs', 'labels'],
  parse: (logProbs: Tensor, labels: Tensor) => {
    checkLabelTypes('nllLoss', logProbs, labels);
    return { inputs: [logProbs, labels], attrs: {} };
  },
  shape: ([logProbs, labels]) => {
    labelShapes('nllLoss', logProbs!, labels!);
    return [];
  },
  forward: ([logProbs, labels]) => {
    checkLabelRange('nllLoss', logProbs!, labels!);
    const [rows, cols] = logProbs!.shape;
    const total = kernels().nllLoss(logProbs!.ptr, labels!.ptr, rows, cols);
    return { out: full([], total / rows), state: { rows, cols, scale: 1 / rows } as LabelState };
  },
  backward: (g, { inputs: [logProbs, labels], state: { rows, cols } }) => {
    const dx = empty(logProbs!.shape);
    kernels().nllLossBackward(labels!.ptr, dx.ptr, rows, cols, -readAt('float32', g.ptr, 0) / rows);
    return [dx, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (lp: HostTensor, labels: HostTensor) => {
        const [rows, cols] = lp.shape;
        let total = 0;
        for (let r = 0; r < rows; r++) total -= lp.data[r * cols + labels.data[r]];
        return { shape: [], data: [total / rows] };
      },
    },
    samples: [
      { label: 'mean', inputs: [{ shape: [3, 5], lo: -3, hi: -0.1 }, { shape: [3], kind: 'int', values: [2, 0, 4] }] },
      { label: 'of logSoftmax', inputs: [{ shape: [3, 5], lo: -2, hi: 2 }, { shape: [3], kind: 'int', values: [2, 0, 4] }], call: (x, l) => callOp('nllLoss', logSoftmax(x), l) },
      { label: '17 rows, 3 classes', inputs: [{ shape: [17, 3], lo: -3, hi: 0 }, { shape: [17], kind: 'int', values: [0, 1, 2, 2, 1, 0, 0, 0, 1, 2, 1, 1, 2, 0, 2, 1, 0] }] },
    ],
    badInputs: labelBadInputs('nllLoss', 'log-probabilities'),
  } : undefined,
});
