// The step guard: a second back-off, judged on whole training steps instead of single jobs.
//
// The job back-off (backoff.ts) estimates a job's one-thread time from the main thread's own
// tasks in it. That estimate fails when running two threads slows every thread down. This
// project's 2-core VM has phases, lasting seconds, in which its two vCPUs get about one
// core's worth of time between them (both show 100% busy). Then a 2-thread MNIST MLP step
// took 850-1,000 µs against 535-580 µs on one thread, while the jobs' own estimate said they
// paid 1.8-1.9x: the main thread's tasks ran at half speed too, and so did its serial work
// beside the spinning worker. No single job shows it; the step time does.
//
// So the guard compares step times (between the ends of consecutive backward() calls) with
// and without threads, by probing: now and then a few steps run on one thread (threaded
// mode) or on all threads (solo mode), and the medians decide the mode. The first probe
// comes FIRST_PROBE_STEPS (median) steps into a loop; a step far from the baseline's median
// (another model, another batch size) starts a new baseline.
//   - threaded mode: every PROBE_EVERY_MS (and at least PROBE_EVERY_STEPS median steps),
//     PROBE_STEPS solo steps are timed; if the recent threaded steps are not faster, in this
//     probe and in a second one right after it, threading goes off;
//   - solo mode: threaded steps are probed the same way, with the wait doubling up to
//     PROBE_MAX_MS while threads keep not paying; threading comes back when they pay
//     PAYOFF_ON.
// Steps that start less than SETTLE_MS after a switch are not counted (the worker is still
// spinning, or asleep and waking), nor threaded steps that ran no parallel job. When no step
// has ended for STALE_MS (training stopped), the guard forgets and threading is on again.
// Probing costs little: in threaded mode at most about 1 step in 60 runs on one thread
// (counting the steps that settle), under 1% of the throughput.

/** Threaded steps must be faster than solo ones (median) to stay on. */
const PAYOFF_OFF = 1.0;
/** ...and this much faster to come back on from solo mode. */
const PAYOFF_ON = 1.05;
/** Steps timed per probe. */
export const PROBE_STEPS = 4;
/** Recent steps of the current mode kept as its baseline (the median needs at least MIN_BASELINE). */
const BASELINE = 16;
const MIN_BASELINE = 8;
export const PROBE_EVERY_MS = 250;
/** ...and at least this many (median) steps apart, so that probes stay under ~2% of the steps. */
const PROBE_EVERY_STEPS = 300;
/**
 * The first probe of a loop comes this many (median) steps into it: a loop of short steps may
 * be short (the bench times 200 ms samples, a third of a second apart at best), and a loop
 * that starts in a phase where threads do not pay should not run it out threaded.
 */
const FIRST_PROBE_STEPS = 24;
export const PROBE_MAX_MS = 4000;
/** A step this many times longer or shorter than the baseline's median starts a new baseline (another workload). */
const CHANGE = 1.8;
/** Steps starting this soon after a switch are not counted. */
export const SETTLE_MS = 2;
export const STALE_MS = 2000;

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** @internal The guard's state: step() at each step's end, threadsOff() before planning a job. */
export class StepGuard {
  /** Solo mode: threads did not pay in the last comparison. */
  private solo = false;
  private probing = false;
  /** The last probe of threaded mode found threads not faster; one more must agree. */
  private suspect = false;
  private baseline: number[] = [];
  private probe: number[] = [];
  private lastEnd = -1;
  private lastJobs = 0;
  /** When the effective mode last changed (a probe started or ended, the mode switched). */
  private switchedAt = -Infinity;
  private nextProbeAt = 0;
  private waitMs = PROBE_EVERY_MS;
  /** No probe has decided yet in this loop. */
  private first = true;
  /** Times threading went off. */
  offs = 0;

  /** Whether threading is off now (solo mode, or a solo probe of threaded mode). */
  threadsOff(now: number): boolean {
    if (this.lastEnd >= 0 && now - this.lastEnd > STALE_MS) this.reset();
    return this.solo !== this.probing;
  }

  /** A step ended at `now`; `jobs`: parallel jobs run so far (the pool's counter). */
  step(now: number, jobs: number): void {
    if (this.lastEnd < 0 || now - this.lastEnd > STALE_MS) {
      if (this.lastEnd >= 0) this.reset();
      this.lastEnd = now;
      this.lastJobs = jobs;
      // The first probe comes FIRST_PROBE_STEPS median steps into the loop, without waiting
      // PROBE_EVERY_MS.
      this.nextProbeAt = now;
      this.switchedAt = now;
      this.first = true;
      return;
    }
    const began = this.lastEnd;
    const ranJobs = jobs !== this.lastJobs;
    this.lastEnd = now;
    this.lastJobs = jobs;
    const threaded = !this.threadsOff(now);
    if (began < this.switchedAt + SETTLE_MS || (threaded && !ranJobs)) return;
    const d = now - began;
    if (this.probing) {
      this.probe.push(d);
      if (this.probe.length >= PROBE_STEPS) this.decide(now);
      return;
    }
    if (this.baseline.length > 0) {
      const m = median(this.baseline);
      if (d > CHANGE * m || d * CHANGE < m) this.baseline = [];
    }
    this.baseline.push(d);
    if (this.baseline.length > BASELINE) this.baseline.shift();
    const apart = this.first ? FIRST_PROBE_STEPS : PROBE_EVERY_STEPS;
    if (now >= this.nextProbeAt && this.baseline.length >= MIN_BASELINE && (this.solo || now - this.switchedAt >= apart * median(this.baseline))) {
      this.probing = true;
      this.probe = [];
      this.switchedAt = now;
    }
  }

  /** Forgets everything: threaded mode, no baseline. */
  reset(): void {
    this.solo = false;
    this.probing = false;
    this.suspect = false;
    this.baseline = [];
    this.probe = [];
    this.lastEnd = -1;
    this.switchedAt = -Infinity;
    this.waitMs = PROBE_EVERY_MS;
    this.first = true;
  }

  /** Ends a probe: compares its median with the baseline's and sets the mode. */
  private decide(now: number): void {
    const probed = median(this.probe);
    const base = median(this.baseline);
    const [threadedMs, soloMs] = this.solo ? [probed, base] : [base, probed];
    const next = this.solo ? threadedMs * PAYOFF_ON > soloMs : threadedMs * PAYOFF_OFF >= soloMs;
    if (next && !this.solo && !this.suspect) {
      // Four noisy steps against sixteen: a second probe, right away, must agree.
      this.suspect = true;
      this.probe = [];
      return;
    }
    this.suspect = false;
    this.first = false;
    if (next !== this.solo) {
      this.solo = next;
      this.baseline = [];
      if (next) this.offs++;
      else this.waitMs = PROBE_EVERY_MS;
    } else if (this.solo) {
      this.waitMs = Math.min(PROBE_MAX_MS, this.waitMs * 2);
    }
    this.probing = false;
    this.probe = [];
    this.switchedAt = now;
    this.nextProbeAt = now + this.waitMs;
  }
}
