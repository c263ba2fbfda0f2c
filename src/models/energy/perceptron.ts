// Rosenblatt's perceptron (notes §1.3.1): y = sign(w·x) with the bias as the weight of an
// extra input x0 = 1, sign(v) = 1 for v > 0 and −1 for v <= 0, trained by the notes' figure 1:
// while a pattern is misclassified, pick one and move w by η·d·x. The learning is pattern by
// pattern and strictly sequential (each update changes what counts as misclassified next), on
// vectors of a handful of numbers, so it runs on host arrays; predictions for a whole data
// set are one matmul.
import { Generator, rng } from '../../core/random.js';
import { tensor } from '../../core/tensor.js';
import { matmul } from '../../ops/matmul.js';

/** The perceptron's activation: 1 if v > 0, −1 if v <= 0. */
export function sign(v: number): number {
  return v > 0 ? 1 : -1;
}

/** [1, ...x]: the pattern with the bias input x0 = 1 in front. */
export function augment(x: readonly number[]): number[] {
  return [1, ...x];
}

/** One weight change of the learning algorithm, as the notes write their traces. */
export interface PerceptronUpdate {
  /** n: the update's number (w(n) → w(n+1)). */
  n: number;
  /** Index of the pattern that was misclassified. */
  pattern: number;
  /** The augmented pattern x(n) (x0 = 1 first). */
  x: number[];
  /** Desired output d(n) (±1). */
  desired: number;
  /** Net input w(n)·x(n) before the update. */
  netInput: number;
  /** w(n). */
  before: number[];
  /** w(n+1) = w(n) + η·d(n)·x(n). */
  after: number[];
}

/**
 * Which misclassified pattern to correct next: 'cyclic' presents the patterns in order, epoch
 * after epoch, updating on each misclassified one (default); 'random' picks uniformly among
 * the misclassified ones (seeded); a function is given the indices of the misclassified
 * patterns and the update number and returns one of them (the figure leaves the choice open).
 */
export type PerceptronOrder = 'cyclic' | 'random' | ((misclassified: readonly number[], n: number) => number);

export interface PerceptronTrainOptions {
  /** η (default 1). */
  lr?: number;
  /** Stop after this many epochs (passes over the data; for the non-cyclic orders, this many times the number of patterns in updates). Default 100. */
  maxEpochs?: number;
  order?: PerceptronOrder;
  /** Generator for 'random' order (default the global one). */
  generator?: Generator;
}

export interface PerceptronTrainResult {
  /** True when no pattern is misclassified at the end. */
  converged: boolean;
  /** Passes over the data (cyclic order) or updates / patterns rounded up (other orders). */
  epochs: number;
  /** Every update, in order. */
  updates: PerceptronUpdate[];
  /** The final weights [w0 (bias), w1, ...]. */
  weights: number[];
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export class Perceptron {
  /** [w0, w1, ..., wp]: w0 is the bias (the weight of x0 = 1). */
  weights: number[];

  /** A perceptron with `inputs` inputs and zero weights, or with the given weights [w0, ..., wp]. */
  constructor(inputsOrWeights: number | readonly number[]) {
    if (typeof inputsOrWeights === 'number') {
      if (!Number.isInteger(inputsOrWeights) || inputsOrWeights < 1) throw new Error(`Perceptron: inputs must be a positive integer, got ${inputsOrWeights}`);
      this.weights = new Array<number>(inputsOrWeights + 1).fill(0);
    } else {
      if (inputsOrWeights.length < 2) throw new Error(`Perceptron: weights must be [w0, w1, ...] with at least one input, got ${inputsOrWeights.length} values`);
      this.weights = [...inputsOrWeights];
    }
  }

  get inputs(): number {
    return this.weights.length - 1;
  }

  /** Random weights in [−scale, scale) from the seeded generator (the figure's "initialize w randomly"). */
  randomize(scale = 0.5, generator: Generator = rng): this {
    this.weights = this.weights.map(() => scale * (2 * generator.uniform() - 1));
    return this;
  }

  private checkPatterns(where: string, xs: readonly (readonly number[])[]): void {
    for (const x of xs) if (x.length !== this.inputs) throw new Error(`Perceptron.${where}: patterns must have ${this.inputs} inputs (without x0), got ${x.length}`);
  }

  /** Net inputs w·x of every pattern (x without x0; the bias is added), as one matmul. */
  netInputs(xs: readonly (readonly number[])[]): number[] {
    this.checkPatterns('netInputs', xs);
    if (xs.length === 0) return [];
    const X = tensor(xs.flatMap(augment), [xs.length, this.inputs + 1]);
    const w = tensor(this.weights, [this.inputs + 1, 1]);
    const v = matmul(X, w);
    const out = Array.from(v.data());
    X.dispose(); w.dispose(); v.dispose();
    return out;
  }

  /** Outputs sign(w·x) (±1) of every pattern. */
  predict(xs: readonly (readonly number[])[]): number[] {
    return this.netInputs(xs).map(sign);
  }

  /** Fraction of patterns whose output equals the desired one. */
  accuracy(xs: readonly (readonly number[])[], desired: readonly number[]): number {
    const y = this.predict(xs);
    let ok = 0;
    for (let i = 0; i < y.length; i++) if (y[i] === desired[i]) ok++;
    return y.length === 0 ? 1 : ok / y.length;
  }

  /**
   * The perceptron learning algorithm (notes figure 1) from the current weights: while some
   * pattern is misclassified (and maxEpochs is not reached) pick one and set
   * w ← w + η·d·x. Desired outputs are ±1.
   */
  train(xs: readonly (readonly number[])[], desired: readonly number[], opts: PerceptronTrainOptions = {}): PerceptronTrainResult {
    this.checkPatterns('train', xs);
    if (desired.length !== xs.length) throw new Error(`Perceptron.train: ${xs.length} patterns but ${desired.length} desired outputs`);
    for (const d of desired) if (d !== 1 && d !== -1) throw new Error(`Perceptron.train: desired outputs must be 1 or -1, got ${d}`);
    const lr = opts.lr ?? 1;
    const maxEpochs = opts.maxEpochs ?? 100;
    const order = opts.order ?? 'cyclic';
    const gen = opts.generator ?? rng;
    const aug = xs.map(augment);
    const updates: PerceptronUpdate[] = [];
    const wrong = (i: number): boolean => sign(dot(this.weights, aug[i])) !== desired[i];
    const update = (i: number): void => {
      const before = [...this.weights];
      const netInput = dot(before, aug[i]);
      this.weights = before.map((w, k) => w + lr * desired[i] * aug[i][k]);
      updates.push({ n: updates.length, pattern: i, x: aug[i], desired: desired[i], netInput, before, after: [...this.weights] });
    };
    const misclassified = (): number[] => aug.map((_, i) => i).filter(wrong);

    if (order === 'cyclic') {
      let epochs = 0;
      while (epochs < maxEpochs) {
        epochs++;
        let changed = false;
        for (let i = 0; i < aug.length; i++) {
          if (wrong(i)) {
            update(i);
            changed = true;
          }
        }
        if (!changed) break;
      }
      return { converged: misclassified().length === 0, epochs, updates, weights: [...this.weights] };
    }
    const maxUpdates = maxEpochs * Math.max(1, aug.length);
    for (;;) {
      const bad = misclassified();
      if (bad.length === 0 || updates.length >= maxUpdates) break;
      const i = order === 'random' ? bad[gen.int(bad.length)] : order(bad, updates.length);
      if (!bad.includes(i)) throw new Error(`Perceptron.train: the order picked pattern ${i}, which is not misclassified (misclassified: ${bad.join(', ')})`);
      update(i);
    }
    return {
      converged: misclassified().length === 0, epochs: Math.ceil(updates.length / Math.max(1, aug.length)), updates, weights: [...this.weights],
    };
  }
}

export interface SeparabilityResult {
  separable: boolean;
  /** Training accuracy reached on the whole data set. */
  accuracy: number;
  /** The weights the learning ended with. */
  weights: number[];
  epochs: number;
}

/**
 * The notes' test of linear separability: train a perceptron on the whole data set; the data
 * is (taken to be) linearly separable when the training accuracy reaches 100%. By the
 * convergence theorem a separable set is learnt in finitely many updates, so a set that is
 * still not learnt after `maxEpochs` epochs is reported as not separable.
 */
export function isLinearlySeparable(
  xs: readonly (readonly number[])[], desired: readonly number[], opts: PerceptronTrainOptions = {},
): SeparabilityResult {
  if (xs.length === 0) return { separable: true, accuracy: 1, weights: [], epochs: 0 };
  const p = new Perceptron(xs[0].length);
  const r = p.train(xs, desired, { maxEpochs: 1000, ...opts });
  const accuracy = p.accuracy(xs, desired);
  return { separable: accuracy === 1, accuracy, weights: r.weights, epochs: r.epochs };
}
