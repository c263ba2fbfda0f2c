// fit / evaluate / predict: the plain training loop (forward, loss, zeroGrad, backward, step)
// with the usual extras around it: validation, metrics, learning-rate schedules, gradient
// clipping, early stopping (notes §1.5.1.7), callbacks and a progress bar.
//
// Memory: every training step runs inside scope(), keeping only the tensors the model holds
// (parameters, buffers, layer caches) and the gradients, so nothing else of a step outlives
// it (not even the activations of a frozen prefix of the network, which are not part of the
// graph). Evaluation runs under noGrad, one scope per batch.
import { noGrad } from '../core/autograd';
import { DataLoader, Dataset, type LoaderBatch } from '../data/dataset';
import { Module } from '../nn/module';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, mseLoss } from '../ops/loss';
import { concat, slice } from '../ops/shape';
import { Optimizer } from '../optim/optimizer';
import type { Generator } from '../core/random';
import { Tensor, fmt, scope, type TypedData } from '../core/tensor';
import { clipGradNorm, clipGradValue } from './clip';
import { resolveMetric, type Metric, type MetricLike } from './metrics';
import { scheduleFn, type ScheduleLike } from './schedules';

/** A loss: (model output, target) → scalar tensor. */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;
/** A loss function or the name of a built-in one. */
export type LossLike = LossFn | 'crossEntropy' | 'mse' | 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits';

const LOSSES: Record<string, LossFn> = {
  crossEntropy: (o, t) => crossEntropy(o, t),
  mse: (o, t) => mseLoss(o, t),
  binaryCrossEntropy: (o, t) => binaryCrossEntropy(o, t),
  binaryCrossEntropyWithLogits: (o, t) => binaryCrossEntropyWithLogits(o, t),
};

function resolveLoss(where: string, loss: LossLike): LossFn {
  if (typeof loss === 'function') return loss;
  if (typeof loss === 'string' && Object.prototype.hasOwnProperty.call(LOSSES, loss)) return LOSSES[loss];
  throw new Error(`${where}: loss must be a function (output, target) => scalar Tensor or one of ${Object.keys(LOSSES).join(', ')}, got ${JSON.stringify(loss)}`);
}

export interface EarlyStoppingOptions {
  /** What to watch: 'val_loss' (default with validation data), 'val_accuracy', 'loss', or any history series. */
  monitor?: string;
  /**
   * Training stops after this many epochs in a row without improvement (default 0, which,
   * as in Keras, acts like 1: the first epoch without improvement stops).
   */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min' or 'max'; default 'min' for names ending in 'loss', else 'max'. */
  mode?: 'min' | 'max';
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/** What fit reports after each epoch: loss, lr, metrics and val_ versions. */
export type EpochLogs = Record<string, number>;

export interface FitCallbacks {
  /** After each training step: the batch index within the epoch (0-based) and that batch's loss. */
  onBatchEnd?: (batch: number, logs: { epoch: number; loss: number; size: number; lr: number }) => void;
  /** After each epoch (1-based) with its logs; `control.stop()` ends training after this epoch. */
  onEpochEnd?: (epoch: number, logs: EpochLogs, control: { stop(): void }) => void;
  onTrainEnd?: (history: History) => void;
}

export interface FitOptions {
  epochs: number;
  optimizer: Optimizer;
  loss: LossLike;
  /** Batch size when trainData is a Dataset (default 32). */
  batchSize?: number;
  /** Shuffle when trainData is a Dataset (default true). */
  shuffle?: boolean;
  /** Generator for shuffling/augmentation when trainData is a Dataset (default: the global one). */
  generator?: Generator;
  validationData?: Dataset | DataLoader;
  /** 'accuracy', 'topK:5', or Metric objects; reported for training and validation data. */
  metrics?: MetricLike[];
  /** Learning-rate schedule η(τ); overrides optimizer.lr. */
  schedule?: ScheduleLike;
  /** τ counts epochs (default) or optimizer steps, both from 0. */
  scheduleEvery?: 'epoch' | 'step';
  /** Rescale gradients to this global L2 norm when it is exceeded (before each step). */
  clipGradNorm?: number;
  /** Clamp every gradient value into [−v, v] (before each step; before clipGradNorm if both). */
  clipGradValue?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Progress bar on a terminal, one line per epoch otherwise (default false). */
  verbose?: boolean;
  callbacks?: FitCallbacks;
}

/**
 * Per-epoch series (index e−1 is epoch e): loss, lr, every metric and its val_ version
 * ('accuracy', 'val_accuracy', 'topK:5', 'val_topK:5', ...); accuracy/val_accuracy/val_loss
 * are empty when not measured.
 */
export type History = {
  loss: number[];
  accuracy: number[];
  val_loss: number[];
  val_accuracy: number[];
  lr: number[];
  /** Epoch (1-based) after which training stopped early (early stopping or control.stop()); null if all epochs ran. */
  stoppedEpoch: number | null;
  /** Epoch (1-based) with the best monitored value (early stopping's monitor, else val_loss); null if none. */
  bestEpoch: number | null;
  /** Number of epochs run. */
  epochs: number;
  [series: string]: number[] | number | null;
};

const FIT_KEYS = [
  'epochs', 'optimizer', 'loss', 'batchSize', 'shuffle', 'generator', 'validationData', 'metrics', 'schedule',
  'scheduleEvery', 'clipGradNorm', 'clipGradValue', 'earlyStopping', 'verbose', 'callbacks',
];

function checkKeys(where: string, opts: unknown, keys: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new Error(`${where}: options must be an object`);
  for (const k of Object.keys(opts)) if (!keys.includes(k)) throw new Error(`${where}: unknown option '${k}' (known: ${keys.join(', ')})`);
}

function asLoader(where: string, data: unknown, batchSize: number, shuffle: boolean, generator?: Generator): DataLoader {
  if (data instanceof DataLoader) return data;
  if (data instanceof Dataset) return new DataLoader(data, { batchSize, shuffle, generator });
  throw new Error(`${where}: data must be a Dataset or a DataLoader, got ${data === null ? 'null' : typeof data}`);
}

/** Snapshots the training flag of every sub-module; the returned function puts them back. */
function saveModes(model: Module): () => void {
  const mods = model.namedModules().map(([, m]) => [m, m.training] as const);
  return () => { for (const [m, t] of mods) m.training = t; };
}

function runForward(where: string, model: Module, x: Tensor, target: Tensor, lossFn: LossFn | null): { out: Tensor; loss: Tensor | null } {
  const out = model.forward(x);
  if (!(out instanceof Tensor)) throw new Error(`${where}: model.forward returned ${out === null ? 'null' : typeof out}, not a Tensor`);
  if (lossFn === null) return { out, loss: null };
  const loss = lossFn(out, target);
  if (!(loss instanceof Tensor) || loss.size !== 1) {
    throw new Error(`${where}: the loss must return a one-element Tensor, got ${loss instanceof Tensor ? fmt(loss.shape) : typeof loss}`);
  }
  return { out, loss };
}

// ---- progress output (no Node imports: the stream is found on globalThis when present) ----

interface Stream { isTTY?: boolean; write(s: string): unknown }
function stdout(): Stream | null {
  const p = (globalThis as { process?: { stdout?: Stream } }).process;
  return p?.stdout !== undefined && typeof p.stdout.write === 'function' ? p.stdout : null;
}

function formatLogs(logs: EpochLogs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'epoch')
    .map(([k, v]) => `${k} ${k === 'lr' ? v.toExponential(2) : v.toFixed(4)}`)
    .join('  ');
}

class Progress {
  private readonly out: Stream | null;
  private readonly tty: boolean;
  private last = 0;
  constructor(private readonly on: boolean, private readonly epochs: number) {
    this.out = on ? stdout() : null;
    this.tty = this.out?.isTTY === true;
  }
  batch(epoch: number, done: number, total: number, loss: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (done < total && now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    this.out!.write(`\rEpoch ${epoch}/${this.epochs} [${'='.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  loss ${loss.toFixed(4)}`);
  }
  epoch(epoch: number, logs: EpochLogs, seconds: number): void {
    if (!this.on) return;
    const line = `Epoch ${epoch}/${this.epochs}  ${formatLogs(logs)}  (${seconds.toFixed(1)} s)`;
    if (this.tty) this.out!.write(`\r\x1b[2K${line}\n`);
    else if (this.out !== null) this.out.write(`${line}\n`);
    else console.log(line);
  }
}

// ---- fit ---------------------------------------------------------------------------------

/**
 * Trains `model` on `trainData` for `epochs` epochs with the given optimizer and loss and
 * returns the history. Per step: forward, loss, optimizer.zeroGrad(), backward, optional
 * gradient clipping, optimizer.step(). The model is in training mode during epochs and in
 * evaluation mode while validation data is evaluated (frozen sub-modules you put in eval
 * mode stay there).
 */
export function fit(model: Module, trainData: Dataset | DataLoader, options: FitOptions): History {
  const W = 'fit';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  checkKeys(W, options, FIT_KEYS);
  const o = options;
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`${W}: epochs must be an integer >= 0, got ${String(o.epochs)}`);
  if (!(o.optimizer instanceof Optimizer)) throw new Error(`${W}: optimizer must be an Optimizer (e.g. new optim.Adam(model.parameters(), { lr: 1e-3 }))`);
  const opt = o.optimizer;
  const lossFn = resolveLoss(W, o.loss);
  const train = asLoader(W, trainData, o.batchSize ?? 32, o.shuffle ?? true, o.generator);
  const val = o.validationData === undefined ? null : asLoader(`${W}: validationData`, o.validationData, o.batchSize ?? 256, false);
  if (o.metrics !== undefined && !Array.isArray(o.metrics)) throw new Error(`${W}: metrics must be an array such as ['accuracy', 'topK:5']`);
  const metrics: Metric[] = (o.metrics ?? []).map((m) => resolveMetric(W, m));
  const names = new Set<string>();
  for (const m of metrics) {
    if (m.name === 'loss' || m.name === 'lr' || m.name.startsWith('val_') || names.has(m.name)) throw new Error(`${W}: metric name '${m.name}' is reserved or repeated`);
    names.add(m.name);
  }
  const sched = o.schedule === undefined ? null : scheduleFn(W, o.schedule);
  const every = o.scheduleEvery ?? 'epoch';
  if (every !== 'epoch' && every !== 'step') throw new Error(`${W}: scheduleEvery must be 'epoch' or 'step', got '${String(every)}'`);
  for (const k of ['clipGradNorm', 'clipGradValue'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))) throw new Error(`${W}: ${k} must be a finite number > 0, got ${String(v)}`);
  }
  const cb = o.callbacks ?? {};
  if (cb === null || typeof cb !== 'object') throw new Error(`${W}: callbacks must be an object { onEpochEnd, onBatchEnd, onTrainEnd }`);

  // Early stopping and best-epoch tracking.
  const es = o.earlyStopping;
  if (es !== undefined) checkKeys(`${W}: earlyStopping`, es, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights']);
  const monitor = es?.monitor ?? (val !== null ? 'val_loss' : es !== undefined ? 'loss' : null);
  const known = ['loss', ...metrics.map((m) => m.name)];
  const available = val !== null ? [...known, ...known.map((k) => `val_${k}`)] : known;
  if (monitor !== null && !available.includes(monitor)) {
    throw new Error(`${W}: earlyStopping monitors '${monitor}', which this run does not measure (it measures: ${available.join(', ')})${monitor.startsWith('val_') && val === null ? '; pass validationData' : ''}`);
  }
  const patience = es?.patience ?? 0;
  const minDelta = es?.minDelta ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new Error(`${W}: earlyStopping.patience must be an integer >= 0, got ${String(patience)}`);
  if (typeof minDelta !== 'number' || !(minDelta >= 0)) throw new Error(`${W}: earlyStopping.minDelta must be a number >= 0, got ${String(minDelta)}`);
  const mode = es?.mode ?? (monitor?.endsWith('loss') ? 'min' : 'max');
  if (mode !== 'min' && mode !== 'max') throw new Error(`${W}: earlyStopping.mode must be 'min' or 'max', got '${String(mode)}'`);
  let best = mode === 'min' ? Infinity : -Infinity;
  let wait = 0;
  let bestWeights: Record<string, { shape: number[]; data: TypedData }> | null = null;

  // Frozen sub-modules the user put in eval mode stay in eval mode while training.
  const keepEval = model.namedModules().map(([, m]) => m).filter((m) => m !== model && !m.training && m.parameters().length > 0 && m.parameters().every((p) => !p.requiresGrad));
  const trainMode = (): void => {
    model.train();
    for (const m of keepEval) m.eval();
  };

  const history: History = { loss: [], accuracy: [], val_loss: [], val_accuracy: [], lr: [], stoppedEpoch: null, bestEpoch: null, epochs: 0 };
  const push = (k: string, v: number): void => {
    const s = history[k];
    if (Array.isArray(s)) s.push(v);
    else history[k] = [v];
  };
  const progress = new Progress(o.verbose === true, o.epochs);
  const keepTensors = (): Tensor[] => {
    const keep = moduleTensors(model);
    for (const p of opt.params) if (p.grad !== null) keep.push(p.grad);
    return keep;
  };

  let step = 0;
  let stopRequested = false;
  const control = { stop: () => { stopRequested = true; } };
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = Date.now();
    if (sched !== null && every === 'epoch') opt.lr = sched(epoch - 1);
    trainMode();
    let lossSum = 0;
    let count = 0;
    const sums = metrics.map(() => ({ sum: 0, count: 0 }));
    const total = train.length;
    let b = 0;
    for (const batch of train) {
      if (sched !== null && every === 'step') opt.lr = sched(step);
      let lossValue = NaN;
      try {
        scope(() => {
          const { out, loss } = runForward(W, model, batch.x, batch.y, lossFn);
          opt.zeroGrad();
          loss!.backward();
          if (o.clipGradValue !== undefined) clipGradValue(opt.params, o.clipGradValue);
          if (o.clipGradNorm !== undefined) clipGradNorm(opt.params, o.clipGradNorm);
          opt.step();
          lossValue = loss!.item();
          if (metrics.length > 0) {
            noGrad(() => metrics.forEach((m, i) => {
              const r = m.batch(out, batch.y);
              sums[i].sum += r.sum;
              sums[i].count += r.count;
            }));
          }
          return keepTensors();
        });
      } finally {
        disposeBatch(batch);
      }
      lossSum += lossValue * batch.size;
      count += batch.size;
      step++;
      cb.onBatchEnd?.(b, { epoch, loss: lossValue, size: batch.size, lr: opt.lr });
      b++;
      progress.batch(epoch, b, total, lossSum / count);
    }
    const logs: EpochLogs = { loss: count > 0 ? lossSum / count : NaN };
    metrics.forEach((m, i) => { logs[m.name] = sums[i].count > 0 ? sums[i].sum / sums[i].count : NaN; });
    if (val !== null) {
      const v = evaluate(model, val, { loss: lossFn, metrics });
      for (const [k, x] of Object.entries(v)) logs[`val_${k}`] = x;
    }
    logs.lr = opt.lr;
    for (const [k, x] of Object.entries(logs)) push(k, x);
    history.epochs = epoch;

    if (monitor !== null) {
      const cur = logs[monitor];
      const improved = mode === 'min' ? cur < best - minDelta : cur > best + minDelta;
      if (improved) {
        best = cur;
        wait = 0;
        history.bestEpoch = epoch;
        if (es?.restoreBestWeights) bestWeights = snapshot(model);
      } else if (es !== undefined) {
        wait++;
        if (wait >= patience) stopRequested = true;
      }
    }
    progress.epoch(epoch, logs, (Date.now() - t0) / 1000);
    cb.onEpochEnd?.(epoch, logs, control);
    if (stopRequested) {
      if (epoch < o.epochs) history.stoppedEpoch = epoch;
      break;
    }
  }
  if (bestWeights !== null && history.bestEpoch !== history.epochs) model.loadStateDict(bestWeights);
  model.train();
  cb.onTrainEnd?.(history);
  return history;
}

/**
 * Every tensor a module tree holds in its own properties (parameters, buffers, and caches a
 * layer keeps, directly or in arrays/Maps): a training step's scope must not free them.
 */
function moduleTensors(model: Module): Tensor[] {
  const out: Tensor[] = [];
  for (const [, m] of model.namedModules()) {
    for (const v of Object.values(m)) {
      if (v instanceof Tensor) out.push(v);
      else if (Array.isArray(v)) for (const x of v) { if (x instanceof Tensor) out.push(x); }
      else if (v instanceof Map) for (const x of v.values()) { if (x instanceof Tensor) out.push(x); }
    }
  }
  return out;
}

function disposeBatch(b: LoaderBatch): void {
  b.x.dispose();
  b.y.dispose();
}

function snapshot(model: Module): Record<string, { shape: number[]; data: TypedData }> {
  const out: Record<string, { shape: number[]; data: TypedData }> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = { shape: t.shape.slice(), data: t.data() };
  return out;
}

// ---- evaluate / predict ------------------------------------------------------------------

export interface EvaluateOptions {
  loss?: LossLike;
  metrics?: MetricLike[];
  /** Batch size when data is a Dataset (default 256). */
  batchSize?: number;
}

/**
 * Loss and metrics of the model over a dataset, in evaluation mode and under noGrad (the
 * model's modes are restored afterwards). Averages are per example.
 */
export function evaluate(model: Module, data: Dataset | DataLoader, options: EvaluateOptions = {}): Record<string, number> {
  const W = 'evaluate';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  checkKeys(W, options, ['loss', 'metrics', 'batchSize']);
  const loader = asLoader(W, data, options.batchSize ?? 256, false);
  const lossFn = options.loss === undefined ? null : resolveLoss(W, options.loss);
  if (options.metrics !== undefined && !Array.isArray(options.metrics)) throw new Error(`${W}: metrics must be an array such as ['accuracy']`);
  const metrics = (options.metrics ?? []).map((m) => resolveMetric(W, m));
  const restore = saveModes(model);
  model.eval();
  let lossSum = 0;
  let count = 0;
  const sums = metrics.map(() => ({ sum: 0, count: 0 }));
  try {
    noGrad(() => {
      for (const batch of loader) {
        try {
          scope(() => {
            const { out, loss } = runForward(W, model, batch.x, batch.y, lossFn);
            if (loss !== null) lossSum += loss.item() * batch.size;
            metrics.forEach((m, i) => {
              const r = m.batch(out, batch.y);
              sums[i].sum += r.sum;
              sums[i].count += r.count;
            });
          });
        } finally {
          disposeBatch(batch);
        }
        count += batch.size;
      }
    });
  } finally {
    restore();
  }
  const res: Record<string, number> = {};
  if (lossFn !== null) res.loss = count > 0 ? lossSum / count : NaN;
  metrics.forEach((m, i) => { res[m.name] = sums[i].count > 0 ? sums[i].sum / sums[i].count : NaN; });
  return res;
}

/**
 * The model's outputs for x (a tensor [N, ...], or a Dataset/DataLoader whose targets are
 * ignored), in evaluation mode under noGrad, `batchSize` rows at a time (default: all of a
 * tensor at once, 256 for a Dataset). The caller owns the returned tensor.
 */
export function predict(model: Module, x: Tensor | Dataset | DataLoader, options: { batchSize?: number } = {}): Tensor {
  const W = 'predict';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  checkKeys(W, options, ['batchSize']);
  const bs = options.batchSize;
  if (bs !== undefined && (!Number.isInteger(bs) || bs <= 0)) throw new Error(`${W}: batchSize must be a positive integer, got ${bs}`);
  const restore = saveModes(model);
  model.eval();
  try {
    return noGrad(() => {
      if (x instanceof Tensor) {
        if (x.ndim < 1) throw new Error(`${W}: x must have a batch dimension, got ${fmt(x.shape)}`);
        const n = x.shape[0];
        if (bs === undefined || bs >= n) return scope(() => forwardChecked(model, x));
        return scope(() => {
          const parts: Tensor[] = [];
          for (let s = 0; s < n; s += bs) {
            const rows = Math.min(bs, n - s);
            const begin = x.shape.map((_, i) => (i === 0 ? s : 0));
            const size = x.shape.map((d, i) => (i === 0 ? rows : d));
            parts.push(forwardChecked(model, slice(x, begin, size)));
          }
          return concat(parts, 0);
        });
      }
      const loader = asLoader(W, x, bs ?? 256, false);
      return scope(() => {
        const parts: Tensor[] = [];
        for (const batch of loader) {
          try {
            parts.push(forwardChecked(model, batch.x));
          } finally {
            disposeBatch(batch);
          }
        }
        if (parts.length === 0) throw new Error(`${W}: the dataset is empty`);
        return parts.length === 1 ? parts[0] : concat(parts, 0);
      });
    });
  } finally {
    restore();
  }
}

function forwardChecked(model: Module, x: Tensor): Tensor {
  const out = model.forward(x);
  if (!(out instanceof Tensor)) throw new Error(`predict: model.forward returned ${out === null ? 'null' : typeof out}, not a Tensor`);
  return out;
}
