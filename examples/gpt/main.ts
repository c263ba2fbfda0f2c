// `npm run example -- gpt [--steps N] [--vocab V] [--dim D] [--heads H] [--layers L] [--seq T] [--seed S]`:
// a decoder-only transformer language model on Moby-Dick (notes §1.12.5.2).
//
// Same data as the lstm-lm example: the novel split by whole chapters (the last ~10 % are
// validation), a byte-pair tokenizer trained on the train text only. The model (model.ts) is
// token embedding + sinusoidal positions → pre-LN causal transformer layers (GELU MLPs) →
// linear head; it trains on random windows of T tokens with AdamW, a warm-up and a cosine
// decay. Validation perplexity is measured with sliding windows (each scored token sees at
// least T/2 tokens of context), next to the unigram model of the same tokens. Then it continues
// a prompt with greedy, beam, top-k, top-p and temperature decoding, with a KV cache (token n
// costs O(n)), and times the cache against re-reading the prefix.
import { parseArgs } from 'node:util';
import * as sg from '../../src/index.js';
import { loadMobyDick } from '../../test/text/moby-dick.mjs';
import { GPT, cachedStep, fullStep } from './model.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '600' },
    vocab: { type: 'string', default: '1024' },
    dim: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' },
    layers: { type: 'string', default: '2' },
    seq: { type: 'string', default: '64' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '3e-3' },
    dropout: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    prompt: { type: 'string', default: 'The whale' },
  },
});
const STEPS = Number(args.steps);
const VOCAB = Number(args.vocab);
const D = Number(args.dim);
const HEADS = Number(args.heads);
const LAYERS = Number(args.layers);
const SEQ = Number(args.seq);
const BATCH = Number(args.batch);
const LR = Number(args.lr);
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- data ----
const split = sg.text.splitCorpus(loadMobyDick(), { validation: 0.1 });
const tokenizer = sg.text.BPETokenizer.train(split.train, { vocabSize: VOCAB });
const trainIds = Int32Array.from(tokenizer.encode(split.train));
const validIds = Int32Array.from(tokenizer.encode(split.validation));
const V = tokenizer.vocabSize;
console.log(`Moby-Dick: ${split.train.length} train / ${split.validation.length} validation characters; BPE vocabulary ${V}: ` +
  `${trainIds.length} train / ${validIds.length} validation tokens [${elapsed()}]`);

const counts = new Float64Array(V).fill(1);
for (const id of trainIds) counts[id]++;
const total = counts.reduce((a, b) => a + b, 0);
let unigramNll = 0;
for (const id of validIds) unigramNll -= Math.log(counts[id] / total);
const unigramPerplexity = Math.exp(unigramNll / validIds.length);

// ---- model ----
sg.manualSeed(Number(args.seed));
const model = new GPT({ vocab: V, dModel: D, heads: HEADS, layers: LAYERS, dropout: Number(args.dropout) });
const params = model.parameters();
console.log(`model: ${LAYERS} pre-LN layers, d = ${D}, ${HEADS} heads, MLP ${4 * D} (GELU), context ${SEQ}; ` +
  `${params.reduce((n, p) => n + p.size, 0)} parameters; ${sg.getThreads()} thread(s), ${sg.build()} build`);

/** Mean NLL per token over the stream, by windows of SEQ with stride SEQ/2 (scoring each token once). */
function evaluate(ids: Int32Array): number {
  model.eval();
  const stride = SEQ / 2;
  const starts: number[] = [];
  for (let s = 0; s + SEQ + 1 <= ids.length; s += stride) starts.push(s);
  let nll = 0;
  let n = 0;
  for (let b = 0; b < starts.length; b += 16) {
    const group = starts.slice(b, b + 16);
    const x = new Int32Array(group.length * SEQ);
    group.forEach((s, i) => x.set(ids.subarray(s, s + SEQ), i * SEQ));
    const logp = sg.noGrad(() => sg.logSoftmax(model.forward(sg.tensor(x, [group.length, SEQ])), -1).data());
    group.forEach((s, i) => {
      for (let t = s === 0 ? 0 : stride; t < SEQ; t++) {
        nll -= logp[(i * SEQ + t) * V + ids[s + t + 1]];
        n++;
      }
    });
  }
  model.train();
  return nll / n;
}

// ---- training ----
const opt = new sg.optim.AdamW(params, { lr: LR, weightDecay: 0.01 });
const gen = new sg.RandomGenerator(Number(args.seed));
const WARMUP = Math.min(50, Math.floor(STEPS / 10));
console.log(`training: ${STEPS} steps of ${BATCH} random windows of ${SEQ} tokens`);
let sum = 0;
let count = 0;
let t0 = performance.now();
for (let step = 1; step <= STEPS; step++) {
  opt.lr = step <= WARMUP ? (LR * step) / WARMUP : LR * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (step - WARMUP)) / (STEPS - WARMUP))));
  const { input, target } = sg.text.randomWindows(trainIds, { batchSize: BATCH, seqLen: SEQ, generator: gen });
  const logits = model.forward(input);
  const loss = sg.crossEntropy(sg.reshape(logits, [BATCH * SEQ, V]), sg.reshape(target, [BATCH * SEQ]));
  opt.zeroGrad();
  sg.backward(loss);
  sg.clipGradNorm(params, 1);
  opt.step();
  sg.dispose(input, target);
  sum += loss.item();
  count++;
  if (step % 50 === 0 || step === STEPS) {
    const rate = (count * BATCH * SEQ) / ((performance.now() - t0) / 1000);
    console.log(`  step ${step}/${STEPS}: train perplexity ${Math.exp(sum / count).toFixed(1)} (${rate.toFixed(0)} tokens/s) [${elapsed()}]`);
    sum = 0;
    count = 0;
    t0 = performance.now();
  }
}

const perplexity = Math.exp(evaluate(validIds));
console.log(`validation perplexity: ${perplexity.toFixed(1)} (unigram baseline: ${unigramPerplexity.toFixed(1)})`);

// ---- samples ----
model.eval();
const prompt = tokenizer.encode(args.prompt!);
const show = (ids: number[]): string => JSON.stringify(args.prompt + tokenizer.decode(ids));
const N_NEW = 40;
const step = cachedStep(model);
const sampler = new sg.RandomGenerator(Number(args.seed));
console.log(`\nsamples: ${N_NEW} tokens after ${JSON.stringify(args.prompt)} (KV cache; generator seeded with ${args.seed})`);
console.log(`greedy:              ${show(sg.text.generate(step, prompt, { maxNewTokens: N_NEW, greedy: true }))}`);
const beams = sg.text.beamSearch(step, prompt, { beams: 4, maxLength: N_NEW, lengthPenalty: 0.7 });
console.log(`beam search (k = 4): ${show(beams[0].tokens)} (log p = ${beams[0].logProb.toFixed(1)})`);
console.log(`top-k 20:            ${show(sg.text.generate(step, prompt, { maxNewTokens: N_NEW, topK: 20, generator: sampler }))}`);
console.log(`top-p 0.9:           ${show(sg.text.generate(step, prompt, { maxNewTokens: N_NEW, topP: 0.9, generator: sampler }))}`);
console.log(`temperature 0.8:     ${show(sg.text.generate(step, prompt, { maxNewTokens: N_NEW, temperature: 0.8, generator: sampler }))}`);

// The cache against re-reading the prefix: the same greedy tokens, and the time of each.
const LONG = 3 * SEQ;
const time = (fn: () => number[]): [number[], number] => {
  const s = performance.now();
  const out = fn();
  return [out, performance.now() - s];
};
const [withCache, msCache] = time(() => sg.text.generate(step, prompt, { maxNewTokens: LONG, greedy: true }));
const [without, msFull] = time(() => sg.text.generate(fullStep(model), prompt, { maxNewTokens: LONG, greedy: true }));
step.dispose();
console.log(`\n${LONG} greedy tokens: KV cache ${msCache.toFixed(0)} ms, full prefix ${msFull.toFixed(0)} ms; same tokens: ${withCache.every((t, i) => t === without[i])}`);
console.log(`[${elapsed()}]`);
