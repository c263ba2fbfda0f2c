// Containers: Sequential (runs its layers in order, fusing neighbours that know how), ModuleList
// and ModuleDict (hold sub-modules by index or name, for models that call them themselves).
import type { Tensor } from '../core/tensor.js';
import { Module, hasHooks, hooksVersion, type AnyModule, type MemberSlot } from './module.js';

interface Plan {
  /** The layers the plan was made for (compared by identity before each use). */
  layers: AnyModule[];
  version: number;
  steps: AnyModule[];
}

// Plans live outside the Sequential objects, so the member walk never sees the fused modules.
const plans = new WeakMap<Sequential, Plan>();

/**
 * Runs modules in order. Neighbours fuse when the first one's `fuseNext(next)` returns a
 * module (a Linear followed by ReLU runs as one GEMM with the ReLU in its epilogue); modules
 * with forward hooks never fuse, so the hooks see what the layer alone computes.
 */
export class Sequential extends Module<[Tensor], Tensor> {
  readonly layers: Module[];

  constructor(...layers: AnyModule[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new Error(`Sequential: argument ${i} is not a Module`);
    });
    this.layers = layers as Module[];
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const step of this.plan()) h = step.call(h) as Tensor;
    return h;
  }

  /** The modules forward runs: the layers, with fusable neighbours replaced by their fusion. */
  private plan(): AnyModule[] {
    const layers = this.layers;
    const cached = plans.get(this);
    if (cached !== undefined && cached.version === hooksVersion() && cached.layers.length === layers.length && cached.layers.every((l, i) => l === layers[i])) {
      return cached.steps;
    }
    const steps: AnyModule[] = [];
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      const next = layers[i + 1];
      if (next !== undefined && typeof layer.fuseNext === 'function' && !hasHooks(layer) && !hasHooks(next)) {
        const fused = layer.fuseNext(next);
        if (fused !== null && fused !== undefined) {
          steps.push(fused);
          i++;
          continue;
        }
      }
      steps.push(layer);
    }
    plans.set(this, { layers: layers.slice(), version: hooksVersion(), steps });
    return steps;
  }
}

function checkModule(where: string, m: unknown): AnyModule {
  if (!(m instanceof Module)) throw new Error(`${where}: expected a Module, got ${m === null ? 'null' : typeof m}`);
  return m;
}

/**
 * A list of sub-modules, registered under their indices ('0', '1', ...), for models that
 * call them themselves (a stack of transformer blocks, one head per task). It has no forward.
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  forward(): never {
    throw new Error('ModuleList: a container has no forward; call its modules (for (const m of list) x = m.call(x))');
  }

  get length(): number {
    return this.items.length;
  }

  /** Module i (negative counts from the end). */
  at(i: number): M {
    const j = i < 0 ? i + this.items.length : i;
    if (!Number.isInteger(j) || j < 0 || j >= this.items.length) throw new Error(`ModuleList.at: index ${i} is out of range (the list has ${this.items.length} entries)`);
    return this.items[j];
  }

  /** Replaces module i; returns the old one. */
  set(i: number, m: M): M {
    const old = this.at(i);
    this.items[i < 0 ? i + this.items.length : i] = checkModule('ModuleList.set', m) as M;
    return old;
  }

  append(m: M): this {
    this.items.push(checkModule('ModuleList.append', m) as M);
    return this;
  }

  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  protected override *_members(): Generator<[string, AnyModule | Tensor]> {
    for (let i = 0; i < this.items.length; i++) yield [String(i), this.items[i]];
  }

  protected override _member(key: string): MemberSlot | undefined {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= this.items.length) return undefined;
    return { value: this.items[i], set: (v) => { this.items[i] = checkModule('replaceModule', v) as M; } };
  }

  protected override _memberKeys(): string[] {
    return this.items.map((_, i) => String(i));
  }
}

/**
 * Sub-modules by name ('encoder', 'decoder'), registered under those names, in insertion
 * order. Names must be non-empty and contain no '.'. It has no forward.
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> implements Iterable<[string, M]> {
  private readonly items = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in Object(modules) ? (modules as Iterable<[string, M]>) : Object.entries(modules as Record<string, M>);
    for (const [k, m] of entries) this.set(k, m);
  }

  forward(): never {
    throw new Error('ModuleDict: a container has no forward; call its modules (dict.get(name).call(x))');
  }

  get size(): number {
    return this.items.size;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get(key: string): M {
    const m = this.items.get(key);
    if (m === undefined) throw new Error(`ModuleDict.get: no module '${key}' (it has: ${[...this.items.keys()].join(', ') || 'none'})`);
    return m;
  }

  /** Adds or replaces the module under `key`. */
  set(key: string, m: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) throw new Error(`ModuleDict: a name must be a non-empty string without '.', got ${JSON.stringify(key)}`);
    this.items.set(key, checkModule(`ModuleDict.set('${key}')`, m) as M);
    return this;
  }

  delete(key: string): boolean {
    return this.items.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  values(): IterableIterator<M> {
    return this.items.values();
  }

  entries(): IterableIterator<[string, M]> {
    return this.items.entries();
  }

  [Symbol.iterator](): Iterator<[string, M]> {
    return this.items.entries();
  }

  protected override *_members(): Generator<[string, AnyModule | Tensor]> {
    yield* this.items;
  }

  protected override _member(key: string): MemberSlot | undefined {
    if (!this.items.has(key)) return undefined;
    return { value: this.items.get(key), set: (v) => { this.items.set(key, checkModule('replaceModule', v) as M); } };
  }

  protected override _memberKeys(): string[] {
    return [...this.items.keys()];
  }
}
