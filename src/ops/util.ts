// Checks shared by the op families.
import { Tensor, fmt, type Shape } from '../core/tensor';

export type TensorLike = Tensor | number;

export function assertTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
}

export function assertFloat(op: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    assertTensor(op, x);
    if (x.dtype !== 'float32') throw new Error(`${op}: expected float32 tensors, got ${x.dtype} ${fmt(x.shape)}`);
  }
}

/** Normalises a possibly negative axis against ndim. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor with ${ndim} dimension${ndim === 1 ? '' : 's'}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function assertFiniteNumber(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number, got ${v}`);
}
