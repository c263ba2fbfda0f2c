// Greedy layer-wise pretraining against random initialisation (notes §1.8.3) with few labels:
// a DBN is pretrained on every training digit without its label, unrolled into a sigmoid
// net with a softmax head and fine-tuned on `labelled` digits by backprop; the same net from
// nn.Linear's random initialisation is trained on the same digits with the same steps.
// Shared by test/energy/dbn.test.ts (a small setting) and examples/rbm/main.ts (a larger one).
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../mnist-data.mjs';

export interface CompareOptions {
  /** Hidden layer sizes of the DBN (and of the net). */
  hidden: number[];
  /** Digits with labels for fine-tuning. */
  labelled: number;
  /** Digits held out for the accuracy. */
  test: number;
  seeds: number[];
  pretrainEpochs: number;
  fineTuneEpochs: number;
  /** Fine-tuning learning rate (SGD with momentum 0.9). */
  lr?: number;
  log?: (line: string) => void;
}

export interface SeedResult {
  seed: number;
  pretrained: number;
  random: number;
}

function accuracy(model: sg.nn.Module, x: Float32Array, y: Int32Array): number {
  let correct = 0;
  model.eval();
  sg.noGrad(() => sg.scope(() => {
    const pred = sg.argmax(model.forward(sg.tensor(x, [y.length, PIXELS])), 1).data();
    for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
  }));
  model.train();
  return correct / y.length;
}

function fineTune(model: sg.nn.Module, x: Float32Array, y: Int32Array, epochs: number, lr: number, seed: number): void {
  const opt = new sg.optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  const gen = new sg.RandomGenerator(seed);
  for (let e = 0; e < epochs; e++) {
    for (const b of sg.batches(x, y, PIXELS, { batchSize: 20, shuffle: true, generator: gen })) {
      const loss = sg.crossEntropy(model.forward(b.x), b.y);
      opt.zeroGrad();
      sg.backward(loss);
      opt.step();
      sg.dispose(b.x, b.y);
    }
  }
  opt.dispose();
}

export function comparePretraining(o: CompareOptions): SeedResult[] {
  const { x, y } = loadAllDigits();
  const n = y.length;
  const results: SeedResult[] = [];
  for (const seed of o.seeds) {
    const perm = new sg.RandomGenerator(1000 + seed).permutation(n);
    const rows = (idx: ArrayLike<number>): { x: Float32Array; y: Int32Array } => {
      const xs = new Float32Array(idx.length * PIXELS);
      const ys = new Int32Array(idx.length);
      for (let k = 0; k < idx.length; k++) {
        xs.set(x.subarray(idx[k] * PIXELS, (idx[k] + 1) * PIXELS), k * PIXELS);
        ys[k] = y[idx[k]];
      }
      return { x: xs, y: ys };
    };
    const test = rows(perm.subarray(0, o.test));
    const unlabelled = rows(perm.subarray(o.test));
    const labelled = rows(perm.subarray(o.test, o.test + o.labelled));

    const t0 = performance.now();
    const dbn = new sg.energy.DBN([PIXELS, ...o.hidden], { generator: new sg.RandomGenerator(seed) });
    const hist = dbn.pretrain(unlabelled.x, { epochs: o.pretrainEpochs, batchSize: 20, lr: 0.05, momentum: 0.5, weightDecay: 1e-4 });
    o.log?.(`seed ${seed}: pretrained ${[PIXELS, ...o.hidden].join('-')} on ${unlabelled.y.length} unlabelled digits in ${((performance.now() - t0) / 1000).toFixed(1)} s; reconstruction error per layer ${hist.map((h) => h.map((e) => e.reconstructionError.toFixed(4)).join('→')).join(', ')}`);

    sg.manualSeed(seed);
    const pre = dbn.toSequential(10);
    fineTune(pre, labelled.x, labelled.y, o.fineTuneEpochs, o.lr ?? 0.05, seed);
    sg.manualSeed(seed);
    const layers: sg.nn.Module[] = [];
    [PIXELS, ...o.hidden].forEach((d, k, all) => { if (k + 1 < all.length) layers.push(new sg.nn.Linear(d, all[k + 1]), new sg.nn.Sigmoid()); });
    const rnd = new sg.nn.Sequential(...layers, new sg.nn.Linear(o.hidden[o.hidden.length - 1], 10));
    fineTune(rnd, labelled.x, labelled.y, o.fineTuneEpochs, o.lr ?? 0.05, seed);

    const r = { seed, pretrained: accuracy(pre, test.x, test.y), random: accuracy(rnd, test.x, test.y) };
    o.log?.(`seed ${seed}: held-out accuracy with pretraining ${(100 * r.pretrained).toFixed(1)}%, from random init ${(100 * r.random).toFixed(1)}%`);
    results.push(r);
    dbn.dispose();
  }
  return results;
}
