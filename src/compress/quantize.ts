// Post-training int8 quantisation (issue 12) of Sequential models of Linear, Conv2d, ReLU,
// pooling and Flatten layers: weights get symmetric per-output-channel scales, and the input
// of every Linear / Conv2d a per-tensor scale calibrated on sample batches (min/max, or a
// percentile of |x| that ignores rare outliers). The result runs the int8 kernels with the ReLU
// that follows a layer fused into its epilogue; pooling and Flatten run in float32 as before.
import type { Tensor } from '../core/tensor.js';
import { checkOptions, numberIn, oneOf } from '../core/validate.js';
import { Module, type AnyModule } from '../nn/module.js';
import { Sequential } from '../nn/containers.js';
import { Linear } from '../nn/layers/linear.js';
import { Conv2d } from '../nn/layers/conv.js';
import { ReLU } from '../nn/layers/activation.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/layers/pool.js';
import { Flatten } from '../nn/layers/shape.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/norm.js';
import { Dropout } from '../nn/layers/dropout.js';
import { quantizedConv2d, quantizedLinear, quantizeWeight, tensorRange, type QuantizedWeight } from '../ops/quantize.js';
import { kthSmallestMagnitude } from '../ops/sparse.js';
import { scope, tensor } from '../core/tensor.js';

export interface QuantizeOptions {
  /** How activation ranges are calibrated (default 'minmax'). */
  calibration?: 'minmax' | 'percentile';
  /** For 'percentile': the fraction of |x| kept inside the range (default 0.9999). */
  percentile?: number;
}

/** One int8 layer with the scale of its input and the ReLU fused after it. */
interface QLayer {
  kind: 'linear' | 'conv';
  /** The float layer (its geometry); weight and bias below may be a batch norm folded into it. */
  source: Linear | Conv2d;
  weight: QuantizedWeight;
  bias: Tensor | null;
  inScale: number;
  unsigned: boolean;
  relu: boolean;
}

type Step = { q: QLayer } | { module: AnyModule };

/** The int8 inference model quantizeModel returns: call/forward like the float one, no gradients. */
export class QuantizedModel extends Module {
  /** @internal */
  constructor(private readonly steps: Step[]) {
    super();
    this.training = false;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const s of this.steps) {
      let next: Tensor;
      if ('module' in s) next = (s.module as Module).call(h);
      else {
        const { q } = s;
        const o = { inScale: q.inScale, unsigned: q.unsigned, relu: q.relu };
        if (q.kind === 'linear') next = quantizedLinear(h, q.weight.q, q.weight.scales, q.bias, o);
        else {
          const c = q.source as Conv2d;
          next = quantizedConv2d(h, q.weight.q, q.weight.scales, q.bias, { ...o, kernelSize: c.kernelSize, stride: c.stride, padding: c.padding });
        }
      }
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }

  /** Bytes of the quantised weights (int8 values, f32 scales and biases). */
  get weightBytes(): number {
    let b = 0;
    for (const s of this.steps) if ('q' in s) b += s.q.weight.bytesWithBias(s.q.bias);
    return b;
  }

  /** The calibrated input scale and signedness of each int8 layer, in order. */
  get scales(): { inScale: number; unsigned: boolean }[] {
    return this.steps.filter((s): s is { q: QLayer } => 'q' in s).map((s) => ({ inScale: s.q.inScale, unsigned: s.q.unsigned }));
  }

  /** Frees the int8 weights (the float model's biases are shared and stay). */
  dispose(): void {
    for (const s of this.steps) {
      if (!('q' in s)) continue;
      s.q.weight.dispose();
      // A bias made by folding a batch norm is the quantised model's own.
      if (s.q.bias !== null && s.q.bias !== s.q.source.bias) s.q.bias.dispose();
    }
  }
}

/**
 * Post-training quantisation of a Sequential of Linear / Conv2d / ReLU / MaxPool2d / AvgPool2d /
 * GlobalAvgPool2d / Flatten / Dropout (left out) with batch norms after a Linear or Conv2d folded into it: per-channel symmetric int8 weights and, for each Linear / Conv2d
 * input, a scale calibrated on `calibrationBatches` (run through the float model). Inputs whose
 * calibrated minimum is >= 0 are quantised to [0, 127], others to [-127, 127].
 */
export function quantizeModel(model: Sequential, calibrationBatches: readonly Tensor[], opts: QuantizeOptions = {}): QuantizedModel {
  const op = 'quantizeModel';
  if (!(model instanceof Sequential)) throw new Error(`${op}: expected a Sequential model`);
  if (!Array.isArray(calibrationBatches) || calibrationBatches.length === 0) throw new Error(`${op}: at least one calibration batch is needed`);
  const o = checkOptions(op, opts, ['calibration', 'percentile']);
  const method = oneOf(op, 'calibration', o.calibration ?? 'minmax', ['minmax', 'percentile'] as const);
  const pct = numberIn(op, 'percentile', o.percentile ?? 0.9999, 0, 1, { loOpen: true });
  const layers = model.layers;
  for (const [i, l] of layers.entries()) {
    const folds = isBatchNorm(l) && i > 0 && (layers[i - 1] instanceof Linear || layers[i - 1] instanceof Conv2d);
    if (!(l instanceof Linear || l instanceof Conv2d || l instanceof ReLU || l instanceof MaxPool2d || l instanceof AvgPool2d
      || l instanceof GlobalAvgPool2d || l instanceof Flatten || l instanceof Dropout || folds)) {
      throw new Error(`${op}: layer ${i} is a ${l.constructor.name}; supported: Linear, Conv2d, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Dropout (left out: inference), and batch norm right after a Linear or Conv2d (folded into it)`);
    }
  }
  // Per quantised layer: the running min, and the max of |x| (minmax) or the mean percentile.
  const stats = new Map<number, { min: number; absMax: number; pctSum: number; batches: number }>();
  for (const batch of calibrationBatches) {
    scope(() => {
      let h = batch;
      layers.forEach((l, i) => {
        if (l instanceof Linear || l instanceof Conv2d) {
          const { min, max } = tensorRange(h);
          const s = stats.get(i) ?? { min: Infinity, absMax: 0, pctSum: 0, batches: 0 };
          s.min = Math.min(s.min, min);
          s.absMax = Math.max(s.absMax, Math.abs(min), Math.abs(max));
          if (method === 'percentile' && h.size > 0) s.pctSum += kthSmallestMagnitude([h], Math.max(1, Math.ceil(pct * h.size)));
          s.batches++;
          stats.set(i, s);
        }
        h = l.call(h) as Tensor;
      });
    });
  }
  const steps: Step[] = [];
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l instanceof Dropout) continue; // the identity at inference
    if (!(l instanceof Linear || l instanceof Conv2d)) {
      steps.push({ module: l });
      continue;
    }
    const s = stats.get(i)!;
    const range = method === 'percentile' ? s.pctSum / s.batches : s.absMax;
    const bn = layers[i + 1];
    const folded = isBatchNorm(bn) ? foldBatchNorm(l, bn) : null;
    if (folded !== null) i++;
    const relu = layers[i + 1] instanceof ReLU;
    steps.push({
      q: {
        kind: l instanceof Linear ? 'linear' : 'conv', source: l, weight: quantizeWeight(folded?.weight ?? l.weight),
        bias: folded?.bias ?? l.bias, inScale: range > 0 && Number.isFinite(range) ? range / 127 : 1, unsigned: s.min >= 0, relu,
      },
    });
    folded?.weight.dispose();
    if (relu) i++;
  }
  return new QuantizedModel(steps);
}

function isBatchNorm(l: unknown): l is BatchNorm1d | BatchNorm2d {
  return l instanceof BatchNorm1d || l instanceof BatchNorm2d;
}

/**
 * A batch norm in evaluation mode after a Linear/Conv2d, folded into it: per output channel c,
 * s = γ_c / sqrt(σ̄_c² + eps) (the notes' running σ̄, as BatchNorm evaluates it), w' = s·w_c and
 * b' = s·(b_c − μ̄_c) + β_c. The quantised layer then computes what the pair computed.
 */
function foldBatchNorm(l: Linear | Conv2d, bn: BatchNorm1d | BatchNorm2d): { weight: Tensor; bias: Tensor } {
  const w = l.weight.data() as Float32Array;
  const out = l.weight.shape[0];
  if (bn.runningMean.size !== out) throw new Error(`quantizeModel: a batch norm of ${bn.runningMean.size} features follows a layer of ${out} outputs`);
  const per = w.length / out;
  const mean = bn.runningMean.data();
  const std = bn.runningStd.data();
  const gamma = bn.weight?.data() ?? null;
  const beta = bn.bias?.data() ?? null;
  const b = l.bias?.data() ?? null;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(out);
  for (let c = 0; c < out; c++) {
    const scale = (gamma === null ? 1 : gamma[c]) / Math.sqrt(std[c] * std[c] + bn.eps);
    for (let k = 0; k < per; k++) fw[c * per + k] = w[c * per + k] * scale;
    fb[c] = ((b === null ? 0 : b[c]) - mean[c]) * scale + (beta === null ? 0 : beta[c]);
  }
  return { weight: tensor(fw, l.weight.shape), bias: tensor(fb, [out]) };
}
