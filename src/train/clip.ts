// Gradient clipping, in place on the parameters' .grad, on the SIMD kernels (one or two
// kernel calls per parameter tensor, no per-element JavaScript).
import { Tensor } from '../core/tensor.js';
import { Module, type AnyModule } from '../nn/module.js';
import { clampInPlace, scaleInPlace, sumOfSquares } from '../ops/inplace.js';

type Params = AnyModule | Iterable<Tensor>;

function gradsOf(where: string, params: Params): Tensor[] {
  let list: unknown[];
  if (params instanceof Module) list = params.parameters();
  else if (params !== null && typeof params === 'object' && typeof (params as Iterable<unknown>)[Symbol.iterator] === 'function') list = Array.from(params as Iterable<unknown>);
  else throw new Error(`${where}: expected a Module or a list of parameter tensors, got ${params === null ? 'null' : typeof params}`);
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new Error(`${where}: parameter ${i} is not a Tensor`);
    const g = p.grad;
    if (g === null) return; // frozen, or not reached by backward()
    if (g.dtype !== 'float32') throw new Error(`${where}: the gradient of parameter ${i} is ${g.dtype}`);
    grads.push(g);
  });
  return grads;
}

/**
 * Scales all gradients together so that their global L2 norm √(Σ_p |g_p|²) is at most
 * maxNorm (factor maxNorm / (norm + 1e-6) when the norm exceeds maxNorm). Returns the norm
 * before clipping. A non-finite norm (NaN/Inf gradients) is returned and nothing is scaled.
 */
export function clipGradNorm(params: Params, maxNorm: number): number {
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipGradNorm: maxNorm must be a finite number > 0, got ${String(maxNorm)}`);
  }
  const grads = gradsOf('clipGradNorm', params);
  let sq = 0;
  for (const g of grads) sq += sumOfSquares(g);
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) scaleInPlace(g, coef);
  return norm;
}

/** Clamps every gradient value into [−clipValue, clipValue]. */
export function clipGradValue(params: Params, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0) || !Number.isFinite(clipValue)) {
    throw new Error(`clipGradValue: clipValue must be a finite number >= 0, got ${String(clipValue)}`);
  }
  for (const g of gradsOf('clipGradValue', params)) clampInPlace(g, -clipValue, clipValue);
}
