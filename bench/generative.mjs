// DCGAN training throughput, images/s: one discriminator update and one generator update per
// batch of 64 MNIST digits (28×28), simdgrad's generative.dcganGenerator/dcganDiscriminator
// against the same networks and step written with TF.js ops (wasm and cpu backends), in one
// run: `node bench/generative.mjs` (after `npm run build:if-stale`; `--json` prints the rows as
// JSON, run.mjs uses that). BENCH_ROUNDS sets the rounds (default 5), BENCH_DCGAN_WIDTH the
// width w (default 32, the example's).
//
// The networks (w = 32): G: z ∈ R⁶⁴ → Linear → BN → ReLU → [2w, 7, 7] → transposed conv 4×4
// stride 2 → BN → ReLU → [w, 14, 14] → transposed conv 4×4 stride 2 → tanh [1, 28, 28];
// D: conv 4×4 stride 2 → LeakyReLU(0.2) → conv 4×4 stride 2 → BN → LeakyReLU → Linear → logit.
// The step: fake = G(z) without a graph; L_D = ½ BCE(D(x), 1) + ½ BCE(D(fake), 0), Adam on D;
// L_G = ½ BCE(D(G(z')), 1), Adam on G (lr 2e-4, β₁ 0.5); both losses read back to JS.
// TF.js writes it NHWC with conv2d/conv2dTranspose ('same' padding: the same output sizes),
// batch norm from tf.moments, tf.losses.sigmoidCrossEntropy and tf.train.adam.minimize with
// explicit variable lists.
//
// Each library runs in its own process; rounds alternate between them. Medians and
// IQR/median spreads over all samples, as in bench/energy.mjs.
import { freshProcessRows, loadSimdgrad, loadTfjs, main, printStepRows, runWorkers, sig, stepRows } from './processes.mjs';
import { PIXELS, loadAllDigits } from '../examples/mnist-data.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = 2000;
const W = Number(process.env.BENCH_DCGAN_WIDTH ?? 32);
const LATENT = 64;
const BATCH = 64;
const POOL = 1024;
const CASE = `DCGAN training step (D + G updates): MNIST 28x28, width ${W}, batch ${BATCH}`;
const UNIT = 'images/s';

/** POOL/BATCH batches of digits scaled to [−1, 1], the same for every library. */
function digitBatches() {
  const { x } = loadAllDigits();
  const v = Float32Array.from(x.subarray(0, POOL * PIXELS), (p) => 2 * p - 1);
  return Array.from({ length: POOL / BATCH }, (_, k) => v.subarray(k * BATCH * PIXELS, (k + 1) * BATCH * PIXELS));
}

function simdgradStep(sg) {
  sg.manualSeed(1);
  const G = sg.generative.dcganGenerator({ latent: LATENT, width: W });
  const D = sg.generative.dcganDiscriminator({ width: W });
  const gOpt = new sg.optim.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const dOpt = new sg.optim.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
  const batches = digitBatches().map((b) => sg.keep(sg.tensor(b, [BATCH, 1, 28, 28])));
  let k = 0;
  return () => {
    const real = batches[k++ % batches.length];
    const fake = sg.noGrad(() => G.forward(sg.randn([BATCH, LATENT])));
    const dLoss = sg.generative.discriminatorLoss(D.forward(real), D.forward(fake));
    dOpt.zeroGrad(); dLoss.backward(); dOpt.step();
    const gLoss = sg.generative.nonSaturatingGeneratorLoss(D.forward(G.forward(sg.randn([BATCH, LATENT]))));
    gOpt.zeroGrad(); gLoss.backward(); gOpt.step();
    return dLoss.item() + gLoss.item();
  };
}

function tfjsStep(tf) {
  const normal = (shape) => tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', 1));
  const zerosV = (shape) => tf.variable(tf.zeros(shape));
  const onesV = (shape) => tf.variable(tf.ones(shape));
  const g = {
    w1: normal([LATENT, 2 * W * 49]), g1: onesV([2 * W * 49]), b1: zerosV([2 * W * 49]),
    f2: normal([4, 4, W, 2 * W]), g2: onesV([W]), b2: zerosV([W]),
    f3: normal([4, 4, 1, W]), c3: zerosV([1]),
  };
  const d = {
    f1: normal([4, 4, 1, W]), c1: zerosV([W]),
    f2: normal([4, 4, W, 2 * W]), g2: onesV([2 * W]), b2: zerosV([2 * W]),
    w3: normal([2 * W * 49, 1]), c3: zerosV([1]),
  };
  const bn = (x, axes, gamma, beta) => {
    const { mean, variance } = tf.moments(x, axes);
    return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
  };
  const G = (z) => {
    let h = tf.relu(bn(tf.matMul(z, g.w1), [0], g.g1, g.b1));
    h = tf.reshape(h, [BATCH, 7, 7, 2 * W]);
    h = tf.relu(bn(tf.conv2dTranspose(h, g.f2, [BATCH, 14, 14, W], 2, 'same'), [0, 1, 2], g.g2, g.b2));
    return tf.tanh(tf.add(tf.conv2dTranspose(h, g.f3, [BATCH, 28, 28, 1], 2, 'same'), g.c3));
  };
  const D = (x) => {
    let h = tf.leakyRelu(tf.add(tf.conv2d(x, d.f1, 2, 'same'), d.c1), 0.2);
    h = tf.leakyRelu(bn(tf.conv2d(h, d.f2, 2, 'same'), [0, 1, 2], d.g2, d.b2), 0.2);
    return tf.add(tf.matMul(tf.reshape(h, [BATCH, 2 * W * 49]), d.w3), d.c3);
  };
  const ones = tf.keep(tf.ones([BATCH, 1]));
  const zeros = tf.keep(tf.zeros([BATCH, 1]));
  const gOpt = tf.train.adam(2e-4, 0.5, 0.999);
  const dOpt = tf.train.adam(2e-4, 0.5, 0.999);
  const gVars = Object.values(g), dVars = Object.values(d);
  const batches = digitBatches().map((b) => tf.keep(tf.tensor4d(b, [BATCH, 28, 28, 1])));
  let k = 0;
  return () => {
    const real = batches[k++ % batches.length];
    const fake = tf.tidy(() => G(tf.randomNormal([BATCH, LATENT])));
    const dLoss = dOpt.minimize(() => tf.mul(tf.add(tf.losses.sigmoidCrossEntropy(ones, D(real)), tf.losses.sigmoidCrossEntropy(zeros, D(fake))), 0.5), true, dVars);
    fake.dispose();
    const gLoss = gOpt.minimize(() => tf.mul(tf.losses.sigmoidCrossEntropy(ones, D(G(tf.randomNormal([BATCH, LATENT])))), 0.5), true, gVars);
    const v = dLoss.dataSync()[0] + gLoss.dataSync()[0];
    dLoss.dispose(); gLoss.dispose();
    return v;
  };
}

async function setup(lib, threads) {
  const { step, info } = lib === 'simdgrad'
    ? await loadSimdgrad(threads).then(({ sg, info }) => ({ step: simdgradStep(sg), info }))
    // tfjs-core alone registers no gradients; minimize() needs them (tfjs-layers registers them all).
    : await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu', { layers: true }).then(({ tf, info }) => ({ step: tfjsStep(tf), info }));
  // One untimed step first; its losses go in the note.
  const first = step();
  return { info, cases: { step: { label: CASE, fn: step, work: BATCH } }, extra: { first } };
}

export async function generativeBench() {
  const { results, busy } = await runWorkers(import.meta.url, 'generative', ROUNDS);
  return stepRows(results, busy, ROUNDS, {
    caseLabel: CASE, unit: UNIT, file: 'bench/generative.mjs',
    notes: (x, all) => [
      'one D update and one G update per batch (two G forwards, three D forwards), losses read back',
      'simdgrad: generative.dcganGenerator/dcganDiscriminator (NCHW, conv2d/convTranspose2d, BatchNorm), discriminatorLoss + nonSaturatingGeneratorLoss, optim.Adam',
      'TF.js: NHWC conv2d/conv2dTranspose (same padding), tf.moments + tf.batchNorm, losses.sigmoidCrossEntropy, train.adam.minimize',
    ],
  });
}

/** For run.mjs: the bench in a fresh process, as rows of results.json. */
export function generativeResultRows(progress = () => {}) {
  return freshProcessRows(import.meta.url, 'generative', progress);
}


await main(import.meta.url, { setup, roundMs: ROUND_MS, bench: generativeBench, print: (r) => printStepRows(r, 1) });
