// Weight initialisation as defined in the notes (§1.3.5.2), with M the number of inputs of
// the neuron (fan-in) and N the number of units in the layer (fan-out).
import { rand, randn } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';

export type Init = 'he' | 'xavier' | 'xavierNormalized' | 'zeros' | ((shape: readonly number[], fanIn: number, fanOut: number) => Tensor);

/** He: N(0, ε²) with ε = √(2/M); keeps activation variance constant through ReLU layers. */
export function heNormal(shape: readonly number[], fanIn: number): Tensor {
  return randn(shape, 0, Math.sqrt(2 / fanIn));
}

/** Xavier: U[-ε, ε] with ε = 1/√M; for activations symmetric around 0 (sigmoid, tanh). */
export function xavierUniform(shape: readonly number[], fanIn: number): Tensor {
  const eps = 1 / Math.sqrt(fanIn);
  return rand(shape, -eps, eps);
}

/**
 * Normalized Xavier: U[-ε, ε] with ε = 6/√(N+M), exactly as the notes write it.
 * (Glorot and Bengio's paper has √6/√(N+M); pass a function as `init` for that variant.)
 */
export function xavierNormalizedUniform(shape: readonly number[], fanIn: number, fanOut: number): Tensor {
  const eps = 6 / Math.sqrt(fanIn + fanOut);
  return rand(shape, -eps, eps);
}

export function initTensor(init: Init, shape: readonly number[], fanIn: number, fanOut: number): Tensor {
  if (typeof init === 'function') return init(shape, fanIn, fanOut);
  switch (init) {
    case 'he': return heNormal(shape, fanIn);
    case 'xavier': return xavierUniform(shape, fanIn);
    case 'xavierNormalized': return xavierNormalizedUniform(shape, fanIn, fanOut);
    case 'zeros': return rand(shape, 0, 0);
    default: throw new Error(`init: unknown initialiser '${String(init)}' (he, xavier, xavierNormalized, zeros or a function)`);
  }
}
