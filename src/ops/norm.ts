// Batch normalisation and layer normalisation, as the notes write them (§1.3.5.4):
//
//   batch norm, per channel i over the K values of the mini-batch (and all positions of an
//   image for [N, C, H, W]):  μ_i = mean, σ_i² = (1/K) Σ (a - μ_i)²  (biased),
//   â = (a - μ_i) / sqrt(σ_i² + δ),  ã = γ_i â + β_i.
//   Running averages for inference, updated on every training call:
//   μ̄ ← α μ̄ + (1 - α) μ,   σ̄ ← α σ̄ + (1 - α) σ   (σ the standard deviation, not the variance).
//   Evaluation normalises with them: â = (a - μ̄) / sqrt(σ̄² + δ).
//   NB: α weighs the OLD average (default 0.9), the opposite of PyTorch's `momentum` (0.1 on
//   the new value), and the average is of σ, where PyTorch averages the unbiased variance.
//
//   layer norm, per example over its hidden units (the trailing dims): the same â with the
//   example's own μ and σ², then γ â + β per unit; no running averages.
import { f32, kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor';
import { assertFloat, assertTensor, sameShape } from '../core/validate';

export interface BatchNormOptions {
  /** Batch statistics + running-average update (true) or the running averages (false, default, as PyTorch). */
  training?: boolean;
  /** α of the notes' running averages, the weight of the old value, in [0, 1] (default 0.9). */
  momentum?: number;
  /** δ of the notes, added to the variance (default 1e-5). */
  eps?: number;
}

function checkNumber(op: string, name: string, v: unknown, lo: number, hi: number, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
    throw new Error(`${op}: ${name} must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

function checkChannelVector(op: string, what: string, t: Tensor | null | undefined, C: number, xShape: Shape): void {
  if (t === null || t === undefined) return;
  assertTensor(op, t, what);
  assertFloat(op, t);
  if (t.ndim !== 1 || t.shape[0] !== C) {
    throw new Error(`${op}: channel mismatch: input ${fmt(xShape)}, ${what} ${fmt(t.shape)} (expected [${C}], one value per channel on axis 1)`);
  }
}

/**
 * Batch normalisation of x [N, C] or [N, C, ...] (e.g. [N, C, H, W]) per channel (axis 1).
 * gamma/beta [C] may be null (1 and 0). In training mode runningMean/runningStd [C], when given,
 * are updated in place with the notes' running averages; evaluation mode normalises with them.
 */
export function batchNorm(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null,
  runningMean: Tensor | null, runningStd: Tensor | null, opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  assertTensor(op, x);
  assertFloat(op, x);
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  for (const key of Object.keys(opts)) {
    if (!['training', 'momentum', 'eps'].includes(key)) throw new Error(`${op}: unknown option '${key}' (expected training, momentum, eps)`);
  }
  if (x.ndim < 2) throw new Error(`${op}: input must be [N, C] or [N, C, ...] (e.g. [N, C, H, W]), got ${fmt(x.shape)}`);
  const training = opts.training ?? false;
  if (typeof training !== 'boolean') throw new Error(`${op}: training must be a boolean, got ${String(training)}`);
  const alpha = checkNumber(op, 'momentum', opts.momentum ?? 0.9, 0, 1);
  const eps = checkNumber(op, 'eps', opts.eps ?? 1e-5, 0, Infinity, true);
  const [N, C] = x.shape;
  const S = x.shape.slice(2).reduce((a, b) => a * b, 1);
  checkChannelVector(op, 'gamma', gamma, C, x.shape);
  checkChannelVector(op, 'beta', beta, C, x.shape);
  checkChannelVector(op, 'runningMean', runningMean, C, x.shape);
  checkChannelVector(op, 'runningStd', runningStd, C, x.shape);
  if ((runningMean === null || runningMean === undefined) !== (runningStd === null || runningStd === undefined)) {
    throw new Error(`${op}: give both runningMean and runningStd, or neither`);
  }
  const hasRunning = runningMean !== null && runningMean !== undefined;
  if (!training && !hasRunning) {
    throw new Error(`${op}: evaluation mode needs runningMean and runningStd (pass { training: true } to normalise with batch statistics)`);
  }
  if (training && N * S <= 1) {
    throw new Error(`${op}: training needs more than one value per channel to compute statistics, got input ${fmt(x.shape)}`);
  }

  // Missing affine parameters become constant ones/zeros, freed with the graph.
  const temps: Tensor[] = [];
  const g = gamma ?? full([C], 1);
  const b = beta ?? full([C], 0);
  if (gamma === null || gamma === undefined) temps.push(g);
  if (beta === null || beta === undefined) temps.push(b);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  // Maps the kernel's (dx, dgamma, dbeta) onto `inputs`; unused ones are freed.
  const pick = (dx: Tensor, dg: Tensor, db: Tensor): Tensor[] => {
    if (!gamma) dg.dispose();
    if (!beta) db.dispose();
    return [dx, ...(gamma ? [dg] : []), ...(beta ? [db] : [])];
  };
  const k = kernels();
  const y = empty(x.shape);
  const mean = empty([C]);
  const invstd = empty([C]);

  if (training) {
    k.batchNormTrain(x.ptr, N, C, S, g.ptr, b.ptr, eps, y.ptr, mean.ptr, invstd.ptr);
    if (hasRunning) {
      // μ̄ = α μ̄ + (1-α) μ;  σ̄ = α σ̄ + (1-α) σ, σ = sqrt(biased variance), recovered from invstd.
      const m = f32();
      const rm = runningMean!.ptr >>> 2, rs = runningStd!.ptr >>> 2, mp = mean.ptr >>> 2, ip = invstd.ptr >>> 2;
      for (let c = 0; c < C; c++) {
        const is = m[ip + c];
        const sigma = Math.sqrt(Math.max(0, 1 / (is * is) - eps));
        m[rm + c] = alpha * m[rm + c] + (1 - alpha) * m[mp + c];
        m[rs + c] = alpha * m[rs + c] + (1 - alpha) * sigma;
      }
    }
    return record('batchNorm', y, inputs, (grad) => {
      const dx = empty(x.shape);
      const dg = empty([C]);
      const db = empty([C]);
      kernels().batchNormBackward(x.ptr, grad.ptr, N, C, S, g.ptr, mean.ptr, invstd.ptr, dx.ptr, dg.ptr, db.ptr);
      return pick(dx, dg, db);
    }, [mean, invstd, ...temps]);
  }

  // Evaluation: mean = μ̄ (copied, so later training steps cannot change this graph's
  // backward), invstd = 1 / sqrt(σ̄² + δ).
  {
    const m = f32();
    const rm = runningMean!.ptr >>> 2, rs = runningStd!.ptr >>> 2, mp = mean.ptr >>> 2, ip = invstd.ptr >>> 2;
    for (let c = 0; c < C; c++) {
      m[mp + c] = m[rm + c];
      const s = m[rs + c];
      m[ip + c] = 1 / Math.sqrt(s * s + eps);
    }
  }
  k.batchNormApply(x.ptr, N, C, S, g.ptr, b.ptr, mean.ptr, invstd.ptr, y.ptr);
  return record('batchNorm', y, inputs, (grad) => {
    // The statistics are constants here: dx = γ·invstd·dy; dγ = Σ dy·x̂ and dβ = Σ dy are
    // what the training backward computes from the same mean/invstd, so it supplies them,
    // and its dx is then overwritten by batchNormApply(dy, γ, 0, 0, invstd) = γ·dy·invstd.
    const kk = kernels();
    const dx = empty(x.shape);
    const dg = empty([C]);
    const db = empty([C]);
    kk.batchNormBackward(x.ptr, grad.ptr, N, C, S, g.ptr, mean.ptr, invstd.ptr, dx.ptr, dg.ptr, db.ptr);
    const zero = full([C], 0);
    kk.batchNormApply(grad.ptr, N, C, S, g.ptr, zero.ptr, zero.ptr, invstd.ptr, dx.ptr);
    zero.dispose();
    return pick(dx, dg, db);
  }, [mean, invstd, ...temps]);
}

/**
 * Layer normalisation over the trailing dims given by gamma's (or beta's) shape — the last
 * dim when both are null, or `normalizedShape` — with the notes' biased variance and δ = eps.
 */
export function layerNorm(
  x: Tensor, gamma: Tensor | null = null, beta: Tensor | null = null, eps = 1e-5, normalizedShape?: Shape,
): Tensor {
  const op = 'layerNorm';
  assertTensor(op, x);
  assertFloat(op, x);
  for (const [what, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t !== null && t !== undefined) {
      assertTensor(op, t, what);
      assertFloat(op, t);
    }
  }
  checkNumber(op, 'eps', eps, 0, Infinity, true);
  if (x.ndim < 1) throw new Error(`${op}: input must have at least one dimension, got a scalar`);
  const norm = (normalizedShape ?? gamma?.shape ?? beta?.shape ?? [x.shape[x.ndim - 1]]).slice();
  const tail = x.shape.slice(x.ndim - norm.length);
  if (norm.length === 0 || norm.length > x.ndim || !sameShape(tail, norm)) {
    throw new Error(`${op}: normalized shape ${fmt(norm)} does not match the trailing dims of input ${fmt(x.shape)}`);
  }
  for (const [what, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t && !sameShape(t.shape, norm)) throw new Error(`${op}: ${what} ${fmt(t.shape)} does not match the normalized shape ${fmt(norm)} of input ${fmt(x.shape)}`);
  }
  const cols = norm.reduce((a, b) => a * b, 1);
  if (cols === 0) throw new Error(`${op}: cannot normalise over an empty shape ${fmt(norm)} (input ${fmt(x.shape)})`);
  const rows = x.size / cols;

  const temps: Tensor[] = [];
  const g = gamma ?? full(norm, 1);
  const b = beta ?? full(norm, 0);
  if (!gamma) temps.push(g);
  if (!beta) temps.push(b);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const y = empty(x.shape);
  const mean = empty([rows]);
  const invstd = empty([rows]);
  kernels().layerNorm(x.ptr, rows, cols, g.ptr, b.ptr, eps, y.ptr, mean.ptr, invstd.ptr);
  return record('layerNorm', y, inputs, (grad) => {
    const dx = empty(x.shape);
    const dg = empty(norm);
    const db = empty(norm);
    kernels().layerNormBackward(x.ptr, grad.ptr, rows, cols, g.ptr, mean.ptr, invstd.ptr, dx.ptr, dg.ptr, db.ptr);
    if (!gamma) dg.dispose();
    if (!beta) db.dispose();
    return [dx, ...(gamma ? [dg] : []), ...(beta ? [db] : [])];
  }, [mean, invstd, ...temps]);
}
