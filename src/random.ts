// Random tensors, all drawn from the one seeded generator in rng.ts.
import { f32, i32 } from '../bindings/index';
import { rng } from './rng';
import { Tensor, checkShape, empty, type CreateOptions, type Shape } from './tensor';

function filled(op: string, shape: Shape, opts: CreateOptions, draw: () => number): Tensor {
  checkShape(op, shape);
  const t = empty(shape);
  const m = f32();
  const p = t.ptr >>> 2;
  for (let i = 0; i < t.size; i++) m[p + i] = draw();
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform values in [low, high). */
export function rand(shape: Shape, low = 0, high = 1, opts: CreateOptions = {}): Tensor {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high)) throw new Error(`rand: need finite low <= high, got ${low}, ${high}`);
  return filled('rand', shape, opts, () => low + (high - low) * rng.uniform());
}

/** Normal values with the given mean and standard deviation. */
export function randn(shape: Shape, mean = 0, std = 1, opts: CreateOptions = {}): Tensor {
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) throw new Error(`randn: need finite mean and std >= 0, got ${mean}, ${std}`);
  return filled('randn', shape, opts, () => mean + std * rng.normal());
}

/** Uniform integers in [low, high) as int32. */
export function randint(shape: Shape, low: number, high: number): Tensor {
  checkShape('randint', shape);
  if (!(Number.isInteger(low) && Number.isInteger(high) && low < high)) throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
  const t = empty(shape, 'int32');
  const m = i32();
  const p = t.ptr >>> 2;
  for (let i = 0; i < t.size; i++) m[p + i] = low + rng.int(high - low);
  return t;
}
