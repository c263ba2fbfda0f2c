// Native PyTorch as a peer of `npm run bench` (optional: `apt-get install python3-torch`).
// findTorch() looks for a python3 that can import torch; startPytorchWorker() runs
// bench/pytorch.py as one more worker of run.mjs, answering the same prepare / round /
// discard / finish messages over its stdin and stdout (one JSON line each), so its samples
// are taken in turn with simdgrad's and TF.js'. The cases it runs are the JS cases' `pytorch`
// specs; it sends back raw per-call times, which become results here through
// Measurement.result() and the cases' own result() (conv backward), as in the JS workers.
//
// BENCH_PYTORCH=0 leaves PyTorch out; BENCH_PYTHON=<path> tries only that interpreter.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Measurement } from './measure.mjs';

const SCRIPT = fileURLToPath(new URL('pytorch.py', import.meta.url));

/**
 * { python, version } of the first interpreter that imports torch, or { python: null, reason }.
 * Debian's python3-torch goes with /usr/bin/python3, which a pyenv or venv python3 earlier on
 * PATH does not see: both are tried.
 */
export function findTorch() {
  if (process.env.BENCH_PYTORCH === '0') return { python: null, reason: 'BENCH_PYTORCH=0' };
  const candidates = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : ['python3', '/usr/bin/python3'];
  const tried = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
    tried.push(`${python}: ${r.error ? r.error.code ?? r.error.message : (r.stderr.trim().split('\n').pop() || `exit ${r.status}`)}`);
  }
  return { python: null, reason: `no python3 with torch (${tried.join('; ')})` };
}

/** The environment of a PyTorch process on `threads` threads (OpenMP and OpenBLAS read these at load). */
export const torchEnv = (threads) => ({ ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) });

/**
 * A PyTorch worker with run.mjs's worker interface ({ label, lib, threads, pid, alive, ask, close }):
 * ask({ cmd: 'prepare' }) sends `cases` (suite.mjs's CASES), the digits file and the round
 * budget; ask({ cmd: 'finish' }) answers like Suite.finish().
 */
export function startPytorchWorker(label, python, threads, { cases, dataFile, budgetMs, log }) {
  const proc = spawn(python, [SCRIPT, '--threads', String(threads)], { env: torchEnv(threads), stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  let waiting = null;
  const w = { label, lib: 'pytorch', threads, pid: proc.pid, alive: true };
  const gone = () => {
    if (w.alive) log(`${label}: worker process ended unexpectedly; its numbers are left out`);
    w.alive = false;
    waiting?.(null);
  };
  lines.on('line', (line) => waiting?.(JSON.parse(line)));
  proc.on('exit', gone);
  proc.on('error', gone);
  proc.stdin.on('error', () => {}); // EPIPE once it has died: 'exit' reports that

  const send = (msg) => new Promise((resolve) => {
    if (!w.alive) return resolve(null);
    waiting = (answer) => { waiting = null; resolve(answer); };
    proc.stdin.write(`${JSON.stringify(msg)}\n`);
  });
  w.ask = async (msg) => {
    if (msg.cmd === 'prepare') {
      return send({
        cmd: 'prepare', data: dataFile, budget_ms: budgetMs,
        cases: cases.map((c) => ({ spec: c.pytorch ?? null, threads: c.threads === true, slowRounds: c.slowRounds ?? null })),
      });
    }
    if (msg.cmd !== 'finish') return send(msg);
    const answer = await send(msg);
    if (answer === null) return null;
    w.alive = false;
    return {
      lib: 'pytorch',
      info: answer.info,
      peak: null,
      cases: finishCases(cases, answer.cases),
    };
  };
  w.close = () => proc.stdin.end();
  return w;
}

/** The worker's raw per-call times as Suite.finish()'s { result, extra, error, skipped } per case. */
function finishCases(cases, raw) {
  const ms = cases.map((c, i) => (raw[i].perCallMs
    ? Object.assign(Object.create(Measurement.prototype), { perCallMs: raw[i].perCallMs, work: c.work, scale: c.scale ?? 1 })
    : null));
  const measurementOf = (name) => ms[cases.findIndex((c) => c.case === name)] ?? null;
  return Object.fromEntries(cases.map((c, i) => {
    const r = raw[i];
    if (r.skipped) return [c.case, { result: null, extra: null, error: null, skipped: true }];
    const m = ms[i];
    if (m === null || m.perCallMs.length === 0) return [c.case, { result: null, extra: null, error: r.error ?? null }];
    return [c.case, { result: c.result ? c.result(m, measurementOf) : m.result(), extra: r.extra, error: r.error }];
  }));
}

/** One line on which BLAS, threads and oneDNN the worker ran with (from its info). */
export function describeTorch(info) {
  if (!info) return 'PyTorch: not run';
  const blas = info.openblas
    ? `OpenBLAS ${info.openblas.config} (${info.openblas.library})`
    : info.libraries?.filter((l) => /blas/i.test(l.resolved)).map((l) => l.resolved).join(', ') || `none found in /proc/<pid>/maps (BLAS_INFO=${info.blas_info})`;
  return `PyTorch ${info.version} (${info.python}): BLAS ${blas}; MKL-DNN/oneDNN ${info.mkldnn ? 'on' : 'off'}; MKL ${info.mkl ? 'yes' : 'no'}; CPU capability ${info.cpu_capability ?? '?'}`;
}

/** Runs pytorch.py --memory for one training case in a fresh process: { rss_bytes, rss_before_model_bytes, steps } or { error }. */
export function torchMemory(python, threads, spec, dataFile) {
  const r = spawnSync(python, [SCRIPT, '--memory', '--threads', String(threads)], {
    input: JSON.stringify({ spec, data: dataFile }), encoding: 'utf8', env: torchEnv(threads), timeout: 600_000,
  });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop() };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
