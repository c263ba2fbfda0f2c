// Transfer learning (notes §1.5.2): freezing parameters or whole sub-modules, for fine-tuning
// and for feature reuse (getModule/replaceModule, to swap a model's head, are in module.ts).
//
// A frozen parameter has requiresGrad = false: backward() computes no gradient for it (and
// none at all for a frozen prefix of the network), its `grad` stays null, and every
// optimizer skips parameters whose grad is null, so it does not move: neither by the
// gradient, nor by momentum, nor by weight decay. Freezing does not switch a module to eval
// mode; call `.eval()` on a frozen part that has dropout or batch-norm statistics if those
// should stay fixed too.
import { Tensor } from '../core/tensor.js';
import { Module, type AnyModule } from './module.js';

type Target = AnyModule | Tensor | Iterable<AnyModule | Tensor>;

function collect(where: string, target: Target): Tensor[] {
  if (target instanceof Module) return target.parameters();
  if (target instanceof Tensor) return [target];
  if (target !== null && typeof target === 'object' && typeof (target as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const out: Tensor[] = [];
    let i = 0;
    for (const t of target as Iterable<unknown>) {
      if (t instanceof Module) out.push(...t.parameters());
      else if (t instanceof Tensor) out.push(t);
      else throw new Error(`${where}: item ${i} is neither a Module nor a Tensor (got ${t === null ? 'null' : typeof t})`);
      i++;
    }
    return out;
  }
  throw new Error(`${where}: expected a Module, a Tensor or a list of them, got ${target === null ? 'null' : typeof target}`);
}

/**
 * Freezes the parameters of a module (all of its sub-modules), a parameter, or a list of
 * either: no gradient is computed for them and optimizers leave them unchanged. Any gradient
 * they already hold is dropped. Returns the target.
 */
export function freeze<T extends Target>(target: T): T {
  for (const p of collect('freeze', target)) {
    if (p.node !== null) throw new Error(`freeze: tensor ${p.toString()} is the output of an op (${p.node.op}), not a parameter`);
    p.requiresGrad = false;
    p.grad?.dispose();
    p.grad = null;
  }
  return target;
}

/** Makes frozen parameters trainable again (requiresGrad = true). Returns the target. */
export function unfreeze<T extends Target>(target: T): T {
  for (const p of collect('unfreeze', target)) {
    if (p.node !== null) throw new Error(`unfreeze: tensor ${p.toString()} is the output of an op (${p.node.op}), not a parameter`);
    if (p.dtype !== 'float32') throw new Error(`unfreeze: ${p.toString()} is not float32 and cannot be trained`);
    p.requiresGrad = true;
  }
  return target;
}

/** Whether every parameter of the target is frozen (a module without parameters counts as frozen). */
export function isFrozen(target: Target): boolean {
  return collect('isFrozen', target).every((p) => !p.requiresGrad);
}

/** The parameters that are not frozen (pass these to an optimizer to keep its state small). */
export function trainableParameters(model: AnyModule): Tensor[] {
  if (!(model instanceof Module)) throw new Error('trainableParameters: expected a Module');
  return model.parameters().filter((p) => p.requiresGrad);
}
