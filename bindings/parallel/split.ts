// Passes over memory (elementwise maps, pooling planes, optimizer updates) split across the
// threads. Such a kernel call is described by where its units (elements, planes) start and how
// many there are; the units of one or more calls are cut into consecutive ranges and each
// range is one task running the same kernels on its part. Every unit is computed by the same
// operations whichever thread runs it, so results never depend on the thread count.
//
// batchSplits(fn) collects the calls made inside fn and runs them as one parallel job at the
// end (an optimizer's step over all its parameters: one fork/join instead of one per tensor).
import { runtime } from '../index.js';
import type { KernelName } from '../kernels.js';
import { advance } from '../memory.js';
import { runPlan, type PlanArgs } from './plan.js';
import { plannedThreads } from './pool.js';

/** One kernel call over `units` units that can be cut anywhere between units. */
export interface SplitCall<K extends KernelName = KernelName> {
  readonly name: K;
  /** The arguments for the whole call. */
  readonly args: PlanArgs<K>;
  /** Number of units (elements, planes). */
  readonly units: number;
  /** Index of the argument that holds the unit count. */
  readonly countArg: number;
  /** Pointer arguments that move with the units: [argument index, float32 elements per unit]. */
  readonly moves: readonly (readonly [arg: number, elementsPerUnit: number])[];
  /** Work per unit, in GEMM-flop equivalents (what the thread planner compares to its thresholds). */
  readonly cost: number;
  /**
   * Ranges are multiples of this many units (default 16: a float32 call's pieces then start
   * on 64-byte boundaries like the call itself); 1 where units are large (channels, planes).
   */
  readonly align?: number;
}

/**
 * Per element, a memory-bound elementwise pass (a map, a gradient mask) costs about as much as
 * this many GEMM flops: its memory traffic, not its arithmetic.
 */
export const ELEMENTWISE_COST = 12;

/**
 * The reduceSum kernel on x viewed as [outer, n, inner] (out [outer, inner]), its outer blocks
 * split across threads when large enough: each block's sums are computed whole by one thread,
 * so the bits do not depend on the thread count.
 */
export function splitReduceSum(x: number, out: number, outer: number, n: number, inner: number, scale: number): void {
  splitCall({
    name: 'reduceSum', args: [x, out, outer, n, inner, scale], units: outer, countArg: 2,
    moves: [[0, n * inner], [1, inner]], cost: n * inner * ELEMENTWISE_COST, align: 1,
  });
}

/**
 * Per element, copying rows picked by index (a batch from a data set held in wasm memory, an
 * embedding lookup) costs about this many GEMM flops: rows far apart miss the caches.
 */
export const GATHER_COST = 24;

/**
 * out[r] = src[idx[r]] for n rows of dim 4-byte values, the rows split across threads when
 * there are enough. The indices must have been checked (kernels.indexOutOfRange).
 */
export function splitGatherRows(src: number, dim: number, idx: number, n: number, out: number): void {
  splitCall({
    name: 'gatherRowsAt', args: [src, dim, idx, n, out], units: n, countArg: 3,
    moves: [[2, 1], [4, dim]], cost: dim * GATHER_COST, align: 1,
  });
}

let batch: SplitCall[] | null = null;

/** Runs the call now, split across threads when large enough, or queues it inside batchSplits(). */
export function splitCall<K extends KernelName>(call: SplitCall<K>): void {
  if (batch !== null) batch.push(call as unknown as SplitCall);
  else runSplits([call as unknown as SplitCall]);
}

/** Runs fn, then every call it made through splitCall() as one parallel job (in order on one thread). */
export function batchSplits<T>(fn: () => T): T {
  if (batch !== null) return fn(); // nested: the outer batch runs them
  const calls: SplitCall[] = [];
  batch = calls;
  let out: T;
  try {
    out = fn();
  } finally {
    batch = null;
  }
  runSplits(calls);
  return out;
}

function part(call: SplitCall, from: number, count: number): number[] {
  const a = [...(call.args as unknown as number[])];
  a[call.countArg] = count;
  for (const [i, per] of call.moves) a[i] = advance(a[i], 'float32', from * per);
  return a;
}

function runSplits(calls: readonly SplitCall[]): void {
  if (calls.length === 0) return;
  let units = 0;
  let flops = 0;
  for (const c of calls) {
    units += c.units;
    flops += c.units * c.cost;
  }
  if (units === 0) return;
  if (plannedThreads(flops) === 1) {
    // Most calls are small: run them directly, without a plan's bookkeeping.
    const k = runtime().kernels as unknown as Record<string, (...a: number[]) => unknown>;
    for (const c of calls) if (c.units > 0) k[c.name](...(c.args as unknown as number[]));
    return;
  }
  // Range starts in the concatenation of all calls' units.
  let align = 16;
  for (const c of calls) align = Math.min(align, c.align ?? 16);
  const starts: number[] = [];
  let s0 = 0;
  for (const c of calls) {
    starts.push(s0);
    s0 += c.units;
  }
  runPlan({
    flops, items: units, ranges: { perThread: 2, align },
    work: (s, i0, count) => {
      const end = i0 + count;
      for (let k = 0; k < calls.length; k++) {
        const c = calls[k];
        const lo = Math.max(i0, starts[k]);
        const hi = Math.min(end, starts[k] + c.units);
        if (lo < hi) s.call(c.name, part(c, lo - starts[k], hi - lo) as never);
      }
    },
  });
}
