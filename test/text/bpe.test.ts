// The byte-pair-encoding tokenizer (notes §1.12.5.1): merges learned as defined (most frequent
// adjacent pair first), exact detokenization for any string, special tokens, save/load.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPETokenizer, DEFAULT_SPECIAL_TOKENS, pretokenize } from '../../src/text/index.js';
import { pretokenizeWithRegex } from '../../src/text/bpe.js';
import { loadMobyDick } from './moby-dick.mjs';

const book = loadMobyDick();
// Enough merges to make multi-byte and marker tokens, small enough to train in a blink.
const trained = BPETokenizer.train(book.slice(0, 200_000), { vocabSize: 1500 });

/** Strings made of the troublesome parts: whitespace runs, marks, astral and lone surrogates. */
const unit = fc.oneof(
  fc.constantFrom(' ', '  ', '   ', '\n', '\n\n', '\t', '\r\n', '\u00a0', '\u2028', '\u3000', '\u2581'),
  fc.constantFrom('the', ' the', 'whale', 'Ishmael', "'s", '’ll', ',', '.', '—', '!?', '...', '123', '٣', 'é', 'ß'),
  fc.integer({ min: 0x300, max: 0x36f }).map((c) => String.fromCodePoint(c)), // combining marks
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), // astral plane
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), // lone surrogates
  fc.constantFrom('<pad>', '<eos>', '<bos', 'mask>'),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
);
const text = fc.string({ unit, maxLength: 40 });

describe('BPE: merges', () => {
  it('learns the most frequent adjacent pair each step, ties to the smaller id pair (hand-checked)', () => {
    // "aaabdaaabac": (a,a) occurs 4 times -> 256; then (a,b) and (256,a) both twice, (a,b) has
    // the smaller ids -> 257; then (256,257) twice -> 258; every other pair occurs once.
    const tok = BPETokenizer.train('aaabdaaabac', { vocabSize: 300, specialTokens: {} });
    expect(tok.merges).toEqual([[97, 97], [97, 98], [256, 257]]);
    expect(tok.vocabSize).toBe(259);
    expect(tok.encode('aaabdaaabac')).toEqual([258, 100, 258, 97, 99]);
    expect(tok.tokenToString(258)).toBe('aaab');
  });

  it('stops at the requested vocabulary size and at minFrequency', () => {
    expect(BPETokenizer.train('aaabdaaabac', { vocabSize: 257, specialTokens: {} }).merges).toEqual([[97, 97]]);
    expect(BPETokenizer.train('aaabdaaabac', { vocabSize: 300, specialTokens: {}, minFrequency: 3 }).merges).toEqual([[97, 97]]);
    expect(trained.vocabSize).toBe(1500);
    expect(trained.merges.length).toBe(1500 - 256 - 5);
  });

  it('puts the space-prefix marker on word-initial tokens and never merges across words', () => {
    // " the" x3 and "the" x1: the merges build "▁the" (marker first), not "e▁" or "he▁t".
    const tok = BPETokenizer.train('the the the the', { vocabSize: 270, specialTokens: {} });
    const vocab = tok.vocabulary();
    expect(vocab).toContain('▁the');
    expect(vocab.some((s) => /.▁/.test(s))).toBe(false);
    expect(tok.encode(' the').map((id) => tok.tokenToString(id))).toEqual(['▁the']);
    // Learned tokens of the novel carry the marker only in front.
    const learned = trained.vocabulary().slice(5 + 256);
    expect(learned.filter((s) => s.startsWith('▁')).length).toBeGreaterThan(500);
    expect(learned.filter((s) => /[^▁\s]▁/.test(s))).toEqual([]); // whitespace runs may hold several
    expect(trained.encode('Call me Ishmael.').map((id) => trained.tokenToString(id)).join('|')).toMatch(/^C\|all\|▁me\|▁I/);
  });

  it('merges by rank: encoding the training words reproduces training, long inputs stay linear', () => {
    const tok = BPETokenizer.train('abababab cdcdcd abab', { vocabSize: 280, specialTokens: {}, minFrequency: 1 });
    expect(tok.decode(tok.encode('abababab'))).toBe('abababab');
    expect(tok.encode('abababab').length).toBe(1);
    // A 400 kB piece without spaces is one pre-token: a quadratic merge loop would take minutes.
    const long = 'ab'.repeat(200_000);
    const t = performance.now();
    const ids = tok.encode(long);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(tok.decode(ids)).toBe(long);
  });
});

describe('BPE: exact detokenization', () => {
  it('pre-tokens concatenate to the input for any string', () => {
    fc.assert(fc.property(text, (s) => pretokenize(s).join('') === s), { numRuns: 2000 });
  });

  it('the ASCII scanner cuts exactly where the pre-token regex does', () => {
    const ascii = fc.string({ unit: fc.constantFrom(' ', '  ', '\n', '\t', '\r', '\x0b', '\x00', "'", "'s", "'ll", "'VE", 'S', 'a', 'Z', '0', '9', '.', '-', '_', ',', 'é', '\u00a0', '٣', '\u0301', '😀'), maxLength: 30 });
    fc.assert(fc.property(fc.oneof(ascii, text), (s) => {
      expect(pretokenize(s)).toEqual(pretokenizeWithRegex(s));
    }), { numRuns: 5000 });
    expect(pretokenize(book)).toEqual(pretokenizeWithRegex(book));
  });

  it('decode(encode(s)) === s for any string (whitespace runs, marks, astral, lone surrogates)', () => {
    const untrained = new BPETokenizer([]);
    fc.assert(fc.property(text, (s) => {
      expect(trained.decode(trained.encode(s))).toBe(s);
      expect(trained.decode(trained.encode(s, { allowSpecial: true }))).toBe(s);
      expect(untrained.decode(untrained.encode(s))).toBe(s);
    }), { numRuns: 3000 });
  });

  it('round-trips the whole novel and fixed hard cases', () => {
    const hard = ['', ' ', '   ', '\n\n\n', 'a  b   c\t\td', ' leading', 'trailing  ', 'e\u0301\u0302', '👩‍👩‍👧 family', '\ud83d', 'x\udc00y', '▁▁ ▁', 'tab\tnew\nline\r\n', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'];
    for (const s of hard) expect(trained.decode(trained.encode(s))).toBe(s);
    const ids = trained.encode(book);
    expect(trained.decode(ids)).toBe(book);
    // The notes' ~4 characters per token is for vocabularies of tens of thousands; 1500 gives less.
    expect(book.length / ids.length).toBeGreaterThan(2.5);
  });
});

describe('BPE: special tokens', () => {
  it('are ids 0.. in order, encoded only when asked, and never merged', () => {
    const S = Object.keys(DEFAULT_SPECIAL_TOKENS).length;
    const corpus = '<pad><pad><eos> hello <mask>'.repeat(50);
    const tok = BPETokenizer.train(corpus, { vocabSize: 400 });
    expect(tok.specialId('pad')).toBe(0);
    expect(tok.specialId('cls')).toBe(4);
    for (const [a, b] of tok.merges) expect(Math.min(a, b)).toBeGreaterThanOrEqual(S);
    const s = '<pad><pad><eos> hello <mask>';
    const asked = tok.encode(s, { allowSpecial: true });
    expect(asked.slice(0, 3)).toEqual([0, 0, 2]);
    expect(asked[asked.length - 1]).toBe(3);
    expect(tok.decode(asked)).toBe(s);
    const plain = tok.encode(s);
    expect(plain.some((id) => tok.isSpecial(id))).toBe(false);
    expect(tok.decode(plain)).toBe(s);
    expect(tok.encode('hi', { begin: true, end: true })).toEqual([1, ...tok.encode('hi'), 2]);
    expect(tok.decode(tok.encode('hi', { begin: true, end: true }), { skipSpecial: true })).toBe('hi');
  });

  it('are configurable; merges over special ids are refused', () => {
    const tok = BPETokenizer.train('ab ab ab', { vocabSize: 260, specialTokens: { pad: '[PAD]', sep: '[SEP]' } });
    expect(tok.specialId('sep')).toBe(1);
    expect(tok.encode('x[SEP]y', { allowSpecial: true })).toEqual([2 + 120, 1, 2 + 121]);
    expect(() => tok.specialId('mask')).toThrow(/no special token with role 'mask'/);
    expect(() => new BPETokenizer([[0, 7]], { pad: '<pad>' })).toThrow(/never a special token/);
    expect(() => new BPETokenizer([[1, 2000]], {})).toThrow(/merge 0 uses id 2000/);
  });
});

describe('BPE: save and load', () => {
  it('fromJSON(toJSON()) gives identical encodings, also through a JSON string', () => {
    const saved = JSON.stringify(trained.toJSON());
    const loaded = BPETokenizer.fromJSON(saved);
    expect(loaded.vocabSize).toBe(trained.vocabSize);
    expect(loaded.vocabulary()).toEqual(trained.vocabulary());
    const sample = book.slice(500_000, 600_000);
    expect(loaded.encode(sample)).toEqual(trained.encode(sample));
    fc.assert(fc.property(text, (s) => {
      expect(loaded.encode(s, { allowSpecial: true })).toEqual(trained.encode(s, { allowSpecial: true }));
    }), { numRuns: 300 });
  });
});

describe('BPE: bad inputs', () => {
  it('names the function and the problem', () => {
    expect(() => BPETokenizer.train('abc', { vocabSize: 100 })).toThrow(/BPETokenizer.train: vocabSize must be an integer >= 261/);
    expect(() => BPETokenizer.train('abc', { vocabSize: 300, minFrequency: 0 })).toThrow(/minFrequency/);
    expect(() => BPETokenizer.train(42 as never, { vocabSize: 300 })).toThrow(/corpus must be a string/);
    expect(() => BPETokenizer.train('a', { vocabSize: 300, specialTokens: { a: 'x', b: 'x' } })).toThrow(/used by two roles/);
    expect(() => trained.encode(5 as never)).toThrow(/BPETokenizer.encode: expected a string/);
    expect(() => trained.decode([1, 1e9])).toThrow(/BPETokenizer.decode: id 1000000000 at position 1/);
    expect(() => trained.decode([0.5])).toThrow(/not a token id/);
    expect(() => BPETokenizer.fromJSON({ type: 'wordpiece' } as never)).toThrow(/not a saved BPE tokenizer/);
    expect(() => BPETokenizer.fromJSON({ ...trained.toJSON(), pretokenizer: 'other' })).toThrow(/pre-tokenizer 'other'/);
  });

  it('decodes byte sequences no string produces (a model cut mid-character) with U+FFFD', () => {
    const S = 5;
    expect(trained.decode([S + 0xe2, S + 0x80])).toBe('\ufffd\ufffd');
    expect(trained.decode([S + 0x61, S + 0xff, S + 0x62])).toBe('a\ufffdb');
  });
});
