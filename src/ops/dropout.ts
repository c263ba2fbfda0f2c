// Inverted dropout (notes §1.5.1.7): in training each element is zeroed with probability p
// and the survivors are scaled by 1/(1-p), so evaluation needs no rescaling and is the
// identity. The mask comes from a counter-based hash of (seed, index) in the kernel
// (assembly/dropout.ts); the seed of each call is drawn from the one global generator
// (random.ts), so manualSeed(s) reproduces every mask of a run. The graph records
// { p, training, seed }.
import { BinOp, kernels } from '../../bindings/index.js';
import { manualSeed, rng } from '../core/random.js';
import { Tensor, empty, full } from '../core/tensor.js';
import { assertBoolean, assertFloat, numberIn } from '../core/validate.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';

/** Zeroes elements with probability p and scales the rest by 1/(1-p); x itself when !training or p = 0. */
export const dropout: OpFn<[x: Tensor, p?: number, training?: boolean], false> = defineOp({
  name: 'dropout', family: 'dropout', summary: 'zeroes elements with probability p, scales the rest by 1/(1-p) (training only)',
  inputs: ['x'],
  parse: (x: Tensor, p = 0.5, training = true) => {
    assertFloat('dropout', x);
    numberIn('dropout', 'p', p, 0, 1, { hiOpen: true });
    assertBoolean('dropout', 'training', training);
    // The seed is drawn only when a mask is made, so evaluation leaves the generator alone.
    return { inputs: [x], attrs: { p, training, seed: training && p > 0 ? rng.nextU32() : null } };
  },
  shape: ([x]) => x!.slice(),
  forward: ([x], { p, seed }) => {
    if (seed === null) return x!;
    const y = empty(x!.shape);
    const mask = empty(x!.shape);
    kernels().dropout(x!.ptr, y.ptr, mask.ptr, x!.size, p, seed);
    return { out: y, saved: [mask] };
  },
  backward: (g, { saved: [mask] }) => {
    const dx = empty(g.shape);
    kernels().binary(BinOp.Mul, g.ptr, mask.ptr, dx.ptr, dx.size);
    return [dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    // The training mask is a hash of (seed, index) with the seed drawn from the global generator
    // inside the call, so no sample without its own `call` can predict it: the reference covers
    // the identity cases, and test/kernels/norm.test.ts checks the kernel's mask bit for bit
    // against a plain-JS copy of the hash.
    reference: {
      js: (x: HostTensor, p = 0.5, training = true) => {
        if (training && p > 0) throw new Error('dropout reference: a training mask depends on the generator state; compare the kernel instead');
        return x;
      },
    },
    samples: [
      { label: 'evaluation: the identity', inputs: [{ shape: [3, 7] }], args: [0.4, false], noGradcheck: 'returns x itself: no node' },
      { label: 'p 0.4, fixed mask (reseeded each call)', inputs: [{ shape: [3, 7] }], call: (x) => { manualSeed(2024); return callOp('dropout', x, 0.4, true); } },
      { label: 'p 0: the identity', inputs: [{ shape: [5] }], args: [0], noGradcheck: 'returns x itself: no node' },
    ],
    badInputs: [
      { label: 'p = 1', call: () => callOp('dropout', full([2], 1), 1), error: 'dropout: p must be a number in [0, 1), got 1' },
      { label: 'p negative', call: () => callOp('dropout', full([2], 1), -0.1), error: 'dropout: p must be a number in [0, 1), got -0.1' },
      { label: 'p NaN', call: () => callOp('dropout', full([2], 1), NaN), error: 'dropout: p must be a number in [0, 1), got NaN' },
      { label: 'training not a boolean', call: () => callOp('dropout', full([2], 1), 0.5, 'yes'), error: "dropout: training must be true or false, got 'yes'" },
    ],
  } : undefined,
});
