// Tensors: (storage in wasm memory, shape, dtype) plus the autograd hooks. The graph engine
// lives in autograd.ts; ops live in ops/<family>.ts and are attached as methods at the end
// of ops/index.ts so that `x.add(y)` and `add(x, y)` are the same code.
import { kernels, runtime } from '../../bindings/index.js';
import type { Allocator } from '../../bindings/allocator.js';
import {
  advance, byteLength, fillElements, integerRange, isDType, read, write, type DType, type TypedData,
} from '../../bindings/memory.js';
import type { GraphNode } from './autograd.js';

export type { DType, TypedData } from '../../bindings/memory.js';
export type Shape = readonly number[];

/** Reference-counted block of wasm memory shared by a tensor and its views (reshape, detach). */
export class Storage {
  refs = 1;
  constructor(readonly ptr: number, readonly bytes: number, readonly allocator: Allocator) {}
}

// Backstop for tensors the user dropped without dispose(): the block is freed when the
// tensor object is collected. Deterministic paths (graph release, scopes, dispose) come first.
const finalizer = new FinalizationRegistry<Storage>((s) => dropStorage(s));

let liveTensors = 0;

function dropStorage(s: Storage): void {
  // A block of a runtime replaced by a later init() died with that runtime's memory.
  if (--s.refs === 0 && s.allocator === runtime().allocator) s.allocator.release(s.ptr);
}

// Scopes: every tensor created inside `scope(fn)` is disposed on exit unless returned.
const scopeStack: Tensor[][] = [];

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Gradient accumulated by backward() (leaves with requiresGrad only). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, while it is part of a live graph. */
  node: GraphNode | null = null;
  /** Optional name, used by state dicts and error messages. */
  name: string | undefined;
  private _requiresGrad = false;
  private storage: Storage | null;
  private releasedBy: string | null = null;
  private snapshot: TypedData | null = null;

  /** @internal Use the creation functions (tensor, zeros, ...) instead. */
  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = sizeOf(shape);
    liveTensors++;
    finalizer.register(this, storage, this);
    const top = scopeStack[scopeStack.length - 1];
    if (top !== undefined) top.push(this);
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && this.dtype !== 'float32') throw new Error(`requiresGrad: only float32 tensors can require gradients, got ${this.dtype}`);
    this._requiresGrad = v;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True while the tensor's memory is usable. */
  get isAlive(): boolean {
    return this.storage !== null;
  }

  /** @internal Why the memory is gone ('was disposed', or what released it), for messages. */
  get releaseReason(): string {
    return this.releasedBy ?? 'was disposed';
  }

  /** @internal Byte offset of the data in wasm memory (for kernels). Throws if the tensor was freed. */
  get ptr(): number {
    if (this.storage === null) {
      throw new Error(`tensor [${this.shape}] ${this.releasedBy ?? 'was disposed'}; it can no longer be used in computations`);
    }
    return this.storage.ptr;
  }

  /** @internal Byte offset of element i (row-major) in wasm memory, for kernels that work on a part. */
  ptrAt(i: number): number {
    return advance(this.ptr, this.dtype, i);
  }

  /**
   * A copy of the values as a typed array (works after the graph released the memory, for the
   * loss): Float32Array for float32, Int32Array for int32, Int8Array / Uint8Array for int8 /
   * uint8. The return type follows the dtype where the types know it (TensorOf<D>: creation
   * functions given a literal dtype or a typed array); TypedData otherwise.
   */
  data(): DataOf<this['dtype']> {
    if (this.storage === null && this.snapshot !== null) return this.snapshot.slice() as DataOf<this['dtype']>;
    return read(this.dtype, this.ptr, this.size) as DataOf<this['dtype']>;
  }

  /** Overwrites the values in place (same number of elements; converted as typed arrays convert). */
  setData(values: ArrayLike<number>): void {
    if (values.length !== this.size) throw new Error(`setData: ${values.length} values for tensor ${fmt(this.shape)} (${this.size} elements)`);
    write(this.dtype, this.ptr, values);
  }

  /**
   * Values as nested JS arrays following the shape (a number for a scalar). The result takes
   * the type its use asks for, e.g. `const rows: number[][] = t.toArray()` (not checked against
   * the shape, which types do not carry).
   */
  toArray<T extends NestedArray = NestedArray>(): T;
  toArray(): NestedArray {
    const d = this.data();
    if (this.shape.length === 0) return d[0];
    const build = (dim: number, off: number): NestedArray => {
      const n = this.shape[dim];
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(dim === this.shape.length - 1 ? d[off + i] : build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements (shape [${this.shape}]), expected 1`);
    return this.data()[0];
  }

  /** Frees the memory now. Further use throws. Idempotent. */
  dispose(): void {
    if (this.storage === null) return;
    finalizer.unregister(this);
    dropStorage(this.storage);
    this.storage = null;
    this.node = null;
    liveTensors--;
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** @internal Frees the memory after the graph that produced it was used; a scalar (the loss) stays readable. */
  release(reason: string): void {
    if (this.storage === null) return;
    if (this.size === 1) this.snapshot = this.data();
    this.dispose();
    this.releasedBy = reason;
  }

  /** @internal A new tensor object sharing this tensor's storage (reshape and detach). */
  shareStorage(shape: Shape): Tensor {
    const s = this.storage;
    if (s === null) void this.ptr; // throws the use-after-free message
    s!.refs++;
    return new Tensor(s!, shape, this.dtype);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape}])`;
  }
}

export type NestedArray = number | NestedArray[];

/** The typed array data() returns for a dtype (TypedData when the dtype is not known). */
export type DataOf<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array
  : D extends 'int8' ? Int8Array : D extends 'uint8' ? Uint8Array : never;

/**
 * A tensor whose dtype the types know (creation functions given a literal dtype or a typed
 * array return one): its data() is the matching typed array. TensorOf<DType> is just Tensor.
 */
export type TensorOf<D extends DType> = DType extends D ? Tensor : Tensor & { readonly dtype: D };

// Plain number arrays give Tensor, not TensorOf<'float32'>: `let t = tensor(0); t = add(t, 1)`
// must keep compiling, and ops return Tensor.
/** The dtype tensor() gives values without a dtype option, as far as the types can tell. */
export type DTypeOf<V> = V extends Float32Array ? 'float32' : V extends Int32Array ? 'int32' : V extends Int8Array ? 'int8'
  : V extends Uint8Array ? 'uint8' : DType;

// ---- shapes ------------------------------------------------------------------------------

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major element strides of a dense tensor of `shape` (the last dim has stride 1). */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new Error(`${op}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape [${shape}]: dimensions must be integers >= 0`);
  }
}

export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

// ---- allocation --------------------------------------------------------------------------

/** A tensor with uninitialised memory (contents are whatever the block held). */
export function empty<D extends DType = DType>(shape: Shape, dtype: D = 'float32' as D): TensorOf<D> {
  return allocate('empty', shape, dtype, false) as TensorOf<D>;
}

function allocate(op: string, shape: Shape, dtype: DType, zeroed: boolean): Tensor {
  checkShape(op, shape);
  if (!isDType(dtype)) throw new Error(`${op}: unknown dtype '${String(dtype)}'`);
  const bytes = byteLength(op, dtype, sizeOf(shape));
  const allocator = runtime().allocator;
  return new Tensor(new Storage(allocator.alloc(bytes, zeroed), bytes, allocator), shape, dtype);
}

// ---- memory accounting and scopes --------------------------------------------------------

/** Live tensors and bytes of tensor data in wasm memory (library scratch excluded). */
export function memory(): { tensors: number; bytes: number; blocks: number; heapBytes: number } {
  const s = runtime().allocator.stats();
  return { tensors: liveTensors, bytes: s.bytes, blocks: s.blocks, heapBytes: s.heapBytes };
}

/**
 * Runs fn and disposes every tensor created inside it except the ones it returns (a tensor,
 * or tensors inside a returned array/object) and leaves that require grad (parameters).
 */
export function scope<T>(fn: () => T): T {
  const created: Tensor[] = [];
  scopeStack.push(created);
  let result: T;
  try {
    result = fn();
  } finally {
    scopeStack.pop();
  }
  const keep = new Set<Tensor>();
  collectTensors(result, keep, 0);
  const outer = scopeStack[scopeStack.length - 1];
  for (const t of created) {
    if (keep.has(t) || (t.requiresGrad && t.node === null)) {
      if (outer !== undefined) outer.push(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/**
 * Runs fn with scope tracking suspended: tensors it makes belong to the caller, not to any
 * enclosing scope() (optimizer state, caches a layer keeps across steps). They are freed by
 * dispose() or, as a backstop, when collected.
 */
export function persistent<T>(fn: () => T): T {
  const suspended = scopeStack.splice(0);
  persistentDepth++;
  try {
    return fn();
  } finally {
    persistentDepth--;
    scopeStack.push(...suspended);
  }
}

let persistentDepth = 0;

/** Whether a persistent() call is running (its results are the caller's, not the step rule's). */
export function inPersistent(): boolean {
  return persistentDepth > 0;
}

function collectTensors(v: unknown, into: Set<Tensor>, depth: number): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) {
    into.add(v);
    if (v.grad !== null) into.add(v.grad);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collectTensors(x, into, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collectTensors(x, into, depth + 1);
  else for (const x of Object.values(v)) collectTensors(x, into, depth + 1);
}

/** Disposes every tensor given (arrays and objects of tensors too). */
export function dispose(...items: unknown[]): void {
  const all = new Set<Tensor>();
  collectTensors(items, all, 0);
  for (const t of all) t.dispose();
}

// ---- creation ----------------------------------------------------------------------------

type Nested = number | Nested[];

/** How a value that is not a number shows in messages: its type and the value. */
function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined (a hole or a missing value)';
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'bigint') return `bigint ${v}n`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (typeof v === 'object') return Array.isArray(v) ? `an array of length ${v.length}` : `object ${Object.prototype.toString.call(v).slice(8, -1)}`;
  return `${typeof v} ${String(v)}`;
}

function inferShape(v: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flatten(v: Nested, shape: number[], dim: number, out: number[], path: string): void {
  if (dim === shape.length) {
    if (Array.isArray(v)) throw new Error(`tensor: ragged nested array: expected a number at depth ${dim}`);
    if (typeof v !== 'number') throw new Error(`tensor: expected a number at index ${path}, got ${describeValue(v)}`);
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}, got ${Array.isArray(v) ? v.length : 'a number'}`);
  }
  // An index loop, not for...of: holes ([1, , 2]) are reported like undefined.
  for (let i = 0; i < v.length; i++) flatten(v[i], shape, dim + 1, out, `${path}[${i}]`);
}

export interface CreateOptions<D extends DType = DType> {
  dtype?: D;
  requiresGrad?: boolean;
}

/**
 * @internal The options of a creation function, checked: an object with only `dtype` (known;
 * float32 only where `floatOnly`) and `requiresGrad` (a boolean). A dtype passed as a plain
 * string, zeros(shape, 'int32'), would otherwise be ignored and give float32.
 */
export function createOptions(op: string, opts: unknown, floatOnly = false): CreateOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    const got = typeof opts === 'string' ? `the string '${opts}'` : opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts;
    throw new Error(`${op}: options must be an object such as { dtype: 'int32' }, got ${got}`);
  }
  for (const key of Object.keys(opts)) {
    if (key !== 'dtype' && key !== 'requiresGrad') throw new Error(`${op}: unknown option '${key}' (known: dtype, requiresGrad)`);
  }
  const { dtype, requiresGrad } = opts as CreateOptions;
  if (dtype !== undefined && !isDType(dtype)) throw new Error(`${op}: unknown dtype '${String(dtype)}'`);
  if (floatOnly && dtype !== undefined && dtype !== 'float32') {
    throw new Error(`${op}: draws float32 values, got dtype '${dtype}' (randint draws int32)`);
  }
  if (requiresGrad !== undefined && typeof requiresGrad !== 'boolean') {
    throw new Error(`${op}: requiresGrad must be true or false, got ${String(requiresGrad)}`);
  }
  return opts as CreateOptions;
}

/**
 * Makes a tensor from a number, nested arrays or a typed array (then `shape` is needed unless
 * it is 1-D). Float32Array defaults to float32, Int32Array to int32. Only numbers are accepted:
 * strings, booleans, bigints, null, undefined, holes and objects throw, naming the index.
 */
export function tensor<V extends Nested | ArrayLike<number>, D extends DType = DTypeOf<V>>(values: V, opts?: CreateOptions<D>): TensorOf<D>;
export function tensor<V extends Nested | ArrayLike<number>, D extends DType = DTypeOf<V>>(values: V, shape: Shape, opts?: CreateOptions<D>): TensorOf<D>;
export function tensor(values: Nested | ArrayLike<number>, shapeOrOpts?: Shape | CreateOptions, maybeOpts?: CreateOptions): Tensor {
  const shapeArg = Array.isArray(shapeOrOpts) ? (shapeOrOpts as Shape) : undefined;
  const opts = createOptions('tensor', Array.isArray(shapeOrOpts) ? maybeOpts : shapeOrOpts);
  let flat: ArrayLike<number>;
  let shape: number[];
  let dtype: DType = opts.dtype ?? 'float32';
  if (ArrayBuffer.isView(values)) {
    flat = values as unknown as ArrayLike<number>;
    if (opts.dtype === undefined) dtype = values instanceof Int32Array ? 'int32' : values instanceof Int8Array ? 'int8' : values instanceof Uint8Array ? 'uint8' : 'float32';
    shape = shapeArg ? shapeArg.slice() : [flat.length];
  } else if (typeof values === 'number') {
    flat = [values];
    shape = shapeArg ? shapeArg.slice() : [];
  } else if (Array.isArray(values)) {
    const inferred = inferShape(values as Nested);
    const out: number[] = [];
    flatten(values as Nested, inferred, 0, out, '');
    flat = out;
    shape = shapeArg ? shapeArg.slice() : inferred;
  } else {
    throw new Error(`tensor: expected a number, nested arrays of numbers or a typed array, got ${describeValue(values)}`);
  }
  checkShape('tensor', shape);
  if (sizeOf(shape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fit shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
  }
  if (!isDType(dtype)) throw new Error(`tensor: unknown dtype '${String(dtype)}'`);
  const range = integerRange(dtype);
  if (range.integer) {
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (!Number.isInteger(v)) throw new Error(`tensor: ${dtype} tensor needs integer values, got ${v} at index ${i}`);
      if (v < range.min || v > range.max) throw new Error(`tensor: value ${v} at index ${i} is out of the ${dtype} range [${range.min}, ${range.max}]`);
    }
  }
  const t = empty(shape, dtype);
  write(dtype, t.ptr, flat);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full<D extends DType = DType>(shape: Shape, value: number, opts?: CreateOptions<D>): TensorOf<D>;
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor {
  checkShape('full', shape);
  const opts = createOptions('full', options);
  const dtype = opts.dtype ?? 'float32';
  if (!isDType(dtype)) throw new Error(`full: unknown dtype '${String(dtype)}'`);
  const range = integerRange(dtype);
  if (range.integer && (!Number.isInteger(value) || value < range.min || value > range.max)) {
    throw new Error(`full: a ${dtype} tensor needs an integer value in [${range.min}, ${range.max}], got ${value}`);
  }
  // Zeros come from the allocator already cleared (fresh pages are not touched at all).
  const t = allocate('full', shape, dtype, value === 0 && !Object.is(value, -0));
  if (value !== 0 || Object.is(value, -0)) {
    if (dtype === 'float32') kernels().fill(t.ptr, value, t.size);
    else fillElements(dtype, t.ptr, t.size, value);
  }
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros<D extends DType = DType>(shape: Shape, opts: CreateOptions<D> = {}): TensorOf<D> {
  return full(shape, 0, opts);
}

export function ones<D extends DType = DType>(shape: Shape, opts: CreateOptions<D> = {}): TensorOf<D> {
  return full(shape, 1, opts);
}

export function zerosLike<T extends Tensor>(t: T): TensorOf<T['dtype']> {
  return zeros(t.shape, { dtype: t.dtype }) as TensorOf<T['dtype']>;
}

/** [start, stop) with step, float32 unless dtype says int32. */
export function arange<D extends DType = DType>(start: number, stop?: number, step?: number, opts?: CreateOptions<D>): TensorOf<D>;
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return tensor(vals, [n], opts);
}
