// Base class of the optimizers. An optimizer holds a list of parameter tensors and, per
// parameter, a few state buffers (velocity, moments) in wasm memory, allocated on the first
// step that parameter takes part in. Each step calls one fused kernel per parameter tensor
// (assembly/optim.ts); no per-element JavaScript runs.
import type { Allocator } from '../../bindings/allocator';
import { f32, kernels, runtime, type Kernels } from '../../bindings/index';
import { Tensor, fmt } from '../core/tensor';

/** Per-parameter state: a step counter and `nBuffers` f32 buffers of the parameter's size. */
export interface ParamState {
  /** Number of updates this parameter received (Adam's bias correction uses it). */
  step: number;
  /** Byte offsets of the state buffers in wasm memory. */
  readonly buffers: number[];
}

export type HyperValue = number | boolean | number[];

/** A plain, serialisable snapshot of an optimizer (see `stateDict`). */
export interface OptimizerStateDict {
  /** Class name, e.g. 'Adam'; loading into a different optimizer is refused. */
  optimizer: string;
  /** Hyper-parameters, including the current lr. */
  hyper: Record<string, HyperValue>;
  /** Per parameter, in `params` order; null for a parameter that has not been updated yet. */
  state: ({ step: number; buffers: Float32Array[] } | null)[];
}

// Blocks an optimizer owns, held apart from the optimizer so the finalizer can free them.
interface Blocks {
  allocator: Allocator | null;
  ptrs: Set<number>;
}

function freeBlocks(b: Blocks): void {
  const alloc = b.allocator;
  // A re-initialised runtime has a new memory and allocator; the old blocks died with it.
  if (alloc !== null && alloc === runtime().allocator) for (const p of b.ptrs) alloc.release(p);
  b.ptrs.clear();
}

// Backstop for optimizers dropped without dispose().
const finalizer = new FinalizationRegistry<Blocks>(freeBlocks);

// Argument checks shared by the optimizers; the message names the optimizer and the value.
export function nonNegative(opt: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${opt}: ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}
export function positive(opt: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${opt}: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}
/** In [0, 1): decay rates (momentum, betas, rho). */
export function unitInterval(opt: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) throw new Error(`${opt}: ${name} must be in [0, 1), got ${String(v)}`);
  return v;
}

export abstract class Optimizer {
  /** The parameters updated by `step()`, in the order given. */
  readonly params: readonly Tensor[];
  /** Name used in error messages and state dicts ('SGD', 'Adam', ...). */
  readonly name: string;
  private _lr = 0;
  private readonly state: (ParamState | null)[];
  private readonly blocks: Blocks = { allocator: null, ptrs: new Set() };
  private disposed = false;

  protected constructor(name: string, params: Iterable<Tensor>, lr: unknown) {
    this.name = name;
    if (params === null || params === undefined || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new Error(`${name}: params must be an array (or iterable) of tensors, got ${params === null ? 'null' : typeof params}`);
    }
    const list = Array.from(params);
    if (list.length === 0) throw new Error(`${name}: the parameter list is empty`);
    const seen = new Set<Tensor>();
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${name}: parameter ${i} is not a Tensor (got ${p === null ? 'null' : typeof p})`);
      const label = paramLabel(p, i);
      if (p.dtype !== 'float32') throw new Error(`${name}: ${label} is ${p.dtype}; optimizers update float32 tensors only`);
      if (p.node !== null) throw new Error(`${name}: ${label} is the output of an op (${p.node.op}), not a leaf tensor; optimize leaves`);
      if (!p.isAlive) throw new Error(`${name}: ${label} was disposed`);
      if (seen.has(p)) throw new Error(`${name}: ${label} appears more than once in the parameter list`);
      seen.add(p);
    });
    this.params = Object.freeze(list);
    this.state = list.map(() => null);
    this._lr = nonNegative(name, 'lr', lr);
    finalizer.register(this, this.blocks, this);
  }

  /** Learning rate used by the next `step()`; schedules set it between steps. */
  get lr(): number {
    return this._lr;
  }
  set lr(v: number) {
    this._lr = nonNegative(this.name, 'lr', v);
  }

  /**
   * Clears the gradients of all parameters. By default the gradient tensors are freed and
   * `grad` becomes null (the next backward() allocates fresh ones, like PyTorch's
   * set_to_none); with `setToNone = false` they are filled with zeros in place.
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.params) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
        g.dispose();
      } else {
        kernels().fill(g.ptr, 0, g.size);
      }
    }
  }

  /** Updates every parameter that has a gradient (parameters with `grad === null` are skipped). */
  step(): void {
    if (this.disposed) throw new Error(`${this.name}.step: the optimizer was disposed`);
    const k = kernels();
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const g = p.grad;
      if (g === null) continue;
      if (!p.isAlive) throw new Error(`${this.name}.step: ${paramLabel(p, i)} was disposed`);
      if (!g.isAlive) throw new Error(`${this.name}.step: the gradient of ${paramLabel(p, i)} was disposed`);
      if (g.dtype !== 'float32' || g.size !== p.size) {
        throw new Error(`${this.name}.step: the gradient of ${paramLabel(p, i)} is ${g.dtype} ${fmt(g.shape)}, expected float32 ${fmt(p.shape)}`);
      }
      const st = this.stateOf(i);
      st.step++;
      this.update(k, p, g, st);
    }
  }

  /** How many f32 state buffers each parameter needs now (SGD needs none without momentum). */
  protected abstract nBuffers(): number;

  /** Runs the kernel for one parameter. `st.step` already counts this update. */
  protected abstract update(k: Kernels, p: Tensor, g: Tensor, st: ParamState): void;

  /** Value state buffer `b` starts with (Adagrad's initial accumulator). */
  protected initialStateValue(_b: number): number {
    return 0;
  }

  /** The hyper-parameters other than lr, for state dicts. */
  protected abstract hyper(): Record<string, HyperValue>;
  /** Validates and applies hyper-parameters (other than lr) from a state dict. */
  protected abstract setHyper(h: Record<string, HyperValue>): void;

  /** The state of parameter i, allocated (or resized to nBuffers()) on demand. */
  private stateOf(i: number): ParamState {
    let st = this.state[i];
    const want = this.nBuffers();
    if (st === null) {
      st = this.state[i] = { step: 0, buffers: [] };
    }
    if (st.buffers.length !== want) {
      // First use, or a hyper-parameter change (SGD momentum switched on/off): fresh buffers.
      this.releaseBuffers(st);
      const rt = runtime();
      this.blocks.allocator ??= rt.allocator;
      const n = this.params[i].size;
      for (let b = 0; b < want; b++) {
        const ptr = rt.allocator.alloc(n * 4);
        this.blocks.ptrs.add(ptr);
        rt.kernels.fill(ptr, this.initialStateValue(b), n);
        st.buffers.push(ptr);
      }
    }
    return st;
  }

  private releaseBuffers(st: ParamState): void {
    for (const ptr of st.buffers) {
      this.blocks.ptrs.delete(ptr);
      this.blocks.allocator?.release(ptr);
    }
    st.buffers.length = 0;
  }

  /** A copy of the hyper-parameters and per-parameter state (plain data, safe to keep). */
  stateDict(): OptimizerStateDict {
    return {
      optimizer: this.name,
      hyper: { lr: this._lr, ...this.hyper() },
      state: this.state.map((st, i) => {
        if (st === null) return null;
        const n = this.params[i].size;
        return { step: st.step, buffers: st.buffers.map((ptr) => f32().slice(ptr >>> 2, (ptr >>> 2) + n)) };
      }),
    };
  }

  /**
   * Restores what `stateDict()` returned: hyper-parameters (lr included) and per-parameter
   * state. Needs the same optimizer class and the same parameter sizes in the same order;
   * on any mismatch it throws and changes nothing.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (this.disposed) throw new Error(`${where}: the optimizer was disposed`);
    if (sd === null || typeof sd !== 'object') throw new Error(`${where}: expected a state dict object, got ${sd === null ? 'null' : typeof sd}`);
    if (sd.optimizer !== this.name) throw new Error(`${where}: the state dict is from ${String(sd.optimizer)}, not ${this.name}`);
    if (sd.hyper === null || typeof sd.hyper !== 'object') throw new Error(`${where}: the state dict has no hyper-parameters`);
    if (!Array.isArray(sd.state) || sd.state.length !== this.params.length) {
      throw new Error(`${where}: the state dict has ${Array.isArray(sd.state) ? sd.state.length : 'no'} parameter entries, this optimizer has ${this.params.length} parameters`);
    }
    const lr = nonNegative(this.name, 'lr', sd.hyper.lr);
    const before = this.hyper();
    this.setHyper(sd.hyper); // validates; throws before anything changed
    try {
      const want = this.nBuffers();
      sd.state.forEach((st, i) => {
        if (st === null) return;
        const n = this.params[i].size;
        if (!Number.isInteger(st.step) || st.step < 0) throw new Error(`${where}: parameter ${i}: step must be an integer >= 0, got ${st.step}`);
        if (!Array.isArray(st.buffers) || st.buffers.length !== want || st.buffers.some((b) => !(b instanceof Float32Array) || b.length !== n)) {
          throw new Error(`${where}: parameter ${i}: expected ${want} Float32Array state buffer${want === 1 ? '' : 's'} of ${n} values (shape ${fmt(this.params[i].shape)})`);
        }
      });
    } catch (e) {
      this.setHyper(before);
      throw e;
    }
    this._lr = lr;
    sd.state.forEach((st, i) => {
      const cur = this.state[i];
      if (st === null) {
        if (cur !== null) this.releaseBuffers(cur);
        this.state[i] = null;
        return;
      }
      const s = this.stateOf(i);
      s.step = st.step;
      st.buffers.forEach((data, b) => f32().set(data, s.buffers[b] >>> 2));
    });
  }

  /** Frees the state buffers now (the parameters are untouched). The optimizer cannot step afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this);
    freeBlocks(this.blocks);
    this.state.fill(null);
  }
}

function paramLabel(p: Tensor, i: number): string {
  return `parameter ${i}${p.name !== undefined ? ` '${p.name}'` : ''} ${fmt(p.shape)}`;
}

/** Validates an options object: a plain object whose keys are all known (catches `weight_decay`-style typos). */
export function checkOptions(opt: string, opts: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`${opt}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new Error(`${opt}: unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}
