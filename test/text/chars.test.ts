// The character-level vocabulary for Elman's next-letter experiment (notes §1.7.2).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CharVocabulary } from '../../src/text/index.js';
import { loadMobyDick } from './moby-dick.mjs';

describe('CharVocabulary', () => {
  it('has one id per character of the corpus, sorted by code point, after the special tokens', () => {
    const v = CharVocabulary.fromText('banana', { specials: ['<pad>'] });
    expect(v.specials).toEqual(['<unk>', '<pad>']);
    expect(v.chars).toEqual(['a', 'b', 'n']);
    expect(v.size).toBe(5);
    expect(v.encode('nab')).toEqual([4, 2, 3]);
    expect(v.idOf('<pad>')).toBe(1);
  });

  it('round-trips the novel with spaces removed (the Elman input)', () => {
    const text = loadMobyDick().slice(0, 100_000).replace(/\s+/g, '');
    const v = CharVocabulary.fromText(text, { unknown: null });
    expect(v.decode(v.encode(text))).toBe(text);
    expect(v.chars).not.toContain(' ');
  });

  it('treats an astral-plane character or a combining mark as one symbol; unknowns map to <unk>', () => {
    const v = CharVocabulary.fromText('a😀e\u0301');
    expect(v.chars).toEqual(['a', 'e', '\u0301', '😀']);
    expect(v.encode('😀a')).toEqual([4, 1]);
    expect(v.encode('ax😀')).toEqual([1, v.unknownId, 4]);
    expect(v.decode(v.encode('ax😀'))).toBe('a<unk>😀');
    expect(v.decode(v.encode('ax'), { skipSpecial: true })).toBe('a');
  });

  it('round-trips any string made of its characters and survives save/load', () => {
    const v = CharVocabulary.fromText('abc \n😀\u0301', { specials: ['<eos>'] });
    const loaded = CharVocabulary.fromJSON(JSON.stringify(v));
    expect(loaded.toJSON()).toEqual(v.toJSON());
    const s = fc.string({ unit: fc.constantFrom(...v.chars) });
    fc.assert(fc.property(s, (x) => loaded.decode(v.encode(x)) === x));
  });

  it('minCount leaves rare characters out', () => {
    expect(CharVocabulary.fromText('aaab', { minCount: 2 }).chars).toEqual(['a']);
  });

  it('bad inputs name the function', () => {
    const v = CharVocabulary.fromText('ab', { unknown: null });
    expect(() => v.encode('abc')).toThrow(/CharVocabulary.encode: character "c" \(U\+0063\) at index 2 is not in the vocabulary/);
    expect(() => v.unknownId).toThrow(/no unknown token/);
    expect(() => v.decode([2])).toThrow(/CharVocabulary.decode: id 2 at position 0/);
    expect(() => new CharVocabulary(['ab'])).toThrow(/one character/);
    expect(() => new CharVocabulary(['a', 'a'])).toThrow(/appears twice/);
    expect(() => CharVocabulary.fromText(3 as never)).toThrow(/fromText: expected a string/);
    expect(() => CharVocabulary.fromText('a', { minCount: 0 })).toThrow(/minCount/);
  });
});
