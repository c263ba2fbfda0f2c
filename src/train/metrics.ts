// Classification metrics computed from a model's outputs and the targets: accuracy, top-k
// accuracy, the confusion matrix; and the named metrics fit()/evaluate() accept.
import { argmax } from '../ops/reduce.js';
import { Tensor, fmt } from '../core/tensor.js';

function check(where: string, output: Tensor, target: Tensor): void {
  if (!(output instanceof Tensor)) throw new Error(`${where}: output must be a Tensor`);
  if (!(target instanceof Tensor)) throw new Error(`${where}: target must be a Tensor`);
  if (output.ndim < 1 || target.ndim < 1 || output.shape[0] !== target.shape[0]) {
    throw new Error(`${where}: output ${fmt(output.shape)} and target ${fmt(target.shape)} need the same number of rows`);
  }
}

function isSingleColumn(t: Tensor): boolean {
  return t.ndim === 1 || (t.ndim === 2 && t.shape[1] === 1);
}

/** Predicted class per row: argmax over the last axis of [B, C] outputs. */
function predictedClasses(where: string, output: Tensor): Int32Array {
  if (output.ndim !== 2) throw new Error(`${where}: expected outputs [batch, classes], got ${fmt(output.shape)}`);
  const a = argmax(output, 1);
  const d = a.data() as Int32Array;
  a.dispose();
  return d;
}

/** True class per row from int32 labels [B] or one-hot / probability float targets [B, C]. */
function trueClasses(where: string, target: Tensor, classes: number): Int32Array {
  if (target.dtype === 'int32') {
    if (!isSingleColumn(target)) throw new Error(`${where}: int32 labels must be [batch], got ${fmt(target.shape)}`);
    return target.data() as Int32Array;
  }
  if (target.ndim === 2 && target.shape[1] === classes) return predictedClasses(where, target);
  throw new Error(`${where}: targets must be int32 labels [batch] or float32 [batch, ${classes}] (one-hot), got ${target.dtype} ${fmt(target.shape)}`);
}

function countCorrect(output: Tensor, target: Tensor, threshold: number): number {
  const where = 'accuracy';
  check(where, output, target);
  const n = output.shape[0];
  if (isSingleColumn(output)) {
    // Binary: one score per row, class 1 when it exceeds the threshold.
    if (!isSingleColumn(target)) throw new Error(`${where}: a single-column output ${fmt(output.shape)} needs targets [batch] of 0/1, got ${fmt(target.shape)}`);
    const o = output.data();
    const t = target.data();
    let c = 0;
    for (let i = 0; i < n; i++) if ((o[i] > threshold ? 1 : 0) === (t[i] > 0.5 ? 1 : 0)) c++;
    return c;
  }
  const pred = predictedClasses(where, output);
  const truth = trueClasses(where, target, output.shape[1]);
  let c = 0;
  for (let i = 0; i < n; i++) if (pred[i] === truth[i]) c++;
  return c;
}

/**
 * Fraction of rows classified correctly. Outputs [B, C] are scored by argmax against int32
 * labels [B] or one-hot targets [B, C]; single-column outputs [B] / [B, 1] are binary:
 * class 1 when the output exceeds `threshold` (0.5 for probabilities; pass 0 for logits).
 */
export function accuracy(output: Tensor, target: Tensor, threshold = 0.5): number {
  const n = output?.shape?.[0] ?? 0;
  const c = countCorrect(output, target, threshold);
  return n === 0 ? 0 : c / n;
}

function countTopK(output: Tensor, target: Tensor, k: number): number {
  const where = 'topKAccuracy';
  check(where, output, target);
  if (!Number.isInteger(k) || k < 1) throw new Error(`${where}: k must be an integer >= 1, got ${k}`);
  if (output.ndim !== 2) throw new Error(`${where}: expected outputs [batch, classes], got ${fmt(output.shape)}`);
  const [n, classes] = output.shape;
  const truth = trueClasses(where, target, classes);
  const o = output.data();
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const label = truth[r];
    if (label < 0 || label >= classes) throw new Error(`${where}: label ${label} at row ${r} is out of range [0, ${classes})`);
    const base = r * classes;
    const v = o[base + label];
    // The label is in the top k when fewer than k classes score strictly higher.
    let higher = 0;
    for (let c = 0; c < classes && higher < k; c++) if (o[base + c] > v) higher++;
    if (higher < k) correct++;
  }
  return correct;
}

/** Fraction of rows whose true class is among the k highest outputs. */
export function topKAccuracy(output: Tensor, target: Tensor, k: number): number {
  const c = countTopK(output, target, k);
  return output.shape[0] === 0 ? 0 : c / output.shape[0];
}

/**
 * Confusion matrix M[true][predicted] (counts) of outputs [B, C] (argmax) or int32 predicted
 * classes [B], against int32 labels [B] or one-hot targets.
 */
export function confusionMatrix(output: Tensor, target: Tensor, numClasses: number): number[][] {
  const where = 'confusionMatrix';
  check(where, output, target);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${where}: numClasses must be an integer >= 1, got ${numClasses}`);
  const pred = output.dtype === 'int32' ? (output.data() as Int32Array) : predictedClasses(where, output);
  const truth = trueClasses(where, target, output.dtype === 'int32' ? numClasses : output.shape[1]);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < pred.length; i++) {
    const t = truth[i];
    const p = pred[i];
    if (t < 0 || t >= numClasses || p < 0 || p >= numClasses) {
      throw new Error(`${where}: class ${t < 0 || t >= numClasses ? t : p} at row ${i} is out of range [0, ${numClasses})`);
    }
    m[t][p]++;
  }
  return m;
}

/**
 * A metric for fit()/evaluate(): per batch, a sum and a count; the epoch value is Σ sum / Σ count.
 * `N` is the name's literal type, so the logs of a run that asks for it carry that key.
 */
export interface Metric<N extends string = string> {
  readonly name: N;
  batch(output: Tensor, target: Tensor): { sum: number; count: number };
}

/** Built-in metric names: 'accuracy' (alias 'acc', logged as 'accuracy') and 'topK:<k>' (e.g. 'topK:5'; 'topk:5' too). */
export type MetricName = 'accuracy' | 'acc' | `topK:${number}` | `topk:${number}`;

/** What fit()/evaluate() take in `metrics`: a built-in name or a Metric object. */
export type MetricLike = MetricName | Metric;

/**
 * The log key one metric is reported under ('acc' becomes 'accuracy'). A Metric whose name is
 * typed `string` (not a literal) gives `string`, so the logs fall back to an index signature.
 */
export type MetricKey<M> = M extends 'acc' | 'accuracy' ? 'accuracy' : M extends Metric<infer N> ? N : M extends string ? M : never;

/** The log keys of a list of metrics. */
export type MetricKeys<Ms extends readonly MetricLike[]> = MetricKey<Ms[number]>;

/** @internal Resolves 'accuracy', 'topK:5' or a Metric object. */
export function resolveMetric(where: string, m: MetricLike): Metric {
  if (typeof m === 'object' && m !== null && typeof m.name === 'string' && typeof m.batch === 'function') return m;
  if (m === 'accuracy' || m === 'acc') {
    return { name: 'accuracy', batch: (o, t) => ({ sum: countCorrect(o, t, 0.5), count: o.shape[0] }) };
  }
  if (typeof m === 'string') {
    const match = /^top[kK]:(\d+)$/.exec(m);
    if (match !== null) {
      const k = Number(match[1]);
      if (k < 1) throw new Error(`${where}: metric '${m}': k must be >= 1`);
      return { name: m, batch: (o, t) => ({ sum: countTopK(o, t, k), count: o.shape[0] }) };
    }
  }
  throw new Error(`${where}: unknown metric ${JSON.stringify(m)} (known: 'accuracy', 'topK:<k>', or an object { name, batch(output, target) })`);
}

/**
 * Accuracy of single-column outputs with a chosen threshold, as a Metric for fit()
 * (e.g. `binaryAccuracy(0)` for logits; the plain 'accuracy' uses 0.5, for probabilities).
 */
export function binaryAccuracy<N extends string = 'accuracy'>(threshold = 0.5, name: N = 'accuracy' as N): Metric<N> {
  if (!Number.isFinite(threshold)) throw new Error(`binaryAccuracy: threshold must be finite, got ${threshold}`);
  return { name, batch: (o, t) => ({ sum: countCorrect(o, t, threshold), count: o.shape[0] }) };
}
