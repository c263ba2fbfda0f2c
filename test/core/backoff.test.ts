// The thread pool's back-off (bindings/parallel/backoff.ts), driven by synthetic job records
// shaped like the ones logged on this machine: it must leave threading on when the worker
// misses jobs now and then in clusters (its vCPU not running for a few milliseconds, an idle
// machine), and turn it off, for longer and longer, when the worker misses most jobs or jobs
// stop paying (another process busy on the cores).
import { describe, expect, it } from 'vitest';
import { Backoff, BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../../bindings/parallel/backoff';
import { xorshift as random } from '../helpers/random';

/** A job: one-thread estimate, wall time (ms), whether the main thread ran every task. */
interface JobRecord { alone: number; took: number; noShow: boolean }


/**
 * Replays `ms` milliseconds of jobs from `next` (with 20 µs of serial work between jobs), as
 * the pool does: while the back-off is active the jobs run on one thread and are not judged.
 * Returns the share of the time spent backed off and the number of back-offs.
 */
function replay(b: Backoff, ms: number, next: (t: number) => JobRecord, t0 = 0): { off: number; backoffs: number; end: number } {
  const count0 = b.count;
  let t = t0;
  let off = 0;
  while (t < t0 + ms) {
    const job = next(t);
    if (b.active(t)) {
      // On one thread the job costs its one-thread time.
      t += job.alone + 0.02;
      off += job.alone + 0.02;
      continue;
    }
    t += job.took;
    b.judge(job.alone, job.took, job.noShow, t);
    t += 0.02;
  }
  return { off: off / (t - t0), backoffs: b.count - count0, end: t };
}

/**
 * An idle machine: jobs of 0.1 ms that two threads finish in 0.055 ms, and every 100 ms a
 * run of `absent` ms in which the worker is missing (no-shows: the main thread alone, 0.1 ms).
 */
function idle(absent: number): (t: number) => JobRecord {
  return (t) => (t % 100 < absent ? { alone: 0.1, took: 0.101, noShow: true } : { alone: 0.1, took: 0.055, noShow: false });
}

/** Another process busy on a core: the worker misses `missRate` of the jobs, the others barely pay. */
function busy(missRate: number, seed: number): (t: number) => JobRecord {
  const r = random(seed);
  return () => (r() < missRate ? { alone: 0.3, took: 0.31, noShow: true } : { alone: 0.3, took: 0.28, noShow: false });
}

describe('back-off', () => {
  it('stays off on an idle machine whose worker misses runs of jobs now and then', () => {
    for (const absent of [1, 5, 8]) {
      const b = new Backoff();
      const r = replay(b, 10_000, idle(absent));
      expect(r.backoffs, `runs of ${absent} ms without the worker`).toBe(0);
      expect(r.off).toBe(0);
    }
  });

  it('stays off when small jobs that lose are mixed with large ones that pay', () => {
    const b = new Backoff();
    let i = 0;
    // Per step: two large jobs that halve their time, then four small ones that lose a little.
    const r = replay(b, 5_000, () => (i++ % 6 < 2 ? { alone: 0.5, took: 0.27, noShow: false } : { alone: 0.02, took: 0.025, noShow: false }));
    expect(r.backoffs).toBe(0);
  });

  it('turns threading off, for longer and longer, when the worker misses most jobs', () => {
    const b = new Backoff();
    const r = replay(b, 10_000, busy(0.8, 7));
    expect(r.backoffs).toBeGreaterThan(0);
    // The back-offs double up to BACKOFF_MAX_MS: threading is off nearly all of the time.
    expect(r.off).toBeGreaterThan(0.85);
    // And the first comes soon.
    const first = new Backoff();
    expect(replay(first, 100, busy(0.8, 8)).backoffs).toBeGreaterThan(0);
  });

  it('turns threading off when jobs stop paying although the worker takes part (a shared CPU quota)', () => {
    const b = new Backoff();
    const r = replay(b, 5_000, () => ({ alone: 0.2, took: 0.19, noShow: false }));
    expect(r.off).toBeGreaterThan(0.85);
  });

  it('comes back once the machine is idle again, with the shortest back-off', () => {
    const b = new Backoff();
    const busyPart = replay(b, 5_000, busy(0.8, 9));
    expect(busyPart.off).toBeGreaterThan(0.8);
    // The back-off in force may run up to BACKOFF_MAX_MS into the idle part; after that, none.
    const idlePart = replay(b, 10_000, idle(5), busyPart.end);
    expect(idlePart.off).toBeLessThan(BACKOFF_MAX_MS / 10_000 + 0.01);
    const later = replay(b, 5_000, idle(5), idlePart.end);
    expect(later.backoffs).toBe(0);
    // A single burst of strikes now costs the shortest back-off only.
    const burst = replay(b, 40, () => ({ alone: 0.2, took: 0.3, noShow: true }), later.end);
    expect(burst.backoffs).toBe(1);
    expect(b.active(burst.end + BACKOFF_MIN_MS)).toBe(false);
  });

  it('reset() ends a back-off and forgets the evidence', () => {
    const b = new Backoff();
    const r = replay(b, 200, busy(1, 3));
    expect(r.backoffs).toBeGreaterThan(0);
    b.reset();
    expect(b.active(r.end)).toBe(false);
    b.judge(0.2, 0.11, false, r.end + 1);
    expect(b.active(r.end + 1)).toBe(false);
  });
});
