// What fit() reports while it runs: callbacks (objects with any of the on* methods), the
// progress bar / epoch lines, and early stopping with best-epoch tracking (notes §1.5.1.7).
import type { TypedData } from '../core/tensor.js';
import type { AnyModule } from '../nn/module.js';

/**
 * What fit reports after each epoch: loss, lr, metrics, step logs and their val_ versions.
 * fit() gives callbacks a precise type with exactly the keys the run measures (e.g.
 * `{ loss; accuracy; lr; val_loss; val_accuracy }`); this is the general shape.
 */
export type EpochLogs = { loss: number; [name: string]: number };

/**
 * What fit reports after each batch: the step's loss and logs, the batch size and the lr (NaN
 * without an optimizer). `S` names the logs of a custom training step.
 */
export type BatchLogs<S extends string = string> = { epoch: number; loss: number; size: number; lr: number } & { [K in S]: number };

type HistoryBase = {
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
};

/**
 * Per-epoch series (index e−1 is epoch e): loss, lr, every metric and step log and their val_
 * versions ('accuracy', 'val_accuracy', 'topK:5', 'd_loss', ...); accuracy/val_accuracy/
 * val_loss are empty when not measured. fit() returns it with one series per key of its epoch
 * logs `L`; with logs of unknown names (the default) any name may be looked up.
 */
export type History<L = EpochLogs> = HistoryBase & (string extends keyof L
  ? { [series: string]: number[] | number | null }
  : { [K in keyof L]-?: number[] });

/** Passed to callbacks: `stop()` ends training once the current epoch is wrapped up (from a batch callback, no more batches run). */
export interface FitControl {
  stop(): void;
}

/** What onTrainBegin gets. */
export interface TrainBeginInfo {
  model: AnyModule;
  epochs: number;
  /** Batches per epoch. */
  steps: number;
}

/**
 * Hooks into fit(). Give one object or a list of them as `callbacks`; every method is optional
 * and they run in list order. Written inline in fit()'s options, `logs` has exactly the keys
 * the run measures (`L`: epoch logs; `S`: the names of a custom step's logs).
 */
export interface Callback<L = EpochLogs, S extends string = string> {
  onTrainBegin?(info: TrainBeginInfo, control: FitControl): void;
  /** Before each epoch (1-based). */
  onEpochBegin?(epoch: number, control: FitControl): void;
  /** Before each training step: the batch index within the epoch (0-based). */
  onBatchBegin?(batch: number, info: { epoch: number; size: number }, control: FitControl): void;
  /** After each training step: the batch index within the epoch (0-based) and that batch's logs. */
  onBatchEnd?(batch: number, logs: BatchLogs<S>, control: FitControl): void;
  /** After each epoch (1-based) with its logs; `control.stop()` ends training after this epoch. */
  onEpochEnd?(epoch: number, logs: L, control: FitControl): void;
  onTrainEnd?(history: History<L>): void;
}

/** The callbacks object fit() has always taken (any Callback). */
export type FitCallbacks<L = EpochLogs, S extends string = string> = Callback<L, S>;

const CALLBACK_KEYS = ['onTrainBegin', 'onEpochBegin', 'onBatchBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'] as const;

/** @internal Normalises fit's `callbacks` option (an object or a list) into a list. */
export function callbackList(where: string, cb: unknown): Callback[] {
  if (cb === undefined) return [];
  const list = Array.isArray(cb) ? cb : [cb];
  list.forEach((c, i) => {
    if (c === null || typeof c !== 'object') {
      throw new Error(`${where}: callbacks must be an object { onEpochEnd, onBatchEnd, ... } or a list of them${Array.isArray(cb) ? ` (item ${i} is ${c === null ? 'null' : typeof c})` : ''}`);
    }
    for (const k of CALLBACK_KEYS) {
      const f = (c as Record<string, unknown>)[k];
      if (f !== undefined && typeof f !== 'function') throw new Error(`${where}: callbacks.${k} must be a function, got ${typeof f}`);
    }
  });
  return list as Callback[];
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

/** @internal A progress bar on a terminal, one line per epoch otherwise. */
export class Progress {
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

// ---- early stopping and the best epoch ----------------------------------------------------

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

type Snapshot = Record<string, { shape: number[]; data: TypedData }>;

function snapshot(model: AnyModule): Snapshot {
  const out: Snapshot = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = { shape: t.shape.slice(), data: t.data() };
  return out;
}

/**
 * @internal Tracks the best value of the monitored series (history.bestEpoch) and, with early
 * stopping, counts epochs without improvement and keeps the best weights.
 */
export class BestTracker {
  private best: number;
  private wait = 0;
  private weights: Snapshot | null = null;
  bestEpoch: number | null = null;

  constructor(
    readonly monitor: string,
    private readonly mode: 'min' | 'max',
    private readonly es: EarlyStoppingOptions | undefined,
    private readonly patience: number,
    private readonly minDelta: number,
  ) {
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  /** Records an epoch; returns true when early stopping says stop. */
  update(where: string, epoch: number, logs: EpochLogs, model: AnyModule): boolean {
    const cur = logs[this.monitor];
    if (cur === undefined) {
      if (this.es === undefined) return false; // only tracking the best epoch: nothing to track
      throw new Error(`${where}: earlyStopping monitors '${this.monitor}', which this run does not measure (it measures: ${Object.keys(logs).join(', ')})`);
    }
    const improved = this.mode === 'min' ? cur < this.best - this.minDelta : cur > this.best + this.minDelta;
    if (improved) {
      this.best = cur;
      this.wait = 0;
      this.bestEpoch = epoch;
      if (this.es?.restoreBestWeights) this.weights = snapshot(model);
      return false;
    }
    if (this.es === undefined) return false;
    this.wait++;
    return this.wait >= this.patience;
  }

  /** Puts back the best weights when asked to and they are not the last ones. */
  restore(model: AnyModule, lastEpoch: number): void {
    if (this.weights !== null && this.bestEpoch !== lastEpoch) model.loadStateDict(this.weights);
  }
}
