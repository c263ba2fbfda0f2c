// Inverted dropout (notes §1.5.1.7): in training each element is zeroed with probability p
// and the survivors are scaled by 1/(1-p), so evaluation needs no rescaling and is the
// identity. The mask comes from a counter-based hash of (seed, index) in the kernel; the
// seed of each call is drawn from the one global generator (rng.ts), so manualSeed(s)
// reproduces every mask of a run.
import { BinOp, kernels } from '../../bindings/index';
import { record } from '../core/autograd';
import { rng } from '../core/random';
import { Tensor, empty } from '../core/tensor';
import { assertFloat, assertTensor } from '../core/validate';

/** Zeroes elements with probability p and scales the rest by 1/(1-p); x itself when !training or p = 0. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  assertTensor('dropout', x);
  assertFloat('dropout', x);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new Error(`dropout: p must be a number in [0, 1), got ${String(p)}`);
  }
  if (typeof training !== 'boolean') throw new Error(`dropout: training must be a boolean, got ${String(training)}`);
  if (!training || p === 0) return x;
  const y = empty(x.shape);
  const mask = empty(x.shape);
  kernels().dropout(x.ptr, y.ptr, mask.ptr, x.size, p, rng.nextU32());
  return record('dropout', y, [x], (grad) => {
    const dx = empty(x.shape);
    kernels().binary(BinOp.Mul, grad.ptr, mask.ptr, dx.ptr, dx.size);
    return [dx];
  }, [mask]);
}
