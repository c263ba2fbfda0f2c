// The thread pool: worker threads over the one shared wasm memory, and the jobs they run.
// Ops do not use it directly: they state their work as a plan (plan.ts), which decides the
// threads, lanes and scratch and writes the jobs. The main thread owns the allocator and all
// allocation (AssemblyScript's runtime is not thread-safe); workers only run kernels on
// pointers they are given, each with its own gemm workspace (allocated for it by the main
// thread).
//
// The API stays synchronous: a parallel call writes a job (independent tasks, each a list of
// kernel calls; see worker-entry.ts) into a SharedArrayBuffer, posting its epoch to the
// workers as soon as the first task is written and publishing each task as the next one
// starts (the workers begin while the rest is written), then claims and runs tasks itself
// like any worker until none is left, closes the job and waits for the workers still inside
// it. Claiming (an atomic counter) rather than assigning
// means a worker that is asleep, late or descheduled by a busy machine delays only a task it
// has already started, and a job it never entered not at all. Waiting spins first (a worker
// normally finishes within microseconds of the main thread); where the thread may block
// (Node, a Web Worker) it then sleeps in Atomics.wait, while a browser page's main thread,
// where Atomics.wait is not allowed, keeps spinning on Atomics.load: it is blocked in the
// synchronous call either way, and the task a worker is still running is no longer than its
// own. Which thread runs a task never changes its numbers, so the thread count may follow
// the moment (workers not up yet, asleep, a busy machine: see threadsFor and the back-off).
//
// Workers: worker_threads in Node (unref'd, so they never keep a process alive), Web
// Workers from a Blob URL in browsers (a Content-Security-Policy must allow worker-src blob:);
// both run the source text of worker-entry.ts. They start lazily, on the first call worth
// threading. In Node the main thread waits (once) for them to come up; in browsers nothing
// may wait for a worker to start (a page's main thread cannot block, and a Web Worker that
// blocks keeps its nested workers from starting), so calls stay single-threaded until the
// workers report ready (`await startThreads()` starts them ahead of time). After a job a
// worker spins on its sequence number for SPIN_MS before it sleeps in Atomics.wait, because
// waking a sleeping thread costs far more than a short spin.
import { KERNEL_NAMES, type KernelName, type Kernels } from '../kernels.js';
import { requestThreads, requestedThreads, runtime, type Runtime } from '../index.js';
import { execJob, workerSource } from './worker-entry.js';
import { timeJob, timingKernels } from '../profile.js';
import { Backoff } from './backoff.js';
import { StepGuard } from './step-guard.js';

export type { KernelName } from '../kernels.js';

/** Work below this many flops per thread is not split (where a split would cost more than it saves). */
let FLOPS_PER_THREAD = 2e6;
/** A call this small (flops) does not wait for a sleeping worker to wake up; it pokes it and runs alone. */
let WAKE_FLOPS = 8e6;
/** How long an idle worker spins before it sleeps (ms; read by workers when they start). */
let SPIN_MS = 1;
/** How long the main thread spins on the workers still inside a job before it sleeps (where it may). */
const MAIN_SPIN_MS = 0.5;
/** How long Node's main thread waits for a new worker to start. */
const START_TIMEOUT_MS = 20_000;

// Control block indices (see worker-entry.ts).
const STATE = 0;
const SEQ = 1;
const SLEEPING = 3;
const ERROR = 4;
const ERROR_LEN = 5;
const CTRL_BYTES = 512;
// Job buffer layout: Int32 indices of the claim counter, the closed epoch, the threads inside;
// then f64 indices.
const CLAIM = 0;
const CLOSED = 1;
const INSIDE = 2;
const PUBLISHED = 3;
const SEALED = 1 << 30;
const N_TASKS = 2;
const MAX_THREADS = 64;
const LOCAL = 4;
const TASKS = LOCAL + MAX_THREADS;
const MAX_TASKS = 4096;
const CALLS = TASKS + MAX_TASKS + 1;
const JOB_BYTES = 1 << 20;

interface WorkerHandle {
  postMessage(msg: unknown): void;
  terminate(): void;
}

interface Slot {
  handle: WorkerHandle;
  ctrl: Int32Array;
  work: number;
  /** Why it is unusable (failed to start), or null. */
  failed: string | null;
}

interface Pool {
  rt: Runtime;
  jobBuf: SharedArrayBuffer;
  J: Float64Array;
  I: Int32Array;
  slots: Slot[];
  /** Epoch of the last job posted. */
  epoch: number;
  mainFns: unknown[];
  busy: boolean;
  /** The last reason a worker failed, or null. */
  error: string | null;
}

type AnyGlobal = {
  process?: { getBuiltinModule?: (id: string) => unknown };
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string | URL, opts?: { name?: string; type?: string }) => WorkerHandle & { onerror: ((e: unknown) => void) | null; onmessage: ((e: unknown) => void) | null };
  Blob?: typeof Blob;
  URL?: typeof URL;
};
const g = globalThis as unknown as AnyGlobal;

function nodeModule<T>(id: string): T | null {
  try {
    return (g.process?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

let jobsRun = 0;
// The back-off (backoff.ts) judges every parallel job but the first GRACE_JOBS after a worker
// starts: a new worker's first tasks are slow while V8 compiles and tiers up the kernels and
// the caches warm.
const GRACE_JOBS = 16;
let backoff = envBackoff();
const backoffState = new Backoff();
// The step guard (step-guard.ts) compares whole training steps with and without threads.
let guard = true;
const guardState = new StepGuard();
let serial = false;
let grace = 0;

/**
 * @internal Tuning knobs for tests and benchmarks: flops per thread before a call is split,
 * the size below which a call does not wait for sleeping workers (0: always use them), the
 * idle spin of workers started afterwards, the back-off on a busy machine, and `serial` (run
 * everything on the calling thread, as when workers are not up yet, while plans stay the
 * same). Returns the current values, parallel jobs run so far and back-offs so far.
 */
export function tuneThreads(opts: { flopsPerThread?: number; wakeFlops?: number; spinMs?: number; backoff?: boolean; stepGuard?: boolean; serial?: boolean } = {}): {
  flopsPerThread: number; wakeFlops: number; spinMs: number; backoff: boolean; stepGuard: boolean; jobs: number; backoffs: number; guardOffs: number;
} {
  if (opts.serial !== undefined) serial = opts.serial;
  if (opts.flopsPerThread !== undefined) FLOPS_PER_THREAD = opts.flopsPerThread;
  if (opts.wakeFlops !== undefined) WAKE_FLOPS = opts.wakeFlops;
  if (opts.spinMs !== undefined) SPIN_MS = opts.spinMs;
  if (opts.backoff !== undefined) {
    backoff = opts.backoff;
    backoffState.reset();
    guardState.reset();
  }
  if (opts.stepGuard !== undefined) {
    guard = opts.stepGuard;
    guardState.reset();
  }
  return {
    flopsPerThread: FLOPS_PER_THREAD, wakeFlops: WAKE_FLOPS, spinMs: SPIN_MS, backoff, stepGuard: guard, jobs: jobsRun,
    backoffs: backoffState.count, guardOffs: guardState.offs,
  };
}

/**
 * @internal The end of a training step (a backward() call): the step guard times steps with
 * and without threads (step-guard.ts). Nothing to do while threading is off.
 */
export function stepEnded(): void {
  if (backoff && guard && pool !== null && wanted() > 1) guardState.step(performance.now(), jobsRun);
}
/**
 * SIMDGRAD_BACKOFF=off keeps threading on whatever the timing says (no back-off, no step
 * guard): for profiles and benchmarks that must see every large call split.
 */
function envBackoff(): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.SIMDGRAD_BACKOFF?.trim();
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`simdgrad: SIMDGRAD_BACKOFF must be on or off, got '${v}'`);
}

let pool: Pool | null = null;
let warned = false;

/** Number of cores the runtime reports (os.availableParallelism, navigator.hardwareConcurrency). */
let cores = 0;
export function availableCores(): number {
  if (cores === 0) cores = detectCores();
  return cores;
}
function detectCores(): number {
  const os = nodeModule<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os !== null) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const hc = g.navigator?.hardwareConcurrency;
  return typeof hc === 'number' && hc >= 1 ? Math.floor(hc) : 1;
}

/**
 * Sets how many threads (the calling one included) large GEMM and convolution calls may
 * use. 1 turns threading off. Default: the available cores (or init({ threads }) /
 * SIMDGRAD_THREADS). Without a shared memory only 1 is possible: see threadsInfo().reason.
 */
export function setThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`setThreads: expected an integer from 1 to ${MAX_THREADS}, got ${String(n)}`);
  }
  requestThreads(n);
}

function wanted(): number {
  return Math.min(MAX_THREADS, requestedThreads() ?? availableCores());
}

/** Threads large calls will use: the setThreads value, or 1 without a shared memory. */
export function getThreads(): number {
  const rt = runtime();
  return rt.shared ? wanted() : 1;
}

export interface ThreadsInfo {
  /** Threads large calls use (getThreads()). */
  threads: number;
  /** Cores the runtime reports. */
  cores: number;
  /** Whether the wasm memory is shared (needed for any threading). */
  sharedMemory: boolean;
  /** Workers started and ready. */
  workers: number;
  /** Why calls run on one thread only, or null when threads are available. */
  reason: string | null;
}

/** What the thread pool can do here, and why not when it cannot. */
export function threadsInfo(): ThreadsInfo {
  const rt = runtime();
  const p = pool !== null && pool.rt.memory === rt.memory ? pool : null;
  const ready = p === null ? 0 : p.slots.filter((s) => s.failed === null && Atomics.load(s.ctrl, STATE) === 1).length;
  let reason: string | null = rt.sharedNote;
  if (reason === null && workerFactory() === null) reason = 'this runtime has no worker threads (node:worker_threads or Web Workers)';
  if (reason === null && p !== null && p.error !== null) reason = p.error;
  if (reason === null && wanted() === 1) reason = 'one thread requested (setThreads(1), init({ threads: 1 }) or SIMDGRAD_THREADS=1)';
  return { threads: getThreads(), cores: availableCores(), sharedMemory: rt.shared, workers: ready, reason };
}

function warnOnce(why: string): void {
  if (warned) return;
  warned = true;
  console.warn(`simdgrad: running on one thread: ${why}`);
}

// ---- workers ---------------------------------------------------------------------------

type WorkerFactory = ((name: string) => WorkerHandle & { onFail(cb: (why: string) => void): void }) & { node?: boolean };

let sourceUrl: string | null = null;

function workerFactory(): WorkerFactory | null {
  factory ??= makeFactory();
  return factory;
}
let factory: WorkerFactory | null | undefined;

function makeFactory(): WorkerFactory | null {
  const wt = nodeModule<{ Worker: new (src: string, opts: { eval: boolean; name: string }) => WorkerHandle & { unref(): void; on(ev: string, cb: (x: unknown) => void): void } }>('node:worker_threads');
  if (wt !== null) {
    const f: WorkerFactory = (name) => {
      const w = new wt.Worker(workerSource(), { eval: true, name });
      w.unref();
      let fail: (why: string) => void = () => {};
      w.on('error', (e) => fail(`a worker thread failed: ${String(e)}`));
      w.on('exit', (code) => fail(`a worker thread exited (code ${String(code)})`));
      return { postMessage: (m) => w.postMessage(m), terminate: () => void w.terminate(), onFail: (cb) => { fail = cb; } };
    };
    f.node = true;
    return f;
  }
  const W = g.Worker;
  if (typeof W === 'function' && g.Blob !== undefined && g.URL !== undefined) {
    return (name) => {
      sourceUrl ??= g.URL!.createObjectURL(new g.Blob!([workerSource()], { type: 'text/javascript' }));
      const w = new W(sourceUrl, { name });
      let fail: (why: string) => void = () => {};
      w.onerror = (e) => fail(`a Web Worker failed (a Content-Security-Policy without worker-src blob:?): ${String((e as { message?: string }).message ?? e)}`);
      return { postMessage: (m) => w.postMessage(m), terminate: () => w.terminate(), onFail: (cb) => { fail = cb; } };
    };
  }
  return null;
}

let blockable: boolean | null = null;
/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(): boolean {
  if (blockable === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockable = true;
    } catch {
      blockable = false;
    }
  }
  return blockable;
}

function getPool(rt: Runtime): Pool {
  if (pool !== null && pool.rt.memory === rt.memory) return pool;
  if (pool !== null) shutdown();
  const jobBuf = new SharedArrayBuffer(JOB_BYTES);
  const k = rt.kernels as unknown as Record<string, unknown>;
  pool = {
    rt, jobBuf, J: new Float64Array(jobBuf), I: new Int32Array(jobBuf, 0, 4), slots: [], epoch: 0,
    mainFns: KERNEL_NAMES.map((n) => k[n]), busy: false, error: null,
  };
  return pool;
}

/** Terminates the workers (done automatically when init() makes a new runtime). */
export function shutdown(): void {
  if (pool === null) return;
  for (const s of pool.slots) {
    try {
      s.handle.terminate();
    } catch {
      // already gone
    }
  }
  pool = null;
}

function spawn(p: Pool, make: WorkerFactory): Slot {
  const rt = p.rt;
  const thread = p.slots.length + 1;
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_BYTES), 0, 16);
  const work = rt.allocator.alloc(rt.kernels.gemmWorkspaceBytes());
  rt.allocator.markInternal(work);
  let handle: ReturnType<WorkerFactory>;
  const slot: Slot = { handle: { postMessage() {}, terminate() {} }, ctrl, work, failed: null };
  try {
    handle = make(`simdgrad-${thread}`);
  } catch (e) {
    slot.failed = `could not start a worker: ${String(e)}`;
    p.error = slot.failed;
    return slot;
  }
  slot.handle = handle;
  handle.onFail((why) => {
    if (pool !== p) return; // terminated by shutdown()
    slot.failed ??= why;
    p.error = why;
  });
  handle.postMessage({
    module: rt.module, memory: rt.memory, ctrl: ctrl.buffer, job: p.jobBuf, thread, work,
    names: [...KERNEL_NAMES], spinMs: SPIN_MS,
  });
  return slot;
}

function startFailure(p: Pool, s: Slot): string | null {
  if (s.failed !== null) return s.failed;
  if (Atomics.load(s.ctrl, STATE) === 2) {
    s.failed = `a worker could not instantiate the kernels: ${errorText(s.ctrl)}`;
    p.error = s.failed;
  }
  return s.failed;
}

/** Makes sure `n` workers exist; returns how many of the first n are ready. */
function ensureWorkers(p: Pool, n: number): number {
  const make = workerFactory();
  if (make === null) return 0;
  while (p.slots.length < n) {
    p.slots.push(spawn(p, make));
    grace = GRACE_JOBS;
  }
  let ready = 0;
  for (let i = 0; i < n; i++) {
    const s = p.slots[i];
    if (startFailure(p, s) !== null) break;
    if (Atomics.load(s.ctrl, STATE) === 0) {
      // Node: wait for it to come up (once), so thread counts do not depend on timing. Not in
      // browsers: a page's main thread may not block, and a Web Worker that blocks keeps its
      // nested workers from starting.
      if (make.node !== true || !canBlock()) break;
      if (Atomics.wait(s.ctrl, STATE, 0, START_TIMEOUT_MS) === 'timed-out') {
        s.failed = `a worker did not start within ${START_TIMEOUT_MS} ms`;
        p.error = s.failed;
        break;
      }
      if (startFailure(p, s) !== null) break;
    }
    ready++;
  }
  return ready;
}

/**
 * Starts the workers for getThreads() threads now, instead of at the first large call, and
 * resolves once they are ready (or have failed: see threadsInfo()). Useful in browsers,
 * whose main thread cannot wait for a worker to start.
 */
export async function startThreads(): Promise<ThreadsInfo> {
  const rt = runtime();
  const n = getThreads() - 1;
  if (n > 0) {
    const p = getPool(rt);
    const t0 = Date.now();
    while (ensureWorkers(p, n) < n && p.slots.slice(0, n).every((s) => startFailure(p, s) === null) && Date.now() - t0 < START_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return threadsInfo();
}

/**
 * The threads a call of `flops` floating-point operations is planned for, from the settings
 * and its size only (never from timing): 1 when threads are off or unavailable or the call
 * is too small (< FLOPS_PER_THREAD per thread), at most `maxParts`. Work whose numbers depend
 * on how it is split (summed weight gradients) is split by this count.
 */
export function plannedThreads(flops: number, maxParts = MAX_THREADS): number {
  if (!(flops >= 2 * FLOPS_PER_THREAD) || maxParts < 2) return 1;
  const want = Math.min(wanted(), maxParts, Math.floor(flops / FLOPS_PER_THREAD));
  if (want <= 1) return 1;
  const rt = runtime();
  if (!rt.shared) {
    if (rt.sharedNote !== null && !rt.sharedNote.startsWith('threads are off')) warnOnce(rt.sharedNote);
    return 1;
  }
  return want;
}

/**
 * How many threads to run a call of `flops` on now: plannedThreads(), reduced to the workers
 * that are ready (they start on the first call worth it), and 1 when threading does not pay
 * at the moment: while a busy machine has made recent parallel jobs no faster than one thread
 * (see the back-off in Job.run), or when the call is small enough that waking a sleeping
 * worker would cost more than it saves (the worker is poked awake for the next call). Only
 * for splits whose results do not depend on the thread count.
 */
export function threadsFor(flops: number, maxParts = MAX_THREADS): number {
  const want = plannedThreads(flops, maxParts);
  if (want <= 1) return 1;
  if (serial) return 1;
  const now = performance.now();
  if (backoffState.active(now) || (backoff && guard && guardState.threadsOff(now))) return 1;
  const rt = runtime();
  const p = getPool(rt);
  if (p.busy) return 1;
  const ready = ensureWorkers(p, want - 1);
  if (ready === 0) {
    if (p.error !== null) warnOnce(p.error);
    return 1;
  }
  if (flops < WAKE_FLOPS) {
    let asleep = false;
    for (let i = 0; i < ready; i++) {
      if (Atomics.load(p.slots[i].ctrl, SLEEPING) === 1) {
        asleep = true;
        wake(p.slots[i].ctrl);
      }
    }
    if (asleep) return 1;
  }
  return 1 + ready;
}

function errorText(ctrl: Int32Array): string {
  const n = Atomics.load(ctrl, ERROR_LEN);
  const bytes = new Uint8Array(ctrl.buffer, 64, Math.min(n, ctrl.buffer.byteLength - 64));
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

// ---- jobs --------------------------------------------------------------------------------

let soloJ: Float64Array | null = null;
let soloI: Int32Array | null = null;
const kernelIndex = new Map<string, number>(KERNEL_NAMES.map((n, i) => [n, i]));

/** Arguments of a kernel as the job stores them (numbers). */
type Args<K extends KernelName> = Kernels[K] extends (...a: infer A) => unknown ? { [I in keyof A]: number } : never;

/**
 * A parallel job: independent tasks, each a list of kernel calls, claimed by the threads in
 * order as each becomes free (the calling thread included); plans (plan.ts) write them. A
 * task's results must not depend on which thread runs it: scratch that differs per thread is
 * passed as an offset into the running thread's local scratch (see local()) or as its gemm
 * workspace. Claiming rather than assigning means a worker that is asleep, late or
 * descheduled holds up only the task it has already claimed.
 */
export class Job {
  private readonly J: Float64Array;
  private readonly I: Int32Array;
  private nTasks = 0;
  private p = CALLS;
  /** Posted to the workers (they start on its complete tasks while the rest is written), and under which epoch. */
  private posted = false;
  private finished = false;
  private epoch = 0;
  private used: Slot[] = [];
  /** The kernels it calls, while sg.profile times them (a parallel job is timed as one call). */
  private readonly names: Set<string> | null = timingKernels() ? new Set() : null;

  /** `threads` from threadsFor(); with 1 the job runs on the calling thread only. */
  constructor(readonly threads: number) {
    if (threads > 1) {
      const p = getPool(runtime());
      this.J = p.J;
      this.I = p.I;
    } else {
      // One thread: a private buffer (there may be no SharedArrayBuffer at all).
      if (soloJ === null) {
        const buf = new ArrayBuffer(JOB_BYTES);
        soloJ = new Float64Array(buf);
        soloI = new Int32Array(buf, 0, 4);
      }
      this.J = soloJ;
      this.I = soloI!;
    }
    this.J.fill(0, N_TASKS, TASKS);
  }

  /**
   * Whether `calls` more kernel calls with `args` arguments in all fit, in a new task when
   * `newTask` (plans run the job and start the next round when not).
   */
  fits(calls: number, args: number, newTask: boolean): boolean {
    return (!newTask || this.nTasks < MAX_TASKS) && this.p + 4 * calls + args <= this.J.length;
  }

  /** Starts the next task. */
  task(): this {
    if (this.nTasks >= MAX_TASKS) throw new Error(`simdgrad: a parallel job has more than ${MAX_TASKS} tasks`);
    // The tasks so far are complete: the workers may start on them while the rest is written.
    if (this.nTasks > 0 && this.threads > 1) {
      if (!this.posted) this.post(getPool(runtime()));
      Atomics.store(this.I, PUBLISHED, this.nTasks);
    }
    this.J[TASKS + this.nTasks] = this.p;
    this.nTasks++;
    this.J[TASKS + this.nTasks] = this.p;
    return this;
  }

  /** Thread t's local scratch base, added to the arguments a call flags as local. */
  local(thread: number, ptr: number): this {
    this.J[LOCAL + thread] = ptr;
    return this;
  }

  /**
   * Appends a kernel call to the current task. `work`: index of an argument to replace by
   * the running thread's gemm workspace (-1: none); `localMask`: bit i set = argument i is
   * an offset into the running thread's local scratch.
   */
  call<K extends KernelName>(name: K, args: Args<K>, work = -1, localMask = 0): this {
    if (this.nTasks === 0) this.task();
    this.names?.add(name);
    const a = args as unknown as number[];
    if (this.p + 4 + a.length > this.J.length) throw new Error('simdgrad: a parallel job does not fit its buffer');
    const J = this.J;
    let p = this.p;
    J[p] = kernelIndex.get(name)!;
    J[p + 1] = a.length;
    J[p + 2] = work;
    J[p + 3] = localMask;
    p += 4;
    for (let i = 0; i < a.length; i++) J[p + i] = a[i];
    this.p = p + a.length;
    this.J[TASKS + this.nTasks] = this.p;
    return this;
  }

  /** C = op(A)·op(B) (+ beta·C, bias, relu) on the running thread's workspace. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number,
    beta: number, c: number, ldc: number, bias = 0, relu = false, localMask = 0): this {
    return this.call('gemm', [transA ? 1 : 0, transB ? 1 : 0, M, N, K, 1, a, lda, b, ldb, beta, c, ldc, bias, relu ? 1 : 0, 0], 15, localMask);
  }

  /** Runs the job: the workers' shares on the workers, task 0 (or claimed tasks) here; returns when all are done. */
  run(): void {
    const J = this.J;
    J[N_TASKS] = this.nTasks;
    const rt = runtime();
    if (this.threads <= 1) {
      Atomics.store(this.I, CLAIM, 0);
      Atomics.store(this.I, PUBLISHED, this.nTasks | SEALED);
      const k = rt.kernels as unknown as Record<string, unknown>;
      execJob(J, this.I, KERNEL_NAMES.map((n) => k[n]), 0, rt.gemmWork);
      return;
    }
    if (this.names !== null) timeJob([...this.names].join('+'), this.threads, () => this.runParallel(rt));
    else this.runParallel(rt);
  }

  /**
   * Ends a job that will not be run (its writer threw) after it was posted: the workers finish
   * the tasks they may have started and leave, and the pool is free again.
   */
  abort(): void {
    if (!this.posted || this.finished) return;
    this.finished = true;
    Atomics.store(this.I, PUBLISHED, (Atomics.load(this.I, PUBLISHED) & (SEALED - 1)) | SEALED);
    Atomics.store(this.I, CLOSED, this.epoch);
    waitInside(this.I);
    getPool(runtime()).busy = false;
  }

  /** Starts the workers on the job (its tasks become theirs as they are published). */
  private post(p: Pool): void {
    if (p.busy) throw new Error('simdgrad: parallel jobs cannot nest');
    p.busy = true;
    this.posted = true;
    jobsRun++;
    Atomics.store(this.I, CLAIM, 0);
    Atomics.store(this.I, PUBLISHED, 0);
    this.used = p.slots.slice(0, this.threads - 1);
    const epoch = (this.epoch = p.epoch = (p.epoch + 1) | 0);
    for (const s of this.used) {
      Atomics.store(s.ctrl, ERROR, 0);
      Atomics.store(s.ctrl, SEQ, epoch);
      wake(s.ctrl);
    }
  }

  private runParallel(rt: Runtime): void {
    const p = getPool(rt);
    if (!this.posted) this.post(p);
    try {
      Atomics.store(this.I, PUBLISHED, this.nTasks | SEALED);
      let error: unknown = null;
      const t0 = performance.now();
      let ran = 0;
      try {
        ran = execJob(this.J, this.I, p.mainFns, 0, rt.gemmWork);
      } catch (e) {
        error = e;
      }
      const t1 = performance.now();
      // Every task is claimed: close the job, then wait for the workers still running theirs.
      Atomics.store(this.I, CLOSED, this.epoch);
      waitInside(this.I);
      if (grace > 0) grace--;
      else if (backoff && ran > 0) {
        const now = performance.now();
        backoffState.judge(this.nTasks * ((t1 - t0) / ran), now - t0, ran === this.nTasks, now);
      }
      if (error !== null) throw error;
      const used = this.used;
      for (let i = 0; i < used.length; i++) {
        if (Atomics.load(used[i].ctrl, ERROR) !== 0) throw new Error(`simdgrad: worker thread ${i + 1} failed: ${errorText(used[i].ctrl)}`);
      }
    } finally {
      this.finished = true;
      p.busy = false;
    }
  }
}

/** Wakes a worker if it sleeps (see worker-entry.ts). */
function wake(ctrl: Int32Array): void {
  if (Atomics.compareExchange(ctrl, SLEEPING, 1, 0) === 1) Atomics.notify(ctrl, SLEEPING);
}

/** Waits until no worker is inside the closed job (spinning first; sleeping after MAIN_SPIN_MS where allowed). */
function waitInside(I: Int32Array): void {
  if (Atomics.load(I, INSIDE) === 0) return;
  const t0 = performance.now();
  let k = 0;
  const block = canBlock();
  for (let n = Atomics.load(I, INSIDE); n !== 0; n = Atomics.load(I, INSIDE)) {
    if ((++k & 1023) === 0 && block && performance.now() - t0 > MAIN_SPIN_MS) Atomics.wait(I, INSIDE, n, 100);
  }
}
