// The pruning methods of the notes (§1.11.2), behind one interface: a method is
// `{ name, prune(model, ctx) }`; ctx carries the data, the loss and how to (re)train, and the
// result says how sparse the model became. Unstructured methods leave masks on the weights
// (masks.ts); structured pruning and layer folding build smaller layers and put them in place.
//
// Structural operations (units, shrinking, folding) work on chains: the layers of a model in
// definition order, as a Sequential runs them (Linear / Conv2d, with BatchNorm, activations,
// pooling, Flatten and Dropout between them).
import { noGrad } from '../core/autograd.js';
import { rng } from '../core/random.js';
import { Tensor, fmt, persistent, tensor } from '../core/tensor.js';
import { Module, getModule, isParameter, replaceModule, type AnyModule } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { Conv2d } from '../nn/layers/conv.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/norm.js';
import { PReLU, ReLU, Sigmoid, Tanh } from '../nn/layers/activation.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten } from '../nn/layers/shape.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { crossEntropy, mseLoss } from '../ops/loss.js';
import { sum } from '../ops/reduce.js';
import { slice } from '../ops/shape.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { distillationLoss, type DistillationOptions } from './distill.js';
import {
  applyMasks, getMask, magnitudePrune, maskOptimizer, prunableParameters, prune, scorePrune, sparsityStats, topKMask,
} from './masks.js';

// ---- the shared interface ------------------------------------------------------------------------

/** A loss: (model output, target) → scalar tensor. */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** Training batches: { x, y } or [x, y] (a DataLoader, or any iterable of batches). */
export type TrainBatches = Iterable<{ x: unknown; y?: unknown } | readonly [unknown, unknown]>;

export interface PruneContext {
  /** Training data for (re)training rounds, iterated once per epoch (a DataLoader). */
  data: TrainBatches;
  /** A batch { x, y } the scores are measured on (SNIP, OBD, skeletonization). */
  batch: { x: Tensor; y: Tensor };
  /** 'crossEntropy' (default), 'mse', or a function (output, target) → scalar. OBD's exact Hessian needs a name. */
  loss?: 'crossEntropy' | 'mse' | LossFn;
  /** Builds the optimizer of each (re)training round (default Adam, lr 1e-3). */
  optimizer?: (params: Tensor[], opts: { weightDecay: number }) => Optimizer;
  /** Epochs of each retraining round (default 1). */
  epochs?: number;
  /** Progress messages. */
  log?: (message: string) => void;
}

export interface PruneResult {
  /** The pruned model (the same object unless the method had to build a new root). */
  model: AnyModule;
  /** Fraction of the prunable weights that are zero, or (structured, folding, distillation) removed. */
  sparsity: number;
  /** One line on what was done. */
  summary: string;
}

export interface PruningMethod {
  readonly name: string;
  prune(model: AnyModule, ctx: PruneContext): PruneResult;
}

function lossOf(ctx: PruneContext): LossFn {
  const l = ctx.loss ?? 'crossEntropy';
  if (typeof l === 'function') return l;
  if (l === 'mse') return (o, t) => mseLoss(o, t);
  if (l === 'crossEntropy') return (o, t) => crossEntropy(o, t);
  throw new Error(`pruning: loss must be 'crossEntropy', 'mse' or a function, got ${JSON.stringify(l)}`);
}

function unmaskedSparsity(model: AnyModule): number {
  return sparsityStats(model).sparsity;
}

function weightCount(model: AnyModule): number {
  return prunableParameters(model).reduce((n, p) => n + p.param.size, 0);
}

export interface RetrainOptions {
  epochs?: number;
  /** L2 coefficient (Han et al. retrain with L2; default 0). */
  weightDecay?: number;
  /** Added to the loss (layer folding's slope penalty). */
  penalty?: () => Tensor;
  /** Runs after backward and before the (masked) optimizer step; `step` counts from 0. */
  beforeStep?: (step: number) => void;
  /** Runs after the optimizer step. */
  afterStep?: (step: number) => void;
}

function xy(batch: unknown): { x: Tensor; y: Tensor } {
  const [x, y] = Array.isArray(batch) ? batch : [(batch as { x?: unknown }).x, (batch as { y?: unknown }).y];
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error('pruning: training batches must be { x, y } or [x, y] tensors');
  return { x, y };
}

/**
 * Runs `epochs` passes of `step(x, y, t)` over the batches (t counts steps from 0). A plain
 * loop, as fit() lives in a layer above this one: each backward() ends a step and frees the
 * previous step's tensors (README, "Who frees tensors").
 */
function loop(data: TrainBatches, epochs: number, step: (x: Tensor, y: Tensor, t: number) => void): void {
  let t = 0;
  for (let e = 0; e < epochs; e++) for (const b of data) {
    const { x, y } = xy(b);
    step(x, y, t++);
  }
}

/** Trains the model with its masks in force (masked gradients and weights around every step). */
export function retrain(model: AnyModule, ctx: PruneContext, opts: RetrainOptions = {}): void {
  const epochs = opts.epochs ?? ctx.epochs ?? 1;
  if (epochs <= 0) return;
  const params = model.parameters();
  const optimizer = ctx.optimizer?.(params, { weightDecay: opts.weightDecay ?? 0 }) ?? new Adam(params, { lr: 1e-3, weightDecay: opts.weightDecay ?? 0 });
  const handle = maskOptimizer(optimizer, model);
  const loss = lossOf(ctx);
  try {
    model.train();
    loop(ctx.data, epochs, (x, y, t) => {
      let l = loss(model.call(x) as Tensor, y);
      if (opts.penalty !== undefined) l = add(l, opts.penalty());
      optimizer.zeroGrad();
      l.backward();
      opts.beforeStep?.(t);
      optimizer.step();
      opts.afterStep?.(t);
    });
  } finally {
    handle.remove();
    optimizer.dispose();
    model.eval();
  }
}

/** Mean loss of the model on ctx.batch, in evaluation mode. */
export function batchLoss(model: AnyModule, ctx: PruneContext): number {
  model.eval();
  const loss = lossOf(ctx);
  return noGrad(() => loss(model.call(ctx.batch.x) as Tensor, ctx.batch.y).item());
}

// ---- chains and units ------------------------------------------------------------------------------

type Layer = Linear | Conv2d;

/** A layer whose output units can be removed, with what reads them. */
export interface UnitLayer {
  path: string;
  layer: Layer;
  /** A batch norm right after it (per-unit parameters and statistics). */
  norm: { path: string; module: BatchNorm1d | BatchNorm2d } | null;
  /** The next Linear/Conv2d, which reads the units (null for the output layer). */
  next: { path: string; layer: Layer; spatial: number } | null;
}

const PASS_THROUGH = [ReLU, PReLU, Tanh, Sigmoid, Dropout, Flatten];

/** The Linear/Conv2d layers of a chain model in order, with their successors. */
export function unitLayers(model: AnyModule): UnitLayer[] {
  const leaves = model.namedModules().filter(([, m]) => m.namedChildren().length === 0);
  const out: UnitLayer[] = [];
  for (const [path, m] of leaves) {
    const last = out[out.length - 1];
    if (m instanceof Linear || m instanceof Conv2d) {
      if (last !== undefined) {
        const units = last.layer instanceof Linear ? last.layer.outFeatures : last.layer.outChannels;
        const inputs = m instanceof Linear ? m.inFeatures : m.inChannels;
        if (inputs % units !== 0) throw new Error(`unitLayers: '${path}' reads ${inputs} inputs, not a multiple of the ${units} units of '${last.path}'`);
        last.next = { path, layer: m, spatial: inputs / units };
      }
      out.push({ path, layer: m, norm: null, next: null });
    } else if ((m instanceof BatchNorm1d || m instanceof BatchNorm2d) && last !== undefined && last.next === null) {
      last.norm = { path, module: m };
    } else if (!PASS_THROUGH.some((c) => m instanceof c) && m.parameters().length > 0) {
      throw new Error(`unitLayers: ${m.constructor.name} '${path}' is not supported in a chain of prunable layers`);
    }
  }
  return out;
}

function unitsOf(l: Layer): number {
  return l instanceof Linear ? l.outFeatures : l.outChannels;
}

/** Size of one unit's incoming weights (a row, or a filter). */
function fanIn(l: Layer): number {
  return l.weight.size / unitsOf(l);
}

/** Where unit u's outputs enter `next`: a 0/1 mask of next.weight that is 0 on them. */
function inputMask(next: { layer: Layer; spatial: number }, units: Iterable<number>): Float32Array {
  const w = next.layer.weight;
  const mask = new Float32Array(w.size).fill(1);
  const rows = w.shape[0];
  const perRow = w.size / rows;
  for (const u of units) {
    // Linear: columns u·spatial … (u+1)·spatial of each row. Conv2d: input channel u, all kernel taps.
    const span = next.layer instanceof Linear ? next.spatial : w.shape[2] * w.shape[3];
    for (let r = 0; r < rows; r++) mask.fill(0, r * perRow + u * span, r * perRow + (u + 1) * span);
  }
  return mask;
}

/** Removes units of a layer by masks: their incoming weights and bias, and the next layer's inputs from them. */
export function maskUnits(entry: UnitLayer, units: readonly number[]): void {
  if (units.length === 0) return;
  const l = entry.layer;
  const f = fanIn(l);
  const w = new Float32Array(l.weight.size).fill(1);
  for (const u of units) w.fill(0, u * f, (u + 1) * f);
  prune(l, 'weight', w);
  if (l.bias !== null) {
    const b = new Float32Array(l.bias.size).fill(1);
    for (const u of units) b[u] = 0;
    prune(l, 'bias', b);
  }
  if (entry.next !== null) prune(entry.next.layer, 'weight', inputMask(entry.next, units));
}

/** Units whose incoming weights are all zero (Han et al.'s neuron sparsification). */
export function deadUnits(entry: UnitLayer): number[] {
  const d = entry.layer.weight.data();
  const f = fanIn(entry.layer);
  const out: number[] = [];
  for (let u = 0; u < unitsOf(entry.layer); u++) {
    let alive = false;
    for (let i = u * f; i < (u + 1) * f && !alive; i++) alive = d[i] !== 0;
    if (!alive) out.push(u);
  }
  return out;
}

// ---- iterative magnitude pruning (Han et al. 2015) ---------------------------------------------------

export interface MagnitudeMethodOptions {
  /** Target sparsities of the rounds, increasing (default [0.5, 0.75, 0.9]). */
  schedule?: number[];
  /** L2 coefficient of the retraining (default 1e-4). */
  weightDecay?: number;
  /** 'global' (default) or 'layer' thresholds. */
  scope?: 'global' | 'layer';
  /** Epochs of the first, dense training (default 0: the model comes trained). */
  trainEpochs?: number;
}

/**
 * Train (with L2) → remove the weights below the threshold → remove the units left without
 * inputs → retrain with L2, and again at the next, higher sparsity.
 */
export function iterativeMagnitude(o: MagnitudeMethodOptions = {}): PruningMethod {
  const schedule = o.schedule ?? [0.5, 0.75, 0.9];
  const wd = o.weightDecay ?? 1e-4;
  return {
    name: 'iterative magnitude + L2',
    prune(model, ctx) {
      retrain(model, ctx, { epochs: o.trainEpochs ?? 0, weightDecay: wd });
      let removed = 0;
      for (const s of schedule) {
        magnitudePrune(model, s, { scope: o.scope ?? 'global' });
        for (const entry of unitLayers(model)) {
          if (entry.next === null) continue;
          const dead = deadUnits(entry);
          removed += dead.length;
          maskUnits(entry, dead);
        }
        retrain(model, ctx, { weightDecay: wd });
        ctx.log?.(`magnitude: ${(100 * s).toFixed(0)}% target, loss ${batchLoss(model, ctx).toFixed(4)}`);
      }
      return { model, sparsity: unmaskedSparsity(model), summary: `${schedule.length} prune/retrain rounds, ${removed} units left without inputs removed` };
    },
  };
}

// ---- Optimal Brain Damage (LeCun et al. 1989) --------------------------------------------------------

/** Diagonal of the Hessian per parameter tensor. */
export type HessianDiagonal = Map<Tensor, Float64Array>;

type Act = (a: number) => [number, number, number];
const ACTS: [new (...a: never[]) => AnyModule, Act][] = [
  [ReLU, (a) => (a > 0 ? [a, 1, 0] : [0, 0, 0])],
  [Tanh, (a) => { const t = Math.tanh(a); return [t, 1 - t * t, -2 * t * (1 - t * t)]; }],
  [Sigmoid, (a) => { const s = 1 / (1 + Math.exp(-a)); return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)]; }],
];

/**
 * The exact Hessian diagonal ∂²E/∂u_k² of every parameter of an MLP (a chain of Linear layers
 * and ReLU/Tanh/Sigmoid, Dropout in eval mode, Flatten), with E the mean loss on (x, y).
 * Forward-mode second derivatives in float64: for each parameter, one pass carries (value,
 * first, second derivative) along the direction of that parameter. Exact, and O(P · forward),
 * so for small nets.
 */
export function exactHessianDiagonal(model: AnyModule, x: Tensor, y: Tensor, loss: 'crossEntropy' | 'mse' = 'crossEntropy'): HessianDiagonal {
  type Step = { kind: 'linear'; layer: Linear; W: Float64Array; b: Float64Array | null } | { kind: 'act'; f: Act };
  const steps: Step[] = [];
  for (const [path, m] of model.namedModules().filter(([, mm]) => mm.namedChildren().length === 0)) {
    if (m instanceof Linear) steps.push({ kind: 'linear', layer: m, W: Float64Array.from(m.weight.data()), b: m.bias === null ? null : Float64Array.from(m.bias.data()) });
    else if (m instanceof Dropout || m instanceof Flatten) continue;
    else {
      const act = ACTS.find(([c]) => m instanceof c);
      if (act === undefined) throw new Error(`exactHessianDiagonal: ${m.constructor.name} '${path}' is not supported (an MLP of Linear, ReLU, Tanh, Sigmoid)`);
      steps.push({ kind: 'act', f: act[1] });
    }
  }
  const N = x.shape[0];
  const X = Float64Array.from(x.data());
  const D0 = X.length / N;
  const Y = y.data();
  // Values entering each step, per sample (for the perturbation's starting point).
  const inputs: Float64Array[] = [];
  let h = X;
  let width = D0;
  for (const s of steps) {
    inputs.push(h);
    if (s.kind === 'linear') {
      const out = s.layer.outFeatures;
      const z = new Float64Array(N * out);
      for (let n = 0; n < N; n++) for (let i = 0; i < out; i++) {
        let acc = s.b === null ? 0 : s.b[i];
        for (let j = 0; j < width; j++) acc += s.W[i * width + j] * h[n * width + j];
        z[n * out + i] = acc;
      }
      h = z;
      width = out;
    } else h = h.map((v) => s.f(v)[0]);
  }
  const outWidth = width;

  // Second derivative of the loss along (dz, d2z) at the outputs of sample n.
  const lossSecond = (n: number, z: Float64Array, dz: Float64Array, d2z: Float64Array): number => {
    if (loss === 'mse') {
      let acc = 0;
      for (let c = 0; c < outWidth; c++) acc += dz[c] * dz[c] + (z[c] - Y[n * outWidth + c]) * d2z[c];
      return (2 * acc) / (N * outWidth);
    }
    let m = -Infinity;
    for (let c = 0; c < outWidth; c++) m = Math.max(m, z[c]);
    let Z = 0;
    for (let c = 0; c < outWidth; c++) Z += Math.exp(z[c] - m);
    let a = 0, b = 0, lin = 0;
    for (let c = 0; c < outWidth; c++) {
      const p = Math.exp(z[c] - m) / Z;
      a += p * dz[c] * dz[c];
      b += p * dz[c];
      lin += (p - (Y[n] === c ? 1 : 0)) * d2z[c];
    }
    return (lin + a - b * b) / N;
  };

  // Carries (value, first, second derivative) of sample n from step `from` on.
  const propagate = (n: number, from: number, v0: Float64Array, d0: Float64Array, e0: Float64Array): number => {
    let v = v0, d = d0, e = e0;
    for (let k = from; k < steps.length; k++) {
      const s = steps[k];
      if (s.kind === 'linear') {
        const inW = v.length, out = s.layer.outFeatures;
        const nv = new Float64Array(out), nd = new Float64Array(out), ne = new Float64Array(out);
        for (let i = 0; i < out; i++) {
          let a = s.b === null ? 0 : s.b[i], b = 0, c = 0;
          for (let j = 0; j < inW; j++) {
            const w = s.W[i * inW + j];
            a += w * v[j]; b += w * d[j]; c += w * e[j];
          }
          nv[i] = a; nd[i] = b; ne[i] = c;
        }
        v = nv; d = nd; e = ne;
      } else {
        const nv = new Float64Array(v.length), nd = new Float64Array(v.length), ne = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const [f, f1, f2] = s.f(v[i]);
          nv[i] = f; nd[i] = f1 * d[i]; ne[i] = f2 * d[i] * d[i] + f1 * e[i];
        }
        v = nv; d = nd; e = ne;
      }
    }
    return lossSecond(n, v, d, e);
  };

  const result: HessianDiagonal = new Map();
  steps.forEach((s, k) => {
    if (s.kind !== 'linear') return;
    const inW = s.layer.inFeatures, out = s.layer.outFeatures;
    const hw = new Float64Array(out * inW);
    const hb = new Float64Array(out);
    const src = inputs[k];
    for (let n = 0; n < N; n++) {
      const xin = src.subarray(n * inW, (n + 1) * inW);
      // The layer's output with a perturbation of W[i][j] (direction x_j on unit i) or b[i] (1 on unit i).
      const z = new Float64Array(out);
      for (let i = 0; i < out; i++) {
        let a = s.b === null ? 0 : s.b[i];
        for (let j = 0; j < inW; j++) a += s.W[i * inW + j] * xin[j];
        z[i] = a;
      }
      const zero = new Float64Array(out);
      for (let i = 0; i < out; i++) {
        const d = new Float64Array(out);
        d[i] = 1;
        const hUnit = propagate(n, k + 1, z, d, zero);
        // The direction for W[i][j] is x_j times the bias direction, and E'' scales by x_j².
        for (let j = 0; j < inW; j++) hw[i * inW + j] += hUnit * xin[j] * xin[j];
        hb[i] += hUnit;
      }
    }
    result.set(s.layer.weight, hw);
    if (s.layer.bias !== null) result.set(s.layer.bias, hb);
  });
  return result;
}

/**
 * An efficient approximation of the Hessian diagonal for any model: one extra pass of
 * per-example gradients, h_kk ≈ (1/N) Σ_n (∂E_n/∂u_k)² (the Gauss-Newton / Fisher diagonal,
 * which equals the expected Hessian of the log-loss at the model's own predictions and is never
 * negative, as OBD assumes of h_kk). Runs in eval mode (batch norm uses its running statistics).
 */
export function fisherHessianDiagonal(model: AnyModule, x: Tensor, y: Tensor, loss: LossFn): HessianDiagonal {
  const params = model.parameters();
  const acc = new Map<Tensor, Float64Array>(params.map((p) => [p, new Float64Array(p.size)]));
  const N = x.shape[0];
  const yData = y.data();
  const yRow = y.size / N;
  model.eval();
  for (let n = 0; n < N; n++) {
    model.zeroGrad();
    const xn = slice(x, [n, ...x.shape.slice(1).map(() => 0)], [1, ...x.shape.slice(1)]);
    // slice is a float32 op; labels are int32, so their row is copied.
    const yn = tensor(yData.slice(n * yRow, (n + 1) * yRow), [1, ...y.shape.slice(1)], { dtype: y.dtype });
    loss(model.call(xn) as Tensor, yn).backward();
    for (const p of params) {
      if (p.grad === null) continue;
      const g = p.grad.data();
      const a = acc.get(p) as Float64Array;
      for (let i = 0; i < g.length; i++) a[i] += (g[i] * g[i]) / N;
    }
  }
  model.zeroGrad();
  return acc;
}

/** OBD saliencies s_k = h_kk · u_k² / 2 of the prunable weights. */
export function obdSaliency(model: AnyModule, h: HessianDiagonal): Map<Tensor, Float64Array> {
  const out = new Map<Tensor, Float64Array>();
  for (const { param } of prunableParameters(model)) {
    const hk = h.get(param);
    if (hk === undefined) throw new Error(`obdSaliency: no Hessian diagonal for a weight ${fmt(param.shape)}`);
    const u = param.data();
    out.set(param, Float64Array.from(hk, (v, i) => (v * u[i] * u[i]) / 2));
  }
  return out;
}

export interface ObdOptions {
  /** Target sparsities of the prune/retrain rounds (default [0.3, 0.5, 0.7]). */
  schedule?: number[];
  /** 'exact' (MLPs), 'fisher' (any model) or 'auto' (default: exact when the model allows it). */
  hessian?: 'exact' | 'fisher' | 'auto';
}

/** Compute h_kk, the saliencies, delete the lowest, retrain; iterate. */
export function optimalBrainDamage(o: ObdOptions = {}): PruningMethod {
  const schedule = o.schedule ?? [0.3, 0.5, 0.7];
  return {
    name: 'optimal brain damage',
    prune(model, ctx) {
      let kind = o.hessian ?? 'auto';
      const lossName = ctx.loss ?? 'crossEntropy';
      if (kind === 'auto') kind = typeof lossName === 'string' && prunableParameters(model).every((p) => p.module instanceof Linear) ? 'exact' : 'fisher';
      for (const s of schedule) {
        model.eval();
        const h = kind === 'exact'
          ? exactHessianDiagonal(model, ctx.batch.x, ctx.batch.y, lossName as 'crossEntropy' | 'mse')
          : fisherHessianDiagonal(model, ctx.batch.x, ctx.batch.y, lossOf(ctx));
        const sal = obdSaliency(model, h);
        scorePrune(model, s, (p) => sal.get(p) as Float64Array);
        retrain(model, ctx);
      }
      return { model, sparsity: unmaskedSparsity(model), summary: `${schedule.length} rounds, ${kind} Hessian diagonal` };
    },
  };
}

// ---- skeletonization (Mozer & Smolensky 1988) ----------------------------------------------------

/** ρ_i = E_without i − E_with i for every unit of every hidden layer, on ctx.batch. */
export function unitRelevance(model: AnyModule, ctx: PruneContext): { entry: UnitLayer; unit: number; rho: number }[] {
  const base = batchLoss(model, ctx);
  const out: { entry: UnitLayer; unit: number; rho: number }[] = [];
  for (const entry of unitLayers(model)) {
    if (entry.next === null) continue;
    const w = entry.next.layer.weight;
    const saved = w.data();
    for (let u = 0; u < unitsOf(entry.layer); u++) {
      // The unit is gone when nothing reads it; its own weights then do not matter.
      const m = inputMask(entry.next, [u]);
      w.setData(saved.map((v, i) => v * m[i]));
      out.push({ entry, unit: u, rho: batchLoss(model, ctx) - base });
    }
    w.setData(saved);
  }
  return out;
}

export interface SkeletonOptions {
  /** Fraction of the hidden units to remove in all (default 0.5). */
  fraction?: number;
  /** Rounds of trimming and retraining (default 3). */
  rounds?: number;
}

/** Rank units by relevance, trim the least relevant, retrain; iterate. */
export function skeletonization(o: SkeletonOptions = {}): PruningMethod {
  const fraction = o.fraction ?? 0.5;
  const rounds = o.rounds ?? 3;
  return {
    name: 'skeletonization',
    prune(model, ctx) {
      const layers = unitLayers(model).filter((e) => e.next !== null);
      const total = layers.reduce((n, e) => n + unitsOf(e.layer), 0);
      const gone = new Set<string>();
      for (let r = 1; r <= rounds; r++) {
        const target = Math.round((fraction * total * r) / rounds);
        const ranked = unitRelevance(model, ctx)
          .filter((c) => !gone.has(`${c.entry.path}:${c.unit}`))
          // Keep at least one unit per layer, or the network is cut in two.
          .sort((a, b) => a.rho - b.rho);
        const left = new Map(layers.map((e) => [e.path, unitsOf(e.layer) - [...gone].filter((g) => g.startsWith(`${e.path}:`)).length]));
        const now = new Map<string, { entry: UnitLayer; units: number[] }>();
        for (const c of ranked) {
          if (gone.size >= target) break;
          if ((left.get(c.entry.path) as number) <= 1) continue;
          gone.add(`${c.entry.path}:${c.unit}`);
          left.set(c.entry.path, (left.get(c.entry.path) as number) - 1);
          const slot = now.get(c.entry.path) ?? { entry: c.entry, units: [] };
          slot.units.push(c.unit);
          now.set(c.entry.path, slot);
        }
        for (const { entry, units } of now.values()) maskUnits(entry, units);
        retrain(model, ctx);
      }
      return { model, sparsity: unmaskedSparsity(model), summary: `${gone.size} of ${total} hidden units trimmed in ${rounds} rounds` };
    },
  };
}

// ---- lottery tickets (Frankle & Carbin 2019; rewinding, Frankle et al. 2020) -----------------------

function snapshot(model: AnyModule): Map<Tensor, Float32Array> {
  const m = new Map<Tensor, Float32Array>();
  for (const [name, t] of model.namedTensors()) {
    if (name.endsWith('_mask') || !(isParameter(t) || model.buffers().includes(t))) continue;
    m.set(t, t.data() as Float32Array);
  }
  return m;
}

function restore(model: AnyModule, snap: Map<Tensor, Float32Array>): void {
  for (const [t, d] of snap) t.setData(d);
  applyMasks(model);
}

export interface LotteryOptions {
  /** Final sparsity (default 0.9), reached over `rounds` rounds of train, prune, rewind. */
  sparsity?: number;
  rounds?: number;
  /** Epochs of each training run (default ctx.epochs). */
  epochs?: number;
  /** Rewind point: 0 = the initial values; k > 0 = after k epochs of warm-up (default 0). */
  rewindEpochs?: number;
}

/**
 * Train, prune by magnitude, rewind the survivors to their values at initialisation (or after
 * a short warm-up), retrain the sparse net from there. The model must come untrained.
 */
export function lotteryTicket(o: LotteryOptions = {}): PruningMethod {
  const final = o.sparsity ?? 0.9;
  const rounds = o.rounds ?? 2;
  const k = o.rewindEpochs ?? 0;
  return {
    name: k > 0 ? `lottery ticket (rewind to epoch ${k})` : 'lottery ticket (rewind to init)',
    prune(model, ctx) {
      const epochs = o.epochs ?? ctx.epochs ?? 1;
      let rewindTo = snapshot(model);
      if (k > 0) {
        retrain(model, ctx, { epochs: k });
        rewindTo = snapshot(model);
        retrain(model, ctx, { epochs: Math.max(0, epochs - k) });
      } else retrain(model, ctx, { epochs });
      for (let r = 1; r <= rounds; r++) {
        // Each round removes the same fraction of what is left: (1 − s)^(r/rounds) survive.
        magnitudePrune(model, 1 - Math.pow(1 - final, r / rounds));
        restore(model, rewindTo);
        retrain(model, ctx, { epochs: r === rounds ? epochs : Math.max(1, epochs - k) });
      }
      return { model, sparsity: unmaskedSparsity(model), summary: `${rounds} rounds, survivors rewound to ${k > 0 ? `epoch ${k}` : 'init'}` };
    },
  };
}

// ---- SNIP (Lee et al. 2019) -------------------------------------------------------------------------

/** Connection sensitivities |∂E/∂w · w| of the prunable weights on (x, y). */
export function snipScores(model: AnyModule, x: Tensor, y: Tensor, loss: LossFn): Map<Tensor, Float64Array> {
  model.zeroGrad();
  loss(model.call(x) as Tensor, y).backward();
  const out = new Map<Tensor, Float64Array>();
  for (const { param } of prunableParameters(model)) {
    const g = param.grad?.data() ?? new Float32Array(param.size);
    const w = param.data();
    out.set(param, Float64Array.from(w, (v, i) => Math.abs(v * g[i])));
  }
  model.zeroGrad();
  return out;
}

export interface SnipOptions {
  sparsity?: number;
  /** Training epochs of the pruned net (default ctx.epochs). */
  epochs?: number;
}

/** One shot at initialisation: keep the connections with the largest |g·w| on a batch, then train. */
export function snip(o: SnipOptions = {}): PruningMethod {
  const s = o.sparsity ?? 0.9;
  return {
    name: 'SNIP',
    prune(model, ctx) {
      model.train();
      const scores = snipScores(model, ctx.batch.x, ctx.batch.y, lossOf(ctx));
      scorePrune(model, s, (p) => scores.get(p) as Float64Array);
      retrain(model, ctx, { epochs: o.epochs });
      return { model, sparsity: unmaskedSparsity(model), summary: 'one-shot at initialisation' };
    },
  };
}

// ---- RigL (Evci et al. 2019) -------------------------------------------------------------------------

export interface RiglOptions {
  sparsity?: number;
  /** Steps between mask updates (default 100). */
  deltaT?: number;
  /** Fraction of the active weights updated at first; decays by a cosine (default 0.3). */
  alpha?: number;
  /** Mask updates stop after this fraction of the training steps (default 0.75). */
  stopFraction?: number;
  epochs?: number;
}

/**
 * Start from a random sparse net; every ΔT steps drop the active weights of smallest magnitude
 * and grow as many inactive ones with the largest gradient magnitude (grown at 0).
 */
export function rigl(o: RiglOptions = {}): PruningMethod {
  const s = o.sparsity ?? 0.9;
  const deltaT = o.deltaT ?? 100;
  const alpha = o.alpha ?? 0.3;
  return {
    name: 'RigL',
    prune(model, ctx) {
      const params = prunableParameters(model);
      for (const { module, name, param } of params) {
        // Random sparse start: every layer at the same sparsity, drawn from the one seeded RNG.
        const scores = Float64Array.from({ length: param.size }, () => rng.uniform());
        prune(module, name, topKMask(scores, param.size - Math.round(s * param.size)), { mode: 'replace' });
      }
      const epochs = o.epochs ?? ctx.epochs ?? 1;
      const perEpoch = (ctx.data as unknown as { length?: unknown }).length;
      const total = typeof perEpoch === 'number' ? perEpoch * epochs : 1000;
      const stop = Math.floor((o.stopFraction ?? 0.75) * total);
      let updates = 0;
      retrain(model, ctx, {
        epochs,
        beforeStep: (t) => {
          if (t === 0 || t % deltaT !== 0 || t >= stop) return;
          updates++;
          const f = (alpha / 2) * (1 + Math.cos((Math.PI * t) / stop));
          for (const { module, name, param } of params) {
            if (param.grad === null) continue;
            const mask = (getMask(module, name) as Tensor).data();
            const w = param.data();
            const g = param.grad.data();
            const active: number[] = [];
            for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) active.push(i);
            const k = Math.round(f * active.length);
            if (k === 0) continue;
            active.sort((a, b) => Math.abs(w[a]) - Math.abs(w[b]));
            const next = Float32Array.from(mask);
            for (let i = 0; i < k; i++) next[active[i]] = 0;
            const inactive: number[] = [];
            for (let i = 0; i < next.length; i++) if (next[i] === 0) inactive.push(i);
            inactive.sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
            for (let i = 0; i < k; i++) {
              next[inactive[i]] = 1;
              // Grown connections start at zero, so the function changes only by what was dropped.
              if (mask[inactive[i]] === 0) w[inactive[i]] = 0;
            }
            param.setData(w);
            prune(module, name, next, { mode: 'replace' });
          }
        },
      });
      return { model, sparsity: unmaskedSparsity(model), summary: `${updates} drop/grow updates every ${deltaT} steps` };
    },
  };
}

// ---- structured pruning -----------------------------------------------------------------------------

function pick(data: ArrayLike<number>, blocks: readonly number[], blockSize: number): Float32Array {
  const out = new Float32Array(blocks.length * blockSize);
  blocks.forEach((b, i) => out.set(Array.prototype.slice.call(data, b * blockSize, (b + 1) * blockSize) as number[], i * blockSize));
  return out;
}

/** The next layer's weights keeping only the inputs that come from units `keep`. */
function pickInputs(next: { layer: Layer; spatial: number }, keep: readonly number[], d: ArrayLike<number> = next.layer.weight.data()): Float32Array {
  const w = next.layer.weight;
  const rows = w.shape[0];
  const perRow = w.size / rows;
  const span = next.layer instanceof Linear ? next.spatial : w.shape[2] * w.shape[3];
  const out = new Float32Array(rows * keep.length * span);
  let o = 0;
  for (let r = 0; r < rows; r++) for (const u of keep) for (let s = 0; s < span; s++) out[o++] = d[r * perRow + u * span + s];
  return out;
}

function copyMask(from: Layer, to: Layer, name: 'weight' | 'bias', select: (d: ArrayLike<number>) => Float32Array): void {
  const m = getMask(from, name);
  if (m !== null) prune(to, name, select(m.data()));
}

function withUnits(l: Layer, units: number, inputs: number): Layer {
  const bias = l.bias !== null;
  return l instanceof Linear
    ? new Linear(inputs, units, { bias })
    : new Conv2d(inputs, units, l.kernelSize, { stride: l.stride, padding: l.padding, bias });
}

/**
 * Physically removes units of a layer: a new, smaller layer (and batch norm) keeps the rows or
 * filters `keep`, and the next layer is rebuilt without the inputs of the removed units. The
 * kept units compute exactly what they computed before.
 */
export function shrinkUnits(model: AnyModule, entry: UnitLayer, keep: readonly number[]): void {
  if (entry.next === null) throw new Error(`shrinkUnits: '${entry.path}' is the output layer; its units are the outputs`);
  if (keep.length === 0) throw new Error(`shrinkUnits: '${entry.path}' must keep at least one unit`);
  const l = entry.layer;
  const f = fanIn(l);
  const inputs = l instanceof Linear ? l.inFeatures : l.inChannels;
  const small = persistent(() => withUnits(l, keep.length, inputs));
  small.weight.setData(pick(l.weight.data(), keep, f));
  if (l.bias !== null && small.bias !== null) small.bias.setData(pick(l.bias.data(), keep, 1));
  copyMask(l, small, 'weight', (d) => pick(d, keep, f));
  copyMask(l, small, 'bias', (d) => pick(d, keep, 1));
  replaceModule(model, entry.path, small);
  if (entry.norm !== null) {
    const bn = entry.norm.module;
    const nb = persistent(() => (bn instanceof BatchNorm2d
      ? new BatchNorm2d(keep.length, { momentum: bn.momentum, eps: bn.eps, affine: bn.weight !== null })
      : new BatchNorm1d(keep.length, { momentum: bn.momentum, eps: bn.eps, affine: bn.weight !== null })));
    if (bn.weight !== null && nb.weight !== null) nb.weight.setData(pick(bn.weight.data(), keep, 1));
    if (bn.bias !== null && nb.bias !== null) nb.bias.setData(pick(bn.bias.data(), keep, 1));
    nb.runningMean.setData(pick(bn.runningMean.data(), keep, 1));
    nb.runningStd.setData(pick(bn.runningStd.data(), keep, 1));
    nb.training = bn.training;
    replaceModule(model, entry.norm.path, nb);
  }
  const nx = entry.next.layer;
  const units = nx instanceof Linear ? nx.outFeatures : nx.outChannels;
  const bigger = persistent(() => withUnits(nx, units, keep.length * entry.next!.spatial));
  bigger.weight.setData(pickInputs(entry.next, keep));
  if (nx.bias !== null && bigger.bias !== null) bigger.bias.setData(nx.bias.data());
  const nm = getMask(nx, 'weight');
  if (nm !== null) prune(bigger, 'weight', pickInputs(entry.next, keep, nm.data()));
  copyMask(nx, bigger, 'bias', (d) => Float32Array.from(d));
  small.training = l.training;
  bigger.training = nx.training;
  replaceModule(model, entry.next.path, bigger);
}

export interface StructuredOptions {
  /** Fraction of the units of each hidden layer to remove (default 0.5). */
  fraction?: number;
  /** Removal rounds, each followed by retraining (default 2). */
  rounds?: number;
}

/**
 * Removes whole neurons and conv filters with the smallest L1 norm of their incoming weights,
 * building smaller layers (a smaller model, not a masked one), and retrains after each round.
 */
export function structuredPruning(o: StructuredOptions = {}): PruningMethod {
  const fraction = o.fraction ?? 0.5;
  const rounds = o.rounds ?? 2;
  return {
    name: 'structured (neurons + filters)',
    prune(model, ctx) {
      const before = weightCount(model);
      const original = new Map(unitLayers(model).map((e) => [e.path, unitsOf(e.layer)]));
      for (let r = 1; r <= rounds; r++) {
        for (const entry of unitLayers(model)) {
          if (entry.next === null) continue;
          const n = unitsOf(entry.layer);
          const want = Math.max(1, Math.round((original.get(entry.path) as number) * (1 - (fraction * r) / rounds)));
          if (want >= n) continue;
          const d = entry.layer.weight.data();
          const f = fanIn(entry.layer);
          const norms = Array.from({ length: n }, (_, u) => { let a = 0; for (let i = u * f; i < (u + 1) * f; i++) a += Math.abs(d[i]); return a; });
          const mask = topKMask(norms, want);
          const keep = [...mask.keys()].filter((u) => mask[u] === 1);
          // Later entries read this layer's successor, so rebuild the chain after each change.
          shrinkUnits(model, unitLayers(model).find((e) => e.path === entry.path) as UnitLayer, keep);
        }
        retrain(model, ctx);
      }
      const after = weightCount(model);
      return { model, sparsity: 1 - after / before, summary: `${before} → ${after} weights` };
    },
  };
}

// ---- layer folding (§1.11.2.4) ---------------------------------------------------------------------

/** One Linear equal to b(a(x)): W = W_b W_a, c = W_b c_a + c_b. */
export function foldLinear(a: Linear, b: Linear): Linear {
  if (a.outFeatures !== b.inFeatures) throw new Error(`foldLinear: ${a.outFeatures} outputs feed a layer of ${b.inFeatures} inputs`);
  const I = a.inFeatures, M = a.outFeatures, O = b.outFeatures;
  const Wa = a.weight.data(), Wb = b.weight.data();
  const ca = a.bias?.data() ?? new Float32Array(M);
  const cb = b.bias?.data() ?? new Float32Array(O);
  const W = new Float64Array(O * I);
  const c = Float64Array.from(cb);
  for (let o = 0; o < O; o++) for (let m = 0; m < M; m++) {
    const w = Wb[o * M + m];
    if (w === 0) continue;
    c[o] += w * ca[m];
    for (let i = 0; i < I; i++) W[o * I + i] += w * Wa[m * I + i];
  }
  const out = persistent(() => new Linear(I, O, { bias: a.bias !== null || b.bias !== null }));
  out.weight.setData(W);
  out.bias?.setData(c);
  return out;
}

/**
 * One convolution equal to b(a(x)) for stride-1, unpadded convolutions: the kernel is the
 * (full) convolution of the kernels, of size ka + kb − 1; the bias is c_b + Σ W_b c_a.
 */
export function foldConv(a: Conv2d, b: Conv2d): Conv2d {
  for (const c of [a, b]) {
    if (c.stride[0] !== 1 || c.stride[1] !== 1 || c.padding === 'same' || c.padding[0] !== 0 || c.padding[1] !== 0) {
      throw new Error('foldConv: only stride-1 convolutions without padding fold into one (with padding there is no closed form, notes §1.11.2.4)');
    }
  }
  if (a.outChannels !== b.inChannels) throw new Error(`foldConv: ${a.outChannels} channels feed a convolution of ${b.inChannels}`);
  const [ah, aw] = a.kernelSize, [bh, bw] = b.kernelSize;
  const C = a.inChannels, M = a.outChannels, O = b.outChannels;
  const kh = ah + bh - 1, kw = aw + bw - 1;
  const Wa = a.weight.data(), Wb = b.weight.data();
  const ca = a.bias?.data() ?? new Float32Array(M);
  const K = new Float64Array(O * C * kh * kw);
  const c = Float64Array.from(b.bias?.data() ?? new Float32Array(O));
  // y[o](p) = Σ_m Σ_q Wb[o,m,q] (Σ_i Σ_r Wa[m,i,r] x[i](p+q+r) + ca[m]): the tap p+q+r of the folded kernel.
  for (let o = 0; o < O; o++) for (let m = 0; m < M; m++) for (let qy = 0; qy < bh; qy++) for (let qx = 0; qx < bw; qx++) {
    const wb = Wb[((o * M + m) * bh + qy) * bw + qx];
    if (wb === 0) continue;
    c[o] += wb * ca[m];
    for (let i = 0; i < C; i++) for (let ry = 0; ry < ah; ry++) for (let rx = 0; rx < aw; rx++) {
      K[((o * C + i) * kh + qy + ry) * kw + qx + rx] += wb * Wa[((m * C + i) * ah + ry) * aw + rx];
    }
  }
  const out = persistent(() => new Conv2d(C, O, [kh, kw], { bias: a.bias !== null || b.bias !== null }));
  out.weight.setData(K);
  out.bias?.setData(c);
  return out;
}

export interface FoldingOptions {
  /** Weight λ of the penalty λ Σ (1 − α)² on the PReLU slopes (default 1). */
  lambda?: number;
  /** Training epochs while the slopes are driven to 1 (default ctx.epochs). */
  epochs?: number;
  /** Fraction of the steps over which the slopes' floor rises from 0 to 1 (default 0.7); the rest trains the linearised net. */
  driveFraction?: number;
}

interface FoldSite { container: Module; list: AnyModule[]; first: number; act: number; second: number; path: string }

function foldSites(model: AnyModule): FoldSite[] {
  const sites: FoldSite[] = [];
  for (const [path, m] of model.namedModules()) {
    const list = (m as unknown as { layers?: unknown }).layers;
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!(a instanceof Linear || a instanceof Conv2d)) continue;
      let j = i + 1;
      if (!(list[j] instanceof ReLU || list[j] instanceof PReLU)) continue;
      const act = j;
      j++;
      while (list[j] instanceof Dropout) j++;
      const b = list[j];
      const ok = (a instanceof Linear && b instanceof Linear)
        || (a instanceof Conv2d && b instanceof Conv2d && [a, b].every((c) => c.stride.join() === '1,1' && c.padding !== 'same' && c.padding.join() === '0,0'));
      if (ok) { sites.push({ container: m as Module, list, first: i, act, second: j, path }); i = j - 1; }
    }
  }
  return sites;
}

/**
 * Layer folding: the ReLU between two foldable layers becomes a PReLU (slope α, 0 = ReLU), which
 * training drives to α = 1 (a penalty λ(1 − α)² and a rising floor on α). At α = 1 the
 * activation is the identity, and the two layers merge into one.
 */
export function layerFolding(o: FoldingOptions = {}): PruningMethod {
  const lambda = o.lambda ?? 1;
  return {
    name: 'layer folding (PReLU → 1)',
    prune(model, ctx) {
      const before = weightCount(model);
      const sites = foldSites(model);
      if (sites.length === 0) return { model, sparsity: 0, summary: 'nothing to fold' };
      const slopes: Tensor[] = [];
      for (const s of sites) {
        const cur = s.list[s.act];
        const p = cur instanceof PReLU ? cur : persistent(() => new PReLU(1, 0));
        s.list[s.act] = p;
        slopes.push(p.weight);
      }
      const epochs = o.epochs ?? ctx.epochs ?? 1;
      const perEpoch = (ctx.data as unknown as { length?: unknown }).length;
      const total = typeof perEpoch === 'number' ? perEpoch * epochs : 1000;
      const drive = Math.max(1, Math.floor((o.driveFraction ?? 0.7) * total));
      retrain(model, ctx, {
        epochs,
        penalty: () => slopes.map((a) => mul(sum(square(sub(a, 1))), lambda)).reduce((x, y) => add(x, y)),
        afterStep: (t) => {
          const floor = Math.min(1, (t + 1) / drive);
          for (const a of slopes) a.setData(a.data().map((v) => Math.min(1, Math.max(v, floor))));
        },
      });
      let folded = 0;
      for (const s of sites.reverse()) {
        const act = s.list[s.act] as PReLU;
        if (act.weight.data().some((v) => Math.abs(1 - v) > 1e-6)) continue;
        const a = s.list[s.first], b = s.list[s.second];
        const merged = a instanceof Linear ? foldLinear(a, b as Linear) : foldConv(a as Conv2d, b as Conv2d);
        merged.training = false;
        s.list.splice(s.first, s.second - s.first + 1, merged);
        folded++;
      }
      model.eval();
      const after = weightCount(model);
      return { model, sparsity: 1 - after / before, summary: `${folded} of ${sites.length} layer pairs folded; ${before} → ${after} weights` };
    },
  };
}

// ---- knowledge distillation (§1.11.1.1) -------------------------------------------------------------

export interface DistillOptions extends DistillationOptions {
  /** The trained teacher (run in eval mode, no gradients). */
  teacher: AnyModule;
  /** Training epochs of the student (default ctx.epochs). */
  epochs?: number;
}

/** Trains `model` (the student) on the teacher's temperature-softened outputs plus the labels. */
export function distillation(o: DistillOptions): PruningMethod {
  if (!(o?.teacher instanceof Module)) throw new Error('distillation: a teacher Module is required');
  return {
    name: `distillation (T=${o.temperature ?? 4})`,
    prune(model, ctx) {
      const teacher = o.teacher;
      teacher.eval();
      const opts = { temperature: o.temperature, alpha: o.alpha };
      const student = model;
      const params = student.parameters();
      const optimizer = ctx.optimizer?.(params, { weightDecay: 0 }) ?? new Adam(params, { lr: 1e-3 });
      const handle = maskOptimizer(optimizer, student);
      const frozen = teacher.parameters().filter((p) => p.requiresGrad);
      for (const p of frozen) p.requiresGrad = false;
      try {
        student.train();
        loop(ctx.data, o.epochs ?? ctx.epochs ?? 1, (x, y) => {
          // The teacher sees the same (augmented) batch as the student; its parameters are
          // frozen instead of running it under noGrad, which would end the step (and free the batch).
          const t = teacher.call(x) as Tensor;
          const l = distillationLoss(student.call(x) as Tensor, t, y, opts);
          optimizer.zeroGrad();
          l.backward();
          optimizer.step();
        });
      } finally {
        for (const p of frozen) p.requiresGrad = true;
        handle.remove();
        optimizer.dispose();
        student.eval();
      }
      const ratio = weightCount(student) / weightCount(teacher);
      return { model: student, sparsity: Math.max(0, 1 - ratio), summary: `student with ${(100 * ratio).toFixed(1)}% of the teacher's weights` };
    },
  };
}
