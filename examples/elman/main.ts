// `npm run example -- elman [--epochs E] [--letters N] [--hidden H] [--seed S]`: Elman's
// next-letter experiment (notes §1.7.2) on Moby-Dick with the spaces removed. Trains a
// character-level Elman RNN on the training chapters and prints its mean prediction error on
// the validation chapters at the first letter of a word and inside words, and their ratio.
import { parseArgs } from 'node:util';
import * as sg from '../../src/index.js';
import { loadMobyDick } from '../../test/text/moby-dick.mjs';
import { letterStream, runElman } from './experiment.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '4' },
    letters: { type: 'string' },
    hidden: { type: 'string', default: '192' },
    seed: { type: 'string', default: '1' },
  },
});

const split = sg.text.splitCorpus(loadMobyDick(), { validation: 0.1 });
const train = letterStream(split.train);
const validation = letterStream(split.validation);
console.log(`Moby-Dick without spaces: ${train.letters.length} training letters, ${validation.letters.length} validation letters ` +
  `(${split.validationChapters.length} chapters from ${JSON.stringify(split.validationChapters[0])})`);
console.log(`sample of the input: ${train.letters.slice(2000, 2080)}...`);

const r = runElman(train, validation, {
  epochs: Number(args.epochs), hidden: Number(args.hidden), seed: Number(args.seed),
  trainLetters: args.letters === undefined ? undefined : Number(args.letters),
  log: (line) => console.log(line),
});
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
console.log(`trained on ${r.trainLetters} letters for ${r.steps} steps in ${r.seconds.toFixed(1)} s; validation: ${r.bitsPerLetter.toFixed(3)} bits/letter`);
console.log(`first letter of a word: ${r.firstLetter.bits.toFixed(3)} bits, top-1 error ${pct(r.firstLetter.errorRate)} (${r.firstLetter.count} letters)`);
console.log(`inside a word:          ${r.insideWord.bits.toFixed(3)} bits, top-1 error ${pct(r.insideWord.errorRate)} (${r.insideWord.count} letters)`);
console.log(`ratio first / inside: ${r.ratio.toFixed(2)} (bits), ${(r.firstLetter.errorRate / r.insideWord.errorRate).toFixed(2)} (error rate)`);
