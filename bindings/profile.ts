// Kernel timing for sg.profile (src/core/profile.ts): while a sink is set, the runtime's
// kernel table is replaced by wrappers that time each call, and a parallel job is timed as
// one call (its kernels run on several threads at once, so their own times would not add
// up to the wall time). Off, nothing is wrapped and the cost is nil.
import { KERNEL_NAMES, type Kernels } from './kernels.js';
import { runtime } from './index.js';

/** Receives the name and wall time (ms) of every kernel call and parallel job. */
export type KernelSink = (name: string, ms: number) => void;

let sink: KernelSink | null = null;
let raw: Kernels | null = null;
// Inside a parallel job the job is the unit: the kernels it runs on this thread are not reported.
let inJob = false;

/** @internal Starts (sink) or stops (null) timing kernel calls. */
export function setKernelSink(s: KernelSink | null): void {
  const rt = runtime() as { kernels: Kernels };
  if (s !== null && sink === null) {
    raw = rt.kernels;
    const wrapped: Record<string, unknown> = { ...(raw as unknown as Record<string, unknown>) };
    for (const name of KERNEL_NAMES) {
      const f = (raw as unknown as Record<string, (...a: number[]) => unknown>)[name];
      wrapped[name] = (...a: number[]): unknown => {
        if (inJob || sink === null) return f(...a);
        const t0 = performance.now();
        const r = f(...a);
        sink(name, performance.now() - t0);
        return r;
      };
    }
    rt.kernels = wrapped as unknown as Kernels;
  } else if (s === null && raw !== null) {
    rt.kernels = raw;
    raw = null;
  }
  sink = s;
}

/** @internal Times a parallel job (`threads` > 1) as one call named after its kernels. */
export function timeJob(names: string, threads: number, run: () => void): void {
  if (sink === null || inJob) {
    run();
    return;
  }
  const report = sink;
  inJob = true;
  const t0 = performance.now();
  try {
    run();
  } finally {
    inJob = false;
    report(`${names} (${threads} threads)`, performance.now() - t0);
  }
}

/** @internal Whether kernel calls are being timed. */
export function timingKernels(): boolean {
  return sink !== null;
}
