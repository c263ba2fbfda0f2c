// An encoder–decoder transformer (notes §1.12.5.4) for short token strings, and the synthetic
// task it is shown on: reversing digit strings. Shared by examples/seq2seq/main.ts and
// test/attention/seq2seq.test.ts.
//
// Every batch holds strings of one length, so neither side is ever padded: no key masks, and
// the loss covers every target position.
import * as sg from '../../src/index.js';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
/** Digit d is token DIGIT0 + d. */
export const DIGIT0 = 3;
export const VOCAB = DIGIT0 + 10;

export interface Seq2SeqOptions {
  vocab: number;
  dModel: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  ffDim?: number;
  dropout?: number;
}

/**
 * Source and target share one embedding table (same digits on both sides) and the sinusoidal
 * positions; pre-LN stacks; a linear head over the vocabulary.
 */
export class Seq2Seq extends sg.nn.Module<[src: sg.Tensor, tgtIn: sg.Tensor], sg.Tensor> {
  readonly embed: sg.nn.Embedding;
  readonly pos: sg.nn.SinusoidalPositionalEncoding;
  readonly encoder: sg.nn.TransformerEncoder;
  readonly decoder: sg.nn.TransformerDecoder;
  readonly head: sg.nn.Linear;

  constructor(readonly opts: Seq2SeqOptions) {
    super();
    const { vocab, dModel, heads } = opts;
    const layer = { ffDim: opts.ffDim ?? 4 * dModel, dropout: opts.dropout ?? 0, norm: 'pre' as const };
    this.embed = new sg.nn.Embedding(vocab, dModel);
    this.pos = new sg.nn.SinusoidalPositionalEncoding(dModel);
    this.encoder = new sg.nn.TransformerEncoder(dModel, heads, { ...layer, numLayers: opts.encoderLayers });
    this.decoder = new sg.nn.TransformerDecoder(dModel, heads, { ...layer, numLayers: opts.decoderLayers });
    this.head = new sg.nn.Linear(dModel, vocab);
  }

  /** Token vectors with positions from `offset`; N(0, 1) embeddings scaled to the encoding's size per component. */
  private embedAt(ids: sg.Tensor, offset: number): sg.Tensor {
    return this.pos.forward(sg.mul(this.embed.forward(ids), 0.5), offset);
  }

  /** The encoder's output Z [B, S, d] for source ids [B, S]. */
  encode(src: sg.Tensor): sg.Tensor {
    return this.encoder.forward(this.embedAt(src, 0));
  }

  /**
   * Logits [B, T, V] for decoder inputs [B, T] over the memory. With a cache, tgtIn are the
   * positions after those it holds, and the cache advances by T.
   */
  decode(tgtIn: sg.Tensor, memory: sg.Tensor, cache: sg.nn.KVCache | null = null): sg.Tensor {
    const offset = cache?.length ?? 0;
    const h = this.decoder.forward(this.embedAt(tgtIn, offset), memory, { cache });
    if (cache !== null) cache.length += tgtIn.shape[1];
    return this.head.forward(h);
  }

  /** Teacher forcing: the decoder reads the target shifted right by one (BOS first). */
  forward(src: sg.Tensor, tgtIn: sg.Tensor): sg.Tensor {
    return this.decode(tgtIn, this.encode(src));
  }

  /**
   * Greedy decoding of a batch of equal-length sources [B, S], one token per step through a KV
   * cache (the cross-attention keys and values are made once), for at most maxLen tokens.
   * Returns each row's tokens up to (not including) its first EOS.
   */
  greedy(src: sg.Tensor, maxLen: number): number[][] {
    const B = src.shape[0];
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    const cache = new sg.nn.KVCache();
    // One noGrad call for the whole decode keeps the memory alive across steps; the sequences
    // are short, so what it holds until the end is small.
    sg.noGrad(() => {
      const memory = this.encode(src);
      let last = new Int32Array(B).fill(BOS);
      for (let t = 0; t < maxLen && done.includes(false); t++) {
        const ids = sg.tensor(last, [B, 1]);
        const next = sg.argmax(this.decode(ids, memory, cache), -1).data() as Int32Array;
        ids.dispose();
        last = Int32Array.from(next);
        for (let b = 0; b < B; b++) {
          if (done[b]) continue;
          if (next[b] === EOS) done[b] = true;
          else out[b].push(next[b]);
        }
      }
    });
    cache.dispose();
    return out;
  }
}

/** `n` random digit strings of `length` (as digit arrays) not in `exclude`, from `gen`. */
export function digitStrings(n: number, length: number, gen: sg.RandomGenerator, exclude: ReadonlySet<string> = new Set()): number[][] {
  const out: number[][] = [];
  while (out.length < n) {
    const s = Array.from({ length }, () => gen.int(10));
    if (!exclude.has(s.join(''))) out.push(s);
  }
  return out;
}

/** The task's target for a source string. */
export const reverse = (s: readonly number[]): number[] => [...s].reverse();

/** Source ids [B, S], decoder inputs [B, S + 1] (BOS + target) and labels [B·(S + 1)] (target + EOS). */
export function batchOf(sources: readonly (readonly number[])[], task: (s: readonly number[]) => number[]): { src: sg.Tensor; tgtIn: sg.Tensor; labels: sg.Tensor } {
  const B = sources.length;
  const S = sources[0].length;
  const tgts = sources.map(task);
  const T = tgts[0].length + 1;
  const src = new Int32Array(B * S);
  const tgtIn = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  sources.forEach((s, b) => {
    s.forEach((d, i) => { src[b * S + i] = DIGIT0 + d; });
    tgtIn[b * T] = BOS;
    tgts[b].forEach((d, i) => {
      tgtIn[b * T + i + 1] = DIGIT0 + d;
      labels[b * T + i] = DIGIT0 + d;
    });
    labels[b * T + T - 1] = EOS;
  });
  return { src: sg.tensor(src, [B, S]), tgtIn: sg.tensor(tgtIn, [B, T]), labels: sg.tensor(labels, [B * T]) };
}

/** One teacher-forced training step on a batch of same-length sources; returns the mean token loss. */
export function trainStep(model: Seq2Seq, opt: sg.optim.Optimizer, sources: readonly (readonly number[])[], task: (s: readonly number[]) => number[]): number {
  const { src, tgtIn, labels } = batchOf(sources, task);
  const logits = model.forward(src, tgtIn);
  const loss = sg.crossEntropy(sg.reshape(logits, [labels.shape[0], model.opts.vocab]), labels);
  opt.zeroGrad();
  sg.backward(loss);
  sg.clipGradNorm(model.parameters(), 1);
  opt.step();
  sg.dispose(src, tgtIn, labels);
  return loss.item();
}

/** Fraction of sources whose greedy output equals the task's target exactly (batches of 256). */
export function exactMatch(model: Seq2Seq, sources: readonly (readonly number[])[], task: (s: readonly number[]) => number[]): number {
  const wasTraining = model.training;
  model.eval();
  let right = 0;
  for (let i = 0; i < sources.length; i += 256) {
    const chunk = sources.slice(i, i + 256);
    const { src, tgtIn, labels } = batchOf(chunk, task);
    const got = model.greedy(src, chunk[0].length + 2);
    sg.dispose(src, tgtIn, labels);
    got.forEach((g, b) => {
      const want = task(chunk[b]);
      if (g.length === want.length && g.every((d, j) => d === DIGIT0 + want[j])) right++;
    });
  }
  if (wasTraining) model.train();
  return right / sources.length;
}
