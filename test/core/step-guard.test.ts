// The thread pool's step guard (bindings/parallel/step-guard.ts), driven by synthetic step
// times shaped like the ones measured on this machine: it must leave threading on while
// threaded steps are faster (costing only its rare solo probes), turn it off within a couple
// of seconds when they are slower (two threads sharing one core's worth of CPU: the MNIST MLP
// step took 0.85-1.0 ms on two threads against 0.54-0.58 ms on one), and turn it back on
// when threads pay again.
import { describe, expect, it } from 'vitest';
import { PROBE_EVERY_MS, PROBE_MAX_MS, STALE_MS, StepGuard } from '../../bindings/parallel/step-guard';
import { xorshift as random } from '../helpers/random';


/** Step times (ms) at time t: with threads, and on one thread. */
type Machine = (t: number) => { threaded: number; solo: number };

/**
 * Runs training steps for `ms` milliseconds as the pool would: a step runs threaded (and
 * then runs parallel jobs, when `jobs`) unless the guard says threads are off. Returns the
 * share of steps and of time spent solo, the mean step time and the guard's offs.
 */
function run(g: StepGuard, machine: Machine, ms: number, opts: { t0?: number; jobs?: boolean; jitter?: number; seed?: number } = {}) {
  const r = random(opts.seed ?? 1);
  const jobsPerStep = opts.jobs === false ? 0 : 3;
  let t = opts.t0 ?? 0;
  const end = t + ms;
  let jobs = 0;
  let steps = 0;
  let soloSteps = 0;
  let soloTime = 0;
  const offs0 = g.offs;
  while (t < end) {
    const m = machine(t);
    const solo = g.threadsOff(t);
    const d = (solo ? m.solo : m.threaded) * (1 + (opts.jitter ?? 0) * (2 * r() - 1));
    t += d;
    if (!solo) jobs += jobsPerStep;
    g.step(t, jobs);
    steps++;
    if (solo) {
      soloSteps++;
      soloTime += d;
    }
  }
  return { soloSteps: soloSteps / steps, soloTime: soloTime / ms, meanStep: ms / steps, offs: g.offs - offs0, end: t };
}

const paying: Machine = () => ({ threaded: 0.4, solo: 0.55 });
const sharedCore: Machine = () => ({ threaded: 0.88, solo: 0.55 });

describe('step guard', () => {
  it('leaves threads on while threaded steps are faster; its solo probes are a small share', () => {
    const g = new StepGuard();
    const r = run(g, paying, 20_000, { jitter: 0.3, seed: 3 });
    expect(r.offs).toBe(0);
    expect(r.soloSteps).toBeLessThan(0.02);
    expect(r.meanStep).toBeLessThan(0.41);
    // Slow steps (a 10 ms CNN): still at most a few percent of the time solo.
    const cnn = run(new StepGuard(), () => ({ threaded: 10, solo: 17 }), 60_000, { jitter: 0.1, seed: 4 });
    expect(cnn.offs).toBe(0);
    expect(cnn.soloTime).toBeLessThan(0.03);
  });

  it('turns threads off within two seconds when threaded steps are slower, and keeps them off', () => {
    const g = new StepGuard();
    const first = run(g, sharedCore, 2 * PROBE_EVERY_MS + 100, { jitter: 0.1, seed: 5 });
    expect(first.offs).toBe(1);
    expect(g.threadsOff(first.end)).toBe(true);
    const after = run(g, sharedCore, 20_000, { t0: first.end, jitter: 0.1, seed: 6 });
    expect(after.offs).toBe(0);
    expect(after.soloTime).toBeGreaterThan(0.97);
    expect(after.meanStep).toBeLessThan(0.56);
  });

  it('turns threads back on after the machine recovers, within the longest probe wait', () => {
    const g = new StepGuard();
    const bad = run(g, sharedCore, 10_000, { seed: 7 });
    expect(g.threadsOff(bad.end)).toBe(true);
    // The wait between threaded probes has grown to its cap by now.
    const good = run(g, paying, PROBE_MAX_MS + 500, { t0: bad.end, seed: 8 });
    expect(g.threadsOff(good.end)).toBe(false);
    const later = run(g, paying, 10_000, { t0: good.end, seed: 9 });
    expect(later.offs).toBe(0);
    expect(later.soloSteps).toBeLessThan(0.02);
  });

  it('ignores steps that ran no parallel job (a model too small to split)', () => {
    const g = new StepGuard();
    const r = run(g, sharedCore, 10_000, { jobs: false });
    expect(r.offs).toBe(0);
    expect(r.soloSteps).toBe(0);
  });

  it('forgets solo mode when training stops (no step for a while)', () => {
    const g = new StepGuard();
    const r = run(g, sharedCore, 5000, { seed: 10 });
    expect(g.threadsOff(r.end)).toBe(true);
    expect(g.threadsOff(r.end + STALE_MS + 1)).toBe(false);
    // A new loop starts threaded and judges afresh.
    const again = run(g, paying, 5000, { t0: r.end + STALE_MS + 10, seed: 11 });
    expect(again.offs).toBe(0);
  });
});

describe('step guard, short loops and changing workloads', () => {
  it('probes a new loop a few dozen steps in: a slow phase is caught within a 60 ms loop of short steps', () => {
    const g = new StepGuard();
    const r = run(g, sharedCore, 60, { seed: 12 });
    expect(r.offs).toBe(1);
    // Later probes keep to PROBE_EVERY_MS: a paying loop of 1 s runs about 1 step in 40 solo
    // (4 probes, each 4 steps and the ones that settle).
    const p = run(new StepGuard(), paying, 1000, { seed: 16 });
    expect(p.offs).toBe(0);
    expect(p.soloSteps).toBeLessThan(0.035);
    // Short loops of long steps (a 200 ms bench sample of 16 ms steps) are never probed.
    const cnn = run(new StepGuard(), () => ({ threaded: 16, solo: 20 }), 200, { seed: 15 });
    expect(cnn.soloSteps).toBe(0);
  });

  it('a new workload (steps 3x longer) starts a new baseline instead of being compared with the old one', () => {
    const g = new StepGuard();
    const small = run(g, paying, 3000, { seed: 13 });
    // A 3x longer step, threads paying as before: not mistaken for threads not paying.
    const big = run(g, () => ({ threaded: 1.2, solo: 1.65 }), 5000, { t0: small.end, seed: 14 });
    expect(small.offs + big.offs).toBe(0);
  });
});
