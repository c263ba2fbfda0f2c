// A decoder-only transformer language model (notes §1.12.5.2) and the two ways to drive the
// decoding strategies of sg.text with it: re-reading each prefix in full, or appending only
// the newest token to a KV cache. test/attention/kv-cache.test.ts checks both give the same
// tokens.
import * as sg from '../../src/index.js';

export interface GPTOptions {
  vocab: number;
  dModel: number;
  heads: number;
  layers: number;
  ffDim?: number;
  dropout?: number;
  /** Positional encoding: the notes' sinusoidal one (default) or learned positions up to maxLen. */
  positions?: 'sinusoidal' | 'learned';
  maxLen?: number;
}

/**
 * Token embedding + positional encoding → pre-LN causal transformer stack → linear head over
 * the vocabulary. forward(ids [B, T]) gives logits [B, T, V]; with a cache, ids are the
 * positions after those it holds, and the cache advances by T.
 */
export class GPT extends sg.nn.Module<[ids: sg.Tensor, cache?: sg.nn.KVCache | null], sg.Tensor> {
  readonly embed: sg.nn.Embedding;
  readonly pos: sg.nn.SinusoidalPositionalEncoding | sg.nn.LearnedPositionalEncoding;
  readonly blocks: sg.nn.TransformerEncoder;
  readonly head: sg.nn.Linear;
  private readonly scale: number;

  constructor(readonly opts: GPTOptions) {
    super();
    const { vocab, dModel, heads, layers } = opts;
    this.embed = new sg.nn.Embedding(vocab, dModel);
    this.pos = opts.positions === 'learned' ? new sg.nn.LearnedPositionalEncoding(opts.maxLen ?? 512, dModel) : new sg.nn.SinusoidalPositionalEncoding(dModel);
    this.blocks = new sg.nn.TransformerEncoder(dModel, heads, {
      numLayers: layers, ffDim: opts.ffDim ?? 4 * dModel, dropout: opts.dropout ?? 0, activation: 'gelu', norm: 'pre',
    });
    this.head = new sg.nn.Linear(dModel, vocab);
    // Embeddings start N(0, 1); scaled to the positional encoding's size per component.
    this.scale = 0.5;
  }

  forward(ids: sg.Tensor, cache: sg.nn.KVCache | null = null): sg.Tensor {
    const offset = cache?.length ?? 0;
    const x = this.pos.forward(sg.mul(this.embed.forward(ids), this.scale), offset);
    const h = this.blocks.forward(x, { causal: true, cache });
    if (cache !== null) cache.length += ids.shape[1];
    return this.head.forward(h);
  }
}

/** Prefixes of one length as an int32 [B, T] batch. */
function batchOf(prefixes: number[][]): sg.Tensor {
  const T = prefixes[0].length;
  const ids = new Int32Array(prefixes.length * T);
  prefixes.forEach((p, i) => ids.set(p, i * T));
  return sg.tensor(ids, [prefixes.length, T]);
}

/** A step function that runs the whole prefix each time (O(n²) work for token n). */
export function fullStep(model: GPT): sg.text.StepFn {
  return (prefixes) => sg.noGrad(() => {
    // Beam search extends every hypothesis by one token per step: one length, one batch.
    const same = prefixes.every((p) => p.length === prefixes[0].length);
    if (same) return model.forward(batchOf(prefixes));
    return prefixes.map((p) => model.forward(batchOf([p])).data().slice(-model.opts.vocab));
  });
}

/**
 * A step function with a KV cache per prefix: a prefix that extends one seen at the previous
 * call by a token runs that token alone on a clone of its parent's cache (beams that share a
 * parent branch from it); anything else runs in full into a new cache. Caches no prefix of the
 * current call extended are freed. `dispose()` frees the rest.
 */
export function cachedStep(model: GPT): sg.text.StepFn & { dispose(): void } {
  let caches = new Map<string, sg.nn.KVCache>();
  const step = (prefixes: number[][]): ArrayLike<number>[] => sg.noGrad(() => {
    const next = new Map<string, sg.nn.KVCache>();
    const rows = prefixes.map((p) => {
      const parent = caches.get(p.slice(0, -1).join(','));
      const cache = parent !== undefined ? parent.clone() : new sg.nn.KVCache();
      const logits = model.forward(batchOf([p.slice(cache.length)]), cache);
      next.set(p.join(','), cache);
      return logits.data().slice(-model.opts.vocab);
    });
    for (const c of caches.values()) c.dispose();
    caches = next;
    return rows;
  });
  return Object.assign(step, {
    dispose: () => {
      for (const c of caches.values()) c.dispose();
      caches.clear();
    },
  });
}
