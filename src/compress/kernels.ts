// The mask-side primitives pruning methods build on (issue 12): magnitude thresholds for a
// target sparsity, per layer or global over many tensors, found by an exact radix selection in
// wasm (two histogram passes over the weights, no sort); masks from a threshold; applying a mask
// in place to weights after an optimizer step and to their gradients; sparsity statistics.
import { Tensor } from '../core/tensor.js';
import { numberIn } from '../core/validate.js';
import { countZeros, kthSmallestMagnitude, magnitudeMaskOf, maskInPlace } from '../ops/sparse.js';

function list(op: string, tensors: Tensor | readonly Tensor[]): readonly Tensor[] {
  const ts = tensors instanceof Tensor ? [tensors] : tensors;
  if (!Array.isArray(ts) || ts.some((t) => !(t instanceof Tensor))) throw new Error(`${op}: expected a tensor or an array of tensors`);
  return ts;
}

/**
 * The magnitude threshold t for pruning a fraction `sparsity` of the weights of `tensors` taken
 * together (one tensor: per layer; several: global): t is the k-th smallest |w| with
 * k = round(sparsity · total), so that keeping |w| > t (magnitudeMask) prunes exactly k weights
 * when magnitudes do not tie (ties at t are pruned together, never fewer). Returns -Infinity
 * when k = 0 (nothing to prune).
 */
export function magnitudeThreshold(tensors: Tensor | readonly Tensor[], sparsity: number): number {
  const op = 'magnitudeThreshold';
  const ts = list(op, tensors);
  numberIn(op, 'sparsity', sparsity, 0, 1);
  const total = ts.reduce((s, t) => s + t.size, 0);
  const k = Math.round(sparsity * total);
  if (k === 0) return -Infinity;
  try {
    return kthSmallestMagnitude(ts, k);
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw new Error(e.message.replace(/^kthSmallestMagnitude: /, `${op}: `), { cause: e });
    throw e;
  }
}

/** The 0/1 float32 mask of w keeping |w| > threshold (a new tensor of w's shape). */
export function magnitudeMask(w: Tensor, threshold: number): Tensor {
  return magnitudeMaskOf(w, threshold).mask;
}

/**
 * w = 0 where mask == 0, in place and without autograd: call it on the weights after each
 * optimizer step and on their gradients before it, so pruned weights stay exactly zero.
 */
export function applyMask(w: Tensor, mask: Tensor): void {
  maskInPlace(w, mask);
}

/** Fraction of exact zeros in a tensor, or over several together (0 for no elements). */
export function sparsityOf(tensors: Tensor | readonly Tensor[]): number {
  const ts = list('sparsityOf', tensors);
  let zeros = 0;
  let total = 0;
  for (const t of ts) {
    zeros += countZeros(t);
    total += t.size;
  }
  return total === 0 ? 0 : zeros / total;
}

/** Per-tensor sparsity statistics for a model's named parameters (e.g. model.namedParameters()). */
export function sparsityReport(named: readonly [string, Tensor][]): { name: string; size: number; zeros: number; sparsity: number }[] {
  return named.map(([name, t]) => {
    const zeros = countZeros(t);
    return { name, size: t.size, zeros, sparsity: t.size === 0 ? 0 : zeros / t.size };
  });
}
