// LSTM language-model training throughput, tokens/s: simdgrad against TF.js-layers' LSTM on
// its wasm and cpu backends, in one run: `node bench/lstm.mjs` (after `npm run build:if-stale`;
// `--json` prints the rows as JSON instead of a table; run.mjs uses that). BENCH_ROUNDS sets
// the rounds (default 5).
//
// The model, the same in both libraries: LSTM(256, 256) → LSTM(256, 256) → Dense(256, 1000) at
// every step, softmax cross-entropy against a class per step (a language model's head over a
// vocabulary of 1,000), Adam (lr 1e-3). Batch 32 × T = 64, so one training step is 2,048
// tokens; tokens/s = 2048 / seconds per step. The inputs are random vectors (N(0, 1), [32, 64,
// 256]) standing for embedded tokens, and the targets random classes, both seeded and drawn
// fresh each step: the figure is the speed of the arithmetic. There is no embedding layer
// because TF.js' wasm backend cannot train one (no UnsortedSegmentSum kernel for the gather's
// gradient); an embedding's lookup and scatter-add are a small share of this step anyway.
// No state is carried between steps (each window starts from zeros), in both libraries.
// TF.js' LSTM takes glorotUniform recurrent weights instead of its default orthogonal ones:
// that initialiser needs the chained Tensor methods that only the @tensorflow/tfjs union
// package registers (tfjs-core alone throws "rMat.flatten is not a function"); the init does
// not change the speed.
// One timed call = one whole step: batch tensors built, forward, backward, optimizer update,
// loss read back.
//
// Each library runs in its own process (this file with --worker <lib> --threads <n>), like
// run.mjs: simdgrad (the build that loads by default) with 1 thread and with 2, TF.js wasm
// (one thread: it disables threads in Node) and TF.js cpu. This process drives them round by
// round (every library takes one sample batch per round, in turn), so a busy phase of the
// shared machine hits all of them; medians and interquartile spreads are over all samples.
// Other processes' CPU use per round is recorded (bench/machine.mjs), not corrected for.
import { freshProcessRows, loadSimdgrad, loadTfjs, main, printStepRows, runWorkers, sig, stepRows } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = 1000; // per library and round; a step slower than 250 ms is one sample per round
const VOCAB = 1000;
const EMBED = 256;
const HIDDEN = 256;
const LAYERS = 2;
const BATCH = 32;
const T = 64;
const TOKENS = BATCH * T;
const CASE = `LSTM train: ${LAYERS}-layer LSTM(${EMBED} -> ${HIDDEN}) + Dense(${VOCAB}) + softmax CE, batch ${BATCH} x T ${T}, Adam`;
const UNIT = 'tokens/s';

/** Seeded batches: inputs [BATCH·T·EMBED] ~ N(0, 1) and targets [BATCH·T] in [0, VOCAB), the same for every library. */
function batchStream(seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => {
    const x = new Float32Array(TOKENS * EMBED);
    for (let i = 0; i < x.length; i += 2) {
      // Box-Muller: two normals per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(u()));
      const a = 2 * Math.PI * u();
      x[i] = r * Math.cos(a);
      x[i + 1] = r * Math.sin(a);
    }
    const y = new Int32Array(TOKENS);
    for (let i = 0; i < TOKENS; i++) y[i] = Math.floor(u() * VOCAB);
    return { x, y };
  };
}

function simdgradStep(sg) {
  sg.manualSeed(1);
  const lstm = new sg.nn.LSTM(EMBED, HIDDEN, { numLayers: LAYERS });
  const head = new sg.nn.Linear(HIDDEN, VOCAB);
  const params = [...lstm.parameters(), ...head.parameters()];
  const opt = new sg.optim.Adam(params, { lr: 1e-3 });
  const next = batchStream(7);
  return () => {
    const { x, y } = next();
    const xs = sg.tensor(x, [BATCH, T, EMBED]);
    const ys = sg.tensor(y, [TOKENS]);
    const out = lstm.forward(xs).output;
    const loss = sg.crossEntropy(sg.reshape(head.forward(out), [TOKENS, VOCAB]), ys);
    opt.zeroGrad();
    sg.backward(loss);
    opt.step();
    sg.dispose(xs, ys);
    return loss.item();
  };
}

function tfjsStep(tf) {
  const model = tf.sequential();
  for (let l = 0; l < LAYERS; l++) {
    model.add(tf.layers.lstm({
      units: HIDDEN, returnSequences: true, recurrentInitializer: 'glorotUniform', ...(l === 0 ? { inputShape: [T, EMBED] } : {}),
    }));
  }
  model.add(tf.layers.dense({ units: VOCAB }));
  const opt = tf.train.adam(1e-3);
  const next = batchStream(7);
  return () => {
    const { x, y } = next();
    const cost = tf.tidy(() => {
      const xs = tf.tensor3d(x, [BATCH, T, EMBED]);
      const ys = tf.oneHot(tf.tensor1d(y, 'int32'), VOCAB);
      return opt.minimize(() => {
        const logits = tf.reshape(model.apply(xs, { training: true }), [TOKENS, VOCAB]);
        return tf.losses.softmaxCrossEntropy(ys, logits);
      }, true);
    });
    const loss = cost.dataSync()[0];
    cost.dispose();
    return loss;
  };
}

async function setup(lib, threads) {
  if (lib === 'simdgrad') {
    const { sg, info } = await loadSimdgrad(threads);
    const step = simdgradStep(sg);
    // One untimed step first: creates Adam's state; its loss goes in the note.
    const firstLoss = step();
    return { info, cases: { step: { label: CASE, fn: step, work: TOKENS } }, extra: { firstLoss } };
  }
  const { tf, info, layers } = await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu', { layers: true });
  const step = tfjsStep({ ...tf, layers: layers.layers, sequential: layers.sequential });
  const firstLoss = step();
  return { info, cases: { step: { label: CASE, fn: step, work: TOKENS } }, extra: { firstLoss } };
}

export async function lstmBench() {
  const { results, busy } = await runWorkers(import.meta.url, 'lstm', ROUNDS);
  return stepRows(results, busy, ROUNDS, {
    caseLabel: CASE, unit: UNIT, file: 'bench/lstm.mjs',
    notes: (x, all) => [
      `random N(0, 1) inputs [${BATCH}, ${T}, ${EMBED}] and random targets, fresh each step, no embedding, no carried state; ${TOKENS} tokens per step; first-step loss ${sig(x.extra.firstLoss, 4)} (ln ${VOCAB} = ${Math.log(VOCAB).toFixed(3)})`,
      'simdgrad: nn.LSTM(numLayers 2).output -> nn.Linear -> crossEntropy -> zeroGrad/backward/step, loss.item()',
      'TF.js: tf.sequential(layers.lstm x2 (returnSequences), layers.dense).apply inside tf.train.adam.minimize(softmaxCrossEntropy), cost.dataSync()',
    ],
  });
}

/** For run.mjs: the bench in a fresh process, as rows of results.json. */
export function lstmResultRows(progress = () => {}) {
  return freshProcessRows(import.meta.url, 'lstm', progress);
}


await main(import.meta.url, { setup, roundMs: ROUND_MS, bench: lstmBench, print: (r) => printStepRows(r, 0) });
