// sg.profile: where the time of a training step goes. Ops (forward and backward), the
// autograd walk and optimizer steps are timed as nested frames, each keeping its self time
// (its own time minus the frames inside it) and the kernel time spent directly in it, so
// self − kernel is the JavaScript around the kernels. Kernel calls are timed one by one
// (bindings/profile.ts); a parallel job counts as one call. Nothing is timed outside a
// profile() call: the hooks cost one null check.
import { setKernelSink } from '../../bindings/profile.js';

/** Time spent in one op (per phase) or region, summed over its calls. */
export interface ProfileEntry {
  /** `op` (forward), `op backward`, `backward (graph walk)`, `Adam.step`, ... */
  readonly name: string;
  readonly calls: number;
  /** Time inside it, the frames it ran (ops inside a composed op or a backward) excluded (ms). */
  readonly selfMs: number;
  /** Of selfMs, the time inside wasm kernels (ms); the rest is JavaScript. */
  readonly kernelMs: number;
}

/** Time spent in one kernel (or one parallel job: `gemm (2 threads)`), summed over its calls. */
export interface KernelEntry {
  readonly name: string;
  readonly calls: number;
  readonly ms: number;
}

export interface Profile {
  /** Runs of fn timed. */
  readonly runs: number;
  /** Wall time per run (ms): the runs themselves, not the gaps between them. */
  readonly wallMs: number;
  /** Kernel time per run (ms), parallel jobs included. */
  readonly kernelMs: number;
  /** wallMs − kernelMs: JavaScript (graph, shape checks, allocation, the caller's own code). */
  readonly jsMs: number;
  /** Per op and phase and per region, per run, by self time (largest first). `(outside)` is fn's own code. */
  readonly ops: readonly ProfileEntry[];
  /** Per kernel, per run, by time (largest first). */
  readonly kernels: readonly KernelEntry[];
}

interface Frame { name: string; start: number; inner: number; kernel: number }
interface Acc { calls: number; self: number; kernel: number }

class Recorder {
  readonly stack: Frame[] = [];
  /** Time inside top-level frames: the runs of fn themselves. */
  topMs = 0;
  readonly frames = new Map<string, Acc>();
  readonly kernels = new Map<string, { calls: number; ms: number }>();

  run<T>(name: string, fn: () => T): T {
    const f: Frame = { name, start: performance.now(), inner: 0, kernel: 0 };
    this.stack.push(f);
    try {
      return fn();
    } finally {
      this.stack.pop();
      const total = performance.now() - f.start;
      const parent = this.stack[this.stack.length - 1];
      if (parent !== undefined) parent.inner += total;
      else this.topMs += total;
      const a = this.frames.get(name) ?? { calls: 0, self: 0, kernel: 0 };
      a.calls++;
      a.self += total - f.inner;
      a.kernel += f.kernel;
      this.frames.set(name, a);
    }
  }

  kernel(name: string, ms: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) top.kernel += ms;
    const k = this.kernels.get(name) ?? { calls: 0, ms: 0 };
    k.calls++;
    k.ms += ms;
    this.kernels.set(name, k);
  }
}

let active: Recorder | null = null;

/** @internal Runs fn as a timed frame while profile() runs; otherwise just runs it. */
export function timed<T>(name: string, fn: () => T): T {
  return active === null ? fn() : active.run(name, fn);
}

/** @internal Whether profile() is running (callers avoid building frame names otherwise). */
export function profiling(): boolean {
  return active !== null;
}

/**
 * Times `runs` calls of fn (default 1) after `warmup` untimed ones (default 0): wall time,
 * kernel time and JavaScript time per run, and the same split per op, phase and kernel.
 * For a training step: `sg.profile(() => { const loss = ...; opt.zeroGrad(); loss.backward(); opt.step(); }, { runs: 50, warmup: 5 })`.
 */
export function profile(fn: () => void, opts: { runs?: number; warmup?: number } = {}): Profile {
  const runs = opts.runs ?? 1;
  const warmup = opts.warmup ?? 0;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`profile: runs must be a positive integer, got ${String(runs)}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`profile: warmup must be a non-negative integer, got ${String(warmup)}`);
  if (active !== null) throw new Error('profile: already profiling (profile() calls cannot nest)');
  for (let i = 0; i < warmup; i++) fn();
  const rec = new Recorder();
  active = rec;
  setKernelSink((name, ms) => rec.kernel(name, ms));
  try {
    for (let i = 0; i < runs; i++) rec.run('(outside)', fn);
  } finally {
    setKernelSink(null);
    active = null;
  }
  // The runs themselves, not the loop around them: a garbage collection or a descheduling
  // between two runs belongs to no run (and to no op, so it would go unaccounted).
  const wall = rec.topMs / runs;
  let kernelMs = 0;
  for (const k of rec.kernels.values()) kernelMs += k.ms;
  kernelMs /= runs;
  const ops = [...rec.frames].map(([name, a]) => ({
    name, calls: a.calls / runs, selfMs: a.self / runs, kernelMs: a.kernel / runs,
  })).sort((a, b) => b.selfMs - a.selfMs);
  // '(outside)' counts one call per run.
  const kernels = [...rec.kernels].map(([name, k]) => ({ name, calls: k.calls / runs, ms: k.ms / runs }))
    .sort((a, b) => b.ms - a.ms);
  return { runs, wallMs: wall, kernelMs, jsMs: wall - kernelMs, ops, kernels };
}
