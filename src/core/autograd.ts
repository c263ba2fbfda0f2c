// The dynamic graph: ops call `record` on their output; `backward` walks the graph in
// reverse topological order and runs each op's vector-Jacobian product, written next to
// the op's forward in ops/<family>.ts.
//
// Memory: intermediates of a graph stay readable after backward() (so metrics can be read
// from logits) and are released at the start of the next backward() — a training loop
// written the obvious way stays flat without a single dispose().
import { kernels } from '../../bindings/index.js';
import { stepEnded } from '../../bindings/parallel/index.js';
import { Tensor, fmt, full, inPersistent } from './tensor.js';
import { isKept, manage, markGraphUse, stepBoundary } from './lifetime.js';
import { profiling, timed } from './profile.js';

/** Vector-Jacobian product: upstream gradient -> gradient per input (null: input gets none). */
export type Backward = (grad: Tensor) => (Tensor | null)[];

export interface GraphNode {
  /** Name of the op's definition (src/ops/registry.ts). */
  readonly op: string;
  /** The op's attributes as parsed (stride, padding, axes, ...), for export and inspection. */
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly inputs: readonly Tensor[];
  readonly backward: Backward;
  /** Extra buffers the backward needs (softmax probabilities, masks), freed with the graph. */
  readonly saved: readonly Tensor[];
}

let gradEnabled = true;
// Nesting depth of public noGrad() calls: only the outermost starts a step (lifetime.ts).
let noGradDepth = 0;
let detectAnomaly = false;
// During backward the ops a VJP calls are not checked one by one: the VJP's result is,
// under the name of the op whose backward it is.
let inBackward = false;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn without recording the graph (inference, metrics). A top-level call starts a step:
 * results of ops that no graph consumes, made two steps ago, are released (lifetime.ts), while
 * nothing fn makes is released before fn returns.
 */
export function noGrad<T>(fn: () => T): T {
  if (noGradDepth === 0) endStep('noGrad');
  noGradDepth++;
  try {
    return withoutGrad(fn);
  } finally {
    noGradDepth--;
  }
}

/** noGrad for the library's own work (backward passes): no step boundary. */
function withoutGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** A step boundary (see lifetime.ts); none counts while a noGrad() call runs. */
function endStep(kind: 'backward' | 'noGrad'): void {
  if (noGradDepth > 0) return;
  const queued = new Set(pending);
  stepBoundary(kind, (t) => consumed.has(t) || queued.has(t));
  // The thread pool judges whole training steps too (bindings/parallel/step-guard.ts).
  if (kind === 'backward') stepEnded();
}

/** Puts the result of an op that records no node (argmax, detach) under the step rule. */
export function manageResult(op: string, out: Tensor): Tensor {
  if (!inBackward && !inPersistent()) manage(out, op);
  return out;
}

/** Runs fn with graph recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * NaN/Inf detector: when on, every op checks its output and backward checks every gradient,
 * and the first op that produces a non-finite value throws an Error naming it. When the
 * op's input already held the NaN/Inf (a tensor made with one, or written by setData), the
 * Error says so instead of blaming the op.
 */
export function setDetectAnomaly(on: boolean): void {
  detectAnomaly = on;
}
export function isAnomalyDetectionOn(): boolean {
  return detectAnomaly;
}

function nonFiniteCount(t: Tensor): number {
  return t.dtype === 'float32' ? kernels().countNonFinite(t.ptr, t.size) : 0;
}

function checkFinite(what: string, t: Tensor, inputs: readonly Tensor[], inputNames?: readonly string[]): void {
  if (t.dtype !== 'float32') return;
  const bad = kernels().countNonFinite(t.ptr, t.size);
  if (bad > 0) {
    if (inputNames !== undefined) {
      // The NaN/Inf came in with an input: the op only passed it on.
      for (let i = 0; i < inputs.length; i++) {
        const n = nonFiniteCount(inputs[i]);
        if (n > 0) {
          throw new Error(`${what}: input ${inputNames[i] ?? `${i}`} ${fmt(inputs[i].shape)} already holds ${n} non-finite value${n > 1 ? 's' : ''} (NaN or Inf) before the op ran`);
        }
      }
    }
    const ins = inputs.map((x) => fmt(x.shape)).join(', ');
    throw new Error(`${what} produced ${bad} non-finite value${bad > 1 ? 's' : ''} (NaN or Inf) in its output ${fmt(t.shape)} from inputs ${ins}`);
  }
}

/** Whether an op on these inputs must record a node. */
export function needsGrad(...inputs: Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

// The op that produced a tensor, kept after dispose() cleared its node (for backward's messages).
const producedBy = new WeakMap<Tensor, string>();
// Tensors whose node a backward() without retainGraph went through: their graph is used up.
const consumed = new WeakSet<Tensor>();

/**
 * Called by every op on its output. Records the node when any input requires grad;
 * otherwise frees `saved` right away. Also runs the anomaly check (`inputNames`: the
 * inputs' names for its messages).
 */
export function record(op: string, out: Tensor, inputs: Tensor[], backward: Backward, saved: Tensor[] = [], attrs: object = {}, inputNames?: readonly string[]): Tensor {
  if (detectAnomaly && !inBackward) checkFinite(op, out, inputs, inputNames ?? inputs.map((_, i) => `${i}`));
  if (!inBackward && !inPersistent()) manage(out, op);
  if (needsGrad(...inputs)) {
    for (const x of inputs) markGraphUse(x);
    producedBy.set(out, op);
    out.node = { op, attrs: attrs as Readonly<Record<string, unknown>>, inputs, backward, saved };
    out.requiresGrad = true;
  } else {
    for (const s of saved) s.dispose();
    // Computed with grad mode on but from inputs that need no gradient (a frozen layer, a
    // preprocessing step): freed with the first graph that uses it, unless a second graph
    // uses it too (then it is kept, e.g. features computed once and reused every step).
    if (gradEnabled) {
      autoTransient.add(out);
      autoInputs.set(out, inputs);
    }
  }
  return out;
}

// Tensors of the last graph that went through backward(); released at the next backward().
let pending: Tensor[] = [];

/** Marks a leaf tensor (e.g. a data batch) as owned by the graph that consumes it. */
const transient = new WeakSet<Tensor>();
const autoTransient = new WeakSet<Tensor>();
const autoInputs = new WeakMap<Tensor, readonly Tensor[]>();
export function markTransient(t: Tensor): Tensor {
  if (!transient.has(t)) manage(t, 'a data batch');
  transient.add(t);
  return t;
}

function topoSort(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: graphs of long training sequences (RNNs) would overflow a recursive one.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (!seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

export interface BackwardOptions {
  /** Gradient of the root (default: ones, which requires a one-element root). */
  gradient?: Tensor;
  /** Keep the graph for another backward() through it. */
  retainGraph?: boolean;
}

/**
 * Computes d(root)/d(leaf) for every leaf with requiresGrad, accumulating into `.grad`.
 *
 * A graph can be backpropagated once: a second backward() through any part of it throws
 * (as in PyTorch) unless the earlier call passed `{ retainGraph: true }`. Build a new graph
 * (a new forward) for every backward; parameters may be shared by any number of graphs, and
 * intermediates (logits) stay readable after backward until the next one. Every tensor of
 * the graph must still be alive: disposing an intermediate or the root before backward()
 * throws, naming the op that produced it.
 */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  if (profiling()) timed('backward (graph walk)', () => backwardNow(root, opts));
  else backwardNow(root, opts);
}

function backwardNow(root: Tensor, opts: BackwardOptions): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor ${fmt(root.shape)} does not require grad (no input of its graph has requiresGrad, or it was computed under noGrad)`);
  }
  if (opts.gradient === undefined && root.size !== 1) {
    throw new Error(`backward: root has shape ${fmt(root.shape)}; pass { gradient } for a non-scalar root`);
  }
  if (opts.gradient !== undefined && opts.gradient.shape.join() !== root.shape.join()) {
    throw new Error(`backward: gradient shape ${fmt(opts.gradient.shape)} differs from root shape ${fmt(root.shape)}`);
  }
  const order = topoSort(root);
  // From the root down: the message names the used-up or disposed tensor nearest the root.
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const op = producedBy.get(t);
    const what = op !== undefined ? `the output of ${op} ${fmt(t.shape)}` : `a leaf tensor ${fmt(t.shape)}`;
    if (consumed.has(t)) {
      throw new Error(`backward: trying to backward through the graph a second time (${what} was already backpropagated and its graph released); pass { retainGraph: true } to the first backward() to backward through it again`);
    }
    if (!t.isAlive) throw new Error(`backward: ${what}${t === root ? ' (the root)' : ''} was disposed before backward()`);
  }
  const inGraph = new Set(order);
  for (const t of order) for (const sv of t.node?.saved ?? []) inGraph.add(sv);
  const stillPending = pending.filter((t) => {
    if (!inGraph.has(t)) return false;
    if (autoTransient.has(t) && t.node === null) {
      autoTransient.delete(t); // reused by a second graph: the user keeps it
      return false;
    }
    return true;
  });
  for (const t of pending) if (!inGraph.has(t)) t.release('was released by a later backward() (intermediate of an earlier graph)');
  pending = stillPending;

  inBackward = true;
  try {
    withoutGrad(() => runBackward(order, root, opts));
  } finally {
    inBackward = false;
  }

  if (opts.retainGraph) {
    endStep('backward');
    return;
  }
  // Hand the graph's memory to the next backward(): intermediates, saved buffers and
  // transient inputs. Leaves the user made (parameters, reused data) are never touched.
  const queued = new Set(pending);
  const queue = (t: Tensor): void => {
    if (!queued.has(t)) {
      queued.add(t);
      pending.push(t);
    }
  };
  for (const t of order) {
    const node = t.node;
    if (node !== null) {
      consumed.add(t);
      queue(t);
      for (const sv of node.saved) queue(sv);
    } else if ((transient.has(t) || autoTransient.has(t)) && !isKept(t)) {
      queueWithSources(t, queue);
    }
  }
  endStep('backward');
}

// A leaf computed without gradient is released with its own transient sources (the batch
// that went through a frozen layer), which the graph cannot reach through it.
function queueWithSources(t: Tensor, queue: (t: Tensor) => void): void {
  const stack = [t];
  while (stack.length > 0) {
    const x = stack.pop()!;
    queue(x);
    for (const src of autoInputs.get(x) ?? []) {
      if ((transient.has(src) || autoTransient.has(src)) && !isKept(src)) stack.push(src);
    }
  }
}

function runBackward(order: Tensor[], root: Tensor, opts: BackwardOptions): void {
  const grads = new Map<Tensor, Tensor>();
  const owned = new Set<Tensor>(); // gradient tensors held in `grads` or `.grad`
  const seed = opts.gradient ?? onesLike(root);
  grads.set(root, opts.gradient ? cloneTensor(seed) : seed);
  owned.add(grads.get(root)!);

  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t);
    const node = t.node;
    if (node === null) {
      // A leaf: accumulate into .grad.
      if (t.requiresGrad) {
        if (t.grad === null) {
          t.grad = g;
        } else {
          kernels().axpy(1, g.ptr, t.grad.ptr, g.size);
          owned.delete(g);
          g.dispose();
        }
      } else {
        owned.delete(g);
        g.dispose();
      }
      continue;
    }
    const inGrads = node.backward(g);
    for (let i = 0; i < node.inputs.length; i++) {
      const x = node.inputs[i];
      let gi = inGrads[i];
      if (gi === null || gi === undefined || !x.requiresGrad) {
        if (gi && gi !== g && !owned.has(gi)) gi.dispose();
        continue;
      }
      if (gi.shape.join() !== x.shape.join()) {
        throw new Error(`backward of ${node.op}: gradient ${fmt(gi.shape)} does not match input ${fmt(x.shape)} (library bug)`);
      }
      if (detectAnomaly) checkFinite(`backward of ${node.op}`, gi, [g]);
      if (gi === g || owned.has(gi)) gi = cloneTensor(gi);
      const prev = grads.get(x);
      if (prev === undefined) {
        grads.set(x, gi);
        owned.add(gi);
      } else {
        kernels().axpy(1, gi.ptr, prev.ptr, gi.size);
        gi.dispose();
      }
    }
    owned.delete(g);
    g.dispose();
  }
}

/** Releases every intermediate kept from the last backward() now (e.g. before measuring memory). */
export function releaseGraphs(): void {
  for (const t of pending) t.release('was released by releaseGraphs()');
  pending = [];
}

function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1);
}

/** A fresh copy of t's values (no graph). */
export function cloneTensor(t: Tensor): Tensor {
  const c = full(t.shape, 0, { dtype: t.dtype });
  kernels().copy(t.ptr, c.ptr, t.size);
  return c;
}
