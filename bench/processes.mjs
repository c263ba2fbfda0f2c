// The process-per-library harness of the family benches (lstm, energy, graph, transformer,
// generative): each library runs in a worker process of the bench's own file
// (`--worker <lib> --threads <n>`), and the driver asks every worker for one round of samples
// in turn, so a busy phase of the shared machine hits all of them. A bench file supplies what
// differs — how each library sets up its timed cases and how results become rows — and this
// file the rest: loading TF.js, forking, the worker's message loop, the rounds with other
// processes' CPU use, and running a bench in a fresh process for run.mjs.
import { execFile, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Measurement } from './measure.mjs';
import { cpuSnapshot, otherCores } from './machine.mjs';

/** Writes a progress line to stderr (stdout carries --json results). */
export const log = (s) => process.stderr.write(`${s}\n`);

/**
 * TF.js on its `wasm` or `cpu` backend, in prod mode. `layers`: also load tfjs-layers (returned
 * as `layers`), whose Node bundle registers the gradients that optimizer.minimize needs
 * (tfjs-core registers none).
 */
export async function loadTfjs(backend, { layers = false } = {}) {
  const tf = await import('@tensorflow/tfjs-core');
  const tfl = layers ? await import('@tensorflow/tfjs-layers') : null;
  const info = { version: tf.version_core, backend };
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the wasm backend finds its .wasm files only through setWasmPaths, given as a
    // directory path with a trailing slash.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(join(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), '..', 'dist') + '/');
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend did not initialise');
    info.threads = wasm.getThreadsCount();
    info.simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    info.multithread = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('the TF.js cpu backend did not initialise');
    info.threads = 1;
  }
  tf.enableProdMode(); // TF.js' fastest setting; also silences its "install tfjs-node" banner
  return { tf, info, layers: tfl };
}

/** simdgrad's bundle with `threads` threads started. */
export async function loadSimdgrad(threads) {
  const sg = await import('../dist/index.js');
  sg.setThreads(threads);
  if (threads > 1) await sg.startThreads();
  return { sg, info: { build: sg.build(), threads: sg.getThreads() } };
}

/**
 * The worker side: `setup(lib, threads)` returns `{ info, cases, extra? }` where cases maps an
 * id to `{ label, fn, work? }` (one timed call and the work it does, e.g. tokens). Answers
 * prepare (one untimed call per case happens in Measurement's warm-up), round and finish; a
 * case that throws is dropped and its error reported.
 */
export function serveWorker(lib, threads, setup, roundMs) {
  let ms = {};
  let info = null;
  let extra = null;
  const errors = {};
  process.on('message', async (msg) => {
    if (msg.cmd === 'prepare') {
      try {
        const s = await setup(lib, threads);
        info = s.info;
        extra = s.extra ?? null;
        for (const [id, c] of Object.entries(s.cases)) {
          try {
            ms[id] = new Measurement(`${c.label} [${lib}]`, c.fn, { work: c.work ?? null, scale: 1 });
          } catch (err) {
            errors[id] = err.message;
          }
        }
      } catch (err) {
        errors.all = err.message;
        ms = {};
        log(`${lib}: ${err.message}`);
      }
      process.send({ info, errors });
    } else if (msg.cmd === 'round') {
      for (const id of Object.keys(ms)) {
        try {
          await ms[id].round(roundMs);
        } catch (err) {
          errors[id] = err.message;
          delete ms[id];
        }
      }
      process.send('done');
    } else if (msg.cmd === 'finish') {
      const results = {};
      for (const [id, m] of Object.entries(ms)) results[id] = m.result();
      process.send({ lib, threads, info, results, errors, extra: typeof extra === 'function' ? extra() : extra });
      process.disconnect();
    }
  });
}

/** Forks `fileUrl` as a worker for `lib` with `threads` threads; `ask(msg)` resolves with its answer (null if it died). */
export function startWorker(fileUrl, lib, threads) {
  const proc = fork(fileURLToPath(fileUrl), ['--worker', lib, '--threads', String(threads)], {
    // The workers' stdout goes to stderr: with --json, stdout carries only the result.
    env: { ...process.env, SIMDGRAD_THREADS: String(threads) }, stdio: ['ignore', 2, 2, 'ipc'],
  });
  const ask = (msg) => new Promise((resolve) => {
    const finish = (answer) => {
      proc.off('message', finish);
      proc.off('exit', gone);
      resolve(answer);
    };
    const gone = () => finish(null);
    proc.on('message', finish);
    proc.on('exit', gone);
    if (proc.connected) proc.send(msg);
    else finish(null);
  });
  return { lib, threads, pid: proc.pid, ask };
}

/**
 * Runs a bench over the usual four workers (simdgrad on 1 and 2 threads, TF.js wasm and cpu):
 * prepares each, runs `rounds` rounds, and returns every worker's final answer with the other
 * processes' CPU use per round.
 */
export async function runWorkers(fileUrl, name, rounds, libs = [['simdgrad', 1], ['simdgrad', 2], ['tfjs-wasm', 1], ['tfjs-cpu', 1]]) {
  const workers = libs.map(([lib, threads]) => startWorker(fileUrl, lib, threads));
  for (const w of workers) {
    const started = performance.now();
    const answer = await w.ask({ cmd: 'prepare' });
    const failed = answer === null ? ': the worker ended' : answer.errors?.all ? `: ${answer.errors.all}` : '';
    log(`${name} bench: ${w.lib} (${w.threads} thread${w.threads > 1 ? 's' : ''}) ready in ${((performance.now() - started) / 1000).toFixed(1)} s${failed}`);
  }
  const pids = [process.pid, ...workers.map((w) => w.pid)];
  const busy = [];
  for (let r = 1; r <= rounds; r++) {
    const before = cpuSnapshot(pids);
    for (const w of workers) await w.ask({ cmd: 'round' });
    const others = otherCores(before, cpuSnapshot(pids));
    if (others !== null) busy.push(Number(others.toFixed(2)));
    log(`${name} bench: round ${r}/${rounds}${others === null ? '' : `, other processes used ${others.toFixed(2)} cores`}`);
  }
  const results = [];
  for (const w of workers) {
    results.push((await w.ask({ cmd: 'finish' })) ?? { lib: w.lib, threads: w.threads, info: null, results: {}, errors: { all: 'the worker ended' } });
  }
  return { results, busy };
}

/** Rounds a figure for results.json (null stays null). */
export const sig = (v, d = 4) => (v === null || v === undefined ? null : Number(v.toPrecision(d)));

/** A bench file run in a fresh process with --json, as rows of results.json (for run.mjs). */
export async function freshProcessRows(fileUrl, name, progress = () => {}) {
  const stdout = await new Promise((resolve) => {
    execFile(process.execPath, [fileURLToPath(fileUrl), '--json'], { maxBuffer: 1 << 24 }, (err, out, errOut) => {
      if (errOut) progress(errOut.trimEnd());
      if (err) {
        progress(`${name} bench failed: ${err.message}`);
        resolve(null);
      } else {
        resolve(out);
      }
    });
  });
  return stdout === null ? [] : JSON.parse(stdout).rows;
}

/**
 * The entry point of a bench file: a worker when started with --worker, otherwise the driver
 * (`bench()` → { rows, meta }), printing JSON with --json or the table via `print`.
 */
export async function main(fileUrl, { setup, roundMs, bench, print }) {
  // Only as the entry point: run.mjs imports the bench files for their *ResultRows, and its own
  // workers (also started with --worker) must not answer as these benches' workers too.
  if (!process.argv[1] || fileURLToPath(fileUrl) !== process.argv[1]) return;
  const workerArg = process.argv.indexOf('--worker');
  if (workerArg >= 0) {
    const t = process.argv.indexOf('--threads');
    serveWorker(process.argv[workerArg + 1], t >= 0 ? Number(process.argv[t + 1]) : 1, setup, roundMs);
  } else {
    const result = await bench();
    if (process.argv.includes('--json')) console.log(JSON.stringify(result));
    else print(result);
  }
}

/**
 * Rows of results.json for a bench with one timed step per library (rate units: higher is
 * better): one row per simdgrad thread count, with TF.js wasm and cpu beside it, the ratios,
 * spreads and sample counts; `notes(x, results)` gives the bench's own notes for simdgrad run x
 * (each result has lib, threads, info, result, error and the worker's `extra`).
 */
export function stepRows(answers, busy, rounds, { caseLabel, unit, file, notes }) {
  const results = answers.map((a) => ({
    lib: a.lib, threads: a.threads, info: a.info, extra: a.extra ?? {},
    result: a.results.step ?? null, error: a.errors.all ?? a.errors.step ?? null,
  }));
  const peer = (lib) => results.find((x) => x.lib === lib)?.result ?? null;
  const [wasm, cpu] = [peer('tfjs-wasm'), peer('tfjs-cpu')];
  const rows = results.filter((x) => x.lib === 'simdgrad').map((x) => ({
    case: caseLabel, unit,
    simdgrad: sig(x.result?.value),
    'tfjs-wasm': sig(wasm?.value), 'tfjs-cpu': sig(cpu?.value),
    ratio_vs_wasm: x.result && wasm ? sig(x.result.value / wasm.value, 3) : null,
    ratio_vs_cpu: x.result && cpu ? sig(x.result.value / cpu.value, 3) : null,
    spread: sig(x.result?.spread, 2),
    spread_peers: { 'tfjs-wasm': sig(wasm?.spread, 2), 'tfjs-cpu': sig(cpu?.spread, 2) },
    samples: { simdgrad: x.result?.samples ?? 0, 'tfjs-wasm': wasm?.samples ?? 0, 'tfjs-cpu': cpu?.samples ?? 0 },
    build: x.info?.build ?? null, threads: x.threads,
    note: [
      ...notes(x, results),
      x.threads > 1 ? `simdgrad: setThreads(${x.threads}); TF.js: one thread` : null,
      ...results.filter((p) => p.error).map((p) => `${p.lib} failed: ${p.error}`),
      file,
    ].filter(Boolean).join(' | '),
  }));
  const single = rows.find((x) => x.threads === 1)?.simdgrad;
  for (const row of rows) if (row.threads > 1) row.speedup_vs_1_thread = single && row.simdgrad ? sig(row.simdgrad / single, 3) : null;
  return { rows, meta: { rounds, other_cores_per_round: busy, peers: results.filter((x) => x.lib !== 'simdgrad').map((x) => ({ lib: x.lib, info: x.info })) } };
}

/** Prints stepRows' rows as a table on stdout (`digits` after the point for the rates). */
export function printStepRows({ rows, meta }, digits = 1) {
  const f = (v) => (v === null ? '-' : v.toFixed(digits));
  const r = (v) => (v === null ? '-' : `${v.toFixed(2)}x`);
  console.log(`${rows[0]?.case}; ${rows[0]?.unit}, medians over ${meta.rounds} alternating rounds (IQR / median in brackets)`);
  for (const row of rows) {
    console.log(`simdgrad ${row.build}, ${row.threads} thread(s): ${f(row.simdgrad)} (${row.spread}%, ${row.samples.simdgrad} samples)` +
      ` | TF.js wasm ${f(row['tfjs-wasm'])} (${row.spread_peers['tfjs-wasm']}%, ${row.samples['tfjs-wasm']}) -> ${r(row.ratio_vs_wasm)}` +
      ` | TF.js cpu ${f(row['tfjs-cpu'])} (${row.spread_peers['tfjs-cpu']}%, ${row.samples['tfjs-cpu']}) -> ${r(row.ratio_vs_cpu)}`);
  }
  console.log(`notes: ${rows[0]?.note}`);
  for (const p of meta.peers) if (p.info) console.log(`${p.lib}: TF.js ${p.info.version}${p.info.backend === 'wasm' ? `, SIMD ${p.info.simd}, threads ${p.info.threads}` : ''}`);
  if (meta.other_cores_per_round.length) console.log(`Other processes' cores per round: ${meta.other_cores_per_round.join(', ')}.`);
}
