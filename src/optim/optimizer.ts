// Base class of the optimizers. An optimizer holds parameter groups (as PyTorch: each group its
// own tensors and hyper-parameters, the constructor's options as defaults) and, per parameter,
// a step count and a few state tensors (velocity, moments) created on the first step that
// parameter takes part in. State tensors are ordinary tensors made outside any scope
// (persistent), freed by dispose() or, as a backstop, when collected. Each step runs one fused
// kernel per parameter tensor (ops/inplace.ts), all of them together one parallel job when
// they are large enough to split across threads; no per-element JavaScript runs.
import { batchSplits, fillInPlace } from '../ops/inplace.js';
import { Tensor, fmt, full, persistent } from '../core/tensor.js';
import { checkOptions } from '../core/validate.js';
import { profiling, timed } from '../core/profile.js';

/** Per-parameter state: a step counter and `nBuffers` float32 state tensors of the parameter's shape. */
export interface ParamState {
  /** Number of updates this parameter received (Adam's bias correction uses it). */
  step: number;
  /** The state tensors (velocity, moments), in the optimizer's order. */
  readonly buffers: Tensor[];
}

export type HyperValue = number | boolean | number[];

/**
 * A parameter group as held by the optimizer: its tensors, its learning rate and scale, and its
 * hyper-parameters. Assigning a value validates it (`opt.paramGroups[1].lr = 1e-4`).
 */
export type ParamGroup<H extends object = Record<string, HyperValue>> = {
  readonly params: readonly Tensor[];
  /** Learning rate of this group's next step. */
  lr: number;
  /** Factor applied when `optimizer.lr` is set (by hand or by a schedule): group lr = lr × lrScale (default 1). */
  lrScale: number;
} & H;

/** A parameter group as given to a constructor: tensors plus options that differ from the defaults. */
export type ParamGroupSpec<O extends object = object> = { params: Iterable<Tensor>; lrScale?: number } & O;

/** What an optimizer's constructor takes: tensors, or parameter groups. */
export type Params<O extends object = object> = Iterable<Tensor> | Iterable<ParamGroupSpec<O>>;

/** A plain, serialisable snapshot of an optimizer (see `stateDict`). */
export interface OptimizerStateDict {
  /** Class name, e.g. 'Adam'; loading into a different optimizer is refused. */
  optimizer: string;
  /** Hyper-parameters of the first group, lr included (the whole optimizer's with one group). */
  hyper: Record<string, HyperValue>;
  /** Per group: its hyper-parameters (lr and lrScale included) and its number of parameters. Absent in older dicts. */
  groups?: { hyper: Record<string, HyperValue>; params: number }[];
  /** Per parameter, in `params` order; null for a parameter that has not been updated yet. */
  state: ({ step: number; buffers: Float32Array[] } | null)[];
}

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

function isGroupSpec(v: unknown): v is ParamGroupSpec {
  return v !== null && typeof v === 'object' && !(v instanceof Tensor) && 'params' in (v as object);
}

function paramLabel(p: Tensor, i: number): string {
  return `parameter ${i}${p.name !== undefined ? ` '${p.name}'` : ''} ${fmt(p.shape)}`;
}

function copyHyper(v: HyperValue): HyperValue {
  return Array.isArray(v) ? v.slice() : v;
}

// The default (any) lets `Optimizer` stand for every optimizer whatever its hyper-parameters.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export abstract class Optimizer<H extends object = any> {
  /** Name used in error messages and state dicts ('SGD', 'Adam', ...). */
  readonly name: string;
  /** The parameter groups; each group's values can be changed between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  private flat: readonly Tensor[] = Object.freeze([]);
  private groupIndex: number[] = [];
  private state: (ParamState | null)[] = [];
  private readonly defaults: Record<string, unknown>;
  private readonly optionKeys: readonly string[];
  private disposed = false;

  /**
   * @param defaults default values of every hyper-parameter, lr included (undefined lr: each group must give one)
   * @param optionKeys the option names a constructor accepts (lr and the optimizer's own; 'params' and 'lrScale' are added for groups)
   */
  protected constructor(name: string, params: Params, defaults: Record<string, unknown>, optionKeys: readonly string[]) {
    this.name = name;
    this.defaults = defaults;
    this.optionKeys = optionKeys;
    if (params === null || params === undefined || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new Error(`${name}: params must be an array (or iterable) of tensors, got ${params === null ? 'null' : typeof params}`);
    }
    const list = Array.from(params as Iterable<unknown>);
    const specs: ParamGroupSpec[] = list.length > 0 && list.every(isGroupSpec)
      ? (list as ParamGroupSpec[])
      : [{ params: list as Tensor[] }];
    const groups = specs.map((s, i) => this.makeGroup(s, specs.length > 1 ? i : null));
    const total = groups.reduce((n, g) => n + g.params.length, 0);
    if (total === 0) throw new Error(`${name}: the parameter list is empty`);
    for (const g of groups) this.pushGroup(g);
  }

  /** The parameters updated by `step()`, all groups in order. */
  get params(): readonly Tensor[] {
    return this.flat;
  }

  /**
   * The learning rate: the first group's lr / lrScale (the optimizer's lr, with one group).
   * Setting it, as schedules do, sets every group's lr to the value times that group's lrScale.
   */
  get lr(): number {
    const g = this.paramGroups[0];
    return g.lrScale === 1 || g.lrScale === 0 ? g.lr : g.lr / g.lrScale;
  }
  set lr(v: number) {
    const lr = nonNegative(this.name, 'lr', v);
    for (const g of this.paramGroups) g.lr = lr * g.lrScale;
  }

  /** Adds a parameter group (e.g. layers unfrozen later in fine-tuning), with options like the constructor's. */
  addParamGroup(spec: ParamGroupSpec<Record<string, unknown>>): void {
    if (this.disposed) throw new Error(`${this.name}.addParamGroup: the optimizer was disposed`);
    if (!isGroupSpec(spec)) throw new Error(`${this.name}.addParamGroup: expected { params, ...options }, got ${spec === null ? 'null' : typeof spec}`);
    this.pushGroup(this.makeGroup(spec, this.paramGroups.length));
  }

  /** Hyper-parameter of the first group (for the single-group getters of the subclasses). */
  protected hyperOf<K extends keyof H>(key: K): H[K] {
    return this.paramGroups[0][key];
  }

  /** Sets a hyper-parameter in every group (for the single-group setters of the subclasses). */
  protected setHyperAll<K extends keyof H>(key: K, v: H[K]): void {
    const checked = this.checkHyper(key as string, v, this.name);
    for (const g of this.paramGroups) (g as Record<string, unknown>)[key as string] = checked;
  }

  private makeGroup(spec: ParamGroupSpec, index: number | null): ParamGroup<H> {
    const where = index === null ? this.name : `${this.name}: param group ${index}`;
    const { params, ...rest } = checkOptions(where, spec as Record<string, unknown> & { params: unknown }, ['params', 'lrScale', ...this.optionKeys]);
    if (params === null || params === undefined || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new Error(`${where}: params must be an array (or iterable) of tensors, got ${params === null ? 'null' : typeof params}`);
    }
    const tensors = Array.from(params as Iterable<unknown>);
    tensors.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${this.name}: parameter ${i} is not a Tensor (got ${p === null ? 'null' : typeof p})`);
      const label = paramLabel(p, i);
      if (p.dtype !== 'float32') throw new Error(`${this.name}: ${label} is ${p.dtype}; optimizers update float32 tensors only`);
      if (p.node !== null) throw new Error(`${this.name}: ${label} is the output of an op (${p.node.op}), not a leaf tensor; optimize leaves`);
      if (!p.isAlive) throw new Error(`${this.name}: ${label} was disposed`);
    });
    const own = this.normalize(rest, this.name);
    const lrScale = own.lrScale === undefined ? 1 : nonNegative(this.name, 'lrScale', own.lrScale);
    const values: Record<string, HyperValue> = {};
    for (const [k, v] of Object.entries({ ...this.normalize(this.defaults, this.name), ...own })) {
      if (k !== 'lr' && k !== 'lrScale' && v !== undefined) values[k] = this.checkHyper(k, v, this.name);
    }
    const baseLr = own.lr ?? (this.defaults.lr === undefined ? undefined : (this.defaults.lr as number) * lrScale);
    if (baseLr === undefined) throw new Error(`${this.name}: options with a learning rate are required, e.g. new ${this.name}(params, { lr: 0.1 })`);
    const lr = nonNegative(this.name, 'lr', baseLr);
    const store: Record<string, HyperValue> = { lr, lrScale, ...values };
    const group = { params: Object.freeze(tensors as Tensor[]) } as Record<string, unknown>;
    for (const key of Object.keys(store)) {
      Object.defineProperty(group, key, {
        enumerable: true,
        get: () => store[key],
        set: (v: unknown) => { store[key] = this.checkHyper(key, v, this.name); },
      });
    }
    return group as ParamGroup<H>;
  }

  private pushGroup(g: ParamGroup<H>): void {
    const seen = new Set(this.flat);
    const all = [...this.flat];
    g.params.forEach((p) => {
      if (seen.has(p)) throw new Error(`${this.name}: ${paramLabel(p, all.length)} appears more than once in the parameter list`);
      seen.add(p);
      all.push(p);
    });
    const gi = this.paramGroups.length;
    this.paramGroups.push(g);
    for (let i = 0; i < g.params.length; i++) {
      this.groupIndex.push(gi);
      this.state.push(null);
    }
    this.flat = Object.freeze(all);
  }

  /**
   * Validates one hyper-parameter value (lr and lrScale are handled here; subclasses handle
   * their own and call super for the rest).
   */
  protected checkHyper(key: string, v: unknown, where: string): HyperValue {
    if (key === 'lr' || key === 'lrScale') return nonNegative(where, key, v);
    throw new Error(`${where}: unknown hyper-parameter '${key}'`);
  }

  /** Turns option aliases into hyper-parameters (RMSprop's rho) and checks combinations. */
  protected normalize(opts: Record<string, unknown>, _where: string): Record<string, unknown> {
    return opts;
  }

  /**
   * Clears the gradients of all parameters. By default the gradient tensors are freed and
   * `grad` becomes null (the next backward() allocates fresh ones, like PyTorch's
   * set_to_none); with `setToNone = false` they are filled with zeros in place.
   */
  zeroGrad(setToNone = true): void {
    if (profiling()) timed(`${this.name}.zeroGrad`, () => this.zeroGradNow(setToNone));
    else this.zeroGradNow(setToNone);
  }

  private zeroGradNow(setToNone: boolean): void {
    for (const p of this.flat) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
        g.dispose();
      } else {
        fillInPlace(g, 0);
      }
    }
  }

  /** Updates every parameter that has a gradient (parameters with `grad === null` are skipped). */
  step(): void {
    // All parameters' updates run as one parallel job.
    if (profiling()) timed(`${this.name}.step`, () => batchSplits(() => this.stepNow()));
    else batchSplits(() => this.stepNow());
  }

  private stepNow(): void {
    if (this.disposed) throw new Error(`${this.name}.step: the optimizer was disposed`);
    for (let i = 0; i < this.flat.length; i++) {
      const p = this.flat[i];
      const g = p.grad;
      if (g === null) continue;
      if (!p.isAlive) throw new Error(`${this.name}.step: ${paramLabel(p, i)} was disposed`);
      if (!g.isAlive) throw new Error(`${this.name}.step: the gradient of ${paramLabel(p, i)} was disposed`);
      if (g.dtype !== 'float32' || g.size !== p.size) {
        throw new Error(`${this.name}.step: the gradient of ${paramLabel(p, i)} is ${g.dtype} ${fmt(g.shape)}, expected float32 ${fmt(p.shape)}`);
      }
      const group = this.paramGroups[this.groupIndex[i]];
      const st = this.stateOf(i, group);
      st.step++;
      this.update(p, g, st, group);
    }
  }

  /** How many state tensors each parameter of the group needs now (SGD needs none without momentum). */
  protected abstract nBuffers(group: ParamGroup<H>): number;

  /** Runs the kernel for one parameter. `st.step` already counts this update. */
  protected abstract update(p: Tensor, g: Tensor, st: ParamState, group: ParamGroup<H>): void;

  /** Value state tensor `b` starts with (Adagrad's initial accumulator). */
  protected initialStateValue(_b: number, _group: ParamGroup<H>): number {
    return 0;
  }

  /** The state of parameter i, created (or recreated with nBuffers() tensors) on demand. */
  private stateOf(i: number, group: ParamGroup<H>): ParamState {
    let st = this.state[i];
    const want = this.nBuffers(group);
    if (st === null) st = this.state[i] = { step: 0, buffers: [] };
    if (st.buffers.length !== want) {
      // First use, or a hyper-parameter change (SGD momentum switched on/off): fresh buffers.
      releaseBuffers(st);
      const p = this.flat[i];
      for (let b = 0; b < want; b++) {
        const value = this.initialStateValue(b, group);
        st.buffers.push(persistent(() => full(p.shape, value)));
      }
    }
    return st;
  }

  /** The hyper-parameters of a group as plain data (lr and lrScale included). */
  private groupHyper(g: ParamGroup<H>): Record<string, HyperValue> {
    const out: Record<string, HyperValue> = {};
    for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = copyHyper(v as HyperValue);
    return out;
  }

  /** A copy of the groups' hyper-parameters and the per-parameter state (plain data, safe to keep). */
  stateDict(): OptimizerStateDict {
    const hyper = this.groupHyper(this.paramGroups[0]);
    delete hyper.lrScale;
    return {
      optimizer: this.name,
      hyper,
      groups: this.paramGroups.map((g) => ({ hyper: this.groupHyper(g), params: g.params.length })),
      state: this.state.map((st) => (st === null ? null : { step: st.step, buffers: st.buffers.map((t) => t.data() as Float32Array) })),
    };
  }

  /**
   * Restores what `stateDict()` returned: hyper-parameters (lr included) and per-parameter
   * state. Needs the same optimizer class, the same groups and the same parameter sizes in
   * the same order; on any mismatch it throws and changes nothing. A dict without `groups`
   * (from a single-group optimizer of an older version) applies its hyper-parameters to every group.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (this.disposed) throw new Error(`${where}: the optimizer was disposed`);
    if (sd === null || typeof sd !== 'object') throw new Error(`${where}: expected a state dict object, got ${sd === null ? 'null' : typeof sd}`);
    if (sd.optimizer !== this.name) throw new Error(`${where}: the state dict is from ${String(sd.optimizer)}, not ${this.name}`);
    if (sd.hyper === null || typeof sd.hyper !== 'object') throw new Error(`${where}: the state dict has no hyper-parameters`);
    if (!Array.isArray(sd.state) || sd.state.length !== this.flat.length) {
      throw new Error(`${where}: the state dict has ${Array.isArray(sd.state) ? sd.state.length : 'no'} parameter entries, this optimizer has ${this.flat.length} parameters`);
    }
    let groupHypers: Record<string, HyperValue>[];
    if (sd.groups !== undefined) {
      if (!Array.isArray(sd.groups) || sd.groups.length !== this.paramGroups.length) {
        throw new Error(`${where}: the state dict has ${Array.isArray(sd.groups) ? sd.groups.length : 'no'} parameter groups, this optimizer has ${this.paramGroups.length}`);
      }
      sd.groups.forEach((g, i) => {
        if (g === null || typeof g !== 'object' || g.params !== this.paramGroups[i].params.length) {
          throw new Error(`${where}: group ${i} of the state dict has ${String(g?.params)} parameters, this optimizer's has ${this.paramGroups[i].params.length}`);
        }
      });
      groupHypers = sd.groups.map((g) => g.hyper);
    } else {
      groupHypers = this.paramGroups.map((g) => ({ ...sd.hyper, lrScale: g.lrScale }));
    }
    // Validate everything first: nothing changes unless all of it fits.
    const checked = groupHypers.map((h, gi) => {
      const cur = this.groupHyper(this.paramGroups[gi]);
      const out: Record<string, HyperValue> = {};
      for (const k of Object.keys(cur)) {
        if (h[k] === undefined) throw new Error(`${where}: group ${gi} has no value for '${k}'`);
        out[k] = this.checkHyper(k, h[k], this.name);
      }
      return out;
    });
    sd.state.forEach((st, i) => {
      if (st === null) return;
      const p = this.flat[i];
      const want = this.nBuffersWith(this.groupIndex[i], checked[this.groupIndex[i]]);
      if (!Number.isInteger(st.step) || st.step < 0) throw new Error(`${where}: parameter ${i}: step must be an integer >= 0, got ${st.step}`);
      if (!Array.isArray(st.buffers) || st.buffers.length !== want || st.buffers.some((b) => !(b instanceof Float32Array) || b.length !== p.size)) {
        throw new Error(`${where}: parameter ${i}: expected ${want} Float32Array state buffer${want === 1 ? '' : 's'} of ${p.size} values (shape ${fmt(p.shape)})`);
      }
    });
    checked.forEach((h, gi) => {
      const g = this.paramGroups[gi] as Record<string, unknown>;
      for (const [k, v] of Object.entries(h)) g[k] = v;
    });
    sd.state.forEach((st, i) => {
      const cur = this.state[i];
      if (st === null) {
        if (cur !== null) releaseBuffers(cur);
        this.state[i] = null;
        return;
      }
      const s = this.stateOf(i, this.paramGroups[this.groupIndex[i]]);
      s.step = st.step;
      st.buffers.forEach((data, b) => s.buffers[b].setData(data));
    });
  }

  /** nBuffers for group gi if it had the hyper-parameters h (for validating a state dict before applying it). */
  private nBuffersWith(gi: number, h: Record<string, HyperValue>): number {
    const g = this.paramGroups[gi];
    const probe = { ...Object.fromEntries(Object.entries(g)), ...h } as unknown as ParamGroup<H>;
    return this.nBuffers(probe);
  }

  /** Frees the state tensors now (the parameters are untouched). The optimizer cannot step afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const st of this.state) if (st !== null) releaseBuffers(st);
    this.state.fill(null);
  }
}

function releaseBuffers(st: ParamState): void {
  for (const t of st.buffers) t.dispose();
  st.buffers.length = 0;
}
