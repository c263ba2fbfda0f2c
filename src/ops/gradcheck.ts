// Finite-difference check of backward(): compares the analytic gradient of
// L = Σ fn(inputs) ⊙ R (R a fixed random projection, so every output counts) with central
// differences (L(x + h) - L(x - h)) / 2h, one input element at a time.
import { readAt, writeAt } from '../../bindings/memory.js';
import { noGrad, releaseGraphs } from '../core/autograd.js';
import { mul } from './elementwise.js';
import { sum } from './reduce.js';
import { Generator } from '../core/random.js';
import { Tensor, dispose, scope, tensor } from '../core/tensor.js';

export interface GradcheckOptions {
  /** Step h (default 1e-2; f32 arithmetic needs a fairly large one). */
  eps?: number;
  /** Allowed |analytic - numeric| <= atol + rtol * |numeric|. */
  atol?: number;
  rtol?: number;
  /** Seed of the projection R. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  /** First failing entry, e.g. "input 1 [3]: analytic 0.5 numeric 0.47". */
  worst: string;
}

/** Checks the gradients of fn w.r.t. every input that has requiresGrad. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const gen = new Generator(opts.seed ?? 1234);

  const probe = noGrad(() => fn(...inputs));
  const proj = tensor(Array.from({ length: probe.size }, () => gen.uniform() * 2 - 1), probe.shape.slice());
  probe.dispose();
  const objective = (): Tensor => sum(mul(fn(...inputs), proj));

  for (const x of inputs) {
    x.grad?.dispose();
    x.grad = null;
  }
  const loss = objective();
  loss.backward();
  const analytic = inputs.map((x) => (x.requiresGrad ? x.grad?.data() ?? new Float32Array(x.size) : null));
  releaseGraphs();
  for (const x of inputs) {
    x.grad?.dispose();
    x.grad = null;
  }

  let maxError = 0;
  let worst = '';
  let ok = true;
  noGrad(() => {
    inputs.forEach((x, k) => {
      const a = analytic[k];
      if (a === null) return;
      for (let i = 0; i < x.size; i++) {
        const orig = readAt('float32', x.ptr, i);
        const value = (v: number): number => scope(() => {
          writeAt('float32', x.ptr, i, v);
          return objective().item();
        });
        const plus = value(orig + eps);
        const minus = value(orig - eps);
        writeAt('float32', x.ptr, i, orig);
        const numeric = (plus - minus) / (2 * eps);
        const err = Math.abs(a[i] - numeric);
        const bad = !(err <= atol + rtol * Math.abs(numeric));
        if (err > maxError || Number.isNaN(err)) maxError = Number.isNaN(err) ? Infinity : err;
        if (bad && ok) {
          ok = false;
          worst = `input ${k} [${i}]: analytic ${a[i]} numeric ${numeric}`;
        }
      }
    });
  });
  dispose(proj);
  return { ok, maxError, worst };
}
