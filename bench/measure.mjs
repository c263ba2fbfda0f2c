// Measurements on a noisy 2-core machine.
//
// A measurement is prepared once (a few probe calls decide how many calls make one sample)
// and then run in several rounds; run.mjs interleaves the rounds of simdgrad and its peers
// (each in its own process) case by case, so a slow phase of the machine hits every library
// instead of one. Each
// round is one tinybench run; its samples are pooled. We report the median per-call value
// and the interquartile range of the per-sample values relative to the median (the spread).
import { Bench } from 'tinybench';

const SAMPLE_MS = 4; // calls are batched until one sample takes about this long
const PROBE_MS = 30;
const SLOW_CALL_MS = 250; // slower calls get one sample per round, no warmup
const MIN_SAMPLES_PER_ROUND = 5;

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export class Measurement {
  /**
   * fn: synchronous, one unit of work per call. work: amount of work per call (flops,
   * samples) to report a rate (work per second / scale), or null to report ms per call.
   */
  constructor(name, fn, { work = null, scale = 1 } = {}) {
    this.name = name;
    this.work = work;
    this.scale = scale;
    this.perCallMs = [];
    // Probe: compiles the JS path and tells how slow one call is (the fastest probe counts).
    let best = Infinity;
    const start = performance.now();
    for (let i = 0; i < 50 && (i < 2 || performance.now() - start < PROBE_MS); i++) {
      const t = performance.now();
      fn();
      best = Math.min(best, performance.now() - t);
      if (best > SLOW_CALL_MS) break;
    }
    this.slow = best > SLOW_CALL_MS;
    this.calls = Math.max(1, Math.ceil(SAMPLE_MS / Math.max(best, 1e-3)));
    const calls = this.calls;
    this.task = calls === 1 ? fn : () => { for (let i = 0; i < calls; i++) fn(); };
    this.rounds = 0;
  }

  /** One round of about budgetMs (slow calls: a single sample). */
  async round(budgetMs) {
    this.before = this.perCallMs.length;
    const first = this.rounds++ === 0;
    const bench = new Bench({
      name: this.name,
      time: this.slow ? 0 : budgetMs,
      iterations: this.slow ? 1 : MIN_SAMPLES_PER_ROUND,
      warmup: !this.slow,
      warmupTime: first ? 200 : 40,
      warmupIterations: first ? 5 : 2,
      retainSamples: true,
      throws: true,
    });
    bench.add(this.name, this.task, { async: false });
    await bench.run();
    const result = bench.tasks[0].result;
    if (result.state !== 'completed') throw new Error(`${this.name}: tinybench ended in state ${result.state}`);
    for (const ms of result.latency.samples) this.perCallMs.push(ms / this.calls);
  }

  /** Forgets the last round's samples (taken while the machine was busy; it will be re-run). */
  discardLast() {
    if (this.before === undefined) return;
    this.perCallMs.length = this.before;
    this.rounds--;
    this.before = undefined;
  }

  /** { value, spread, samples, callsPerSample }: median and IQR/median in percent. */
  result() {
    const values = (this.work === null
      ? this.perCallMs
      : this.perCallMs.map((ms) => this.work / (ms / 1000) / this.scale)).sort((a, b) => a - b);
    const median = quantile(values, 0.5);
    const iqr = quantile(values, 0.75) - quantile(values, 0.25);
    return { value: median, spread: (100 * iqr) / median, samples: values.length, callsPerSample: this.calls };
  }
}
