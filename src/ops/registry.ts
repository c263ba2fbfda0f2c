// The op registry: every op is one definition — name, attributes, shape rule, forward,
// backward, and what its tests need (`tests`: samples, a reference, bad inputs) — made into the
// public function by `defineOp`. The graph records each node's definition name and attributes (ONNX
// export and pruning read them); `opShape` infers output shapes without running anything;
// the gradient, forward-value and bad-input test tables, and the Tensor methods, are built
// from the registry, so an op is tested and reachable as `x.op()` by being defined.
//
// Naming: the definition's name is the exported function's name, the name in the graph and in
// error messages, and the prefix of its kernels (`crossEntropy` → `crossEntropy`,
// `crossEntropyBackward` in assembly/loss.ts).
import { manageResult, record } from '../core/autograd.js';
import { profiling, timed } from '../core/profile.js';
import { Tensor, type DType, type Shape } from '../core/tensor.js';

export type OpFamily =
  | 'elementwise' | 'reduce' | 'shape' | 'softmax' | 'loss' | 'matmul' | 'conv' | 'pool' | 'norm' | 'dropout'
  | 'attention' | 'recurrent' | 'sparse' | 'quantize' | 'graph' | 'energy';

/** Host-side tensor for plain-JS references: values in row-major order with their shape. */
export interface HostTensor {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** How a sample's input is drawn (by the test harness, from its seeded generator). */
export interface InputSpec {
  shape: readonly number[];
  /**
   * 'uniform' in [lo, hi) (default [-1, 1)); 'away': ±[lo, hi] with random sign, bounded away
   * from 0 (kinks of relu/abs; default lo 0.1, hi 1); 'distinct': a shuffled ramp, no ties
   * (max, pooling); 'values': the given `values` as float32; 'int': the given `values` as int32
   * (labels, indices).
   */
  kind?: 'uniform' | 'away' | 'distinct' | 'values' | 'int';
  lo?: number;
  hi?: number;
  values?: readonly number[];
  /** Whether the gradient check differentiates with respect to it (default: true for floats). */
  grad?: boolean;
}

/** One way to call an op in the tests: inputs drawn from specs, then `call(...inputs)`. */
export interface OpSample {
  label: string;
  inputs: readonly InputSpec[];
  /** Arguments after the inputs (attributes) for the default call `op(...inputs, ...args)`. */
  args?: readonly unknown[];
  /** A call other than the default (an op's definition calls itself through `callOp`). */
  call?: (...xs: Tensor[]) => Tensor;
  /** Skip the finite-difference check for this sample (say why), e.g. a kink at the sample. */
  noGradcheck?: string;
}

/** A call that must throw an Error whose message matches `error` (it starts with the op's name). */
export interface BadInput {
  label: string;
  call: () => unknown;
  error: string | RegExp;
}

/**
 * What the op's values must agree with, called like the op (the sample's inputs, then its
 * `args`): `composed`, the same function built from other ops (for fused fast paths: values
 * and gradients are compared), or `js`, plain JavaScript with host arrays in place of the
 * tensors (for primitives: values are compared). `tolerance` is relative to max(1, |ref|).
 * Samples with their own `call` are not compared.
 */
export type Reference =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | { composed: (...args: any[]) => Tensor; tolerance?: number }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | { js: (...args: any[]) => HostTensor; tolerance?: number };

export interface ForwardResult<S> {
  out: Tensor;
  /** Buffers the backward needs (masks, statistics), freed with the graph. */
  saved?: Tensor[];
  /** Plain values the backward needs (geometry, scales). */
  state?: S;
}

export interface BackwardContext<A, S> {
  /** The inputs in declared order (null for absent optional ones). */
  inputs: readonly (Tensor | null)[];
  attrs: A;
  out: Tensor;
  saved: readonly Tensor[];
  state: S;
}

export interface Parsed<A> {
  /** Tensor inputs in declared order; null for an absent optional input. */
  inputs: (Tensor | null)[];
  attrs: A;
  /** Tensors parse created (numbers turned into scalars): inputs of the node, freed with it. */
  temps?: Tensor[];
}

/**
 * What the tests need of an op (test/ops/registry.test.ts): how to call it, what its values must
 * agree with, and which calls must throw.
 */
export interface OpTests {
  reference?: Reference;
  /** Why the op has no reference, when it cannot have one. */
  noReference?: string;
  samples: readonly OpSample[];
  badInputs?: readonly BadInput[];
}

/** What every op definition states, composed or not: identity, inputs and test material. */
export interface OpCommon<M extends boolean> {
  name: string;
  family: OpFamily;
  /** One line for the docs. */
  summary: string;
  /**
   * Names of the tensor inputs in graph order; a trailing '?' marks an optional one, a trailing
   * '...' a variadic last input (concat's `tensors...`: parse may return any number of them).
   */
  inputs: readonly string[];
  /** Whether `x.name(...rest)` is a Tensor method calling `name(x, ...rest)`. */
  method?: M;
  /** Dtypes its tensor inputs may have (default float32 only; views and copies take any). */
  dtypes?: readonly DType[];
  /**
   * Test material, written `tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { ... } : undefined`
   * (helpers taking it as an argument are passed the same conditional). The minified browser
   * bundle defines that flag as false (scripts/build-js.mjs; src/build-flags.d.ts): esbuild folds
   * the conditionals to `undefined` while parsing each file, so the material, and the helpers
   * only it uses (host references, naive conv loops, shared bad-input lists), are tree-shaken
   * out. Sources, vitest and the Node bundles leave the flag undefined and keep the material.
   * The guard must be spelled out at each use: a constant imported from another module is
   * inlined by esbuild only after tree shaking, which then keeps those helpers.
   */
  tests?: OpTests;
}

export interface OpSpec<Args extends unknown[], A extends object, S, M extends boolean> extends OpCommon<M> {
  /** Public arguments → tensor inputs and attributes. Validates types and attribute values. */
  parse: (...args: Args) => Parsed<A>;
  /** Output shape from input shapes and attributes (validates shapes; reads no data). */
  shape: (shapes: readonly (Shape | null)[], attrs: A) => number[];
  /** Computes the output (of the shape the rule gave). Returning an input means "identity": no node. */
  forward: (inputs: readonly (Tensor | null)[], attrs: A, outShape: number[]) => Tensor | ForwardResult<S>;
  /** Vector-Jacobian product: one gradient (or null) per declared input. Absent: not differentiable. */
  backward?: (grad: Tensor, ctx: BackwardContext<A, S>) => (Tensor | null)[];
}

/** A defined op as the registry holds it (attribute and state types erased). */
export interface OpDef {
  readonly name: string;
  readonly family: OpFamily;
  readonly summary: string;
  readonly inputs: readonly string[];
  readonly method: boolean;
  readonly dtypes: readonly DType[];
  readonly differentiable: boolean;
  /** Composed ops record no node of their own: the ops they are built from do. */
  readonly composed: boolean;
  /** Whether the definition carried its test material (false in bundles built without it). */
  readonly hasTests: boolean;
  readonly reference: Reference | undefined;
  readonly noReference: string | undefined;
  /** The definition's samples ([] without test material). */
  readonly samples: readonly OpSample[];
  readonly badInputs: readonly BadInput[];
  /** The public function. */
  readonly fn: (...args: never[]) => Tensor;
  /** Output shape for these input shapes and (parsed) attributes; throws what the op would. */
  readonly shape: ((shapes: readonly (Shape | null)[], attrs: object) => number[]) | null;
}

/** The public function of an op, carrying its definition. */
export type OpFn<Args extends unknown[], M extends boolean> = ((...args: Args) => Tensor) & { readonly def: OpDef; readonly method: M };

const registry = new Map<string, OpDef>();

/** Input i's name in messages: 'x' for 'x?', 'tensors[2]' for the third of a variadic 'tensors...'. */
function inputName(declared: readonly string[], i: number): string {
  const last = declared.length - 1;
  if (last >= 0 && i >= last && declared[last].endsWith('...')) return `${declared[last].slice(0, -3)}[${i - last}]`;
  return declared[i]?.replace('?', '') ?? `input ${i}`;
}

/** The registry's record of a definition: its common part with defaults, plus what differs by kind. */
function describe<M extends boolean>(spec: OpCommon<M>, rest: Pick<OpDef, 'differentiable' | 'composed' | 'fn' | 'shape'>): OpDef {
  const t = spec.tests;
  return {
    name: spec.name, family: spec.family, summary: spec.summary, inputs: spec.inputs, method: spec.method === true,
    dtypes: spec.dtypes ?? ['float32'], hasTests: t !== undefined, reference: t?.reference, noReference: t?.noReference,
    samples: t?.samples ?? [], badInputs: t?.badInputs ?? [], ...rest,
  };
}

function register(def: OpDef): void {
  if (registry.has(def.name)) throw new Error(`defineOp: an op named '${def.name}' is already defined`);
  registry.set(def.name, def);
}

/**
 * The user called `op`, so its errors start with its name, also when a helper it ran refused
 * first (the allocator's 'empty: ... exceed the 4 GiB' for a huge padding, an inner op of a
 * composed one). Only plain Errors are renamed: a trap or a TypeError stays what it is.
 */
function named(op: string, e: unknown): unknown {
  if (e instanceof Error && e.constructor === Error && !e.message.startsWith(`${op}: `)) {
    return new Error(`${op}: ${e.message}`, { cause: e });
  }
  return e;
}

/** Makes an op from its definition and registers it. */
export function defineOp<Args extends unknown[], A extends object, S = undefined, M extends boolean = false>(
  spec: OpSpec<Args, A, S, M>,
): OpFn<Args, M> {
  const { name, parse, shape, forward, backward } = spec;
  const backwardName = `${name} backward`;
  const fn = (...args: Args): Tensor => (profiling() ? timed(name, () => run(args)) : run(args));
  const run = (args: Args): Tensor => {
    const { inputs, attrs, temps } = parse(...args);
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (t !== null && !t.isAlive) {
        for (const x of temps ?? []) x.dispose();
        throw new Error(`${name}: ${inputName(spec.inputs, i)} ${t.toString()} ${t.releaseReason}; it can no longer be used`);
      }
    }
    let r: Tensor | ForwardResult<S>;
    try {
      r = forward(inputs, attrs, shape(inputs.map((t) => (t === null ? null : t.shape)), attrs));
    } catch (e) {
      for (const x of temps ?? []) x.dispose();
      throw named(name, e);
    }
    const res: ForwardResult<S> = r instanceof Tensor ? { out: r } : r;
    const out = res.out;
    const saved = [...(res.saved ?? []), ...(temps ?? [])];
    if (inputs.includes(out)) {
      for (const t of saved) t.dispose();
      return out;
    }
    const present = inputs.filter((t): t is Tensor => t !== null);
    const presentNames: string[] = [];
    for (let i = 0; i < inputs.length; i++) if (inputs[i] !== null) presentNames.push(inputName(spec.inputs, i));
    if (backward === undefined) {
      for (const t of saved) t.dispose();
      return manageResult(name, out);
    }
    const ctx: BackwardContext<A, S> = { inputs, attrs, out, saved: res.saved ?? [], state: res.state as S };
    return record(name, out, present, (g) => {
      const grads = profiling() ? timed(backwardName, () => backward(g, ctx)) : backward(g, ctx);
      const mapped: (Tensor | null)[] = [];
      for (let i = 0; i < inputs.length; i++) if (inputs[i] !== null) mapped.push(grads[i] ?? null);
      return mapped;
    }, saved, attrs, presentNames);
  };
  const def = describe(spec, {
    differentiable: backward !== undefined, composed: false, fn: fn as unknown as (...args: never[]) => Tensor,
    shape: shape as (shapes: readonly (Shape | null)[], attrs: object) => number[],
  });
  register(def);
  return Object.assign(fn, { def, method: (spec.method ?? false) as M });
}

export interface CompositeSpec<F extends (...args: never[]) => Tensor, M extends boolean> extends OpCommon<M> {
  /** The op, written with other ops (it records their nodes; its gradient comes from them). */
  fn: F;
}

/** Registers an op composed of other ops, so that the test tables and Tensor methods include it. */
export function defineComposite<F extends (...args: never[]) => Tensor, M extends boolean = false>(
  spec: CompositeSpec<F, M>,
): F & { readonly def: OpDef; readonly method: M } {
  const inner = spec.fn as unknown as (...args: unknown[]) => Tensor;
  // Disposed inputs are named here, under this op's name, not by whichever inner op meets them.
  const fn = (...args: unknown[]): Tensor => {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof Tensor && !a.isAlive) {
        throw new Error(`${spec.name}: ${inputName(spec.inputs, i)} ${a.toString()} ${a.releaseReason}; it can no longer be used`);
      }
    }
    try {
      return profiling() ? timed(spec.name, () => inner(...args)) : inner(...args);
    } catch (e) {
      // An op it is built from refused the input (mseLoss of an empty batch: 'mean: ...').
      throw named(spec.name, e);
    }
  };
  const def = describe(spec, { differentiable: true, composed: true, fn: fn as (...args: never[]) => Tensor, shape: null });
  register(def);
  return Object.assign(fn as unknown as F, { def, method: (spec.method ?? false) as M });
}

/** Every registered op, in definition order. */
export function allOps(): OpDef[] {
  return [...registry.values()];
}

/** The definition of the op `name`, or undefined. */
export function getOp(name: string): OpDef | undefined {
  return registry.get(name);
}

/**
 * Output shape of op `name` for inputs of these shapes (null for an absent optional input) and
 * these attributes (as the graph records them), without running it; throws what the op would.
 */
export function opShape(name: string, shapes: readonly (Shape | null)[], attrs: object = {}): number[] {
  const def = registry.get(name);
  if (def === undefined) throw new Error(`opShape: no op named '${name}'`);
  if (def.shape === null) throw new Error(`opShape: '${name}' is composed of other ops; infer the shapes of those`);
  return def.shape(shapes, attrs);
}

/** Calls op `name` by its registry name (for a definition's samples, which cannot name the op itself). */
export function callOp(name: string, ...args: unknown[]): Tensor {
  const def = registry.get(name);
  if (def === undefined) throw new Error(`callOp: no op named '${name}'`);
  return (def.fn as (...a: unknown[]) => Tensor)(...args);
}

/** Ops whose definitions ask for a Tensor method, for attaching them to Tensor.prototype. */
export function methodOps(): OpDef[] {
  return allOps().filter((d) => d.method);
}

/** Methods `x.name(...rest)` for every op of a family module whose definition sets `method: true`. */
export type MethodsOf<T> = {
  // `any` for the first parameter: relating it to Tensor here would make Tensor's own type circular.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof T as T[K] extends { readonly method: true } ? K : never]: T[K] extends (x: any, ...rest: infer R) => infer Out
    ? (...rest: R) => Out
    : never;
};
