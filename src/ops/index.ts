// All ops, and the Tensor methods that forward to them (x.add(y) is add(x, y)). Methods come
// from the registry: every definition with `method: true` becomes one, at run time by the loop
// below and in the types through MethodsOf over each family module.
import { backward, type BackwardOptions } from '../core/autograd';
import { Tensor } from '../core/tensor';
import type * as elementwise from './elementwise';
import type * as matmul from './matmul';
import type * as reduce from './reduce';
import type * as shape from './shape';
import type * as softmax from './softmax';
import type * as loss from './loss';
import type * as conv from './conv';
import type * as pool from './pool';
import type * as norm from './norm';
import type * as dropout from './dropout';
import { methodOps, type MethodsOf } from './registry';

export * from './elementwise';
export * from './matmul';
export * from './reduce';
export * from './shape';
export * from './softmax';
export * from './loss';
export * from './conv';
export * from './pool';
export * from './norm';
export * from './dropout';
export type { TensorLike } from '../core/validate';
export {
  allOps, getOp, opShape, type OpDef, type OpFamily, type OpSample, type InputSpec, type BadInput, type Reference, type HostTensor,
} from './registry';

type OpMethods = MethodsOf<typeof elementwise> & MethodsOf<typeof matmul> & MethodsOf<typeof reduce> & MethodsOf<typeof shape>
  & MethodsOf<typeof softmax> & MethodsOf<typeof loss> & MethodsOf<typeof conv> & MethodsOf<typeof pool> & MethodsOf<typeof norm>
  & MethodsOf<typeof dropout>;

declare module '../core/tensor' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends OpMethods {
    backward(opts?: BackwardOptions): void;
  }
}

// TEMPORARY, while the families move into the registry: methods of ops not yet defined there.
// Each family's conversion deletes its lines here (its definitions set `method: true`).
import * as legacyMm from './matmul';
import * as legacyRed from './reduce';
import * as legacyShp from './shape';
import * as legacySm from './softmax';
declare module '../core/tensor' {
  interface Tensor {
    matmul(b: Tensor): Tensor;
    sum(axis?: number, keepDim?: boolean): Tensor;
    mean(axis?: number, keepDim?: boolean): Tensor;
    max(axis?: number, keepDim?: boolean): Tensor;
    argmax(axis?: number, keepDim?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startDim?: number): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    slice(begin: readonly number[], size?: readonly number[]): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    detach(): Tensor;
  }
}
const L = Tensor.prototype;
L.matmul = function (b) { return legacyMm.matmul(this, b); };
L.sum = function (axis, keepDim) { return legacyRed.sum(this, axis, keepDim); };
L.mean = function (axis, keepDim) { return legacyRed.mean(this, axis, keepDim); };
L.max = function (axis, keepDim) { return legacyRed.max(this, axis, keepDim); };
L.argmax = function (axis, keepDim) { return legacyRed.argmax(this, axis, keepDim); };
L.reshape = function (shape) { return legacyShp.reshape(this, shape); };
L.flatten = function (startDim) { return legacyShp.flatten(this, startDim); };
L.transpose = function (d0, d1) { return legacyShp.transpose(this, d0, d1); };
L.permute = function (dims) { return legacyShp.permute(this, dims); };
L.slice = function (b, s) { return legacyShp.slice(this, b, s); };
L.softmax = function (axis) { return legacySm.softmax(this, axis); };
L.logSoftmax = function (axis) { return legacySm.logSoftmax(this, axis); };
L.detach = function () { return legacyShp.detach(this); };
// END TEMPORARY

const P = Tensor.prototype as unknown as Record<string, unknown>;
for (const def of methodOps()) {
  const fn = def.fn as (...args: unknown[]) => Tensor;
  P[def.name] = function (this: Tensor, ...rest: unknown[]) { return fn(this, ...rest); };
}
P.backward = function (this: Tensor, opts?: BackwardOptions) { backward(this, opts); };
