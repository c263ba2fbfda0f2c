// The corpus pipeline: Moby-Dick from its package, a contiguous train/validation split, and
// [N, T] language-model batches.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index.js';
import { LMBatches, randomWindows, splitChapters, splitCorpus } from '../../src/text/index.js';
import { loadMobyDick } from './moby-dick.mjs';

const book = loadMobyDick();

describe('Moby-Dick corpus', () => {
  it('is the whole novel: 135 chapters that concatenate back to the text', () => {
    expect(book.length).toBeGreaterThan(1_100_000);
    const chapters = splitChapters(book);
    expect(chapters.length).toBe(135);
    expect(chapters[0].title).toBe('CHAPTER 1. Loomings.');
    expect(chapters[134].title).toMatch(/^CHAPTER 135\. The Chase/);
    expect(chapters.map((c) => c.text).join('')).toBe(book);
  });

  it('splits by whole chapters: train is the head, validation the tail, disjoint and contiguous', () => {
    const s = splitCorpus(book, { validation: 0.1 });
    expect(s.train + s.validation).toBe(book);
    expect(s.train.length).toBe(s.at);
    expect(s.validation.startsWith('CHAPTER ')).toBe(true);
    expect(s.validation.length / book.length).toBeGreaterThan(0.07);
    expect(s.validation.length / book.length).toBeLessThan(0.13);
    const trainTitles = splitChapters(s.train).map((c) => c.title);
    const valTitles = splitChapters(s.validation).map((c) => c.title);
    expect(valTitles).toEqual(s.validationChapters);
    expect(trainTitles.filter((t) => valTitles.includes(t))).toEqual([]);
    expect(trainTitles.length + valTitles.length).toBe(135);
    expect(valTitles[valTitles.length - 1]).toMatch(/^CHAPTER 135\./);
  });

  it("splits by one block at a line break with by: 'block'", () => {
    const s = splitCorpus(book, { validation: 0.2, by: 'block' });
    expect(s.train + s.validation).toBe(book);
    expect(book[s.at - 1]).toBe('\n');
    expect(Math.abs(s.at - 0.8 * book.length)).toBeLessThan(1000);
  });
});

describe('LMBatches', () => {
  it('lays the stream out as N parallel streams: row i of batch j+1 continues row i of batch j', () => {
    const ids = Int32Array.from({ length: 103 }, (_, i) => i);
    const b = new LMBatches(ids, { batchSize: 4, seqLen: 5 });
    expect(b.streamLength).toBe(25);
    expect(b.length).toBe(4); // (25 - 1) / 5
    const seen: number[] = [];
    for (let j = 0; j < b.length; j++) {
      const { input, target } = b.get(j);
      expect(input.dtype).toBe('int32');
      expect(input.shape).toEqual([4, 5]);
      expect(target.shape).toEqual([4, 5]);
      const x = input.toArray() as number[][];
      const y = target.toArray() as number[][];
      for (let i = 0; i < 4; i++) {
        expect(x[i]).toEqual(Array.from({ length: 5 }, (_, t) => i * 25 + j * 5 + t));
        expect(y[i]).toEqual(x[i].map((v) => v + 1));
        seen.push(...x[i]);
      }
      sg.dispose(input, target);
    }
    expect(new Set(seen).size).toBe(seen.length); // every token once
    let count = 0;
    for (const batch of b) {
      count++;
      sg.dispose(batch.input, batch.target);
    }
    expect(count).toBe(4);
  });

  it('randomWindows draws N seeded windows with next-token targets', () => {
    const ids = Array.from({ length: 50 }, (_, i) => i);
    const a = randomWindows(ids, { batchSize: 3, seqLen: 8, generator: new sg.RandomGenerator(5) });
    const b = randomWindows(ids, { batchSize: 3, seqLen: 8, generator: new sg.RandomGenerator(5) });
    expect(a.input.toArray()).toEqual(b.input.toArray());
    const x = a.input.toArray() as number[][];
    const y = a.target.toArray() as number[][];
    for (let i = 0; i < 3; i++) {
      expect(x[i]).toEqual(Array.from({ length: 8 }, (_, t) => x[i][0] + t));
      expect(y[i]).toEqual(x[i].map((v) => v + 1));
      expect(y[i][7]).toBeLessThan(50);
    }
    sg.dispose(a.input, a.target, b.input, b.target);
  });

  it('bad inputs name the function', () => {
    expect(() => new LMBatches([1, 2, 3], { batchSize: 2, seqLen: 4 })).toThrow(/LMBatches: 3 tokens make no batch of 2 x 4/);
    expect(() => new LMBatches([1, 2, 3], { batchSize: 0, seqLen: 1 })).toThrow(/LMBatches: batchSize/);
    expect(() => new LMBatches([1, -2, 3], { batchSize: 1, seqLen: 1 })).toThrow(/LMBatches: token ids must be integers >= 0, got -2 at index 1/);
    expect(() => new LMBatches(Array.from({ length: 40 }, () => 1), { batchSize: 2, seqLen: 4 }).get(9)).toThrow(/LMBatches.get: batch 9/);
    expect(() => randomWindows([1, 2], { batchSize: 1, seqLen: 4 })).toThrow(/randomWindows: 2 tokens are too few/);
    expect(() => splitCorpus('no chapters here')).toThrow(/splitCorpus: found 1 chapter/);
    expect(() => splitCorpus(book, { validation: 1 })).toThrow(/splitCorpus: validation must be a share in \(0, 1\)/);
    expect(() => splitCorpus(book, { by: 'lines' as never })).toThrow(/by must be 'chapters' or 'block'/);
  });
});
