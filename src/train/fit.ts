// fit / evaluate / predict. fit is a thin driver around a training step (step.ts): epochs and
// batches, validation, metrics, learning-rate schedules, gradient clipping, early stopping
// (notes §1.5.1.7), callbacks, a progress bar and the history. The default step is the plain
// loop (forward, loss, zeroGrad, backward, clip, step); `trainStep` replaces it for models that
// train otherwise (GANs, VAEs, contrastive pairs, ...), `evalStep` the evaluation.
//
// Memory: every training step runs inside scope(), keeping only the tensors the model holds
// (parameters, buffers, layer caches: every tensor the module walk finds) and the gradients of
// the model's and the optimizers' parameters, so nothing else of a step outlives it (not even
// the activations of a frozen prefix of the network, which are not part of the graph).
// Optimizer state is persistent. Evaluation runs under noGrad, one scope per batch.
import { noGrad } from '../core/autograd.js';
import { keep } from '../core/lifetime.js';
import type { Generator } from '../core/random.js';
import { Tensor, dispose, fmt, scope } from '../core/tensor.js';
import { checkOptions, positiveInt } from '../core/validate.js';
import type { Collated } from '../data/collate.js';
import { TensorDataset, isDataset, type MapDataset } from '../data/dataset.js';
import { DataLoader, type LoaderBatch } from '../data/loader.js';
import { Module, type AnyModule } from '../nn/module.js';
import { concat, slice } from '../ops/shape.js';
import { Optimizer } from '../optim/optimizer.js';
import {
  BestTracker, Progress, callbackList, type BatchLogs, type Callback, type EarlyStoppingOptions, type EpochLogs,
  type FitControl, type History,
} from './callbacks.js';
import { clipGradNorm, clipGradValue } from './clip.js';
import { resolveMetric, type Metric, type MetricKeys, type MetricLike } from './metrics.js';
import { scheduleFn, type ScheduleLike } from './schedules.js';
import {
  defaultEvalStep, defaultTrainStep, forwardTensor, resolveLoss, splitBatch,
  type EvalContext, type EvalStep, type LossFn, type LossLike, type StepContext, type StepResult, type TrainStep,
} from './step.js';

/** Data fit/evaluate/predict accept: a tensor-backed Dataset, any dataset, or a DataLoader. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FitData<B = LoaderBatch> = TensorDataset | MapDataset<any> | DataLoader<any, B>;

// ---- the logs' types ----------------------------------------------------------------------
// fit() and evaluate() are generic in the parts of their options that decide which keys their
// logs have (metrics, what custom steps return, validation data, loss), so `ev.accuracy` is a
// number and a key the run does not produce is a compile error. Names known only at run time
// (a metric object typed `Metric`, logs built under computed names) fall back to an index
// signature. Custom steps enter as their result types (R, ER), not as function types: a step's
// `ctx` parameter then gets its type from the batch alone, before R is inferred from its return.

/** Shows a computed object type as one flat object in editors. */
type Flat<T> = { [K in keyof T]: T[K] };

type TrainResult = StepResult & { loss: Tensor | number };

/** The names of a step result's `logs`; none for `never` (no custom step). */
type LogNames<R> = [R] extends [never] ? never : R extends { logs?: infer L } ? (L extends object ? keyof L & string : never) : never;

/** Whether a step result has `loss`: 'yes' (always), 'maybe' (optional) or 'no'. */
type ResultLoss<R> = [R] extends [never] ? 'no' : 'loss' extends keyof R ? (R extends { loss: unknown } ? 'yes' : 'maybe') : 'no';

type Numbers<K extends string> = { [P in K]: number };

type LossPart<Has> = Has extends 'yes' ? { loss: number } : Has extends 'maybe' ? { loss?: number } : unknown;

/**
 * The keys evaluation produces: `loss` when a loss is given ('yes' | 'maybe' | 'no': `Loss`) or
 * the custom evalStep returns one, every metric, and the evalStep's logs.
 */
type EvalLogs<M extends readonly MetricLike[], Loss, ER> = Flat<
  LossPart<Loss extends 'yes' ? 'yes' : [ER] extends [never] ? Loss : ResultLoss<ER> extends 'yes' ? 'yes' : Loss extends 'maybe' ? 'maybe' : ResultLoss<ER>>
  & Numbers<MetricKeys<M>> & Numbers<LogNames<ER>>
>;

type Prefixed<T> = { [K in keyof T as `val_${K & string}`]: T[K] };

/**
 * fit()'s epoch logs (and history series) for a call's metrics `M`, custom training step
 * result `R` (never: the default step), custom evalStep result `ER` (never: the default) and
 * validationData type `V` (undefined: none): loss, the metrics, the step's logs, lr (always
 * with the default step; when an optimizer is given with a custom one) and, with validation
 * data, `val_` + what evaluating it produces.
 */
export type FitLogs<
  M extends readonly MetricLike[] = readonly MetricLike[], R = TrainResult, ER = StepResult, V = FitData | undefined,
> = Flat<
  { loss: number } & Numbers<MetricKeys<M>> & Numbers<LogNames<R>>
  & ([R] extends [never] ? { lr: number } : { lr?: number })
  & ([V] extends [undefined] ? unknown
    : undefined extends V ? Partial<Prefixed<EvalLogs<M, [R] extends [never] ? 'yes' : 'maybe', ER>>>
      : Prefixed<EvalLogs<M, [R] extends [never] ? 'yes' : 'maybe', ER>>)
>;

interface FitCommon<B, M extends readonly MetricLike[], R, ER, V> {
  epochs: number;
  /** Named optimizers a custom step uses (ctx.optimizers.generator ...); schedules set all of them. */
  optimizers?: Record<string, Optimizer>;
  /** Replaces the evaluation step on validationData (default: output = model(x), loss(output, y)). */
  evalStep?: (ctx: EvalContext<B>) => ER;
  /** Batch size when trainData is a dataset (default 32). */
  batchSize?: number;
  /** Shuffle when trainData is a dataset (default true). */
  shuffle?: boolean;
  /** Generator for shuffling/augmentation when trainData is a dataset (default: the global one). */
  generator?: Generator;
  validationData?: V;
  /**
   * 'accuracy', 'topK:5', or Metric objects; reported for training and validation data (the
   * step must return output and target). Each becomes a key of the logs and the history.
   */
  metrics?: M;
  /** Learning-rate schedule η(τ); sets the lr of every optimizer (every group: lr × lrScale). */
  schedule?: ScheduleLike;
  /** τ counts epochs (default) or optimizer steps, both from 0. */
  scheduleEvery?: 'epoch' | 'step';
  /** Rescale gradients to this global L2 norm when it is exceeded (before each step; ctx.clipGradients() in a custom step). */
  clipGradNorm?: number;
  /** Clamp every gradient value into [−v, v] (before each step; before clipGradNorm if both). */
  clipGradValue?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Progress bar on a terminal, one line per epoch otherwise (default false). */
  verbose?: boolean;
  /** A Callback object ({ onEpochEnd, onBatchEnd, ... }) or a list of them; their logs have the keys this run measures. */
  callbacks?: Callback<FitLogs<M, R, ER, V>, LogNames<R>> | Callback<FitLogs<M, R, ER, V>, LogNames<R>>[];
}

/**
 * fit's options. With the default step, `optimizer` and `loss` are required; a custom
 * `trainStep` uses whatever it needs (ctx.optimizer, ctx.optimizers, ctx.loss). The type
 * parameters after `B` are inferred from a call's options and type its logs (see FitLogs).
 */
export type FitOptions<
  B = LoaderBatch,
  M extends readonly MetricLike[] = readonly MetricLike[],
  R extends TrainResult = TrainResult,
  ER extends StepResult = StepResult,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  V extends TensorDataset | MapDataset<any> | DataLoader<any, B> | undefined = TensorDataset | MapDataset<any> | DataLoader<any, B> | undefined,
> = FitCommon<B, M, R, ER, V> & (
  | {
    /** The default step: loss(model(x), y), zeroGrad, backward, clipping, optimizer.step(). */
    trainStep?: undefined;
    optimizer: Optimizer;
    /** A loss function (output, target) => scalar, or 'crossEntropy', 'mse', ... */
    loss: LossLike;
  }
  | {
    /** Replaces the default step: does the forward, backward and updates for one batch, returns { loss, logs? }. */
    trainStep: (ctx: StepContext<B>) => R;
    /** Given to the step as ctx.optimizer (and scheduled). */
    optimizer?: Optimizer;
    /** Given to the step as ctx.loss, and used by the default evalStep. */
    loss?: LossLike;
  }
);

const FIT_KEYS = [
  'epochs', 'optimizer', 'optimizers', 'loss', 'trainStep', 'evalStep', 'batchSize', 'shuffle', 'generator', 'validationData',
  'metrics', 'schedule', 'scheduleEvery', 'clipGradNorm', 'clipGradValue', 'earlyStopping', 'verbose', 'callbacks',
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function asLoader(where: string, data: unknown, batchSize: number, shuffle: boolean, generator?: Generator): DataLoader<any, any> {
  if (data instanceof DataLoader) return data;
  if (isDataset(data)) return new DataLoader(data, { batchSize, shuffle, generator });
  throw new Error(`${where}: data must be a Dataset or a DataLoader, got ${data === null ? 'null' : typeof data}`);
}

/** Snapshots the training flag of every sub-module; the returned function puts them back. */
function saveModes(model: AnyModule): () => void {
  const mods = model.namedModules().map(([, m]) => [m, m.training] as const);
  return () => { for (const [m, t] of mods) m.training = t; };
}

/** A step's loss or log value as a number (a number, or a one-element tensor). */
function scalarOf(where: string, name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Tensor && v.size === 1) return v.item();
  throw new Error(`${where}: the step's ${name} must be a number or a one-element Tensor, got ${v instanceof Tensor ? `a tensor ${fmt(v.shape)}` : v === null ? 'null' : typeof v}`);
}

/** Sums per-example averages: sum(value × batch size) / sum(batch size), per name. */
class Averages {
  private readonly sums = new Map<string, { sum: number; count: number }>();
  add(name: string, value: number, count: number): void {
    const s = this.sums.get(name) ?? { sum: 0, count: 0 };
    s.sum += value * count;
    s.count += count;
    this.sums.set(name, s);
  }
  addRatio(name: string, sum: number, count: number): void {
    const s = this.sums.get(name) ?? { sum: 0, count: 0 };
    s.sum += sum;
    s.count += count;
    this.sums.set(name, s);
  }
  value(name: string): number {
    const s = this.sums.get(name);
    return s !== undefined && s.count > 0 ? s.sum / s.count : NaN;
  }
  names(): string[] {
    return [...this.sums.keys()];
  }
}

/**
 * Reads a step result (inside the step's scope): the loss and logs as numbers, added to the
 * averages with the batch size as weight, and the metrics of its output and target.
 */
function readResult(where: string, r: StepResult, size: number, metrics: Metric[], into: Averages): { loss: number; logs: Record<string, number> } {
  if (r === null || typeof r !== 'object') throw new Error(`${where}: a step must return an object { loss, logs?, output?, target? }, got ${r === null ? 'null' : typeof r}`);
  const loss = r.loss === undefined ? NaN : scalarOf(where, 'loss', r.loss);
  if (r.loss !== undefined) into.add('loss', loss, size);
  const logs: Record<string, number> = {};
  if (r.logs !== undefined) {
    if (r.logs === null || typeof r.logs !== 'object') throw new Error(`${where}: a step's logs must be an object of numbers`);
    for (const [k, v] of Object.entries(r.logs)) {
      if (k === 'loss' || k === 'lr' || k === 'epoch' || k === 'size' || k.startsWith('val_') || metrics.some((m) => m.name === k)) {
        throw new Error(`${where}: the step log name '${k}' is reserved (loss, lr, epoch, size, val_*, metric names)`);
      }
      logs[k] = scalarOf(where, `log '${k}'`, v);
      into.add(k, logs[k], size);
    }
  }
  if (metrics.length > 0) {
    if (!(r.output instanceof Tensor) || !(r.target instanceof Tensor)) {
      throw new Error(`${where}: metrics need the step to return { output, target } tensors`);
    }
    const { output, target } = r;
    noGrad(() => metrics.forEach((m) => {
      const s = m.batch(output, target);
      into.addRatio(m.name, s.sum, s.count);
    }));
  }
  return { loss, logs };
}

// ---- fit ---------------------------------------------------------------------------------

/**
 * Trains `model` on `trainData` for `epochs` epochs and returns the history. Per batch it runs
 * the training step (default: forward, loss, optimizer.zeroGrad(), backward, optional gradient
 * clipping, optimizer.step()). The model is in training mode during epochs and in evaluation
 * mode while validation data is evaluated (frozen sub-modules you put in eval mode stay there).
 */
export function fit<
  const M extends readonly MetricLike[] = [], R extends TrainResult = never, ER extends StepResult = never,
  V extends FitData<LoaderBatch> | undefined = undefined,
>(model: AnyModule, trainData: TensorDataset, options: FitOptions<LoaderBatch, M, R, ER, V>): History<FitLogs<M, R, ER, V>>;
export function fit<
  B, const M extends readonly MetricLike[] = [], R extends TrainResult = never, ER extends StepResult = never, V extends FitData<B> | undefined = undefined,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
>(model: AnyModule, trainData: DataLoader<any, B>, options: FitOptions<B, M, R, ER, V>): History<FitLogs<M, R, ER, V>>;
export function fit<
  T, const M extends readonly MetricLike[] = [], R extends TrainResult = never, ER extends StepResult = never,
  V extends FitData<Collated<T>> | undefined = undefined,
>(model: AnyModule, trainData: MapDataset<T>, options: FitOptions<Collated<T>, M, R, ER, V>): History<FitLogs<M, R, ER, V>>;
export function fit(model: AnyModule, trainData: FitData<any>, options: FitOptions<any>): History {
  const W = 'fit';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  const o = checkOptions(W, options, FIT_KEYS);
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`${W}: epochs must be an integer >= 0, got ${String(o.epochs)}`);
  const custom = o.trainStep !== undefined;
  if (custom && typeof o.trainStep !== 'function') throw new Error(`${W}: trainStep must be a function (ctx) => { loss, logs? }`);
  if (o.evalStep !== undefined && typeof o.evalStep !== 'function') throw new Error(`${W}: evalStep must be a function (ctx) => { loss?, logs?, output?, target? }`);
  if ((!custom || o.optimizer !== undefined) && !(o.optimizer instanceof Optimizer)) {
    throw new Error(`${W}: optimizer must be an Optimizer (e.g. new optim.Adam(model.parameters(), { lr: 1e-3 }))`);
  }
  const opt = o.optimizer ?? null;
  const named = o.optimizers ?? {};
  if (named === null || typeof named !== 'object') throw new Error(`${W}: optimizers must be an object of named optimizers`);
  for (const [k, v] of Object.entries(named)) if (!(v instanceof Optimizer)) throw new Error(`${W}: optimizers.${k} must be an Optimizer`);
  const allOpts = [...(opt === null ? [] : [opt]), ...Object.values(named).filter((v) => v !== opt)];
  // An optimizer built on another model would train nothing: refuse it (a subset of the
  // model's parameters, for fine-tuning, is fine).
  const modelParams = new Set(model.parameters());
  const checkOwn = (what: string, o: Optimizer): void => {
    const foreign = o.params.filter((p) => !modelParams.has(p)).length;
    if (foreign > 0) {
      throw new Error(`${W}: ${what} parameters are not parameters of the model (${foreign} of its ${o.params.length} are not among the model's ${modelParams.size}); was it built on another model? Build it on model.parameters() (or a subset of them)`);
    }
  };
  if (opt !== null) checkOwn("the optimizer's", opt);
  for (const [k, v] of Object.entries(named)) if (v !== opt) checkOwn(`optimizers.${k}'s`, v);
  const lossFn = !custom || o.loss !== undefined ? resolveLoss(W, o.loss as LossLike) : null;
  const trainStep = (o.trainStep ?? defaultTrainStep) as TrainStep<unknown>;
  const evalStep = (o.evalStep ?? defaultEvalStep) as EvalStep<unknown>;
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
  if (sched !== null && allOpts.length === 0) throw new Error(`${W}: a schedule needs an optimizer (options.optimizer or options.optimizers)`);
  for (const k of ['clipGradNorm', 'clipGradValue'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))) throw new Error(`${W}: ${k} must be a finite number > 0, got ${String(v)}`);
  }
  const callbacks = callbackList(W, o.callbacks);

  // Early stopping and best-epoch tracking.
  const es = o.earlyStopping;
  if (es !== undefined) checkOptions(`${W}: earlyStopping`, es, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights']);
  const monitor = es?.monitor ?? (val !== null ? 'val_loss' : es !== undefined ? 'loss' : null);
  const known = ['loss', ...metrics.map((m) => m.name)];
  const available = val !== null ? [...known, ...known.map((k) => `val_${k}`)] : known;
  // Custom steps log names of their own, known only once they ran (checked after epoch 1).
  const unknownMonitor = monitor !== null && !available.includes(monitor) && (!(custom || o.evalStep !== undefined) || (monitor.startsWith('val_') && val === null));
  if (unknownMonitor) {
    throw new Error(`${W}: earlyStopping monitors '${monitor}', which this run does not measure (it measures: ${available.join(', ')})${monitor.startsWith('val_') && val === null ? '; pass validationData' : ''}`);
  }
  const patience = es?.patience ?? 0;
  const minDelta = es?.minDelta ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new Error(`${W}: earlyStopping.patience must be an integer >= 0, got ${String(patience)}`);
  if (typeof minDelta !== 'number' || !(minDelta >= 0)) throw new Error(`${W}: earlyStopping.minDelta must be a number >= 0, got ${String(minDelta)}`);
  const mode = es?.mode ?? (monitor?.endsWith('loss') ? 'min' : 'max');
  if (mode !== 'min' && mode !== 'max') throw new Error(`${W}: earlyStopping.mode must be 'min' or 'max', got '${String(mode)}'`);
  const tracker = monitor === null ? null : new BestTracker(monitor, mode, es, patience, minDelta);

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
    const keep = model.namedTensors().map(([, t]) => t);
    for (const q of allOpts) for (const p of q.params) if (p.grad !== null) keep.push(p.grad);
    return keep;
  };
  const setLr = (lr: number): void => { for (const q of allOpts) q.lr = lr; };
  const currentLr = (): number => (allOpts.length > 0 ? allOpts[0].lr : NaN);
  const clipGradients = (params?: Iterable<Tensor> | AnyModule): number => {
    const target = params ?? (opt !== null ? opt.params : model);
    if (o.clipGradValue !== undefined) clipGradValue(target, o.clipGradValue);
    return o.clipGradNorm !== undefined ? clipGradNorm(target, o.clipGradNorm) : NaN;
  };

  let step = 0;
  let stopRequested = false;
  const control: FitControl = { stop: () => { stopRequested = true; } };
  for (const c of callbacks) c.onTrainBegin?.({ model, epochs: o.epochs, steps: train.length }, control);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    if (stopRequested) break; // asked for in onTrainBegin
    const t0 = Date.now();
    if (sched !== null && every === 'epoch') setLr(sched(epoch - 1));
    trainMode();
    for (const c of callbacks) c.onEpochBegin?.(epoch, control);
    const avg = new Averages();
    const total = train.length;
    let b = 0;
    for (const { batch, size } of train.iterate()) {
      if (stopRequested) {
        dispose(batch);
        break;
      }
      if (sched !== null && every === 'step') setLr(sched(step));
      for (const c of callbacks) c.onBatchBegin?.(b, { epoch, size }, control);
      let result: { loss: number; logs: Record<string, number> } = { loss: NaN, logs: {} };
      try {
        scope(() => {
          const ctx: StepContext<unknown> = {
            model, batch, size, loss: lossFn, optimizer: opt, optimizers: named, epoch, batchIndex: b, step, clipGradients,
          };
          result = readResult(W, trainStep(ctx), size, metrics, avg);
          return keepTensors();
        });
      } finally {
        dispose(batch);
      }
      step++;
      const batchLogs = { ...result.logs, epoch, loss: result.loss, size, lr: currentLr() } as BatchLogs;
      for (const c of callbacks) c.onBatchEnd?.(b, batchLogs, control);
      b++;
      progress.batch(epoch, b, total, avg.value('loss'));
    }
    const logs: EpochLogs = { loss: avg.value('loss') };
    for (const k of avg.names()) if (k !== 'loss' && !names.has(k)) logs[k] = avg.value(k);
    for (const m of metrics) logs[m.name] = avg.value(m.name);
    if (val !== null) {
      const v = evaluateLoader(`${W}: validation`, model, val, lossFn, metrics, evalStep);
      for (const [k, x] of Object.entries(v)) logs[`val_${k}`] = x;
    }
    if (allOpts.length > 0) logs.lr = currentLr();
    for (const [k, x] of Object.entries(logs)) push(k, x);
    history.epochs = epoch;

    if (tracker !== null && tracker.update(W, epoch, logs, model)) stopRequested = true;
    history.bestEpoch = tracker?.bestEpoch ?? null;
    progress.epoch(epoch, logs, (Date.now() - t0) / 1000);
    for (const c of callbacks) c.onEpochEnd?.(epoch, logs, control);
    if (stopRequested) {
      if (epoch < o.epochs) history.stoppedEpoch = epoch;
      break;
    }
  }
  tracker?.restore(model, history.epochs);
  model.train();
  for (const c of callbacks) c.onTrainEnd?.(history);
  return history;
}

// ---- evaluate / predict ------------------------------------------------------------------

/** evaluate's options. */
export interface EvaluateOptions<B = LoaderBatch> {
  loss?: LossLike;
  /** 'accuracy', 'topK:5', or Metric objects: each becomes a key of the result. */
  metrics?: readonly MetricLike[];
  /** Batch size when data is a dataset (default 256). */
  batchSize?: number;
  /** Replaces the evaluation step (default: output = model(x), loss(output, y) when a loss is given). */
  evalStep?: EvalStep<B>;
}

/**
 * What evaluate() returns for options `O`: `loss` when a loss is given (or the evalStep
 * returns one), one key per metric, and the evalStep's logs; e.g. `{ loss: number; accuracy:
 * number }` for `{ loss: 'crossEntropy', metrics: ['accuracy'] }`.
 */
export type EvaluateResult<O = EvaluateOptions> = EvalLogs<
  O extends { metrics?: infer M extends readonly MetricLike[] } ? (undefined extends O['metrics' & keyof O] ? M | [] : M) : [],
  'loss' extends keyof O ? (O extends { loss: LossLike } ? 'yes' : 'maybe') : 'no',
  O extends { evalStep?: (...args: never[]) => infer ER } ? ('evalStep' extends keyof O ? ER : never) : never
>;

/** Options with no keys beyond EvaluateOptions' (a typo'd option stays a compile error with a generic `O`). */
type Exactly<O, Shape> = O & { [K in Exclude<keyof O, keyof Shape>]: never };

function evaluateLoader(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  where: string, model: AnyModule, loader: DataLoader<any, any>, lossFn: LossFn | null, metrics: Metric[], evalStep: EvalStep<unknown>,
): Record<string, number> {
  const restore = saveModes(model);
  model.eval();
  const avg = new Averages();
  try {
    noGrad(() => {
      for (const { batch, size } of loader.iterate()) {
        try {
          scope(() => {
            const ctx: EvalContext<unknown> = { model, batch, size, loss: lossFn };
            readResult(where, evalStep(ctx), size, metrics, avg);
          });
        } finally {
          dispose(batch);
        }
      }
    });
  } finally {
    restore();
  }
  const res: Record<string, number> = {};
  if (lossFn !== null || avg.names().includes('loss')) res.loss = avg.value('loss');
  for (const k of avg.names()) if (k !== 'loss' && !metrics.some((m) => m.name === k)) res[k] = avg.value(k);
  for (const m of metrics) res[m.name] = avg.value(m.name);
  return res;
}

/**
 * Loss, metrics and step logs of the model over a dataset, in evaluation mode and under noGrad
 * (the model's modes are restored afterwards). Averages are per example.
 */
export function evaluate<const O extends EvaluateOptions<LoaderBatch>>(
  model: AnyModule, data: TensorDataset, options?: Exactly<O, EvaluateOptions>,
): EvaluateResult<O>;
export function evaluate<B, const O extends EvaluateOptions<B>>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: AnyModule, data: DataLoader<any, B>, options?: Exactly<O, EvaluateOptions>,
): EvaluateResult<O>;
export function evaluate<T, const O extends EvaluateOptions<Collated<T>>>(
  model: AnyModule, data: MapDataset<T>, options?: Exactly<O, EvaluateOptions>,
): EvaluateResult<O>;
export function evaluate(model: AnyModule, data: FitData<any>, options: EvaluateOptions<any> = {}): Record<string, number> {
  const W = 'evaluate';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  checkOptions(W, options, ['loss', 'metrics', 'batchSize', 'evalStep']);
  const loader = asLoader(W, data, options.batchSize ?? 256, false);
  const lossFn = options.loss === undefined ? null : resolveLoss(W, options.loss);
  if (options.metrics !== undefined && !Array.isArray(options.metrics)) throw new Error(`${W}: metrics must be an array such as ['accuracy']`);
  if (options.evalStep !== undefined && typeof options.evalStep !== 'function') throw new Error(`${W}: evalStep must be a function (ctx) => { loss?, logs?, output?, target? }`);
  const metrics = (options.metrics ?? []).map((m) => resolveMetric(W, m));
  return evaluateLoader(W, model, loader, lossFn, metrics, (options.evalStep ?? defaultEvalStep) as EvalStep<unknown>);
}

/**
 * The model's outputs for x (a tensor [N, ...], or a dataset/DataLoader whose targets are
 * ignored), in evaluation mode under noGrad, `batchSize` rows at a time (default: all of a
 * tensor at once, 256 for a dataset; each batch's intermediates are freed before the next).
 * The caller owns the returned tensor (it is kept: the step rule does not free it).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function predict(model: AnyModule, x: Tensor | TensorDataset | MapDataset<any> | DataLoader<any, any>, options: { batchSize?: number } = {}): Tensor {
  const W = 'predict';
  if (!(model instanceof Module)) throw new Error(`${W}: model must be a Module`);
  checkOptions(W, options, ['batchSize']);
  const bs = options.batchSize;
  if (bs !== undefined) positiveInt(W, 'batchSize', bs);
  const restore = saveModes(model);
  model.eval();
  try {
    // The result is the caller's (kept): predictions are data to hold, not a step's temporary.
    return keep(noGrad(() => {
      if (x instanceof Tensor) {
        if (x.ndim < 1) throw new Error(`${W}: x must have a batch dimension, got ${fmt(x.shape)}`);
        const n = x.shape[0];
        if (bs === undefined || bs >= n) return scope(() => forwardTensor(W, model, x));
        return scope(() => {
          const parts: Tensor[] = [];
          for (let s = 0; s < n; s += bs) {
            const rows = Math.min(bs, n - s);
            const begin = x.shape.map((_, i) => (i === 0 ? s : 0));
            const size = x.shape.map((d, i) => (i === 0 ? rows : d));
            parts.push(scope(() => forwardTensor(W, model, slice(x, begin, size))));
          }
          return concat(parts, 0);
        });
      }
      const loader = asLoader(W, x, bs ?? 256, false);
      return scope(() => {
        const parts: Tensor[] = [];
        for (const { batch } of loader.iterate()) {
          try {
            parts.push(scope(() => forwardTensor(W, model, splitBatch(W, batch).x)));
          } finally {
            dispose(batch);
          }
        }
        if (parts.length === 0) throw new Error(`${W}: the dataset is empty`);
        return parts.length === 1 ? parts[0] : concat(parts, 0);
      });
    }));
  } finally {
    restore();
  }
}
