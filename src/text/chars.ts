// A character-level vocabulary (Elman's next-letter experiment, notes §1.7.2): one id per
// character (Unicode code point, so astral-plane characters are one symbol, not two halves).
import { describe } from './bpe.js';

export interface CharVocabularyOptions {
  /**
   * Text of the unknown token, which characters outside the vocabulary encode to; null makes
   * them an error instead (default '<unk>').
   */
  unknown?: string | null;
  /** Further special tokens (e.g. '<pad>'), given ids after the unknown token. */
  specials?: string[];
}

export interface CharFromTextOptions extends CharVocabularyOptions {
  /** Characters seen fewer times than this are left out (they encode as unknown). Default 1. */
  minCount?: number;
}

export interface CharVocabularyJSON {
  type: 'chars';
  version: 1;
  unknown: string | null;
  specials: string[];
  chars: string[];
}

export class CharVocabulary {
  /** The characters, by id minus the number of special tokens. */
  readonly chars: readonly string[];
  /** Special tokens (the unknown token first when there is one), ids 0.. */
  readonly specials: readonly string[];
  readonly unknown: string | null;
  private readonly ids = new Map<string, number>();

  constructor(chars: Iterable<string>, options: CharVocabularyOptions = {}) {
    const unknown = options.unknown === undefined ? '<unk>' : options.unknown;
    if (unknown !== null && (typeof unknown !== 'string' || unknown.length === 0)) throw new Error(`CharVocabulary: unknown must be a non-empty string or null, got ${describe(unknown)}`);
    const specials = [...(unknown === null ? [] : [unknown]), ...(options.specials ?? [])];
    for (const s of specials) {
      if (typeof s !== 'string' || s.length === 0) throw new Error(`CharVocabulary: special tokens must be non-empty strings, got ${describe(s)}`);
    }
    if (new Set(specials).size !== specials.length) throw new Error(`CharVocabulary: special tokens repeat: ${specials.join(', ')}`);
    const list: string[] = [];
    for (const c of chars) {
      if (typeof c !== 'string' || [...c].length !== 1) throw new Error(`CharVocabulary: every entry must be one character (code point), got ${describe(c)}`);
      if (this.ids.has(c)) throw new Error(`CharVocabulary: character ${JSON.stringify(c)} appears twice`);
      this.ids.set(c, specials.length + list.length);
      list.push(c);
    }
    this.unknown = unknown;
    this.specials = Object.freeze(specials);
    this.chars = Object.freeze(list);
  }

  /** The characters of `text` (sorted by code point, so the ids do not depend on the text's order). */
  static fromText(text: string, options: CharFromTextOptions = {}): CharVocabulary {
    if (typeof text !== 'string') throw new Error(`CharVocabulary.fromText: expected a string, got ${describe(text)}`);
    const minCount = options.minCount ?? 1;
    if (!Number.isInteger(minCount) || minCount < 1) throw new Error(`CharVocabulary.fromText: minCount must be an integer >= 1, got ${minCount}`);
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([c]) => c);
    kept.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharVocabulary(kept, options);
  }

  static fromJSON(json: CharVocabularyJSON | string): CharVocabulary {
    const obj = typeof json === 'string' ? (JSON.parse(json) as CharVocabularyJSON) : json;
    if (obj === null || typeof obj !== 'object' || obj.type !== 'chars' || obj.version !== 1) throw new Error('CharVocabulary.fromJSON: not a saved character vocabulary (type "chars", version 1)');
    const specials = obj.unknown === null ? obj.specials : obj.specials.slice(1);
    return new CharVocabulary(obj.chars, { unknown: obj.unknown, specials });
  }

  toJSON(): CharVocabularyJSON {
    return { type: 'chars', version: 1, unknown: this.unknown, specials: [...this.specials], chars: [...this.chars] };
  }

  get size(): number {
    return this.specials.length + this.chars.length;
  }

  /** Id of the unknown token (throws when the vocabulary has none). */
  get unknownId(): number {
    if (this.unknown === null) throw new Error('CharVocabulary: this vocabulary has no unknown token');
    return 0;
  }

  /** Id of a character or special token, or undefined. */
  idOf(symbol: string): number | undefined {
    const id = this.ids.get(symbol);
    if (id !== undefined) return id;
    const s = this.specials.indexOf(symbol);
    return s >= 0 ? s : undefined;
  }

  encode(text: string): number[] {
    if (typeof text !== 'string') throw new Error(`CharVocabulary.encode: expected a string, got ${describe(text)}`);
    const out: number[] = [];
    let pos = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id !== undefined) out.push(id);
      else if (this.unknown !== null) out.push(0);
      else throw new Error(`CharVocabulary.encode: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at index ${pos} is not in the vocabulary and there is no unknown token`);
      pos += c.length;
    }
    return out;
  }

  /** The text of ids; special tokens appear as their text unless skipSpecial. */
  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new Error(`CharVocabulary.decode: expected an array of ids, got ${describe(ids)}`);
    const S = this.specials.length;
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new Error(`CharVocabulary.decode: id ${id} at position ${i} is not in the vocabulary (size ${this.size})`);
      if (id < S) {
        if (!options.skipSpecial) out += this.specials[id];
      } else {
        out += this.chars[id - S];
      }
    }
    return out;
  }
}
