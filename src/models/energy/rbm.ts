// Restricted Boltzmann machines (notes §1.4.2): binary stochastic visible and hidden units,
// connections only between the layers, p(s_i = 1) = σ(ΔE_i / T), trained by contrastive
// divergence Δw_ij = ε(⟨v_i h_j⟩⁰ − ⟨v_i h_j⟩¹) (CD-k, optionally persistent), with the bias
// terms Δb_i = ε(⟨v_i⟩⁰ − ⟨v_i⟩¹), Δc_j = ε(⟨h_j⟩⁰ − ⟨h_j⟩¹).
//
// Each half step of a Gibbs chain is one GEMM with the bias fused, a sigmoid and one sampling
// kernel for the whole batch; the CD statistic is two GEMMs into one buffer (op cdStatistic).
// The parameter update is the library's SGD (momentum, weight decay on the weights only) fed
// the negated statistic as a gradient. The uniforms for sampling come from one seeded
// generator, so a run is reproducible from its seed.
import { Generator, rng } from '../../core/random.js';
import { Tensor, dispose, full, persistent, scope, tensor, zeros } from '../../core/tensor.js';
import { add, mul, neg, sigmoid, softplus, sub } from '../../ops/elementwise.js';
import { bernoulli, cdStatistic } from '../../ops/energy.js';
import { mseLoss } from '../../ops/loss.js';
import { gemmRaw } from '../../ops/matmul.js';
import { mean, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { SGD } from '../../optim/sgd.js';

/** How binary states are drawn from probabilities: 'bernoulli' (u < p for seeded uniforms u) or a threshold t (p >= t, the notes' worked examples). */
export type Sampling = 'bernoulli' | number;

export interface RBMOptions {
  /** T in σ(ΔE/T) (default 1). */
  temperature?: number;
  /** Standard deviation of the initial weights, drawn N(0, std²) (default 0.01, Hinton's guide). */
  initStd?: number;
  /** The generator for initialisation and sampling (default the global one). */
  generator?: Generator;
}

export interface CDOptions {
  /** Gibbs steps of the negative phase (CD-k; default 1). */
  k?: number;
  /** Keep the negative chain between calls (persistent CD) instead of starting it at the data. */
  persistent?: boolean;
  sampling?: Sampling;
  /**
   * Use probabilities where sampling only adds noise (default true): the statistics take
   * p(h|v) instead of sampled h, and the last reconstruction is p(v|h). False: sampled
   * states everywhere, as in the notes' CD example.
   */
  useProbabilities?: boolean;
}

export interface FitOptions extends CDOptions {
  epochs?: number;
  batchSize?: number;
  /** ε (default 0.05). */
  lr?: number;
  momentum?: number;
  /** L2 weight decay on the weights, not the biases (default 0). */
  weightDecay?: number;
  shuffle?: boolean;
  onEpoch?: (r: RBMEpoch) => void;
}

export interface RBMEpoch {
  epoch: number;
  /** Mean over the epoch's batches of the mean squared difference between v⁰ and p(v¹|h⁰). */
  reconstructionError: number;
  seconds: number;
}

/** The result of one CD step: the statistics given to the optimizer, and what it measured. */
export interface CDStep {
  /** mean((v⁰ − p(v|h⁰))²) of the batch. */
  reconstructionError: number;
}

export class RBM {
  readonly visible: number;
  readonly hidden: number;
  temperature: number;
  /** w [hidden, visible], laid out like nn.Linear's weight for the visible → hidden direction. */
  readonly weight: Tensor;
  /** b [visible]. */
  readonly visibleBias: Tensor;
  /** c [hidden]. */
  readonly hiddenBias: Tensor;
  generator: Generator;
  private chain: Tensor | null = null;
  private optimizer: SGD | null = null;

  constructor(visible: number, hidden: number, opts: RBMOptions = {}) {
    for (const [name, v] of [['visible', visible], ['hidden', hidden]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`RBM: ${name} must be a positive integer, got ${v}`);
    }
    this.visible = visible;
    this.hidden = hidden;
    this.temperature = opts.temperature ?? 1;
    if (!(this.temperature > 0)) throw new Error(`RBM: temperature must be > 0, got ${this.temperature}`);
    this.generator = opts.generator ?? rng;
    const std = opts.initStd ?? 0.01;
    const w = new Float32Array(hidden * visible);
    for (let i = 0; i < w.length; i++) w[i] = std * this.generator.normal();
    this.weight = tensor(w, [hidden, visible]);
    this.visibleBias = zeros([visible]);
    this.hiddenBias = zeros([hidden]);
  }

  /** Sets the weights [hidden, visible] (nested or flat) and optionally the biases. */
  setParameters(weight: ArrayLike<number> | readonly (readonly number[])[], visibleBias?: ArrayLike<number>, hiddenBias?: ArrayLike<number>): this {
    const flat = Array.isArray(weight) && Array.isArray(weight[0]) ? (weight as number[][]).flat() : Array.from(weight as ArrayLike<number>);
    this.weight.setData(flat);
    if (visibleBias !== undefined) this.visibleBias.setData(visibleBias);
    if (hiddenBias !== undefined) this.hiddenBias.setData(hiddenBias);
    return this;
  }

  private scaled(pre: Tensor): Tensor {
    return this.temperature === 1 ? pre : mul(pre, 1 / this.temperature);
  }

  /** p(h_j = 1 | v) = σ((Σ_i w_ji v_i + c_j)/T) for v [B, visible]. */
  hiddenProbabilities(v: Tensor): Tensor {
    return scope(() => sigmoid(this.scaled(gemmRaw(v, false, this.weight, true, v.shape[0], this.hidden, this.visible, undefined, this.hiddenBias))));
  }

  /** p(v_i = 1 | h) = σ((Σ_j w_ji h_j + b_i)/T) for h [B, hidden]. */
  visibleProbabilities(h: Tensor): Tensor {
    return scope(() => sigmoid(this.scaled(gemmRaw(h, false, this.weight, false, h.shape[0], this.visible, this.hidden, undefined, this.visibleBias))));
  }

  /** Binary states from probabilities (seeded uniforms, or a threshold). */
  sample(p: Tensor, sampling: Sampling = 'bernoulli'): Tensor {
    if (sampling !== 'bernoulli') return bernoulli(p, sampling);
    const u = new Float32Array(p.size);
    for (let i = 0; i < u.length; i++) u[i] = this.generator.uniform();
    const ut = tensor(u, p.shape);
    const s = bernoulli(p, ut);
    ut.dispose();
    return s;
  }

  /**
   * A Gibbs chain of `steps` full steps v → h → v from v [B, visible]: returns the last
   * visible probabilities and states and the hidden states that produced them.
   */
  gibbs(v: Tensor, steps = 1, sampling: Sampling = 'bernoulli'): { visibleProbabilities: Tensor; visible: Tensor; hidden: Tensor } {
    return scope(() => {
      let vs = v;
      let h = this.sample(this.hiddenProbabilities(vs), sampling);
      let pv = this.visibleProbabilities(h);
      vs = this.sample(pv, sampling);
      for (let s = 1; s < steps; s++) {
        h = this.sample(this.hiddenProbabilities(vs), sampling);
        pv = this.visibleProbabilities(h);
        vs = this.sample(pv, sampling);
      }
      return { visibleProbabilities: pv, visible: vs, hidden: h };
    });
  }

  /** p(v|h) after `steps` Gibbs steps from the data: the RBM's reconstruction. */
  reconstruct(v: Tensor, steps = 1, sampling: Sampling = 'bernoulli'): Tensor {
    const r = this.gibbs(v, steps, sampling);
    dispose(r.visible, r.hidden);
    return r.visibleProbabilities;
  }

  /** n fantasies: Gibbs chains of `steps` steps from random binary visible states; returns the last p(v|h) [n, visible]. */
  generate(n: number, steps = 1000, sampling: Sampling = 'bernoulli'): Tensor {
    const start = this.sample(full([n, this.visible], 0.5), sampling);
    const r = this.reconstruct(start, steps, sampling);
    start.dispose();
    return r;
  }

  /**
   * Free energy F(v) = −Σ_i b_i v_i − Σ_j softplus(Σ_i w_ji v_i + c_j) per row (T = 1): its mean
   * over held-out data, against training data, is the usual overfitting monitor.
   */
  freeEnergy(v: Tensor): Tensor {
    return scope(() => {
      const x = gemmRaw(v, false, this.weight, true, v.shape[0], this.hidden, this.visible, undefined, this.hiddenBias);
      const vb = reshape(gemmRaw(v, false, reshape(this.visibleBias, [this.visible, 1]), false, v.shape[0], 1, this.visible), [v.shape[0]]);
      return neg(add(vb, sum(softplus(x), 1)));
    });
  }

  /**
   * Computes one CD-k step on the batch v0 [B, visible] and leaves −(⟨v h⟩⁰ − ⟨v h⟩^k) and
   * the bias terms in the parameters' `grad`, ready for an optimizer step.
   */
  contrastiveDivergence(v0: Tensor, opts: CDOptions = {}): CDStep {
    const k = opts.k ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new Error(`RBM.contrastiveDivergence: k must be a positive integer, got ${k}`);
    const sampling = opts.sampling ?? 'bernoulli';
    const probs = opts.useProbabilities ?? true;
    const B = v0.shape[0];
    if (v0.ndim !== 2 || v0.shape[1] !== this.visible) throw new Error(`RBM.contrastiveDivergence: batch must be [B, ${this.visible}], got [${v0.shape}]`);
    const r = scope(() => {
      const ph0 = this.hiddenProbabilities(v0);
      const h0 = this.sample(ph0, sampling);
      // The negative chain starts at the data's hidden states (CD) or where it stopped last time (PCD).
      let h = h0;
      if (opts.persistent === true) {
        if (this.chain === null || this.chain.shape[0] !== B) {
          this.chain?.dispose();
          this.chain = persistent(() => tensor(v0.data(), v0.shape));
        }
        h = this.sample(this.hiddenProbabilities(this.chain), sampling);
      }
      let firstReconstruction: Tensor | null = null;
      let v = v0;
      let ph = ph0;
      for (let s = 0; s < k; s++) {
        const pv = this.visibleProbabilities(h);
        if (s === 0 && opts.persistent !== true) firstReconstruction = pv;
        const vSample = this.sample(pv, sampling);
        v = probs && s === k - 1 ? pv : vSample;
        ph = this.hiddenProbabilities(v);
        h = this.sample(ph, sampling);
        if (opts.persistent === true && s === k - 1) {
          const next = persistent(() => tensor(vSample.data(), vSample.shape));
          this.chain!.dispose();
          this.chain = next;
        }
      }
      const pos = probs ? ph0 : h0;
      const negH = probs ? ph : h;
      // Gradients are the negated statistics: the optimizer steps against them.
      const gw = cdStatistic(v, negH, v0, pos);
      const gb = mean(sub(v, v0), 0);
      const gc = mean(sub(negH, pos), 0);
      const recon = firstReconstruction ?? this.reconstruct(v0, 1, sampling);
      const err = mseLoss(recon, v0).item();
      return { gw, gb, gc, err };
    });
    this.weight.grad?.dispose();
    this.visibleBias.grad?.dispose();
    this.hiddenBias.grad?.dispose();
    this.weight.grad = r.gw;
    this.visibleBias.grad = r.gb;
    this.hiddenBias.grad = r.gc;
    return { reconstructionError: r.err };
  }

  /** An SGD optimizer over the RBM's parameters (weight decay on the weights only). */
  makeOptimizer(lr: number, momentum = 0, weightDecay = 0): SGD {
    return new SGD([
      { params: [this.weight], weightDecay },
      { params: [this.visibleBias, this.hiddenBias], weightDecay: 0 },
    ], { lr, momentum });
  }

  /**
   * One CD-k update on the batch: statistics, then w ← w + ε(⟨v h⟩⁰ − ⟨v h⟩^k) (with momentum
   * and weight decay when given) and the same for the biases.
   */
  update(v0: Tensor, opts: CDOptions & { lr?: number; momentum?: number; weightDecay?: number } = {}): CDStep {
    const lr = opts.lr ?? 0.05;
    const momentum = opts.momentum ?? 0;
    const weightDecay = opts.weightDecay ?? 0;
    const o = this.optimizer;
    if (o === null || o.paramGroups[0].lr !== lr || o.paramGroups[0].momentum !== momentum || o.paramGroups[0].weightDecay !== weightDecay) {
      o?.dispose();
      this.optimizer = this.makeOptimizer(lr, momentum, weightDecay);
    }
    const r = this.contrastiveDivergence(v0, opts);
    this.optimizer!.step();
    this.optimizer!.zeroGrad();
    return r;
  }

  /**
   * Trains on the rows of `data` (values in [0, 1], `visible` per row) with mini-batch CD-k;
   * returns the per-epoch reconstruction errors.
   */
  fit(data: Float32Array, opts: FitOptions = {}): RBMEpoch[] {
    const V = this.visible;
    if (data.length % V !== 0) throw new Error(`RBM.fit: ${data.length} values are not whole rows of ${V}`);
    const n = data.length / V;
    const batchSize = Math.min(opts.batchSize ?? 64, n);
    const epochs = opts.epochs ?? 1;
    const history: RBMEpoch[] = [];
    const rows = new Float32Array(batchSize * V);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const t0 = performance.now();
      const idx = opts.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : this.generator.permutation(n);
      let errSum = 0;
      let batches = 0;
      // Full batches only: a persistent chain keeps one batch size.
      for (let start = 0; start + batchSize <= n; start += batchSize) {
        for (let r = 0; r < batchSize; r++) rows.set(data.subarray(idx[start + r] * V, (idx[start + r] + 1) * V), r * V);
        const v0 = tensor(rows, [batchSize, V]);
        errSum += this.update(v0, opts).reconstructionError;
        v0.dispose();
        batches++;
      }
      const rec = { epoch, reconstructionError: errSum / Math.max(1, batches), seconds: (performance.now() - t0) / 1000 };
      history.push(rec);
      opts.onEpoch?.(rec);
    }
    return history;
  }

  /** Hidden probabilities of every row of `data`, in batches: the next layer's training data in a DBN. */
  transform(data: Float32Array, batchSize = 500): Float32Array {
    const V = this.visible;
    const n = data.length / V;
    const out = new Float32Array(n * this.hidden);
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      scope(() => {
        const p = this.hiddenProbabilities(tensor(data.subarray(start * V, (start + m) * V), [m, V]));
        out.set(p.data(), start * this.hidden);
      });
    }
    return out;
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.chain?.dispose();
    dispose(this.weight, this.visibleBias, this.hiddenBias);
  }
}
