// Multi-head attention (notes §1.12.2.4), positional encodings (§1.12.4) and the KV cache
// that makes generation cost O(n) per token.
//
// MultiheadAttention projects with four Linear layers and hands [B, T, H·D_k] tensors to the
// scaledDotProductAttention op, which reads head h as column block h: the heads are never
// reshaped, transposed or copied, and the concatenated heads come out ready for W_o.
import { attentionWeights, scaledDotProductAttention } from '../../ops/attention.js';
import { add } from '../../ops/elementwise.js';
import { concat, slice } from '../../ops/shape.js';
import { keep } from '../../core/lifetime.js';
import { randn } from '../../core/random.js';
import { fmt, persistent, tensor, type Tensor } from '../../core/tensor.js';
import { checkOptions, nonNegativeInt, positiveInt } from '../../core/validate.js';
import { Module, parameter } from '../module.js';
import { Linear } from './linear.js';

/**
 * Keys and values of the positions a model has already seen, per attention layer, so that the
 * next token only computes its own query, key and value and attends over the stored ones:
 * token n costs O(n) instead of re-running all n positions. Used under noGrad.
 *
 * Each layer's entry grows by one concat per call (a copy of O(n) values, the same order as the
 * attention itself). The tensors are the cache's (kept from the step rule) until dispose().
 * clone() starts a branch (a beam) that shares the stored tensors; appending to either side
 * makes new ones and leaves the other alone. Dispose a cache before its clones only if they
 * have appended to every layer since (a decoder step does): shared tensors are not counted.
 */
export class KVCache {
  /** Positions stored so far: the offset of the next token's positional encoding. The model advances it after each step (layers do not know the step's length). */
  length = 0;
  private readonly entries = new Map<object, { k: Tensor; v: Tensor }>();
  private readonly mine = new Set<Tensor>();

  /** Stored keys and values of `owner` with the new ones appended along the time axis (axis -2). */
  append(owner: object, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const old = this.entries.get(owner);
    const next = old === undefined
      ? { k: keep(k), v: keep(v) }
      : { k: keep(concat([old.k, k], -2)), v: keep(concat([old.v, v], -2)) };
    if (old !== undefined) {
      for (const t of [old.k, old.v]) {
        if (this.mine.delete(t)) t.dispose();
      }
    }
    this.mine.add(next.k);
    this.mine.add(next.v);
    this.entries.set(owner, next);
    return next;
  }

  /** Keys and values that do not grow (cross-attention over a fixed memory): made once by `make`. */
  memo(owner: object, make: () => { k: Tensor; v: Tensor }): { k: Tensor; v: Tensor } {
    let e = this.entries.get(owner);
    if (e === undefined) {
      e = keep(make());
      this.mine.add(e.k);
      this.mine.add(e.v);
      this.entries.set(owner, e);
    }
    return e;
  }

  /** A branch sharing the stored tensors (see the class comment). */
  clone(): KVCache {
    const c = new KVCache();
    c.length = this.length;
    for (const [o, e] of this.entries) c.entries.set(o, e);
    return c;
  }

  /** Frees the tensors this cache made. */
  dispose(): void {
    for (const t of this.mine) t.dispose();
    this.mine.clear();
    this.entries.clear();
  }
}

export interface MultiheadAttentionOptions {
  /** Feature size of the keys' and values' source (cross-attention; default dModel). */
  kvDim?: number;
  /** Biases in the four projections (default true). */
  bias?: boolean;
}

export interface AttentionCallOptions {
  /** Query i sees keys up to its own position (decoder self-attention). */
  causal?: boolean;
  /** [B, T_k]: 0 marks a padded key. */
  keyMask?: Tensor | null;
  /** Additive mask [T_q, T_k] (−Infinity blocks). */
  mask?: Tensor | null;
  /**
   * A KV cache: self-attention appends this call's keys and values to the stored ones;
   * cross-attention (`static: true`) computes them from the memory once.
   */
  cache?: KVCache | null;
  /** With a cache: the keys and values do not grow (cross-attention over a fixed memory). */
  static?: boolean;
}

/**
 * Multi-head attention: Y = Concat[H_1, …, H_H]·W_o with H_h = Attention(X_q·W_q,h, X_kv·W_k,h,
 * X_kv·W_v,h) and D_k = D_v = dModel / heads. forward(query) is self-attention;
 * forward(query, memory) is cross-attention. Inputs are [B, T, D] (or [T, D]).
 */
export class MultiheadAttention extends Module<[query: Tensor, kv?: Tensor | null, opts?: AttentionCallOptions], Tensor> {
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly wo: Linear;
  readonly headDim: number;

  constructor(readonly dModel: number, readonly heads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    positiveInt('MultiheadAttention', 'dModel', dModel);
    positiveInt('MultiheadAttention', 'heads', heads);
    const o = checkOptions('MultiheadAttention', opts, ['kvDim', 'bias']);
    if (dModel % heads !== 0) throw new Error(`MultiheadAttention: heads (${heads}) must divide dModel (${dModel})`);
    const kvDim = o.kvDim ?? dModel;
    positiveInt('MultiheadAttention', 'kvDim', kvDim);
    const bias = o.bias ?? true;
    this.headDim = dModel / heads;
    this.wq = new Linear(dModel, dModel, { bias });
    this.wk = new Linear(kvDim, dModel, { bias });
    this.wv = new Linear(kvDim, dModel, { bias });
    this.wo = new Linear(dModel, dModel, { bias });
  }

  /** Queries, keys and values of this call (keys and values through the cache when one is given). */
  private project(query: Tensor, kv: Tensor | null, opts: AttentionCallOptions): { q: Tensor; k: Tensor; v: Tensor } {
    const src = kv ?? query;
    const q = this.wq.forward(query);
    const cache = opts.cache ?? null;
    if (cache === null) return { q, k: this.wk.forward(src), v: this.wv.forward(src) };
    if (opts.static === true) return { q, ...cache.memo(this, () => ({ k: this.wk.forward(src), v: this.wv.forward(src) })) };
    return { q, ...cache.append(this, this.wk.forward(src), this.wv.forward(src)) };
  }

  forward(query: Tensor, kv: Tensor | null = null, opts: AttentionCallOptions = {}): Tensor {
    const { q, k, v } = this.project(query, kv, opts);
    const y = scaledDotProductAttention(q, k, v, { heads: this.heads, causal: opts.causal ?? false, keyMask: opts.keyMask ?? null, mask: opts.mask ?? null });
    return this.wo.forward(y);
  }

  /** The attention weights [B, H, T_q, T_k] this call would use (for inspection; no cache). */
  weights(query: Tensor, kv: Tensor | null = null, opts: Omit<AttentionCallOptions, 'cache' | 'static'> = {}): Tensor {
    const { q, k } = this.project(query, kv, {});
    return attentionWeights(q, k, { heads: this.heads, causal: opts.causal ?? false, keyMask: opts.keyMask ?? null, mask: opts.mask ?? null });
  }
}

/**
 * The notes' sinusoidal encoding (§1.12.4.3) of positions offset .. offset + length − 1:
 * r_n = [sin(w_1 n), cos(w_1 n), …, sin(w_{D/2} n), cos(w_{D/2} n)] with w_i = 1/10000^{2i/D},
 * i = 1 … D/2 (the notes count from 1; Vaswani et al. from 0). A [length, D] tensor, yours.
 */
export function sinusoidalEncoding(length: number, dim: number, offset = 0): Tensor {
  nonNegativeInt('sinusoidalEncoding', 'length', length);
  positiveInt('sinusoidalEncoding', 'dim', dim);
  nonNegativeInt('sinusoidalEncoding', 'offset', offset);
  if (dim % 2 !== 0) throw new Error(`sinusoidalEncoding: dim must be even (sin/cos pairs), got ${dim}`);
  const v = new Float32Array(length * dim);
  for (let t = 0; t < length; t++) {
    const n = t + offset;
    for (let i = 1; i <= dim / 2; i++) {
      const w = Math.pow(10000, (-2 * i) / dim);
      v[t * dim + 2 * i - 2] = Math.sin(w * n);
      v[t * dim + 2 * i - 1] = Math.cos(w * n);
    }
  }
  return tensor(v, [length, dim]);
}

/** Adds rows offset .. offset + T − 1 of a [rows, D] table to x [..., T, D]. */
function addRows(where: string, x: Tensor, table: Tensor, offset: number): Tensor {
  const [rows, D] = table.shape;
  if (x.ndim < 2 || x.shape[x.ndim - 1] !== D) throw new Error(`${where}: input must be [..., T, ${D}], got ${fmt(x.shape)}`);
  const T = x.shape[x.ndim - 2];
  if (offset + T > rows) throw new Error(`${where}: positions ${offset} .. ${offset + T - 1} are beyond the table's ${rows}`);
  return add(x, slice(table, [offset, 0], [T, D]));
}

/**
 * Adds the sinusoidal encoding to token vectors x [..., T, D]: forward(x, offset) uses
 * positions offset .. offset + T − 1 (offset: the KV cache's length when generating). No
 * parameters; the table is computed once per length and kept by the module (not in the state
 * dict).
 */
export class SinusoidalPositionalEncoding extends Module<[x: Tensor, offset?: number], Tensor> {
  // In a box, not a member: the table is derived, so it is neither a buffer nor a parameter.
  private readonly box: { table: Tensor | null } = { table: null };

  constructor(readonly dim: number) {
    super();
    positiveInt('SinusoidalPositionalEncoding', 'dim', dim);
    if (dim % 2 !== 0) throw new Error(`SinusoidalPositionalEncoding: dim must be even (sin/cos pairs), got ${dim}`);
  }

  /** The [rows, D] table, grown (doubling) to at least `rows` positions. */
  private table(rows: number): Tensor {
    const t = this.box.table;
    if (t !== null && t.shape[0] >= rows) return t;
    t?.dispose();
    const n = Math.max(rows, 2 * (t?.shape[0] ?? 32));
    this.box.table = persistent(() => sinusoidalEncoding(n, this.dim));
    return this.box.table;
  }

  forward(x: Tensor, offset = 0): Tensor {
    nonNegativeInt('SinusoidalPositionalEncoding', 'offset', offset);
    const T = x.ndim >= 2 ? x.shape[x.ndim - 2] : 0;
    return addRows('SinusoidalPositionalEncoding', x, this.table(offset + T), offset);
  }
}

/** Learned absolute positions: a [maxLen, D] parameter (N(0, 0.02²) at the start), row n added to token n. */
export class LearnedPositionalEncoding extends Module<[x: Tensor, offset?: number], Tensor> {
  readonly weight: Tensor;

  constructor(readonly maxLen: number, readonly dim: number) {
    super();
    positiveInt('LearnedPositionalEncoding', 'maxLen', maxLen);
    positiveInt('LearnedPositionalEncoding', 'dim', dim);
    this.weight = parameter(randn([maxLen, dim], 0, 0.02));
  }

  forward(x: Tensor, offset = 0): Tensor {
    nonNegativeInt('LearnedPositionalEncoding', 'offset', offset);
    return addRows('LearnedPositionalEncoding', x, this.weight, offset);
  }
}
