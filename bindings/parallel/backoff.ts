// The pool's back-off on a busy machine (other work leaves no core free, or a CPU quota is
// shared by all threads): when parallel jobs stop saving time, threading turns off for a while.
//
// Each job is judged when it ends. It is a strike when it paid too little (took at least its
// one-thread time `alone` / PAYOFF, alone estimated from the main thread's own tasks) or when
// no worker ran any of its tasks (a no-show: the main thread ran them all, the worker was not
// running). Threading goes off when strikes fill more than THRESHOLD of the recent time:
// `rate` is the share of strikes weighted by each job's duration, with the older jobs fading
// with time constant TAU_MS.
//
// Measured on this project's 2-core VM (logs of every job of 2 s of training on 2 threads,
// replayed through the rules; MNIST MLP at batch 64 and 256, small CNN at batch 64):
//   - idle machine: 5-7% of jobs are no-shows, but in runs of up to 74 jobs (several ms, the
//     worker's vCPU not running). The rule this replaces (4 strikes in a row, by count) backed
//     off 17-20 times in those 2 s and kept the MLP on one thread 43% of the time; this rule,
//     once (2%), and not at all for the other two;
//   - one busy-looping process beside the training: 71-85% no-shows, and a 2-thread step
//     1.7-2.3 times as slow as one thread without a back-off; this rule keeps threading off
//     87-91% of the time.
//
// A back-off lasts backoffMs, which doubles up to BACKOFF_MAX_MS while strikes go on. After it
// the rate restarts at THRESHOLD, on probation: one more strike turns threading off again
// (longer), while jobs that pay bring it down, and below THRESHOLD / 2 backoffMs is reset.

/** A job must be this much faster than its one-thread time to count as paying. */
const PAYOFF = 1.15;
/** Time constant (ms) of the strike rate's memory. */
const TAU_MS = 50;
/** Share of the recent time in strikes above which threading goes off. */
const THRESHOLD = 0.5;
export const BACKOFF_MIN_MS = 20;
export const BACKOFF_MAX_MS = 2000;

/** @internal The back-off state: judge() after each parallel job, active() before planning one. */
export class Backoff {
  /** Share of the recent time spent in jobs that were strikes (0..1). */
  private rate = 0;
  private backoffMs = BACKOFF_MIN_MS;
  /** Threading stays off until this time (performance.now() ms); 0: not backing off. */
  private until = 0;
  /** Back-offs so far. */
  count = 0;

  /**
   * Records a job that took `took` ms, where one thread would have taken `alone` ms, ending at
   * time `now`; `noShow`: the calling thread ran every task.
   */
  judge(alone: number, took: number, noShow: boolean, now: number): void {
    const strike = noShow || took >= alone / PAYOFF;
    const keep = Math.exp(-Math.max(0, took) / TAU_MS);
    this.rate = this.rate * keep + (strike ? 1 - keep : 0);
    if (this.rate < THRESHOLD / 2) this.backoffMs = BACKOFF_MIN_MS;
    if (this.rate <= THRESHOLD) return;
    this.rate = THRESHOLD;
    this.count++;
    this.until = now + this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
  }

  /** Whether threading is off at time `now`. */
  active(now: number): boolean {
    return this.until > 0 && now < this.until;
  }

  /** Forgets the evidence and ends a back-off (the count stays). */
  reset(): void {
    this.rate = 0;
    this.until = 0;
    this.backoffMs = BACKOFF_MIN_MS;
  }
}
