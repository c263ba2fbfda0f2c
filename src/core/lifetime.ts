// Who frees the tensors that no dispose() and no backward() names: results of ops that no
// graph will ever consume (inference under noGrad, argmax and comparisons for metrics, ops on
// data that needs no gradient) and graphs that are built but never backpropagated.
//
// The rule, in steps. A step boundary is the end of a backward() and the start of a top-level
// noGrad() call; none counts while a noGrad() call is running (its callback may collect
// results across a whole evaluation loop).
//   - An op result that no graph uses is released at the second boundary after it was made.
//   - A tensor a graph uses (a node, or an input of one) belongs to that graph: released by
//     the next backward() after the graph's own backward (autograd.ts), or, if the graph is
//     never backpropagated, at the end of the second backward() after it was made.
//   - keep(t) makes a tensor the caller's; so do parameter(), buffer() and persistent().
// Released scalars stay readable (.item(), .data()), like the loss.
//
// Entries hold WeakRefs: a tensor the user dropped is still collected by the garbage
// collector's backstop (tensor.ts) when no boundary comes.
import { bytesPerElement } from '../../bindings/memory.js';
import { Tensor } from './tensor.js';

interface Entry {
  readonly ref: WeakRef<Tensor>;
  readonly op: string;
  readonly step: number;
  readonly backwardCount: number;
}

let steps = 0;
let backwards = 0;
let entries: Entry[] = [];
// Entry count after the last sweep: a loop with no boundary compacts dead entries now and then.
let compactAt = 1024;
const kept = new WeakSet<Tensor>();
const usedByGraph = new WeakSet<Tensor>();

// A loop with no step boundary (forward passes outside noGrad and no backward(): plain
// inference) frees nothing until the garbage collector's backstop, which wasm memory does not
// prompt: memory grows until it runs out. Say so once, early: when the results made since the
// last boundary pass NO_BOUNDARY_WARN_BYTES and 4x the most any step between two boundaries
// has made (a training step with large activations is not a leak).
export const NO_BOUNDARY_WARN_BYTES = 512 * 2 ** 20;
let bytesSinceBoundary = 0;
let largestStepBytes = 0;
let warnedNoBoundary = false;

/** Puts an op's result (or a data batch) under the step rule. */
export function manage(t: Tensor, op: string): void {
  bytesSinceBoundary += t.size * bytesPerElement(t.dtype);
  if (bytesSinceBoundary > Math.max(NO_BOUNDARY_WARN_BYTES, 4 * largestStepBytes) && !warnedNoBoundary) {
    warnedNoBoundary = true;
    console.warn(`simdgrad: ${Math.round(bytesSinceBoundary / 2 ** 20)} MiB of op results (the last from ${op}) were made `
      + 'since the last step boundary, and none can be freed before one: a step ends at each backward() and at the start of '
      + 'each top-level noGrad() call. Forward passes outside noGrad() are kept for a backward() (until the second one after '
      + 'them); for inference, run each batch under sg.noGrad(() => ...) or use sg.predict / sg.evaluate. (Said once.)');
  }
  entries.push({ ref: new WeakRef(t), op, step: steps, backwardCount: backwards });
  if (entries.length >= compactAt) {
    entries = entries.filter((e) => e.ref.deref()?.isAlive === true);
    compactAt = Math.max(1024, entries.length * 2);
  }
}

/** A recorded node reads t: t now lives and dies with graphs. */
export function markGraphUse(t: Tensor): void {
  usedByGraph.add(t);
}

/**
 * Makes tensors the caller's: the step rule no longer frees them (dispose() or the garbage
 * collector does). Takes a tensor or arrays/objects of them (batches) and returns its argument,
 * so `const p = keep(model.forward(x))` reads well.
 */
export function keep<T>(tensors: T): T {
  keepAll(tensors, 0);
  return tensors;
}

function keepAll(v: unknown, depth: number): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) kept.add(v);
  else if (Array.isArray(v)) for (const x of v) keepAll(x, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) keepAll(x, depth + 1);
  else for (const x of Object.values(v)) keepAll(x, depth + 1);
}

/** Whether keep() (or parameter/buffer registration) took t out of the step rule. */
export function isKept(t: Tensor): boolean {
  return kept.has(t);
}

/**
 * A step boundary. `ownedByGraph(t)`: whether autograd already queued t for release with a
 * backpropagated graph (then the graph frees it, not this rule).
 */
export function stepBoundary(kind: 'backward' | 'noGrad', ownedByGraph: (t: Tensor) => boolean): void {
  steps++;
  largestStepBytes = Math.max(largestStepBytes, bytesSinceBoundary);
  bytesSinceBoundary = 0;
  if (kind === 'backward') backwards++;
  const rest: Entry[] = [];
  for (const e of entries) {
    const t = e.ref.deref();
    if (t === undefined || !t.isAlive || kept.has(t) || ownedByGraph(t)) continue;
    // A leaf that became a parameter (requiresGrad set on an op result) is the user's.
    if (t.requiresGrad && t.node === null) continue;
    if (t.node !== null || usedByGraph.has(t)) {
      if (backwards - e.backwardCount >= 2) releaseGraphTensor(t, e.op);
      else rest.push(e);
    } else if (steps - e.step >= 2) {
      t.release(`(the result of ${e.op}) was released two steps after it was made: results that no graph consumes live until the second backward() or top-level noGrad() call after them. Read it before then (.data(), .item()) or keep it with sg.keep(t)`);
    } else {
      rest.push(e);
    }
  }
  entries = rest;
  compactAt = Math.max(1024, entries.length * 2);
}

function releaseGraphTensor(t: Tensor, op: string): void {
  const saved = t.node?.saved ?? [];
  t.release(`(the output of ${op}) was released two backward() calls after it was made: its graph was never backpropagated. Run inference under sg.noGrad(), or keep it with sg.keep(t)`);
  for (const s of saved) s.dispose();
}

/** Counters for tests and memory reports. */
export function lifetimeStats(): { steps: number; backwards: number; managed: number } {
  return { steps, backwards, managed: entries.length };
}
