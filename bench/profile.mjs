// `npm run bench -- --profile` (or `node bench/profile.mjs`): where the time of one training step
// goes, per op, region and kernel (sg.profile), so a regression can be traced to the op or
// kernel that slowed down. The steps are the bench's own training cases (train.mjs,
// cnn-train.mjs: MLP and CNN at batch 64 and 256, the LeNet CNN of npm start), each run in a
// fresh process per thread count (1, then 2 with setThreads(2) and the pool started), one after
// the other, with SIMDGRAD_BACKOFF=off (threading stays on whatever the timing, so the
// 2-thread profile shows every call that splits). Writes bench/profile.json too. At the end,
// the two profiles of each step give the most two threads could make of it (Amdahl's law).
//
// Profiling times every op frame and kernel call (two performance.now() calls each), which
// adds a little per op: each step is also timed without the profiler, in the same loop just
// before and after the profiled runs, and printed beside it. The build is the one that loads
// by default; `SIMDGRAD_BUILD=relaxed node --experimental-wasm-relaxed-simd bench/profile.mjs`
// profiles the other (the flags and environment pass on to the child processes).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES } from './suite.mjs';
import { loadSimdgrad, log } from './processes.mjs';

const THREADS = [1, 2];
const STEPS_MS = 1000; // profiled time per case; the unprofiled loops take as long again
const WARMUP = 5;

const PROFILED = CASES.filter((c) => c.training);

/** In the child process: every training case on `threads` threads. */
async function profileCases(threads) {
  const { sg, info } = await loadSimdgrad(threads);
  const out = [];
  for (const c of PROFILED) {
    const { fn, dispose } = c.simdgrad(sg);
    for (let i = 0; i < WARMUP; i++) fn();
    let t = performance.now();
    fn();
    const runs = Math.min(200, Math.max(5, Math.round(STEPS_MS / (performance.now() - t))));
    const plain = () => {
      t = performance.now();
      for (let i = 0; i < runs; i++) fn();
      return (performance.now() - t) / runs;
    };
    const before = plain();
    const profile = sg.profile(fn, { runs });
    const after = plain();
    out.push({ case: c.case, build: info.build, threads: info.threads, runs, unprofiledMs: (before + after) / 2, unprofiledBeforeAfterMs: [before, after], profile, log: dispose() });
  }
  return out;
}

/** Runs this file with --child in a fresh process per thread count; all results. */
async function collect() {
  const results = [];
  for (const threads of THREADS) {
    log(`profile: ${PROFILED.length} training steps on ${threads} thread${threads > 1 ? 's' : ''}...`);
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', '--threads', String(threads)], {
        // Threads stay on (no back-off, no step guard): the profile shows every split.
        env: { ...process.env, SIMDGRAD_THREADS: String(threads), SIMDGRAD_BACKOFF: 'off' }, maxBuffer: 1 << 24,
      }, (err, stdout, stderr) => {
        if (stderr) log(stderr.trimEnd());
        if (err) reject(new Error(`profile on ${threads} threads failed: ${err.message}`));
        else resolve(JSON.parse(stdout));
      });
    });
    results.push(...out);
  }
  return results;
}

const us = (ms) => (ms * 1000).toFixed(ms < 0.01 ? 2 : ms < 1 ? 1 : 0);
const share = (ms, wall) => `${((100 * ms) / wall).toFixed(1)}%`;

/** Prints one profiled step as three small tables (the step, per op / region, per kernel). */
function printStep(r) {
  const p = r.profile;
  const overhead = (100 * (p.wallMs - r.unprofiledMs)) / r.unprofiledMs;
  console.log(`\n${r.case} — ${r.build} build, ${r.threads} thread${r.threads > 1 ? 's' : ''}, ${p.runs} runs`);
  const [before, after] = r.unprofiledBeforeAfterMs;
  console.log(`step: ${p.wallMs.toFixed(3)} ms profiled, ${r.unprofiledMs.toFixed(3)} ms unprofiled (${before.toFixed(3)} before, ${after.toFixed(3)} after; profiler overhead ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}%);` +
    ` kernels ${p.kernelMs.toFixed(3)} ms (${share(p.kernelMs, p.wallMs)}), JavaScript ${p.jsMs.toFixed(3)} ms (${share(p.jsMs, p.wallMs)})`);
  table(['op / region', 'calls', 'self µs', 'kernel µs', 'JS µs', 'share'],
    p.ops.map((o) => [o.name, fmtCalls(o.calls), us(o.selfMs), us(o.kernelMs), us(o.selfMs - o.kernelMs), share(o.selfMs, p.wallMs)]));
  table(['kernel', 'calls', 'µs', 'share'], p.kernels.map((k) => [k.name, fmtCalls(k.calls), us(k.ms), share(k.ms, p.wallMs)]));
}

const fmtCalls = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function table(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(`  ${line(head)}`);
  for (const b of body) console.log(`  ${line(b)}`);
}

/**
 * How far two threads can take a step, from its profiles on 1 and 2 threads (Amdahl's law).
 * Kernels that ran serially on 2 threads are taken to cost the same on 1; the rest of the
 * one-thread kernel time is the work that splits. Everything else (JavaScript, serial
 * kernels) stays on the calling thread: the bound is wall₁ / (serial + split / 2).
 */
function twoThreadBound(one, two) {
  const serialKernels = two.profile.kernels.filter((k) => !k.name.endsWith(' threads)')).reduce((a, k) => a + k.ms, 0);
  const split = Math.max(0, one.profile.kernelMs - serialKernels);
  const serial = one.unprofiledMs - split;
  return { splitMs: split, serialMs: serial, bound: one.unprofiledMs / (serial + split / 2), measured: one.unprofiledMs / two.unprofiledMs };
}

/** The driver: profiles, prints, writes bench/profile.json. */
export async function runProfile() {
  const results = await collect();
  for (const r of results) printStep(r);
  console.log('\nTwo threads, from the profiles (Amdahl): the one-thread step split into the kernel work that splits on 2 threads and what stays on the calling thread.');
  table(['case', 'build', 'step, 1 thr µs', 'splits µs', 'stays µs', 'bound, 2 thr', 'measured'],
    results.filter((r) => r.threads === 1).flatMap((one) => {
      const two = results.find((r) => r.threads === 2 && r.case === one.case && r.build === one.build);
      if (two === undefined) return [];
      const b = twoThreadBound(one, two);
      one.twoThreadBound = b;
      return [[one.case.slice(0, 48), one.build, us(one.unprofiledMs), us(b.splitMs), us(b.serialMs), `${b.bound.toFixed(2)}×`, `${b.measured.toFixed(2)}×`]];
    }));
  console.log('\nPer run (averages over the runs). share: of the profiled step. self: time in the op or region itself, the ops it ran excluded;' +
    ' kernel: of that, inside wasm kernels; JS = self − kernel. (outside): the step\'s own code (batching, loss.item()).' +
    ' A parallel job counts as one kernel call, named with its thread count.');
  const file = fileURLToPath(new URL('profile.json', import.meta.url));
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, steps: results }, null, 2) + '\n');
  console.log(`wrote bench/profile.json (${results.length} steps)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--child')) {
    const t = process.argv.indexOf('--threads');
    console.log(JSON.stringify(await profileCases(Number(process.argv[t + 1]))));
  } else {
    await runProfile();
  }
}
