// The main job's default model: a LeNet-style CNN (two conv + batch-norm + pool blocks, a
// dense head with dropout) trained with fit() on the MNIST digits of the `mnist` package,
// split with a fixed seed into 8,000 training, 1,000 validation and 1,000 test digits.
import * as sg from '../src/index';
import { loadAllDigits } from './mnist-data.mjs';
import { makeCnn as buildCnn } from './mnist-models';

export interface CnnOptions {
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Random shift of training digits by up to this many pixels (0: no augmentation). */
  shift?: number;
  /** Early-stopping patience in epochs on validation accuracy (restores the best weights). */
  patience?: number;
  verbose?: boolean;
  onEpochEnd?: (epoch: number, logs: Record<string, number>) => void;
  onBatchEnd?: (batch: number, total: number) => void;
}

export interface CnnSplit {
  train: sg.Dataset;
  val: sg.Dataset;
  test: sg.Dataset;
}

/** All digits as [1, 28, 28] images, split 8,000 / 1,000 / 1,000 with the seed. */
export function mnistImages(seed: number): CnnSplit {
  const { x, y } = loadAllDigits();
  const all = new sg.Dataset(x, [1, 28, 28], y);
  const { train, val, test } = sg.splitTrainValTest(all, { train: 8000, val: 1000, test: 1000 }, seed);
  return { train, val, test };
}

export function makeCnn(): sg.nn.Sequential {
  return buildCnn(sg.nn);
}

export function trainCnn(data: CnnSplit, opts: CnnOptions): { model: sg.nn.Sequential; history: sg.History; testAccuracy: number } {
  const seed = opts.seed ?? 1;
  sg.manualSeed(seed);
  const batchSize = opts.batchSize ?? 64;
  const lr = opts.lr ?? 2e-3;
  // μ and σ from the training digits only (notes §1.3.5.4), applied to every set.
  const standardize = new sg.Standardizer().fit(data.train);
  const shift = opts.shift ?? 2;
  const trainLoader = new sg.DataLoader(data.train, {
    batchSize, shuffle: true,
    transform: shift > 0 ? sg.compose(sg.randomShift(shift), standardize) : standardize,
  });
  const valLoader = new sg.DataLoader(data.val, { batchSize: 500, transform: standardize });
  const testLoader = new sg.DataLoader(data.test, { batchSize: 500, transform: standardize });
  const model = makeCnn();
  const optimizer = new sg.optim.Adam(model.parameters(), { lr });
  const steps = trainLoader.length;
  const history = sg.fit(model, trainLoader, {
    epochs: opts.epochs,
    optimizer,
    loss: 'crossEntropy',
    metrics: ['accuracy'],
    validationData: valLoader,
    schedule: new sg.CosineAnnealingLR({ lr0: lr, T: opts.epochs * steps, lrMin: lr / 50 }),
    scheduleEvery: 'step',
    earlyStopping: { monitor: 'val_accuracy', patience: opts.patience ?? 6, restoreBestWeights: true },
    verbose: opts.verbose ?? false,
    callbacks: {
      onEpochEnd: (e, logs) => opts.onEpochEnd?.(e, logs),
      onBatchEnd: (b) => opts.onBatchEnd?.(b + 1, steps),
    },
  });
  const testAccuracy = sg.evaluate(model, testLoader, { metrics: ['accuracy'] }).accuracy;
  return { model, history, testAccuracy };
}
