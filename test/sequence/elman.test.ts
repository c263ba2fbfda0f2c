// Elman's experiment (notes §1.7.2), short: a character-level Elman RNN trained briefly on the
// first letters of Moby-Dick with the spaces removed predicts the next letter measurably worse
// at the first letter of a word than inside words, on validation chapters it never saw.
// The full run is `npm run example -- elman`.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { letterStream, runElman } from '../../examples/elman/experiment';
import { loadMobyDick } from '../text/moby-dick.mjs';

describe("Elman's next-letter experiment (notes §1.7.2)", () => {
  it('letters without spaces: the error is higher at the first letter of a word than inside words', () => {
    const split = sg.text.splitCorpus(loadMobyDick(), { validation: 0.1 });
    const train = letterStream(split.train);
    const validation = letterStream(split.validation);
    // The stream has no separators, and the flags mark the runs of letters of the original.
    expect(letterStream("Call me Ishmael. Some years ago--").letters).toBe('callmeishmaelsomeyearsago');
    expect(Array.from(letterStream("it's a whale").wordStart)).toEqual([1, 0, 1, 1, 1, 0, 0, 0, 0]);
    const r = runElman(train, validation, { trainLetters: 250_000, evalLetters: 20_000, epochs: 2, hidden: 64, lr: 1e-2, seed: 1 });
    console.log(`elman (${r.trainLetters} letters, ${r.steps} steps, ${r.seconds.toFixed(1)} s): first letter ${r.firstLetter.bits.toFixed(3)} bits ` +
      `(error ${(100 * r.firstLetter.errorRate).toFixed(1)} %, ${r.firstLetter.count} letters), inside ${r.insideWord.bits.toFixed(3)} bits ` +
      `(error ${(100 * r.insideWord.errorRate).toFixed(1)} %, ${r.insideWord.count}), ratio ${r.ratio.toFixed(2)}`);
    // It learned something: well under log2(26) = 4.7 bits per letter.
    expect(r.bitsPerLetter).toBeLessThan(3.6);
    expect(r.firstLetter.bits).toBeGreaterThan(1.3 * r.insideWord.bits);
    expect(r.firstLetter.errorRate).toBeGreaterThan(r.insideWord.errorRate + 0.1);
  });
});
