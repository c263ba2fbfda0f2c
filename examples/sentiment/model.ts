// An encoder transformer with a class token (notes §1.12.5.3): one body, two heads. The
// masked-token head predicts the original token at masked positions (pretraining); the
// classifier reads the class token's output only (fine-tuning).
//
// Sequences are [cls] + tokens, padded to a fixed length T; a key mask keeps padding out of
// every attention row, and padding is never masked or predicted.
import * as sg from '../../src/index.js';

export interface EncoderOptions {
  vocab: number;
  dModel: number;
  heads: number;
  layers: number;
  maxLen: number;
  classes: number;
  dropout?: number;
  /** 'cls' (the notes' class token, default) or 'mean' (mean of the real tokens' outputs, class token included). */
  pool?: 'cls' | 'mean';
  /** Ties the masked-token output layer to the embedding (default true); false gives it its own V × d table. */
  tied?: boolean;
}

export class ClassTokenEncoder extends sg.nn.Module<[ids: sg.Tensor, keyMask: sg.Tensor], sg.Tensor> {
  readonly embed: sg.nn.Embedding;
  readonly pos: sg.nn.LearnedPositionalEncoding;
  readonly body: sg.nn.TransformerEncoder;
  readonly mlmNorm: sg.nn.LayerNorm;
  readonly mlmBias: sg.Tensor;
  /** The output vectors of the untied masked-token layer (null when tied to the embedding). */
  readonly mlmOut: sg.nn.Embedding | null;
  readonly classifier: sg.nn.Linear;

  constructor(readonly opts: EncoderOptions) {
    super();
    const { vocab, dModel, heads, layers, maxLen } = opts;
    this.embed = new sg.nn.Embedding(vocab, dModel);
    // Started at N(0, 0.1²) rather than scaled by 0.1 in forward: the same starting vectors, but
    // Adam's steps (≈ lr per entry) are then ten times larger relative to them, and a word seen
    // a few hundred times in pretraining does move away from its random start.
    this.embed.weight.setData(Float32Array.from(this.embed.weight.data() as Float32Array, (v) => 0.1 * v));
    this.pos = new sg.nn.LearnedPositionalEncoding(maxLen, dModel);
    this.body = new sg.nn.TransformerEncoder(dModel, heads, {
      numLayers: layers, ffDim: 4 * dModel, dropout: opts.dropout ?? 0.1, activation: 'gelu', norm: 'pre',
    });
    // The masked-token output layer is tied to the embedding by default (logits = LN(h)·Eᵀ + b):
    // every prediction then also trains the input vectors the classifier later reads. Untied,
    // it has its own table O (logits = LN(h)·Oᵀ + b), and the softmax's push on the vectors of
    // words that were not the answer lands on O instead of on the input vectors.
    this.mlmNorm = new sg.nn.LayerNorm([dModel]);
    this.mlmBias = sg.nn.parameter(sg.zeros([vocab]));
    this.mlmOut = opts.tied === false ? new sg.nn.Embedding(vocab, dModel) : null;
    if (this.mlmOut !== null) this.mlmOut.weight.setData(Float32Array.from(this.mlmOut.weight.data() as Float32Array, (v) => 0.1 * v));
    this.classifier = new sg.nn.Linear(dModel, opts.classes);
  }

  /** Contextual vectors [B, T, d] for ids [B, T] with keyMask [B, T] (0: padding). */
  forward(ids: sg.Tensor, keyMask: sg.Tensor): sg.Tensor {
    const x = this.pos.forward(this.embed.forward(ids));
    return this.body.forward(x, { keyMask });
  }

  /** Logits [N, V] at the flat positions `at` (int32 [N], indices into B·T). */
  maskedLogits(h: sg.Tensor, at: sg.Tensor): sg.Tensor {
    const [B, T, D] = h.shape;
    // The embedding op is a row gather with a scatter-add backward: it picks the masked rows.
    const picked = this.mlmNorm.forward(sg.embedding(at, sg.reshape(h, [B * T, D])));
    return sg.add(sg.matmul(picked, (this.mlmOut ?? this.embed).weight, { transB: true }), this.mlmBias);
  }

  /** Class logits [B, classes] from the class token's output (position 0), or the masked mean with pool 'mean'. */
  classLogits(h: sg.Tensor, keyMask: sg.Tensor): sg.Tensor {
    const [B, T, D] = h.shape;
    if (this.opts.pool === 'mean') {
      const m = sg.reshape(keyMask, [B, T, 1]);
      return this.classifier.forward(sg.div(sg.sum(sg.mul(h, m), 1), sg.sum(m, 1)));
    }
    return this.classifier.forward(sg.reshape(sg.slice(h, [0, 0, 0], [B, 1, D]), [B, D]));
  }
}

export interface Special {
  pad: number;
  mask: number;
  cls: number;
}

/** Rows of [cls] + ids (truncated to T − 1 tokens), padded: ids [B, T] int32 and keyMask [B, T] float. */
export function packRows(rows: readonly (readonly number[])[], T: number, sp: Special): { ids: Int32Array; keyMask: Float32Array } {
  const ids = new Int32Array(rows.length * T).fill(sp.pad);
  const keyMask = new Float32Array(rows.length * T);
  rows.forEach((r, b) => {
    ids[b * T] = sp.cls;
    keyMask[b * T] = 1;
    const n = Math.min(r.length, T - 1);
    for (let i = 0; i < n; i++) {
      ids[b * T + 1 + i] = r[i];
      keyMask[b * T + 1 + i] = 1;
    }
  });
  return { ids, keyMask };
}

/**
 * Masks a packed batch in place for pretraining: each real token (not the class token, not
 * padding) is picked with probability `rate` and replaced by the mask token. Returns the flat
 * positions picked and their original ids (at least one per batch).
 */
export function maskTokens(ids: Int32Array, keyMask: Float32Array, T: number, rate: number, sp: Special, gen: sg.RandomGenerator): { at: Int32Array; targets: Int32Array } {
  const at: number[] = [];
  const targets: number[] = [];
  const pick = (i: number): void => {
    at.push(i);
    targets.push(ids[i]);
    ids[i] = sp.mask;
  };
  for (let i = 0; i < ids.length; i++) {
    if (i % T === 0 || keyMask[i] === 0) continue;
    if (gen.uniform() < rate) pick(i);
  }
  if (at.length === 0) pick(1);
  return { at: Int32Array.from(at), targets: Int32Array.from(targets) };
}
