// The worker side of the thread pool (see pool.ts), and the job interpreter that the
// main thread and every worker run on their share of a parallel job.
//
// Both functions are shipped to the workers as source text (Function.prototype.toString),
// so no worker script has to be found next to the bundle, in Node or in a browser, with or
// without a bundler. That puts strict rules on them:
//   - no imports and no references to anything outside their own bodies (the worker gets
//     `execJob` as an argument of `workerMain`);
//   - plain syntax that no bundler downlevels into helper calls: no spread, no for-of, no
//     classes, no async, no optional chaining.
// The numeric layouts below are repeated as constants in pool.ts; keep them in sync.
//
// Control block of one worker: Int32Array over its own SharedArrayBuffer (CTRL_BYTES):
//   [0] state     0 starting, 1 ready, 2 failed to start
//   [1] seq       the main thread stores a job's epoch here to post it (the worker waits on it)
//   [3] sleeping  1 while the worker sleeps (Atomics.wait on this word): the main thread
//                 wakes it, for a job or ahead of one, by swapping it to 0 and notifying
//   [4] error     0, or 1 when a job threw (message as ASCII from byte 64, length in [5])
// Job buffer, one SharedArrayBuffer for the pool, written by the main thread:
//   Int32 [0]       claim counter: every thread claims the next task with Atomics.add
//   Int32 [1]       the last closed epoch: the main thread closes a job when no task is left
//   Int32 [2]       threads inside a job (the main thread waits for 0 after closing it)
//   Int32 [3]       tasks published: the main thread posts a job once its first task is
//                   written and publishes each task when the next one starts, so the
//                   workers start while it writes the rest; bit 30 set: all are (sealed)
//   f64 [2]         number of tasks (once sealed)
//   f64 [4 + t]     local scratch base of thread t (t < 64)
//   f64 [68 + i]    start of task i's calls (f64 index); [68 + nTasks] is the end
//   calls           [kernel index, nargs, work arg index or -1, local mask, args...]
// An argument flagged in `local mask` gets the running thread's local base added; the
// `work` argument is replaced by the running thread's own gemm workspace.
// A worker enters a job by incrementing [2] and then checking that its epoch is not closed;
// the main thread closes by storing the epoch in [1] and then waits for [2] to reach 0. So a
// worker that wakes late (asleep, descheduled) never holds up a job it took no task of, and
// never reads a job buffer the main thread has begun to rewrite.

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Claims and runs tasks of the job in J until none is left; returns how many it ran. A claimed
 * task not yet published (the main thread is still writing the job) is waited for.
 */
export function execJob(J: Float64Array, I: Int32Array, fns: any[], thread: number, work: number): number {
  const local = J[4 + thread];
  let ran = 0;
  let t = Atomics.add(I, 0, 1);
  for (;;) {
    let pub = Atomics.load(I, 3);
    while (t >= (pub & 0x3fffffff) && (pub & 0x40000000) === 0) pub = Atomics.load(I, 3);
    if (t >= (pub & 0x3fffffff)) break;
    let p = J[68 + t];
    const end = J[69 + t];
    while (p < end) {
      const f = fns[J[p]];
      const n = J[p + 1];
      const w = J[p + 2];
      const mask = J[p + 3];
      p += 4;
      const a = new Array(n);
      for (let j = 0; j < n; j++) a[j] = (mask & (1 << j)) !== 0 ? J[p + j] + local : J[p + j];
      if (w >= 0) a[w] = work;
      f.apply(null, a);
      p += n;
    }
    ran++;
    t = Atomics.add(I, 0, 1);
  }
  return ran;
}

/**
 * Body of a worker: waits for its init message { module, memory, ctrl, job, thread, work,
 * names, spinMs }, instantiates the kernels on the shared memory (which re-runs the data
 * segments: harmless, they are constant tables; the worker never allocates), then loops:
 * spin for spinMs on `seq`, block in Atomics.wait when idle longer, enter the posted job
 * unless it is closed already, claim and run tasks, leave.
 */
export function workerMain(run: typeof execJob): void {
  const g = globalThis as any;
  let wt: any = null;
  try {
    if (g.process && typeof g.process.getBuiltinModule === 'function') wt = g.process.getBuiltinModule('node:worker_threads');
  } catch (e) {
    wt = null;
  }
  const port = wt !== null && wt.parentPort ? wt.parentPort : g;

  function writeError(ctrl: Int32Array, e: any): void {
    const text = String(e && e.stack ? e.stack : e);
    const bytes = new Uint8Array(ctrl.buffer, 64, ctrl.buffer.byteLength - 64);
    let n = 0;
    for (let i = 0; i < text.length && n < bytes.length; i++) {
      const c = text.charCodeAt(i);
      bytes[n++] = c < 128 ? c : 63;
    }
    Atomics.store(ctrl, 5, n);
    Atomics.store(ctrl, 4, 1);
  }

  function start(m: any): void {
    const ctrl = new Int32Array(m.ctrl, 0, 16);
    const J = new Float64Array(m.job);
    const I = new Int32Array(m.job, 0, 4);
    let fns: any[];
    try {
      const inst = new WebAssembly.Instance(m.module, {
        env: { memory: m.memory, abort: function () { throw new Error('simdgrad: wasm abort in a worker'); } },
      });
      const ex: any = inst.exports;
      fns = m.names.map(function (n: string) { return ex[n]; });
    } catch (e) {
      writeError(ctrl, e);
      Atomics.store(ctrl, 0, 2);
      Atomics.notify(ctrl, 0);
      return;
    }
    // Read before reporting ready: the first job may be posted the moment state turns 1.
    let seen = Atomics.load(ctrl, 1);
    Atomics.store(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    if (typeof port.postMessage === 'function') port.postMessage('ready');
    const spinMs = m.spinMs;
    for (;;) {
      let s = Atomics.load(ctrl, 1);
      if (s === seen) {
        const t0 = performance.now();
        for (let k = 1; (s = Atomics.load(ctrl, 1)) === seen; k++) {
          if ((k & 1023) === 0 && performance.now() - t0 > spinMs) break;
        }
        if (s === seen) {
          // Announce the sleep, then look once more: a job posted before the announcement
          // was seen by then, one posted after it finds the flag and wakes us.
          Atomics.store(ctrl, 3, 1);
          if (Atomics.load(ctrl, 1) === seen) Atomics.wait(ctrl, 3, 1);
          Atomics.store(ctrl, 3, 0);
          continue;
        }
      }
      seen = s;
      Atomics.add(I, 2, 1);
      if (((Atomics.load(I, 1) - seen) | 0) < 0) {
        try {
          run(J, I, fns, m.thread, m.work);
        } catch (e) {
          writeError(ctrl, e);
        }
      }
      if (Atomics.sub(I, 2, 1) === 1) Atomics.notify(I, 2);
    }
  }

  if (wt !== null && wt.parentPort) {
    wt.parentPort.once('message', start);
  } else {
    g.onmessage = function (e: any) {
      g.onmessage = null;
      start(e.data);
    };
  }
}

/** Source text of a worker (a classic script). */
export function workerSource(): string {
  return `(${workerMain.toString()})(${execJob.toString()});\n`;
}
