// `npm run example -- seq2seq [--steps N] [--min L] [--max L] [--dim D] [--heads H] [--layers L] [--seed S]`:
// an encoder–decoder transformer with cross-attention (notes §1.12.5.4) that learns to reverse
// digit strings.
//
// Training strings have lengths min .. max; for every such length a test set of strings is
// drawn first and kept out of training, so the exact-match figure is on inputs never seen.
// Decoding is greedy, one token at a time through a KV cache. Strings longer than any seen in
// training are scored separately: nothing in the training signal tells the model what to do at
// positions it has never been asked to produce, so this measures extrapolation, not the task.
import { parseArgs } from 'node:util';
import * as sg from '../../src/index.js';
import { Seq2Seq, VOCAB, digitStrings, exactMatch, reverse, trainStep } from './model.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '1500' },
    min: { type: 'string', default: '3' },
    max: { type: 'string', default: '10' },
    dim: { type: 'string', default: '64' },
    heads: { type: 'string', default: '4' },
    layers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '2e-3' },
    test: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
  },
});
const STEPS = Number(args.steps);
const MIN = Number(args.min);
const MAX = Number(args.max);
const BATCH = Number(args.batch);
const LR = Number(args.lr);
const N_TEST = Number(args.test);
const SEED = Number(args.seed);
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- data: held-out strings per training length first, then training draws avoid them ----
const gen = new sg.RandomGenerator(SEED);
const lengths = Array.from({ length: MAX - MIN + 1 }, (_, i) => MIN + i);
const heldOut = new Map<number, number[][]>();
const excluded = new Set<string>();
for (const L of lengths) {
  // Short lengths have few distinct strings: hold out at most a tenth of them.
  const n = Math.min(N_TEST, Math.floor(10 ** L / 10));
  const set = new Set<string>();
  const strings: number[][] = [];
  while (strings.length < n) {
    const [s] = digitStrings(1, L, gen);
    if (set.has(s.join(''))) continue;
    set.add(s.join(''));
    strings.push(s);
  }
  heldOut.set(L, strings);
  for (const k of set) excluded.add(k);
}
const longer = [MAX + 1, MAX + 2, MAX + 4, MAX + 6].map((L) => [L, digitStrings(N_TEST, L, gen)] as const);

// ---- model ----
sg.manualSeed(SEED);
const D = Number(args.dim);
const model = new Seq2Seq({ vocab: VOCAB, dModel: D, heads: Number(args.heads), encoderLayers: Number(args.layers), decoderLayers: Number(args.layers) });
const params = model.parameters();
console.log(`reverse digit strings: train lengths ${MIN}..${MAX}, ${N_TEST} held-out strings per length (fewer for short ones)`);
console.log(`model: ${args.layers} encoder + ${args.layers} decoder pre-LN layers, d = ${D}, ${args.heads} heads; ` +
  `${params.reduce((n, p) => n + p.size, 0)} parameters; ${sg.getThreads()} thread(s), ${sg.build()} build`);

// ---- training: each step one length, a batch of fresh strings of it ----
const opt = new sg.optim.AdamW(params, { lr: LR, weightDecay: 0.01 });
const WARMUP = Math.min(100, Math.floor(STEPS / 10));
let sum = 0;
let count = 0;
for (let step = 1; step <= STEPS; step++) {
  opt.lr = step <= WARMUP ? (LR * step) / WARMUP : LR * 0.5 * (1 + Math.cos((Math.PI * (step - WARMUP)) / (STEPS - WARMUP)));
  const L = MIN + gen.int(MAX - MIN + 1);
  sum += trainStep(model, opt, digitStrings(BATCH, L, gen, excluded), reverse);
  count++;
  if (step % 250 === 0 || step === STEPS) {
    console.log(`  step ${step}/${STEPS}: train loss ${(sum / count).toFixed(4)} [${elapsed()}]`);
    sum = 0;
    count = 0;
  }
}

// ---- evaluation ----
let right = 0;
let total = 0;
const perLength: string[] = [];
for (const L of lengths) {
  const s = heldOut.get(L)!;
  const em = exactMatch(model, s, reverse);
  right += em * s.length;
  total += s.length;
  perLength.push(`${L}: ${(100 * em).toFixed(1)}`);
}
console.log(`\nexact match on held-out strings of the training lengths: ${(100 * right / total).toFixed(2)} % (${total} strings)`);
console.log(`  by length (%): ${perLength.join(', ')}`);
const long = longer.map(([L, s]) => `${L}: ${(100 * exactMatch(model, s, reverse)).toFixed(1)}`);
console.log(`length generalisation (longer than any training string), exact match %: ${long.join(', ')}`);

const show = [[1, 2, 3, 4, 5], [9, 0, 9, 0, 0, 7, 1], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]];
for (const s of show) {
  const { src } = { src: sg.tensor(Int32Array.from(s, (d) => d + 3), [1, s.length]) };
  const got = model.eval().greedy(src, s.length + 2).map((row) => row.map((t) => t - 3).join(''))[0];
  src.dispose();
  console.log(`  ${s.join('')} -> ${got}`);
}
console.log(`[${elapsed()}]`);
