// The main job: an MLP 784-128-10 (ReLU, softmax cross-entropy, Adam, batch 64) on the real
// MNIST digits. Written as the ordinary loop (forward, backward, step) a user would write.
import * as sg from '../src/index';
import { PIXELS, loadAllDigits } from './mnist-data.mjs';
import { makeMlp as buildMlp } from './mnist-models';

export { PIXELS };

export interface MnistSplit {
  trainX: Float32Array;
  trainY: Int32Array;
  testX: Float32Array;
  testY: Int32Array;
}

/** A seeded random split of the package's digits into `train` and `test` examples. */
export function splitDigits(train: number, test: number, seed: number): MnistSplit {
  const { x, y } = loadAllDigits();
  if (train + test > y.length) throw new Error(`mnist: asked for ${train} + ${test} digits, the package ships ${y.length}`);
  const s = sg.splitTrainValTest(new sg.Dataset(x, [PIXELS], y), { train, val: test }, seed);
  return { trainX: s.train.features, trainY: s.train.targets as Int32Array, testX: s.val.features, testY: s.val.targets as Int32Array };
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Called after each epoch. */
  onEpoch?: (e: EpochReport) => void;
  /** Called after each batch with (done, total) examples of the epoch. */
  onBatch?: (done: number, total: number) => void;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  samplesPerSecond: number;
  lr: number;
}

export function makeMlp(): sg.nn.Sequential {
  return buildMlp(sg.nn);
}

/** Fraction of rows of x whose argmax prediction equals y. */
export function accuracy(model: sg.nn.Module, x: Float32Array, y: Int32Array, batchSize = 500): number {
  let correct = 0;
  model.eval();
  sg.noGrad(() => {
    for (const b of sg.batches(x, y, PIXELS, { batchSize })) {
      sg.scope(() => {
        const pred = sg.argmax(model.forward(b.x), 1).data();
        const labels = b.y.data();
        for (let i = 0; i < b.size; i++) if (pred[i] === labels[i]) correct++;
      });
      sg.dispose(b.x, b.y);
    }
  });
  model.train();
  return correct / y.length;
}

export function trainMlp(data: MnistSplit, opts: TrainOptions): { model: sg.nn.Sequential; testAccuracy: number; history: EpochReport[] } {
  sg.manualSeed(opts.seed ?? 1);
  const batchSize = opts.batchSize ?? 64;
  const model = makeMlp();
  const baseLr = opts.lr ?? 1e-3;
  const optimizer = new sg.optim.Adam(model.parameters(), { lr: baseLr });
  const history: EpochReport[] = [];
  const n = data.trainY.length;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    // Cosine decay of the learning rate over the run: large steps early, fine ones late.
    optimizer.lr = baseLr * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / opts.epochs));
    const t0 = performance.now();
    let lossSum = 0;
    let correct = 0;
    let done = 0;
    for (const b of sg.batches(data.trainX, data.trainY, PIXELS, { batchSize, shuffle: true })) {
      const logits = model.forward(b.x);
      const loss = sg.crossEntropy(logits, b.y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      lossSum += loss.item() * b.size;
      const pred = sg.noGrad(() => sg.argmax(logits, 1));
      const p = pred.data();
      const l = b.y.data();
      for (let i = 0; i < b.size; i++) if (p[i] === l[i]) correct++;
      pred.dispose();
      done += b.size;
      opts.onBatch?.(done, n);
    }
    const seconds = (performance.now() - t0) / 1000;
    const report: EpochReport = {
      epoch,
      loss: lossSum / n,
      trainAccuracy: correct / n,
      testAccuracy: accuracy(model, data.testX, data.testY),
      samplesPerSecond: n / seconds,
      lr: optimizer.lr,
    };
    history.push(report);
    opts.onEpoch?.(report);
  }
  return { model, testAccuracy: history[history.length - 1].testAccuracy, history };
}
