// All ops, and the Tensor methods that forward to them (x.add(y) is add(x, y)). Methods come
// from the registry: every definition with `method: true` becomes one, at run time by the loop
// below and in the types through MethodsOf over each family module.
import { backward, type BackwardOptions } from '../core/autograd.js';
import { Tensor } from '../core/tensor.js';
import type * as elementwise from './elementwise.js';
import type * as matmul from './matmul.js';
import type * as reduce from './reduce.js';
import type * as shape from './shape.js';
import type * as softmax from './softmax.js';
import type * as attention from './attention.js';
import type * as loss from './loss.js';
import type * as conv from './conv.js';
import type * as pool from './pool.js';
import type * as norm from './norm.js';
import type * as dropout from './dropout.js';
import type * as generative from './generative.js';
import { methodOps, type MethodsOf } from './registry.js';

export * from './elementwise.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './shape.js';
export * from './softmax.js';
export * from './attention.js';
export * from './loss.js';
export * from './conv.js';
export * from './pool.js';
export * from './norm.js';
export * from './dropout.js';
export * from './embedding.js';
export * from './recurrent.js';
export * from './graph.js';
export * from './energy.js';
export * from './generative.js';
export * from './sparse.js';
export * from './quantize.js';
export type { TensorLike } from '../core/validate.js';
export {
  allOps, getOp, opShape, type OpDef, type OpFamily, type OpSample, type InputSpec, type BadInput, type Reference, type HostTensor,
} from './registry.js';

type OpMethods = MethodsOf<typeof elementwise> & MethodsOf<typeof matmul> & MethodsOf<typeof reduce> & MethodsOf<typeof shape>
  & MethodsOf<typeof softmax> & MethodsOf<typeof loss> & MethodsOf<typeof conv> & MethodsOf<typeof pool> & MethodsOf<typeof norm>
  & MethodsOf<typeof dropout> & MethodsOf<typeof generative> & MethodsOf<typeof attention>;

declare module '../core/tensor.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends OpMethods {
    backward(opts?: BackwardOptions): void;
  }
}


const P = Tensor.prototype as unknown as Record<string, unknown>;
for (const def of methodOps()) {
  const fn = def.fn as (...args: unknown[]) => Tensor;
  P[def.name] = function (this: Tensor, ...rest: unknown[]) { return fn(this, ...rest); };
}
P.backward = function (this: Tensor, opts?: BackwardOptions) { backward(this, opts); };
