// Byte-pair encoding (notes §1.12.5.1): start from single symbols, repeatedly merge the most
// frequent adjacent pair into a new token until the vocabulary has the requested size.
//
// Symbols are the 256 byte values of the text's UTF-8 form rather than its characters, so every
// string has an encoding (no unknown token) and decoding joins bytes exactly. JS strings may hold
// lone surrogates, which UTF-8 cannot express; they are written as the 3-byte sequence UTF-8
// would use for that code unit (the "WTF-8" convention), so even those strings round-trip.
//
// The space-prefix marker: text is first cut into pre-tokens (words, number runs, punctuation
// runs, whitespace runs); a single space in front of a word belongs to that word as its first
// symbol, shown as ▁ (U+2581) in the vocabulary. Merges never cross pre-tokens, so learned
// tokens read "▁whale", "ing", ... and decoding turns each marker back into the space it was.
// Runs of several spaces keep all but the last as plain whitespace tokens.
//
// Token ids: special tokens first (0..S-1, so pad is 0 by default), then the 256 bytes, then
// one id per merge in the order they were learned (a merge's rank is its position).

const BYTES = 256;
const MARKER = '\u2581';
/** The name of the pre-tokenizer below, stored in saved tokenizers so a changed one is noticed. */
const PRETOKENIZER = 'simdgrad-words-v1';

// A contraction suffix ('s, ’ll, ...), then an optional single space plus a run of letters (with
// their combining marks), of digits, or of other visible characters; then whitespace, where a run
// whose last space precedes a word leaves that space for the word's marker. Every character matches one
// alternative, so the pieces always concatenate back to the input.
const PRETOKEN = /['\u2019](?:[sdmtSDMT]|ll|ve|re|LL|VE|RE)(?![\p{L}\p{M}])| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?= \S)|\s+/uy;

/** Pieces of `text` that BPE merges within (the concatenation of the pieces is `text`). */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  forEachPiece(text, (from, to) => out.push(text.slice(from, to)));
  return out;
}

/** @internal The same pieces by the regex alone (the reference the fast scanner is tested against). */
export function pretokenizeWithRegex(text: string): string[] {
  const re = new RegExp(PRETOKEN.source, PRETOKEN.flags);
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) out.push(m[0]);
  return out;
}

// ASCII character classes of the pattern above, for a scanner that handles ASCII text without
// the regex (about twice as fast); any piece that touches a non-ASCII character goes to the regex.
const LETTER = 1;
const DIGIT = 2;
const OTHER = 3;
const SPACE = 4;
const ASCII_CLASS = new Uint8Array(128).map((_, c) => (
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? LETTER
    : c >= 48 && c <= 57 ? DIGIT
      : c === 32 || (c >= 9 && c <= 13) ? SPACE
        : OTHER));

/** Where the piece starting at i ends, or -1 when a non-ASCII character may change the answer. */
function asciiPieceEnd(text: string, i: number): number {
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c >= 128) return -1;
  let cls = ASCII_CLASS[c];
  let j = i;
  if (c === 39) {
    // A contraction 's 't 'd 'm 'll 've 're (either case) not followed by a letter.
    const a = i + 1 < n ? text.charCodeAt(i + 1) : 0;
    const b = i + 2 < n ? text.charCodeAt(i + 2) : 0;
    if (a >= 128 || b >= 128) return -1;
    let len = 0;
    if ('sdmtSDMT'.includes(String.fromCharCode(a)) && a !== 0) len = 2;
    else if (b !== 0 && ['ll', 've', 're', 'LL', 'VE', 'RE'].includes(String.fromCharCode(a, b))) len = 3;
    if (len > 0) {
      const after = i + len < n ? text.charCodeAt(i + len) : -1;
      if (after >= 128) return -1;
      if (after < 0 || ASCII_CLASS[after] !== LETTER) return i + len;
    }
  } else if (c === 32 && i + 1 < n) {
    const d = text.charCodeAt(i + 1);
    if (d >= 128) return -1;
    if (ASCII_CLASS[d] !== SPACE) {
      j = i + 1; // the space is the marker of the word, number or punctuation run after it
      cls = ASCII_CLASS[d];
    }
  }
  if (cls !== SPACE) {
    let k = j + 1;
    while (k < n) {
      const d = text.charCodeAt(k);
      if (d >= 128) return -1; // letters, marks and digits go on beyond ASCII
      if (ASCII_CLASS[d] !== cls) break;
      k++;
    }
    return k;
  }
  let k = i + 1;
  while (k < n) {
    const d = text.charCodeAt(k);
    if (d >= 128) return -1; // \s includes non-ASCII spaces
    if (ASCII_CLASS[d] !== SPACE) break;
    k++;
  }
  // A run followed by a visible character leaves its last space, if it is one, to that character.
  if (k < n && k - 1 > i && text.charCodeAt(k - 1) === 32) return k - 1;
  return k;
}

/** Calls fn(from, to) for each pre-token of text, in order. */
function forEachPiece(text: string, fn: (from: number, to: number) => void): void {
  const re = new RegExp(PRETOKEN.source, PRETOKEN.flags);
  const n = text.length;
  let i = 0;
  while (i < n) {
    let end = asciiPieceEnd(text, i);
    if (end < 0) {
      re.lastIndex = i;
      end = i + re.exec(text)![0].length;
    }
    fn(i, end);
    i = end;
  }
}

/** Default special tokens: role -> text. Their ids are 0, 1, ... in this order. */
export const DEFAULT_SPECIAL_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  pad: '<pad>', begin: '<bos>', end: '<eos>', mask: '<mask>', cls: '<cls>',
});

export interface BPETrainOptions {
  /** Total vocabulary size: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** Stop early when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** Role -> token text (default DEFAULT_SPECIAL_TOKENS); `{}` for none. */
  specialTokens?: Record<string, string>;
}

export interface EncodeOptions {
  /** Map occurrences of special-token texts in the input to their ids (default false: plain text). */
  allowSpecial?: boolean;
  /** Prepend the `begin` special token. */
  begin?: boolean;
  /** Append the `end` special token. */
  end?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text (default false: they appear as their text). */
  skipSpecial?: boolean;
}

/** The JSON form written by toJSON and read by fromJSON. */
export interface BPEJSON {
  type: 'bpe';
  version: 1;
  pretokenizer: string;
  specialTokens: Record<string, string>;
  /** Pairs of token ids, in rank order; merge r creates id S + 256 + r. */
  merges: [number, number][];
}

export class BPETokenizer {
  /** Learned merges in rank order (pairs of ids). */
  readonly merges: ReadonlyArray<readonly [number, number]>;
  /** Role -> special token text. */
  readonly specialTokens: Readonly<Record<string, string>>;
  private readonly specialTexts: string[];
  private readonly specialByText = new Map<string, number>();
  private readonly specialRoles = new Map<string, number>();
  private readonly numSpecial: number;
  /** Byte content of every non-special id (index id - numSpecial). */
  private readonly tokenBytes: Uint8Array[] = [];
  /** (left * size + right) -> rank. */
  private readonly ranks = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();
  private specialSplitter: RegExp | null = null;

  constructor(merges: ReadonlyArray<readonly [number, number]>, specialTokens: Record<string, string> = { ...DEFAULT_SPECIAL_TOKENS }) {
    checkSpecials('BPETokenizer', specialTokens);
    this.specialTokens = Object.freeze({ ...specialTokens });
    this.specialTexts = Object.values(specialTokens);
    this.numSpecial = this.specialTexts.length;
    Object.entries(specialTokens).forEach(([role, text], id) => {
      this.specialRoles.set(role, id);
      this.specialByText.set(text, id);
    });
    const S = this.numSpecial;
    for (let b = 0; b < BYTES; b++) this.tokenBytes.push(Uint8Array.of(b));
    const size = S + BYTES + merges.length;
    const checked: [number, number][] = [];
    merges.forEach((pair, r) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`BPETokenizer: merge ${r} must be a pair of ids, got ${JSON.stringify(pair)}`);
      const [a, b] = pair;
      const limit = S + BYTES + r; // a merge may only use ids that exist before it
      for (const id of [a, b]) {
        if (!Number.isInteger(id) || id < S || id >= limit) {
          throw new Error(`BPETokenizer: merge ${r} uses id ${id}; it must be an integer in [${S}, ${limit}) (bytes and earlier merges, never a special token)`);
        }
      }
      const key = a * size + b;
      if (this.ranks.has(key)) throw new Error(`BPETokenizer: merge ${r} repeats the pair [${a}, ${b}] of merge ${this.ranks.get(key)}`);
      this.ranks.set(key, r);
      const left = this.tokenBytes[a - S];
      const right = this.tokenBytes[b - S];
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      this.tokenBytes.push(joined);
      checked.push([a, b]);
    });
    this.merges = Object.freeze(checked.map((p) => Object.freeze(p) as readonly [number, number]));
    if (this.numSpecial > 0) {
      // Longest first, so a special token that contains another one wins.
      const alternatives = [...this.specialTexts].sort((x, y) => y.length - x.length).map(escapeRegExp);
      this.specialSplitter = new RegExp(alternatives.join('|'), 'gu');
    }
  }

  /** Learns merges on `corpus` (one text or several; pairs never span texts or pre-tokens). */
  static train(corpus: string | Iterable<string>, options: BPETrainOptions): BPETokenizer {
    if (options === null || typeof options !== 'object') throw new Error('BPETokenizer.train: options { vocabSize } are required');
    const specials = options.specialTokens ?? { ...DEFAULT_SPECIAL_TOKENS };
    checkSpecials('BPETokenizer.train', specials);
    const S = Object.keys(specials).length;
    const { vocabSize } = options;
    if (!Number.isInteger(vocabSize) || vocabSize < S + BYTES) {
      throw new Error(`BPETokenizer.train: vocabSize must be an integer >= ${S + BYTES} (${S} special tokens + 256 bytes), got ${vocabSize}`);
    }
    const minFrequency = options.minFrequency ?? 2;
    if (!Number.isFinite(minFrequency) || minFrequency < 1) throw new Error(`BPETokenizer.train: minFrequency must be a number >= 1, got ${minFrequency}`);
    const texts = typeof corpus === 'string' ? [corpus] : corpus;
    if (texts === null || typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new Error('BPETokenizer.train: corpus must be a string or an iterable of strings');
    }
    const wordCounts = new Map<string, number>();
    for (const text of texts) {
      if (typeof text !== 'string') throw new Error(`BPETokenizer.train: corpus entries must be strings, got ${typeof text}`);
      for (const w of pretokenize(text)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
    const merges = learnMerges(wordCounts, S, vocabSize - S - BYTES, minFrequency);
    return new BPETokenizer(merges, specials);
  }

  static fromJSON(json: BPEJSON | string): BPETokenizer {
    const obj = typeof json === 'string' ? (JSON.parse(json) as BPEJSON) : json;
    if (obj === null || typeof obj !== 'object' || obj.type !== 'bpe') throw new Error('BPETokenizer.fromJSON: not a saved BPE tokenizer (type must be "bpe")');
    if (obj.version !== 1) throw new Error(`BPETokenizer.fromJSON: unsupported version ${String(obj.version)}`);
    if (obj.pretokenizer !== PRETOKENIZER) {
      throw new Error(`BPETokenizer.fromJSON: saved with pre-tokenizer '${obj.pretokenizer}', this version uses '${PRETOKENIZER}'`);
    }
    if (!Array.isArray(obj.merges)) throw new Error('BPETokenizer.fromJSON: merges must be an array of id pairs');
    return new BPETokenizer(obj.merges, obj.specialTokens ?? {});
  }

  toJSON(): BPEJSON {
    return {
      type: 'bpe', version: 1, pretokenizer: PRETOKENIZER,
      specialTokens: { ...this.specialTokens },
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /** Number of token ids (special tokens + 256 bytes + merges). */
  get vocabSize(): number {
    return this.numSpecial + this.tokenBytes.length;
  }

  /** The id of a special token by role ('pad', 'begin', 'end', 'mask', 'cls', ...). */
  specialId(role: string): number {
    const id = this.specialRoles.get(role);
    if (id === undefined) throw new Error(`BPETokenizer: no special token with role '${role}' (have: ${[...this.specialRoles.keys()].join(', ') || 'none'})`);
    return id;
  }

  isSpecial(id: number): boolean {
    return id >= 0 && id < this.numSpecial;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new Error(`BPETokenizer.encode: expected a string, got ${describe(text)}`);
    const out: number[] = [];
    if (options.begin) out.push(this.specialId('begin'));
    if (options.allowSpecial && this.specialSplitter !== null) {
      const re = this.specialSplitter;
      re.lastIndex = 0;
      let from = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        this.encodeOrdinary(text.slice(from, m.index), out);
        out.push(this.specialByText.get(m[0])!);
        from = m.index + m[0].length;
      }
      this.encodeOrdinary(text.slice(from), out);
    } else {
      this.encodeOrdinary(text, out);
    }
    if (options.end) out.push(this.specialId('end'));
    return out;
  }

  /** The text of a sequence of ids: the bytes of the tokens joined, read as UTF-8. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new Error(`BPETokenizer.decode: expected an array of token ids, got ${describe(ids)}`);
    const size = this.vocabSize;
    const S = this.numSpecial;
    let buf = new Uint8Array(Math.max(16, ids.length * 4));
    let n = 0;
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= size) throw new Error(`BPETokenizer.decode: id ${id} at position ${i} is not a token id (vocabulary size ${size})`);
      if (id < S) {
        out += decodeWtf8(buf, n);
        n = 0;
        if (!options.skipSpecial) out += this.specialTexts[id];
        continue;
      }
      const bytes = this.tokenBytes[id - S];
      if (n + bytes.length > buf.length) {
        const bigger = new Uint8Array(Math.max(buf.length * 2, n + bytes.length));
        bigger.set(buf.subarray(0, n));
        buf = bigger;
      }
      buf.set(bytes, n);
      n += bytes.length;
    }
    return out + decodeWtf8(buf, n);
  }

  /** A readable form of one token: its text with ▁ for spaces, <0xNN> for bytes that are not whole characters. */
  tokenToString(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`BPETokenizer.tokenToString: ${id} is not a token id (vocabulary size ${this.vocabSize})`);
    if (id < this.numSpecial) return this.specialTexts[id];
    const bytes = this.tokenBytes[id - this.numSpecial];
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      s = Array.from(bytes, (b) => (b >= 0x21 && b < 0x7f ? String.fromCharCode(b) : b === 0x20 ? ' ' : `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)).join('');
    }
    return s.replace(/ /g, MARKER);
  }

  /** Every token's readable form, by id. */
  vocabulary(): string[] {
    return Array.from({ length: this.vocabSize }, (_, id) => this.tokenToString(id));
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) return;
    const cache = this.cache;
    forEachPiece(text, (from, to) => {
      const piece = text.slice(from, to);
      let ids = cache.get(piece);
      if (ids === undefined) {
        ids = this.bpe(piece);
        // A bound on memory for endless streams of new words; refilling is cheap.
        if (cache.size >= 100_000) cache.clear();
        cache.set(piece, ids);
      }
      for (let k = 0; k < ids.length; k++) out.push(ids[k]);
    });
  }

  /**
   * Applies the merges to one pre-token: always the lowest-ranked adjacent pair first (leftmost
   * on ties), as training created them. A linked list over the symbols and a heap of candidate
   * pairs keyed by (rank, position) make it O(n log n) in the piece's length.
   */
  private bpe(piece: string): number[] {
    const S = this.numSpecial;
    const sym = wtf8Bytes(piece);
    const n = sym.length;
    for (let i = 0; i < n; i++) sym[i] += S;
    if (n < 2 || this.ranks.size === 0) return sym;
    const size = this.vocabSize;
    const ranks = this.ranks;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    for (let i = 0; i + 1 < n; i++) {
      const r = ranks.get(sym[i] * size + sym[i + 1]);
      if (r !== undefined) heap.push(r * n + i);
    }
    const firstMerge = S + BYTES;
    while (heap.size > 0) {
      const key = heap.pop();
      const i = key % n;
      const r = (key - i) / n;
      const j = next[i];
      // Stale entries: the left symbol was absorbed, or either side changed since the push.
      if (sym[i] < 0 || j >= n || ranks.get(sym[i] * size + sym[j]) !== r) continue;
      sym[i] = firstMerge + r;
      sym[j] = -1;
      const k = next[j];
      next[i] = k;
      if (k < n) prev[k] = i;
      const p = prev[i];
      if (p >= 0) {
        const rp = ranks.get(sym[p] * size + sym[i]);
        if (rp !== undefined) heap.push(rp * n + p);
      }
      if (k < n) {
        const rk = ranks.get(sym[i] * size + sym[k]);
        if (rk !== undefined) heap.push(rk * n + i);
      }
    }
    const out: number[] = [];
    for (let i = 0; i < n; i = next[i]) out.push(sym[i]);
    return out;
  }
}

/** Binary min-heap of numbers (the keys encode rank and position). */
class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    let i = a.length;
    a.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1] < a[c]) c++;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Training: every distinct pre-token is a sequence of ids with a count; pair counts are kept
 * up to date incrementally (only the words that contain the merged pair are touched), and a
 * lazily-checked max-heap finds the most frequent pair. Ties go to the smaller (left, right)
 * id pair, so results do not depend on Map order.
 */
function learnMerges(wordCounts: Map<string, number>, S: number, maxMerges: number, minFrequency: number): [number, number][] {
  const size = S + BYTES + maxMerges;
  const words: Int32Array[] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    const ids = wtf8Bytes(w);
    if (ids.length < 2) continue;
    words.push(Int32Array.from(ids, (b) => b + S));
    freq.push(c);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const add = (key: number, w: number, c: number): void => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + c);
    let set = pairWords.get(key);
    if (set === undefined) pairWords.set(key, (set = new Set()));
    set.add(w);
  };
  words.forEach((ids, w) => {
    for (let i = 0; i + 1 < ids.length; i++) add(ids[i] * size + ids[i + 1], w, freq[w]);
  });
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);
  const merges: [number, number][] = [];
  const touched = new Set<number>();
  while (merges.length < maxMerges && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale
    if (count < minFrequency) break;
    const a = Math.floor(key / size);
    const b = key - a * size;
    const id = S + BYTES + merges.length;
    merges.push([a, b]);
    touched.clear();
    for (const w of pairWords.get(key) ?? []) {
      const ids = words[w];
      const c = freq[w];
      let found = false;
      for (let i = 0; i + 1 < ids.length; i++) if (ids[i] === a && ids[i + 1] === b) { found = true; break; }
      if (!found) continue;
      for (let i = 0; i + 1 < ids.length; i++) {
        const k = ids[i] * size + ids[i + 1];
        pairCount.set(k, pairCount.get(k)! - c);
        touched.add(k);
      }
      const merged: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          merged.push(id);
          i++;
        } else {
          merged.push(ids[i]);
        }
      }
      const next = Int32Array.from(merged);
      words[w] = next;
      for (let i = 0; i + 1 < next.length; i++) {
        const k = next[i] * size + next[i + 1];
        add(k, w, c);
        touched.add(k);
      }
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const k of touched) {
      const c = pairCount.get(k);
      if (c !== undefined && c > 0) heap.push(c, k);
    }
  }
  return merges;
}

/** Max-heap on count, then min on key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
  push(c: number, k: number): void {
    const { counts, keys } = this;
    let i = counts.length;
    counts.push(c);
    keys.push(k);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(c, k, counts[p], keys[p])) break;
      counts[i] = counts[p];
      keys[i] = keys[p];
      i = p;
    }
    counts[i] = c;
    keys[i] = k;
  }
  pop(): [number, number] {
    const { counts, keys } = this;
    const top: [number, number] = [counts[0], keys[0]];
    const c = counts.pop()!;
    const k = keys.pop()!;
    const n = counts.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let ch = 2 * i + 1;
        if (ch >= n) break;
        if (ch + 1 < n && this.before(counts[ch + 1], keys[ch + 1], counts[ch], keys[ch])) ch++;
        if (!this.before(counts[ch], keys[ch], c, k)) break;
        counts[i] = counts[ch];
        keys[i] = keys[ch];
        i = ch;
      }
      counts[i] = c;
      keys[i] = k;
    }
    return top;
  }
}

/** UTF-8 bytes of a string, with lone surrogates as their 3-byte form (WTF-8). */
export function wtf8Bytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
          continue;
        }
      }
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return out;
}

/**
 * Reads n bytes as UTF-8, accepting the 3-byte forms of surrogates that wtf8Bytes writes.
 * Byte sequences no string produces (e.g. a model's output cut mid-character) become U+FFFD
 * per offending byte rather than an error.
 */
export function decodeWtf8(b: Uint8Array, n: number): string {
  let out = '';
  const units: number[] = [];
  let i = 0;
  const cont = (k: number): boolean => k < n && (b[k] & 0xc0) === 0x80;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      units.push(c);
      i++;
    } else if (c >= 0xc2 && c < 0xe0 && cont(i + 1)) {
      units.push(((c & 31) << 6) | (b[i + 1] & 63));
      i += 2;
    } else if (c >= 0xe0 && c < 0xf0 && cont(i + 1) && cont(i + 2) && (c !== 0xe0 || b[i + 1] >= 0xa0)) {
      units.push(((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63));
      i += 3;
    } else if (c >= 0xf0 && c < 0xf5 && cont(i + 1) && cont(i + 2) && cont(i + 3) && (c !== 0xf0 || b[i + 1] >= 0x90) && (c !== 0xf4 || b[i + 1] < 0x90)) {
      const cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63);
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
      i += 4;
    } else {
      units.push(0xfffd);
      i++;
    }
    // fromCharCode takes its arguments on the stack; flush in chunks.
    if (units.length >= 8192) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

function checkSpecials(fn: string, specials: Record<string, string>): void {
  if (specials === null || typeof specials !== 'object' || Array.isArray(specials)) {
    throw new Error(`${fn}: specialTokens must be an object { role: text }, got ${describe(specials)}`);
  }
  const seen = new Set<string>();
  for (const [role, text] of Object.entries(specials)) {
    if (typeof text !== 'string' || text.length === 0) throw new Error(`${fn}: special token '${role}' must be a non-empty string, got ${describe(text)}`);
    if (seen.has(text)) throw new Error(`${fn}: special token text '${text}' is used by two roles`);
    seen.add(text);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return `${typeof v} ${String(v)}`;
}
