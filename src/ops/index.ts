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


const P = Tensor.prototype as unknown as Record<string, unknown>;
for (const def of methodOps()) {
  const fn = def.fn as (...args: unknown[]) => Tensor;
  P[def.name] = function (this: Tensor, ...rest: unknown[]) { return fn(this, ...rest); };
}
P.backward = function (this: Tensor, opts?: BackwardOptions) { backward(this, opts); };
