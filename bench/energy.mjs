// RBM contrastive-divergence throughput, CD-1 updates per second: simdgrad's energy.RBM against
// the same step written with TF.js ops on its wasm and cpu backends, in one run:
// `node bench/energy.mjs` (after `npm run build:if-stale`; `--json` prints the rows as JSON;
// run.mjs uses that). BENCH_ROUNDS sets the rounds (default 5).
//
// The step, the same in both libraries, for a 784×500 RBM and a batch of 64 binarised digits:
//   p(h|v0) = σ(v0·Wᵀ + c), h0 = [u < p(h|v0)] with fresh uniforms u,
//   p(v|h0) = σ(h0·W + b), p(h|v1) = σ(p(v|h0)·Wᵀ + c),
//   W += ε(p(h|v0)ᵀv0 − p(h|v1)ᵀp(v|h0))/64, b += ε·mean(v0 − p(v|h0)), c += ε·mean(p(h|v0) − p(h|v1)),
//   and the batch's reconstruction error mean((v0 − p(v|h0))²) read back to JS.
// simdgrad: rbm.update(v0, { lr }) (its uniforms come from the library's seeded JS generator;
// the update is optim.SGD); TF.js: tf ops in tf.tidy, tf.randomUniform, Variable.assign.
// The batches cycle through 1,024 digits made once, so no data loading is timed.
//
// Each library runs in its own process (--worker <lib> --threads <n>): simdgrad with 1 and 2
// threads, TF.js wasm (one thread in Node) and TF.js cpu; rounds alternate between them so a
// busy phase of the shared machine hits each. Medians and IQR/median spreads over all samples.
import { freshProcessRows, loadSimdgrad, loadTfjs, main, printStepRows, runWorkers, sig, stepRows } from './processes.mjs';
import { PIXELS, loadAllDigits } from '../examples/mnist-data.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = 1000;
const VISIBLE = PIXELS;
const HIDDEN = 500;
const BATCH = 64;
const POOL = 1024;
const LR = 0.05;
const CASE = `RBM CD-1 update: ${VISIBLE}x${HIDDEN}, batch ${BATCH}`;
const UNIT = 'updates/s';

/** POOL/BATCH batches of binarised digits, the same for every library. */
function digitBatches() {
  const { x } = loadAllDigits();
  const v = new Float32Array(POOL * PIXELS);
  for (let i = 0; i < v.length; i++) v[i] = x[i] > 0.5 ? 1 : 0;
  return Array.from({ length: POOL / BATCH }, (_, k) => v.subarray(k * BATCH * PIXELS, (k + 1) * BATCH * PIXELS));
}

function simdgradStep(sg) {
  const rbm = new sg.energy.RBM(VISIBLE, HIDDEN, { generator: new sg.RandomGenerator(1) });
  const batches = digitBatches().map((b) => sg.keep(sg.tensor(b, [BATCH, VISIBLE])));
  let k = 0;
  return () => rbm.update(batches[k++ % batches.length], { lr: LR }).reconstructionError;
}

function tfjsStep(tf) {
  const W = tf.variable(tf.randomNormal([HIDDEN, VISIBLE], 0, 0.01, 'float32', 1));
  const b = tf.variable(tf.zeros([VISIBLE]));
  const c = tf.variable(tf.zeros([HIDDEN]));
  const batches = digitBatches().map((d) => tf.keep(tf.tensor2d(d, [BATCH, VISIBLE])));
  let k = 0;
  return () => {
    const v0 = batches[k++ % batches.length];
    const err = tf.tidy(() => {
      const ph0 = tf.sigmoid(tf.add(tf.matMul(v0, W, false, true), c));
      const h0 = tf.cast(tf.less(tf.randomUniform(ph0.shape), ph0), 'float32');
      const pv1 = tf.sigmoid(tf.add(tf.matMul(h0, W), b));
      const ph1 = tf.sigmoid(tf.add(tf.matMul(pv1, W, false, true), c));
      const stat = tf.sub(tf.matMul(ph0, v0, true, false), tf.matMul(ph1, pv1, true, false));
      W.assign(tf.add(W, tf.mul(stat, LR / BATCH)));
      b.assign(tf.add(b, tf.mul(tf.mean(tf.sub(v0, pv1), 0), LR)));
      c.assign(tf.add(c, tf.mul(tf.mean(tf.sub(ph0, ph1), 0), LR)));
      return tf.mean(tf.square(tf.sub(v0, pv1)));
    });
    const e = err.dataSync()[0];
    err.dispose();
    return e;
  };
}

async function setup(lib, threads) {
  const { step, info } = lib === 'simdgrad'
    ? await loadSimdgrad(threads).then(({ sg, info }) => ({ step: simdgradStep(sg), info }))
    : await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu').then(({ tf, info }) => ({ step: tfjsStep(tf), info }));
  // One untimed step first; its reconstruction error goes in the note.
  const first = step();
  return { info, cases: { step: { label: CASE, fn: step, work: 1 } }, extra: { first } };
}

export async function energyBench() {
  const { results, busy } = await runWorkers(import.meta.url, 'energy', ROUNDS);
  return stepRows(results, busy, ROUNDS, {
    caseLabel: CASE, unit: UNIT, file: 'bench/energy.mjs',
    notes: (x, all) => [
      `first-step reconstruction error: simdgrad ${sig(x.extra.first, 4)}, TF.js wasm ${sig(all.find((p) => p.lib === 'tfjs-wasm')?.extra.first, 4)}, cpu ${sig(all.find((p) => p.lib === 'tfjs-cpu')?.extra.first, 4)}`,
      'simdgrad: energy.RBM.update (GEMMs with fused bias, sigmoid, bernoulli kernel on JS-generated uniforms, cdStatistic, optim.SGD), error read back',
      'TF.js: matMul/sigmoid/randomUniform/less/cast/sub/mean ops in tf.tidy, Variable.assign, error dataSync',
    ],
  });
}

/** For run.mjs: the bench in a fresh process, as rows of results.json. */
export function energyResultRows(progress = () => {}) {
  return freshProcessRows(import.meta.url, 'energy', progress);
}


await main(import.meta.url, { setup, roundMs: ROUND_MS, bench: energyBench, print: (r) => printStepRows(r, 1) });
