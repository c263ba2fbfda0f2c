// Module: the base of every layer and model.
//
// Typing: Module<In, Out> maps inputs In (a tuple, default [Tensor]) to any output Out: a
// tensor, a tuple (an LSTM's (h, c)), an object (a VAE's { mu, logVar }). `forward` does the
// work; `call(...)` runs it with the module's forward hooks around it (pruning masks,
// quantisation observers, feature extraction), and is what containers and fit() use.
//
// Members: parameters, buffers, other tensors (caches) and sub-modules are found by one walk
// over the module's own properties, in definition order, including arrays and Maps of them, as
// PyTorch's __setattr__ registration does, so a layer only has to assign them. Everything that
// looks into a module tree goes through that walk: parameters, buffers, state dicts, train/
// eval, getModule/replaceModule, and fit's list of tensors a step must not free. Containers
// (ModuleList, ModuleDict) override `_members()`, `_member()` and `_memberKeys()`.
import { Tensor, fmt } from '../core/tensor.js';
import { keep } from '../core/lifetime.js';

const parameterSet = new WeakSet<Tensor>();
const bufferSet = new WeakSet<Tensor>();

/** Marks t as a trainable parameter (requiresGrad) of whichever module holds it. */
export function parameter(t: Tensor): Tensor {
  keep(t);
  t.requiresGrad = true;
  parameterSet.add(t);
  return t;
}

/** Marks t as a non-trainable state tensor that belongs in the state dict (running statistics). */
export function buffer(t: Tensor): Tensor {
  keep(t);
  bufferSet.add(t);
  return t;
}

/** Whether t was registered with parameter(). */
export function isParameter(t: Tensor): boolean {
  return parameterSet.has(t);
}

/** Whether t was registered with buffer(). */
export function isBuffer(t: Tensor): boolean {
  return bufferSet.has(t);
}

/** Any module, whatever its inputs and outputs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any, any>;

/** Runs before forward; returning an array replaces the inputs. */
export type ForwardPreHook<In extends unknown[] = [Tensor]> = (module: AnyModule, inputs: In) => In | void;
/** Runs after forward; returning a value (not undefined) replaces the output. */
export type ForwardHook<In extends unknown[] = [Tensor], Out = Tensor> = (module: AnyModule, inputs: In, output: Out) => Out | void;

/** Returned by the hook registrations. */
export interface HookHandle {
  /** Unregisters the hook (idempotent). */
  remove(): void;
}

interface Hooks {
  pre: Map<number, (m: AnyModule, inputs: unknown[]) => unknown>;
  post: Map<number, (m: AnyModule, inputs: unknown[], out: unknown) => unknown>;
}

// Hooks live outside the module objects, so the member walk never sees them.
const hookTable = new WeakMap<AnyModule, Hooks>();
let hookId = 0;
let hookEpoch = 0;

/** @internal Changes whenever a hook is added or removed anywhere (containers cache fusion plans by it). */
export function hooksVersion(): number {
  return hookEpoch;
}

/** Whether module m has any forward hook or pre-hook. */
export function hasHooks(m: AnyModule): boolean {
  const h = hookTable.get(m);
  return h !== undefined && (h.pre.size > 0 || h.post.size > 0);
}

function addHook(m: AnyModule, kind: 'pre' | 'post', fn: unknown): HookHandle {
  if (typeof fn !== 'function') throw new Error(`${m.constructor.name}.register${kind === 'pre' ? 'ForwardPreHook' : 'ForwardHook'}: expected a function, got ${fn === null ? 'null' : typeof fn}`);
  let h = hookTable.get(m);
  if (h === undefined) {
    h = { pre: new Map(), post: new Map() };
    hookTable.set(m, h);
  }
  const id = hookId++;
  (h[kind] as Map<number, unknown>).set(id, fn);
  hookEpoch++;
  const table = h;
  return {
    remove(): void {
      if (table[kind].delete(id)) hookEpoch++;
    },
  };
}

/** A member of a module: its name and a way to replace it (for replaceModule). */
export interface MemberSlot {
  readonly value: unknown;
  set(value: unknown): void;
}

function* entriesOf(key: string, value: unknown): Generator<[string, AnyModule | Tensor]> {
  if (value instanceof Module || value instanceof Tensor) {
    yield [key, value];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v instanceof Module || v instanceof Tensor) yield [`${key}.${i}`, v];
    }
  } else if (value instanceof Map) {
    for (const [k, v] of value as Map<unknown, unknown>) {
      if (v instanceof Module || v instanceof Tensor) yield [`${key}.${String(k)}`, v];
    }
  }
}

export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  training = true;

  abstract forward(...inputs: In): Out;

  /**
   * Optional fusion with the module that follows it in a Sequential: returns a module that
   * computes `next.forward(this.forward(x))` in one go (e.g. Linear + ReLU as one GEMM with the
   * ReLU in its epilogue), or null when there is nothing to fuse. The fused module must read
   * the originals' parameters and modes when it runs (it is cached until the layers of the
   * container or any hook change). Sequential never fuses a module that has hooks.
   */
  fuseNext?(next: AnyModule): AnyModule | null;

  /** Runs forward with the forward pre-hooks before it and the forward hooks after it. */
  call(...inputs: In): Out {
    const h = hookTable.get(this);
    if (h === undefined || (h.pre.size === 0 && h.post.size === 0)) return this.forward(...inputs);
    let args = inputs as unknown[];
    for (const fn of [...h.pre.values()]) {
      const r = fn(this, args);
      if (r !== undefined) {
        if (!Array.isArray(r)) throw new Error(`${this.constructor.name}: a forward pre-hook must return an array of inputs or undefined, got ${r === null ? 'null' : typeof r}`);
        args = r;
      }
    }
    let out: unknown = this.forward(...(args as In));
    for (const fn of [...h.post.values()]) {
      const r = fn(this, args, out);
      if (r !== undefined) out = r;
    }
    return out as Out;
  }

  /** Registers fn(module, inputs) to run before every call(); returning an array replaces the inputs. */
  registerForwardPreHook(fn: ForwardPreHook<In>): HookHandle {
    return addHook(this, 'pre', fn);
  }

  /** Registers fn(module, inputs, output) to run after every call(); returning a value replaces the output. */
  registerForwardHook(fn: ForwardHook<In, Out>): HookHandle {
    return addHook(this, 'post', fn);
  }

  /**
   * Direct members, named: sub-modules and tensors held in own properties, directly or in
   * arrays ('layers.0') and Maps ('heads.cls'). The one reflective walk every tree query uses.
   */
  protected *_members(): Generator<[string, AnyModule | Tensor]> {
    for (const [key, value] of Object.entries(this)) yield* entriesOf(key, value);
  }

  /** The member at one step of a dotted path ('layers', 'head'), or undefined. Containers override it. */
  protected _member(key: string): MemberSlot | undefined {
    if (!Object.prototype.hasOwnProperty.call(this, key)) return undefined;
    const self = this as unknown as Record<string, unknown>;
    return { value: self[key], set: (v) => { self[key] = v; } };
  }

  /** Names _member() knows, for error messages. */
  protected _memberKeys(): string[] {
    return Object.keys(this).filter((k) => {
      const v = (this as unknown as Record<string, unknown>)[k];
      return v instanceof Module || Array.isArray(v) || v instanceof Map;
    });
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    for (const [k, v] of this._members()) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  /** This module and its sub-modules, depth first, with dotted names (each module once). */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    walk(this, prefix, new Set(), (name, m) => out.push([name, m]), null);
    return out;
  }

  /** Every tensor the tree holds: parameters, buffers and any other tensor in a property (caches). */
  namedTensors(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    walk(this, prefix, new Set(), null, (name, t) => {
      if (!seen.has(t)) {
        seen.add(t);
        out.push([name, t]);
      }
    });
    return out;
  }

  /** Parameters with dotted names (each tensor once, under its first name). */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.namedTensors(prefix).filter(([, t]) => parameterSet.has(t));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Buffers (running statistics) with dotted names. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    return this.namedTensors(prefix).filter(([, t]) => bufferSet.has(t));
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Training mode (dropout active, batch statistics) for this module and its children. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, v] of this.namedParameters()) out[k] = v;
    for (const [k, v] of this.namedBuffers()) out[k] = v;
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers. Every name and shape is checked
   * before anything is written, so a mismatch never leaves a half-loaded model.
   */
  loadStateDict(state: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>): void {
    if (state === null || typeof state !== 'object') throw new Error(`loadStateDict: expected an object of tensors, got ${state === null ? 'null' : typeof state}`);
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = state[k];
      if (s === undefined) problems.push(`missing ${k} ${fmt(t.shape)}`);
      else if (s.shape.join() !== t.shape.join()) problems.push(`${k}: expected ${fmt(t.shape)}, got ${fmt(s.shape)}`);
    }
    for (const k of Object.keys(state)) if (!(k in own)) problems.push(`unexpected ${k}`);
    if (problems.length > 0) throw new Error(`loadStateDict: state does not match the model: ${problems.join('; ')}`);
    for (const [k, t] of Object.entries(own)) {
      const s = state[k];
      t.setData(s instanceof Tensor ? s.data() : s.data);
    }
  }
}

type Visible = { _members(): Iterable<[string, AnyModule | Tensor]>; _member(key: string): MemberSlot | undefined; _memberKeys(): string[] };
const inside = (m: AnyModule): Visible => m as unknown as Visible;

function walk(
  m: AnyModule, name: string, seen: Set<AnyModule>,
  onModule: ((name: string, m: AnyModule) => void) | null, onTensor: ((name: string, t: Tensor) => void) | null,
): void {
  if (seen.has(m)) return;
  seen.add(m);
  onModule?.(name, m);
  for (const [k, v] of inside(m)._members()) {
    const full = name ? `${name}.${k}` : k;
    if (v instanceof Module) walk(v, full, seen, onModule, onTensor);
    else onTensor?.(full, v);
  }
}

// ---- lookup by dotted name ---------------------------------------------------------------

function splitPath(where: string, path: string): string[] {
  if (typeof path !== 'string' || path === '') throw new Error(`${where}: path must be a non-empty dotted name such as 'layers.2', got ${JSON.stringify(path)}`);
  return path.split('.');
}

function slotOf(where: string, parent: unknown, key: string, path: string): MemberSlot {
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new Error(`${where}: '${path}': index ${key} is out of range (the list has ${parent.length} entries)`);
    return { value: parent[i], set: (v) => { parent[i] = v; } };
  }
  if (parent instanceof Map) {
    const map = parent as Map<unknown, unknown>;
    const k = [...map.keys()].find((x) => String(x) === key);
    if (k === undefined) throw new Error(`${where}: '${path}': the map has no entry '${key}' (it has: ${[...map.keys()].map(String).join(', ') || 'none'})`);
    return { value: map.get(k), set: (v) => { map.set(k, v); } };
  }
  if (parent instanceof Module) {
    const slot = inside(parent)._member(key);
    if (slot === undefined) {
      throw new Error(`${where}: '${path}': ${parent.constructor.name} has no sub-module '${key}' (it has: ${inside(parent)._memberKeys().join(', ') || 'none'})`);
    }
    return slot;
  }
  throw new Error(`${where}: '${path}': cannot look up '${key}' inside a ${parent === null ? 'null' : typeof parent}`);
}

/** The sub-module at a dotted name as listed by namedModules()/namedParameters() ('layers.2', 'encoder.fc'). */
export function getModule(root: AnyModule, path: string): AnyModule {
  if (!(root instanceof Module)) throw new Error('getModule: root must be a Module');
  let cur: unknown = root;
  for (const key of splitPath('getModule', path)) cur = slotOf('getModule', cur, key, path).value;
  if (!(cur instanceof Module)) throw new Error(`getModule: '${path}' is not a Module`);
  return cur;
}

/**
 * Replaces the sub-module at a dotted name by another module and returns the old one, e.g.
 * a new output layer for fine-tuning: `replaceModule(model, 'layers.2', new Linear(128, 5))`.
 * Parameter names stay the same if the new module has the same structure. Build the
 * optimizer after replacing: one made before still holds the old module's parameters.
 */
export function replaceModule(root: AnyModule, path: string, replacement: AnyModule): AnyModule {
  const where = 'replaceModule';
  if (!(root instanceof Module)) throw new Error(`${where}: root must be a Module`);
  if (!(replacement instanceof Module)) throw new Error(`${where}: the replacement for '${path}' must be a Module`);
  const keys = splitPath(where, path);
  let parent: unknown = root;
  for (const key of keys.slice(0, -1)) parent = slotOf(where, parent, key, path).value;
  const slot = slotOf(where, parent, keys[keys.length - 1], path);
  const old = slot.value;
  if (!(old instanceof Module)) throw new Error(`${where}: '${path}' is not a Module, so it cannot be replaced by one`);
  slot.set(replacement);
  return old;
}
