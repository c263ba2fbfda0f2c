// Parallel plans: an op states its work once, as the kernel calls of one item (an image, a
// block of rows, one product of a batch) with named scratch buffers and named sums, and the
// plan decides everything about threads:
//   - threads: threadsFor(flops), at most one per item (or per range), reduced to the workers
//     ready now. One thread is the same plan run on the calling thread: the same calls in the
//     same order, its GEMMs split across the pool by rows or columns when that pays;
//   - tasks: runs of consecutive items (about 8 per thread, so threads write far apart), or
//     `ranges` of consecutive items (perThread per thread, one range on one thread), or, for
//     an op with sums, one per lane;
//   - lanes for sums over items (weight gradients): the items are cut into L fixed runs of
//     consecutive items, each run accumulated into its own partial, and the partials are
//     added in lane order. L comes from plannedThreads (the settings and the sizes, never
//     timing; 4 lanes per planned thread, so a free thread can take over from a late one,
//     fewer when the partials would pass 64 MB), so a sum depends on the setThreads() count
//     only, never on how many threads ran it or which ran what. Everything an item writes
//     alone (outputs, input gradients) is bitwise the same on any thread count;
//   - scratch: each named buffer once per thread (a call gets the running thread's copy),
//     plus the lane partials, allocated for the call and freed after it;
//   - rounds: a job takes as many tasks as fit its buffer, the rest go to the next job.
//
// An op's work callback gets a Step `s`, the item index and a count (1 unless `ranges`):
//   s.call(kernel, args)   one kernel call; an argument is a number (pointer or size),
//                          s.scratch(name) (this thread's buffer) or WORKSPACE (this thread's
//                          gemm workspace)
//   s.gemm(...)            C = op(A)·op(B) + beta·C (+ bias, ReLU), pointers or scratch
//   s.sum(name), s.first   this item's lane partial of a sum, and whether the item is the
//                          first of its lane (then write the partial, do not add to it)
// Items must be independent except through sums; a sum over no items is zero. Example, a
// weight gradient dW[M, K] = Σ_b dY_b[M, P] · X_bᵀ over a batch, each X_b copied into scratch:
//
//   runPlan({
//     flops: 2 * B * M * K * P,
//     items: B,
//     scratch: { xb: K * P },                              // float32 elements, per thread
//     sums: { dw: { elements: M * K, into: dw.ptr } },     // lane 0 accumulates into dw
//     work: (s, b) => {
//       s.call('copy', [x.ptrAt(b * K * P), s.scratch('xb'), K * P]);
//       s.gemm(false, true, M, K, P, dy.ptrAt(b * M * P), P, s.scratch('xb'), P, s.first ? 0 : 1, s.sum('dw'), K);
//     },
//   });
//
// Attention (per head), recurrent layers (per sequence, sums for the shared weights) and
// sparse kernels (per block of rows) are written the same way.
import { runtime } from '../index.js';
import { GEMM_RELU, GEMM_SKIP_ZEROS_A, GEMM_TRANS_C, type KernelName, type Kernels } from '../kernels.js';
import { advance, bytesPerElement, withScratch } from '../memory.js';
import { Job, plannedThreads, threadsFor } from './pool.js';

/** A pointer argument resolved by the thread that runs the call: its scratch buffer or its gemm workspace. */
export class Ref {
  /** @internal */
  constructor(readonly workspace: boolean, readonly offset: number) {}
}

/** The running thread's gemm workspace (gemmWorkspaceBytes() bytes), for kernels that take one. */
export const WORKSPACE = new Ref(true, 0);

/** A pointer or size argument of a planned call. */
export type Arg = number | Ref;

/** A kernel's arguments in a plan: numbers, or Refs where it takes a pointer. */
export type PlanArgs<K extends KernelName> = Kernels[K] extends (...a: infer A) => unknown ? { [I in keyof A]: Arg } : never;

/** A sum over items (e.g. a weight gradient), accumulated per lane and added in lane order. */
export interface SumSpec {
  /** float32 elements. */
  elements: number;
  /** Where the sum goes (lane 0 accumulates there), or null for a scratch buffer handed to `finish`. */
  into: number | null;
}

export interface PlanSpec<S extends string, R extends string> {
  /** Floating-point operations of the whole call: decides the thread count (and the lanes). */
  flops: number;
  /** Independent items. */
  items: number;
  /** At most this many threads (default: one per item, or per `align` items with ranges). */
  maxThreads?: number;
  /** A thread count from threadsFor(), instead of deciding it here. */
  threads?: number;
  /** With fewer than this many items per thread, run on one thread (its GEMMs split instead). */
  minItemsPerThread?: number;
  /** Tasks of consecutive items: `perThread` ranges per thread, each a multiple of `align` items but the last. */
  ranges?: { perThread: number; align?: number };
  /** Scratch buffers per thread: name -> float32 elements. */
  scratch?: { readonly [K in S]: number };
  /** Sums over the items: name -> where and how large; an absent entry is not computed. */
  sums?: { readonly [K in R]?: SumSpec };
  /** The calls of item `item` (with ranges: of items item .. item + count - 1). */
  work: (s: Step<S, R>, item: number, count: number) => void;
  /**
   * Optional: the calls of the run of items item .. item + count - 1 as one kernel call that
   * loops over them (not with `ranges`). When given, one thread runs the whole call as one run
   * (one per lane with sums), and a job's task is one run: a lane with sums, else about 1/8 of
   * a thread's share of the items. `work` still runs an item alone when the item is worth
   * splitting across threads (its GEMMs are then split). `s.first` is whether the run's first
   * item is the first of its lane.
   */
  batch?: (s: Step<S, R>, item: number, count: number) => void;
  /** Called with each sum's total (its `into`, or the scratch holding it) before scratch is freed. */
  finish?: (sums: { readonly [K in R]: number }) => void;
}

/** What an item's work sees: where to put its calls and which buffers are its. */
export interface Step<S extends string = string, R extends string = string> {
  /** Threads this run was planned for (1: the calling thread only). */
  readonly threads: number;
  /** Whether this item is the first of its lane: it writes its sums' partials instead of adding to them. */
  readonly first: boolean;
  /** The running thread's scratch buffer `name`. */
  scratch(name: S): Ref;
  /** The current lane's partial of sum `name` (a pointer). */
  sum(name: R): number;
  /** Appends a kernel call. */
  call<K extends KernelName>(name: K, args: PlanArgs<K>): void;
  /** C = op(A)·op(B) + beta·C (+ bias per column, ReLU): one task's call, or split across threads on one thread. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: Arg, lda: number, b: Arg, ldb: number,
    beta: number, c: Arg, ldc: number, bias?: number, relu?: boolean): void;
}

interface Staged { name: KernelName; args: number[]; work: number; mask: number }

const NONE = {};
const NO_NAMES: string[] = [];

/** Scratch buffers start on 64-byte boundaries. */
const ALIGN_FLOATS = 16;
/** Lane partials of one call stay below this many bytes. */
const LANE_BYTES = 64 << 20;
/**
 * Buffers that different threads write at the same time (per-thread scratch, lane partials)
 * are kept this many float32s (128 KiB) apart. Closer, the threads slow each other down:
 * with per-thread column matrices 56 KB apart, a conv layer's forward on two threads took
 * 565-585 µs instead of 443 (it was 470 at 25 KB between them, 443-448 from 40 KB up),
 * most likely because the CPU's prefetchers read past the end of one thread's buffer into
 * the next one's.
 */
const SPREAD_FLOATS = 32 << 10;
/** Without sums, a job's tasks are runs of consecutive items, this many per thread. */
const RUNS_PER_THREAD = 8;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/**
 * Lanes for sums over `items` planned for T threads: each lane accumulates its items into its
 * own partial and the partials are added in lane order, so the result depends on this count —
 * 4 per thread (spare lanes let a free thread take over from a late one), fewer when the
 * partials would pass LANE_BYTES — and on nothing else.
 */
function laneCount(items: number, T: number, elements: number): number {
  return Math.max(Math.min(T, items), Math.min(items, 4 * T, Math.floor(LANE_BYTES / (bytesPerElement('float32') * Math.max(1, elements)))));
}

class PlanStep<S extends string, R extends string> implements Step<S, R> {
  first = true;
  lane = 0;
  /** Calls of the current item (job mode), or null: run each call now (one thread). */
  staged: Staged[] | null = null;

  private readonly refs: Record<string, Ref> = {};

  constructor(readonly threads: number, private readonly base: number, offsets: Record<string, number>,
    private readonly parts: Record<string, number[]>) {
    for (const name of Object.keys(offsets)) this.refs[name] = new Ref(false, offsets[name]);
  }

  scratch(name: S): Ref {
    const ref = this.refs[name];
    if (ref === undefined) throw new Error(`runPlan: no scratch buffer '${name}' in the plan`);
    return ref;
  }

  sum(name: R): number {
    const p = this.parts[name];
    if (p === undefined) throw new Error(`runPlan: no sum '${name}' in the plan`);
    return p[this.lane];
  }

  private ptr(v: Arg): number {
    if (typeof v === 'number') return v;
    return v.workspace ? runtime().gemmWork : this.base + v.offset;
  }

  call<K extends KernelName>(name: K, args: PlanArgs<K>): void {
    const a = args as unknown as Arg[];
    const nums = new Array<number>(a.length);
    if (this.staged === null) {
      for (let i = 0; i < a.length; i++) nums[i] = this.ptr(a[i]);
      (runtime().kernels[name] as (...x: number[]) => unknown)(...nums);
      return;
    }
    let work = -1;
    let mask = 0;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v === 'number') nums[i] = v;
      else if (v.workspace) {
        nums[i] = 0;
        work = i;
      } else {
        nums[i] = v.offset;
        mask |= 1 << i;
      }
    }
    this.staged.push({ name, args: nums, work, mask });
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: Arg, lda: number, b: Arg, ldb: number,
    beta: number, c: Arg, ldc: number, bias = 0, relu = false): void {
    if (this.staged === null) {
      parallelGemm(transA, transB, M, N, K, this.ptr(a), lda, this.ptr(b), ldb, beta, this.ptr(c), ldc, bias, relu);
    } else {
      this.call('gemm', [transA ? 1 : 0, transB ? 1 : 0, M, N, K, 1, a, lda, b, ldb, beta, c, ldc, bias, relu ? 1 : 0, WORKSPACE]);
    }
  }
}

/** Runs a plan: see the header. Returns when every item is done and the sums are added up. */
export function runPlan<S extends string = never, R extends string = never>(spec: PlanSpec<S, R>): void {
  const { items, flops, ranges } = spec;
  const align = ranges?.align ?? 1;
  const maxThreads = spec.maxThreads ?? Math.ceil(items / align);
  let T = spec.threads ?? threadsFor(flops, maxThreads);
  if (T > 1 && items < (spec.minItemsPerThread ?? 1) * T) T = 1;

  const sumSpecs = (spec.sums ?? NONE) as Record<string, SumSpec | undefined>;
  const sumNames = spec.sums === undefined ? NO_NAMES : Object.keys(sumSpecs).filter((k) => sumSpecs[k] !== undefined);
  let lanes = 1;
  if (spec.batch !== undefined && ranges !== undefined) throw new Error('runPlan: batch and ranges do not go together');
  if (sumNames.length > 0) {
    if (ranges !== undefined) throw new Error('runPlan: sums need one item per call of work (no ranges)');
    const planned = plannedThreads(flops, maxThreads);
    if (planned > 1) lanes = laneCount(items, planned, sumNames.reduce((n, k) => n + sumSpecs[k]!.elements, 0));
  }

  // Scratch: T blocks of the per-thread buffers, then the lane partials that are not `into`,
  // each followed by SPREAD_FLOATS when several threads run.
  const offsets: Record<string, number> = {};
  let block = 0;
  const scratch = (spec.scratch ?? NONE) as Record<string, number>;
  for (const name of spec.scratch === undefined ? NO_NAMES : Object.keys(scratch)) {
    offsets[name] = advance(0, 'float32', block);
    block += roundUp(scratch[name], ALIGN_FLOATS);
  }
  const spread = T > 1 ? SPREAD_FLOATS : 0;
  const stride = block === 0 ? 0 : block + spread;
  let total = T * stride;
  const partOffsets: Record<string, (number | null)[]> = {};
  for (const name of sumNames) {
    const s = sumSpecs[name]!;
    const offs: (number | null)[] = [];
    for (let l = 0; l < lanes; l++) {
      if (l === 0 && s.into !== null) offs.push(null);
      else {
        offs.push(total);
        total += roundUp(s.elements, ALIGN_FLOATS) + spread;
      }
    }
    partOffsets[name] = offs;
  }
  // In whole spreads: calls of slowly changing sizes (a growing sequence) then reuse the
  // freed block rather than each taking a new, larger one from fresh memory.
  if (spread > 0) total = roundUp(total, SPREAD_FLOATS);

  const run = (base: number): void => {
    const parts: Record<string, number[]> = {};
    for (const name of sumNames) parts[name] = partOffsets[name].map((o) => (o === null ? sumSpecs[name]!.into! : advance(base, 'float32', o)));
    const step = new PlanStep<S, R>(T, base, offsets, parts);
    const laneOf = (n: number): number => Math.floor((n * lanes) / items);
    // First item of lane l (the inverse of laneOf).
    const laneStart = (l: number): number => Math.ceil((l * items) / lanes);
    // Each lane's items as one run, with the step set to the lane: fn(first item, count).
    const eachLane = (fn: (n0: number, count: number) => void): void => {
      for (let l = 0; l < lanes; l++) {
        step.lane = l;
        step.first = true;
        const n0 = laneStart(l);
        if (laneStart(l + 1) > n0) fn(n0, laneStart(l + 1) - n0);
      }
    };
    const work = spec.work;
    const batch = spec.batch;

    if (T === 1) {
      if (ranges !== undefined) work(step, 0, items);
      else if (batch !== undefined && items > 0 && threadsFor(flops / items) === 1) eachLane((n0, count) => batch(step, n0, count));
      else {
        for (let n = 0; n < items; n++) {
          step.lane = laneOf(n);
          step.first = n === 0 || laneOf(n - 1) !== step.lane;
          work(step, n, 1);
        }
      }
    } else {
      const newJob = (): Job => {
        const job = new Job(T);
        for (let t = 0; t < T; t++) job.local(t, advance(base, 'float32', t * stride));
        return job;
      };
      let job = newJob();
      let open = -1;
      let tasks = 0;
      // One unit of work: items n .. n + count - 1, in the task of `key`.
      const unit = (key: number, n: number, count: number, calls = work): void => {
        const staged: Staged[] = [];
        step.staged = staged;
        calls(step, n, count);
        let args = 0;
        for (const c of staged) args += c.args.length;
        if (!job.fits(staged.length, args, key !== open)) {
          if (tasks > 0) job.run();
          job = newJob();
          open = -1;
          tasks = 0;
          if (!job.fits(staged.length, args, true)) throw new Error(`runPlan: the calls of one item (${staged.length}) do not fit a job`);
        }
        if (key !== open) {
          job.task();
          open = key;
          tasks++;
        }
        for (const c of staged) job.call(c.name, c.args as never, c.work, c.mask);
      };
      // A job is posted once its first task is written (the workers start while the rest is):
      // if writing throws, the job must still release them.
      try {
        if (ranges !== undefined) {
          const per = roundUp(Math.ceil(items / (ranges.perThread * T)), align);
          for (let i0 = 0; i0 < items; i0 += per) unit(i0, i0, Math.min(per, items - i0));
        } else if (batch !== undefined && sumNames.length > 0) {
          eachLane((n0, count) => unit(step.lane, n0, count, batch));
        } else if (sumNames.length > 0) {
          for (let n = 0; n < items; n++) {
            step.lane = laneOf(n);
            step.first = n === 0 || laneOf(n - 1) !== step.lane;
            unit(step.lane, n, 1);
          }
        } else {
          // Runs of consecutive items rather than single items per task: threads then write
          // far apart (see SPREAD_FLOATS), and a batch kernel has fewer tasks to write.
          const per = Math.max(1, Math.floor(items / (RUNS_PER_THREAD * T)));
          for (let n = 0; n < items; n += per) {
            const count = Math.min(per, items - n);
            if (batch !== undefined) unit(n, n, count, batch);
            else for (let i = n; i < n + count; i++) unit(n, i, 1);
          }
        }
        if (tasks > 0) job.run();
      } catch (e) {
        job.abort();
        throw e;
      }
    }

    // Lane partials in lane order; a sum over no items is zero.
    const k = runtime().kernels;
    const totals: Record<string, number> = {};
    for (const name of sumNames) {
      const p = parts[name];
      const n = sumSpecs[name]!.elements;
      if (items === 0) k.fill(p[0], 0, n);
      for (let l = 1; l < lanes; l++) k.axpy(1, p[l], p[0], n);
      totals[name] = p[0];
    }
    spec.finish?.(totals as { readonly [K in R]: number });
  };
  if (total === 0) run(0);
  else withScratch('float32', [total], ([p]) => run(p));
}

// ---- GEMM split across threads ------------------------------------------------------------

const MR = 4; // rows of the GEMM kernel's register tile
const NR = 8; // columns

/**
 * C = op(A)·op(B) + beta·C (+ bias per column, ReLU) on pointers (layout as the gemm kernel;
 * skipZerosA: the kernel's GEMM_SKIP_ZEROS_A, for a B known to be finite; transC: its
 * GEMM_TRANS_C, C stored [N, M]), split across
 * threads when it is worth it: by rows of C in multiples of the kernel's 4-row tile, or, when
 * C has few rows, by columns in multiples of its 8-column tile. Every element
 * of C is then computed by the same operations as on one thread: bitwise the same results.
 */
export function parallelGemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, a: number, lda: number,
  b: number, ldb: number, beta: number, c: number, ldc: number, bias = 0, relu = false, skipZerosA = false, transC = false,
): void {
  const flops = M > 0 && N > 0 && K > 0 ? 2 * M * N * K : 0;
  const T = threadsFor(flops, Math.max(Math.ceil(M / MR), Math.ceil(N / NR)));
  const tA = transA ? 1 : 0;
  const tB = transB ? 1 : 0;
  const r = (relu ? GEMM_RELU : 0) | (skipZerosA ? GEMM_SKIP_ZEROS_A : 0) | (transC ? GEMM_TRANS_C : 0);
  // Elements of C from row i to i + 1 and from column j to j + 1.
  const [rowStep, colStep] = transC ? [1, ldc] : [ldc, 1];
  if (T === 1) {
    // The one-thread plan is the whole product in one call: made directly, since every
    // matmul and linear comes through here, most of them small.
    const rt = runtime();
    rt.kernels.gemm(tA, tB, M, N, K, 1, a, lda, b, ldb, beta, c, ldc, bias, r, rt.gemmWork);
    return;
  }
  // Rows unless C is short and wide: then each thread would re-pack all of B for a few rows.
  if (M >= N || M >= 32 * T || Math.ceil(N / NR) < T) {
    runPlan({
      flops, threads: T, items: M, ranges: { perThread: 1, align: MR },
      work: (s, i0, m) => s.call('gemm', [tA, tB, m, N, K, 1, advance(a, 'float32', transA ? i0 : i0 * lda), lda, b, ldb,
        beta, advance(c, 'float32', i0 * rowStep), ldc, bias, r, WORKSPACE]),
    });
  } else {
    runPlan({
      flops, threads: T, items: N, ranges: { perThread: 1, align: NR },
      work: (s, j0, n) => s.call('gemm', [tA, tB, M, n, K, 1, a, lda, advance(b, 'float32', transB ? j0 * ldb : j0), ldb,
        beta, advance(c, 'float32', j0 * colStep), ldc, bias === 0 ? 0 : advance(bias, 'float32', j0), r, WORKSPACE]),
    });
  }
}
