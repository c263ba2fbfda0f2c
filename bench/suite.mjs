// Everything one worker process measures: one library (simdgrad with whichever build the
// process loaded and a given thread count, or one TF.js backend) on every case, plus, for
// one-thread simdgrad, the machine's SIMD peak for the instruction its build uses. A
// simdgrad worker with more than one thread runs only the cases marked `threads: true`.
// run.mjs drives the workers case by case and round by round, so every library collects
// samples spread over the whole bench run.
import { Measurement } from './measure.mjs';
import { loadTfjs as loadTfjsBackend } from './processes.mjs';
import { peakKernel, PEAK_ITERS, PEAK_FLOPS_PER_CALL } from './peak.mjs';
import { gemmCases } from './gemm.mjs';
import { softmaxCases } from './softmax.mjs';
import { trainCases } from './train.mjs';
import { convCases } from './conv.mjs';
import { cnnTrainCases } from './cnn-train.mjs';

export const CASES = [...gemmCases, ...softmaxCases, ...trainCases, ...convCases, ...cnnTrainCases];
export const PEERS = ['tfjs-wasm', 'tfjs-cpu'];
/** The optional native peer (bench/pytorch.mjs), measured at each row's thread count. */
export const TORCH = 'pytorch';
export const PEAK_CASE = {
  simd: 'SIMD peak f32x4 mul+add (1 thread)',
  relaxed: 'SIMD peak f32x4 relaxed_madd (1 thread)',
};
/** Time per case and round, in ms (slow calls get one sample per round instead). */
export const ROUND_BUDGET_MS = 200;

const log = (s) => process.stderr.write(`${s}\n`);

/** TF.js with one backend ('wasm' or 'cpu') registered and selected. */
// tfjs-core registers no gradients by itself (the @tensorflow/tfjs union package does); the
// Node bundle of tfjs-layers registers all of them, which optimizer.minimize needs.
const loadTfjs = (backend) => loadTfjsBackend(backend, { layers: true });

export class Suite {
  /**
   * lib: 'simdgrad' (build chosen by the loader / SIMDGRAD_BUILD), 'tfjs-wasm' or 'tfjs-cpu';
   * threads: simdgrad's thread count (setThreads), 1 for the peers.
   */
  static async create(lib, threads = 1) {
    const s = new Suite();
    s.lib = lib;
    s.entries = []; // per case, in CASES order: { case, c, fn, m: Measurement | null, dispose, error, skipped }
    s.peak = null;
    if (lib === 'simdgrad') {
      const sg = await import('../dist/index.js');
      s.sg = sg;
      sg.setThreads(threads);
      // Start the pool's workers now rather than inside the first probe.
      const ti = threads > 1 ? await sg.startThreads() : sg.threadsInfo();
      s.build = sg.build();
      s.info = { build: s.build, threads: sg.getThreads(), workers: ti.workers, reason: ti.reason };
      if (threads > 1 && (s.info.threads !== threads || ti.workers !== threads - 1)) {
        log(`simdgrad ${s.build}: asked for ${threads} threads, got ${s.info.threads} with ${ti.workers} workers ready (${ti.reason ?? 'no reason given'})`);
      }
      const peak = threads === 1 ? peakKernel(s.build === 'relaxed') : null;
      if (peak !== null) {
        let sink = 0;
        s.peak = {
          case: PEAK_CASE[s.build], error: null, dispose: () => sink,
          m: new Measurement(PEAK_CASE[s.build], () => { sink += peak(PEAK_ITERS, 0.999, 0.001); },
            { work: PEAK_FLOPS_PER_CALL, scale: 1e9 }),
        };
      }
      for (const c of CASES) {
        if (threads > 1 && !c.threads) s.skip(c);
        else s.add(c, () => c.simdgrad(sg));
      }
    } else {
      const { tf, info } = await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu');
      s.info = info;
      for (const c of CASES) {
        if (c.tfjs) s.add(c, () => c.tfjs(tf));
        else s.skip(c); // a case with no TF.js version (its note says why)
      }
    }
    // Every case is set up before any is probed: the tensors cases keep (inputs, models,
    // optimizer state) then all exist before a training case first counts live tensors, so
    // its "live tensors after step k / after the last" compare like with like.
    for (const e of s.entries) s.probe(e);
    return s;
  }

  /** A case this worker does not run (keeps entries aligned with CASES). */
  skip(c) {
    this.entries.push({ case: c.case, c, fn: null, m: null, dispose: () => {}, error: null, skipped: true });
  }

  add(c, setup) {
    const e = { case: c.case, c, fn: null, m: null, dispose: () => {}, error: null, skipped: false };
    this.entries.push(e);
    try {
      const { fn, dispose } = setup();
      e.fn = fn;
      e.dispose = dispose;
    } catch (err) {
      this.fail(e, err);
    }
  }

  probe(e) {
    if (e.fn === null) return;
    try {
      e.m = new Measurement(`${e.case} [${this.lib}]`, e.fn, { work: e.c.work, scale: e.c.scale });
    } catch (err) {
      this.fail(e, err);
    }
  }

  fail(e, err) {
    log(`  ${e.case} [${this.lib}] failed: ${err.message}`);
    e.error = err.message;
    e.fn = null;
    e.m = null;
  }

  /** One round of case i (index into CASES; -1 = the SIMD peak). */
  async round(i) {
    const e = i < 0 ? this.peak : this.entries[i];
    if (!e || e.m === null) return;
    // A case may sample a slow library (one call per round) in its first rounds only.
    if (e.m.slow && e.c?.slowRounds !== undefined && e.m.rounds >= e.c.slowRounds) return;
    try {
      await e.m.round(ROUND_BUDGET_MS);
    } catch (err) {
      this.fail(e, err);
    }
  }

  /** Forgets the samples of the last round of case i (-1: the peak), to re-run it. */
  discard(i) {
    const e = i < 0 ? this.peak : this.entries[i];
    e?.m?.discardLast();
  }

  /** Results as plain data (sent to the main process), then teardown. */
  finish() {
    const done = (e) => {
      if (e?.skipped) return { result: null, extra: null, error: null, skipped: true };
      if (!e || e.m === null) return { result: null, extra: null, error: e?.error ?? null };
      // A case may derive its figure from its own and other cases' samples (conv backward:
      // forward+backward time minus the forward's median).
      const result = e.c?.result ? e.c.result(e.m, (name) => this.entries.find((x) => x.case === name)?.m ?? null) : e.m.result();
      const extra = e.dispose();
      return { result, extra: typeof extra === 'string' ? extra : null, error: null };
    };
    // Workers the pool had at the end (0 on one thread): shows the threaded calls really ran threaded.
    if (this.sg) this.info = { ...this.info, workersAtEnd: this.sg.threadsInfo().workers };
    return {
      lib: this.lib,
      info: this.info,
      peak: this.peak ? done(this.peak).result : null,
      cases: Object.fromEntries(this.entries.map((e) => [e.case, done(e)])),
    };
  }
}
