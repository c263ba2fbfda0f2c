// Transfer learning (notes §1.5.2): freezing parameters or whole sub-modules, looking up and
// replacing sub-modules by their dotted names (e.g. a model's head), for fine-tuning and for
// feature reuse.
//
// A frozen parameter has requiresGrad = false: backward() computes no gradient for it (and
// none at all for a frozen prefix of the network), its `grad` stays null, and every
// optimizer skips parameters whose grad is null, so it does not move: neither by the
// gradient, nor by momentum, nor by weight decay. Freezing does not switch a module to eval
// mode; call `.eval()` on a frozen part that has dropout or batch-norm statistics if those
// should stay fixed too.
import { Tensor } from '../core/tensor';
import { Module } from './module';

type Target = Module | Tensor | Iterable<Module | Tensor>;

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
export function trainableParameters(model: Module): Tensor[] {
  if (!(model instanceof Module)) throw new Error('trainableParameters: expected a Module');
  return model.parameters().filter((p) => p.requiresGrad);
}

function splitPath(where: string, path: string): string[] {
  if (typeof path !== 'string' || path === '') throw new Error(`${where}: path must be a non-empty dotted name such as 'layers.2', got ${JSON.stringify(path)}`);
  return path.split('.');
}

function childOf(where: string, parent: unknown, key: string, path: string): unknown {
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new Error(`${where}: '${path}': index ${key} is out of range (the list has ${parent.length} entries)`);
    return parent[i];
  }
  if (parent instanceof Module) {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) {
      const names = Object.keys(parent).filter((k) => {
        const v = (parent as unknown as Record<string, unknown>)[k];
        return v instanceof Module || Array.isArray(v);
      });
      throw new Error(`${where}: '${path}': ${parent.constructor.name} has no sub-module '${key}' (it has: ${names.join(', ') || 'none'})`);
    }
    return (parent as unknown as Record<string, unknown>)[key];
  }
  throw new Error(`${where}: '${path}': cannot look up '${key}' inside a ${parent === null ? 'null' : typeof parent}`);
}

/** The sub-module at a dotted name as listed by namedModules()/namedParameters() ('layers.2', 'encoder.fc'). */
export function getModule(root: Module, path: string): Module {
  if (!(root instanceof Module)) throw new Error('getModule: root must be a Module');
  let cur: unknown = root;
  for (const key of splitPath('getModule', path)) cur = childOf('getModule', cur, key, path);
  if (!(cur instanceof Module)) throw new Error(`getModule: '${path}' is not a Module`);
  return cur;
}

/**
 * Replaces the sub-module at a dotted name by another module and returns the old one, e.g.
 * a new output layer for fine-tuning: `replaceModule(model, 'layers.2', new Linear(128, 5))`.
 * Parameter names stay the same if the new module has the same structure. Build the
 * optimizer after replacing: one made before still holds the old module's parameters.
 */
export function replaceModule(root: Module, path: string, replacement: Module): Module {
  const where = 'replaceModule';
  if (!(root instanceof Module)) throw new Error(`${where}: root must be a Module`);
  if (!(replacement instanceof Module)) throw new Error(`${where}: the replacement for '${path}' must be a Module`);
  const keys = splitPath(where, path);
  let parent: unknown = root;
  for (const key of keys.slice(0, -1)) parent = childOf(where, parent, key, path);
  const last = keys[keys.length - 1];
  const old = childOf(where, parent, last, path);
  if (!(old instanceof Module)) throw new Error(`${where}: '${path}' is not a Module, so it cannot be replaced by one`);
  if (Array.isArray(parent)) parent[Number(last)] = replacement;
  else (parent as unknown as Record<string, unknown>)[last] = replacement;
  return old;
}
