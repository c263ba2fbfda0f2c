// Training and evaluation steps: what fit() and evaluate() run on each batch. The default
// training step is the plain one, loss(model(x), y) + zeroGrad + backward + clipping +
// optimizer step; pass your own `trainStep` to fit() for anything else (a GAN's two losses and
// two optimizers, a VAE whose model returns several outputs, contrastive pairs, a graph batch).
import { Tensor, fmt } from '../core/tensor.js';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, mseLoss } from '../ops/loss.js';
import type { LoaderBatch } from '../data/loader.js';
import { Module, type AnyModule } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';

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

/** @internal A loss function from a LossLike. */
export function resolveLoss(where: string, loss: LossLike): LossFn {
  if (typeof loss === 'function') return loss;
  if (typeof loss === 'string' && Object.prototype.hasOwnProperty.call(LOSSES, loss)) return LOSSES[loss];
  throw new Error(`${where}: loss must be a function (output, target) => scalar Tensor or one of ${Object.keys(LOSSES).join(', ')}, got ${JSON.stringify(loss)}`);
}

/** What an evaluation step sees. */
export interface EvalContext<B = LoaderBatch> {
  readonly model: AnyModule;
  readonly batch: B;
  /** Number of examples in the batch (per-example averages weigh by it). */
  readonly size: number;
  /** The loss given to fit()/evaluate(), resolved; null when none was given. */
  readonly loss: LossFn | null;
}

/** What a training step sees: the batch, the model, the optimizers and where training is. */
export interface StepContext<B = LoaderBatch> extends EvalContext<B> {
  /** fit's `optimizer`; null when only named `optimizers` were given. */
  readonly optimizer: Optimizer | null;
  /** fit's named `optimizers` (e.g. { generator, discriminator }); empty when none were given. */
  readonly optimizers: Readonly<Record<string, Optimizer>>;
  /** Epoch, from 1. */
  readonly epoch: number;
  /** Batch within the epoch, from 0. */
  readonly batchIndex: number;
  /** Steps taken before this one in the whole run, from 0 (τ of per-step schedules). */
  readonly step: number;
  /**
   * Applies fit's clipGradValue and clipGradNorm (whichever were given) to the gradients of
   * `params` (default: the optimizer's parameters, else the model's). Returns the global norm
   * before clipping when clipping by norm, else NaN.
   */
  clipGradients(params?: Iterable<Tensor> | AnyModule): number;
}

/**
 * What a step reports. Numbers and one-element tensors are both accepted; fit() reads them
 * inside the step, so tensors may be intermediates of the step.
 */
export interface StepResult {
  /** The batch's loss (history 'loss'; per-example average over the epoch). */
  loss?: Tensor | number;
  /** More scalars to log, e.g. { d_loss, g_loss } or { recon, kl }: history series of those names. */
  logs?: Record<string, Tensor | number>;
  /** The model's output and the targets, for metrics (the default steps return both). */
  output?: Tensor;
  target?: Tensor;
}

/** A training step: forward, backward and the optimizer updates for one batch. */
export type TrainStep<B = LoaderBatch> = (ctx: StepContext<B>) => StepResult & { loss: Tensor | number };
/** An evaluation step (run in eval mode under noGrad). */
export type EvalStep<B = LoaderBatch> = (ctx: EvalContext<B>) => StepResult;

/** @internal The (input, target) of a batch { x, y } or [x, y]. */
export function splitBatch(where: string, batch: unknown): { x: unknown; y: unknown } {
  if (Array.isArray(batch) && batch.length === 2) return { x: batch[0], y: batch[1] };
  if (batch instanceof Tensor) return { x: batch, y: undefined };
  if (batch !== null && typeof batch === 'object' && 'x' in batch) return { x: (batch as { x: unknown }).x, y: (batch as { y?: unknown }).y };
  throw new Error(`${where}: the default step needs batches { x, y } or [x, y] (got ${batch === null ? 'null' : typeof batch}); pass a trainStep/evalStep for other batches`);
}

/** @internal model.call(x) (model.call(...x) for an array of inputs), checked to return a tensor. */
export function forwardTensor(where: string, model: AnyModule, x: unknown): Tensor {
  const out: unknown = Array.isArray(x) ? model.call(...x) : model.call(x);
  if (!(out instanceof Tensor)) throw new Error(`${where}: model.forward returned ${out === null ? 'null' : typeof out}, not a Tensor`);
  return out;
}

/** @internal A loss value checked to be a one-element tensor. */
export function checkLoss(where: string, loss: unknown): Tensor {
  if (!(loss instanceof Tensor) || loss.size !== 1) {
    throw new Error(`${where}: the loss must return a one-element Tensor, got ${loss instanceof Tensor ? fmt(loss.shape) : typeof loss}`);
  }
  return loss;
}

function targetOf(where: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new Error(`${where}: the batch has no target tensor y for the loss (got ${y === null ? 'null' : typeof y})`);
  return y;
}

/**
 * The default training step: output = model(x); loss = loss(output, y); optimizer.zeroGrad();
 * loss.backward(); clipping; optimizer.step(). Custom steps can call it and add to its result.
 */
export function defaultTrainStep(ctx: StepContext<unknown>): StepResult & { loss: Tensor } {
  const where = 'fit';
  if (ctx.loss === null) throw new Error(`${where}: the default training step needs a loss`);
  if (ctx.optimizer === null) throw new Error(`${where}: the default training step needs an optimizer`);
  const { x, y } = splitBatch(where, ctx.batch);
  const output = forwardTensor(where, ctx.model, x);
  const target = targetOf(where, y);
  const loss = checkLoss(where, ctx.loss(output, target));
  ctx.optimizer.zeroGrad();
  loss.backward();
  ctx.clipGradients();
  ctx.optimizer.step();
  return { loss, output, target };
}

/** The default evaluation step: output = model(x), and loss(output, y) when a loss was given. */
export function defaultEvalStep(ctx: EvalContext<unknown>): StepResult {
  const where = 'evaluate';
  const { x, y } = splitBatch(where, ctx.batch);
  const output = forwardTensor(where, ctx.model, x);
  if (ctx.loss === null) return { output, target: y instanceof Tensor ? y : undefined };
  const target = targetOf(where, y);
  return { loss: checkLoss(where, ctx.loss(output, target)), output, target };
}

/** @internal Whether v is a Module (for argument checks). */
export function isModule(v: unknown): v is AnyModule {
  return v instanceof Module;
}
