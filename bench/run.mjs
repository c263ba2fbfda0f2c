// `npm run bench`: simdgrad against TF.js (wasm and cpu backends), measured in the same run,
// printed as a table and written to bench/results.json.
//
// Each library runs in its own worker process (this file with --worker <lib> --threads <n>),
// so that one library's heap and garbage collections do not slow another down:
//   simdgrad, the build that loads by default (on Node 20: plain SIMD), one thread;
//   simdgrad, the other build, forced with SIMDGRAD_BUILD (on Node 20: relaxed SIMD with FMA,
//            which needs node --experimental-wasm-relaxed-simd), one thread;
//   the same two builds with 2 threads (setThreads(2)), on the cases marked `threads: true`;
//   TF.js with the wasm backend (one thread: it disables threads in Node);
//   TF.js with the cpu backend;
//   native PyTorch on 1 and 2 threads (torch.set_num_threads), if a python3 with torch is
//            found (bench/pytorch.mjs; optional: `apt-get install python3-torch`; BENCH_PYTORCH=0
//            leaves it out, BENCH_PYTHON=<path> picks the interpreter).
// This process only drives them, one at a time: for each round, for each case, every worker
// runs that case once (~0.2 s). Samples of all rounds are pooled, so every library sees the
// same phases of a noisy machine. A call slower than 250 ms is one sample per round; the conv
// backward and CNN training cases take those in their first rounds only (tfjs-cpu needs
// seconds per call there; see slowRounds in conv.mjs and cnn-train.mjs).
// The machine is shared: a sample batch taken while other processes used more than a quarter
// of a core is thrown away and taken again once it is quiet (bench/machine.mjs); the counts
// are printed and kept in results.meta.json's quiet counts.
// After the rounds (all workers gone): cold start, in fresh processes, and the shipped sizes
// (bench/cold-start.mjs), then BPE encode throughput against gpt-tokenizer and tiktoken in a
// fresh process (bench/tokenizer.mjs), and LSTM language-model training against TF.js-layers'
// LSTM (wasm and cpu backends) in fresh processes of its own (bench/lstm.mjs). results.json is the array of rows the issues specify; the run's
// machine, versions and quiet counts go to results.meta.json beside it.
// Then the peak memory of each training case (wasm memory and RSS), each library in a fresh
// process of its own (bench/train-memory.mjs; BENCH_MEMORY=0 skips it).
// `node bench/readme-table.mjs` turns it into the README's table.
// `npm run bench -- --profile` (or `node bench/profile.mjs`) prints a per-op profile of the
// MLP and CNN training steps instead (bench/profile.mjs).
import { fork } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, ROUND_BUDGET_MS, Suite } from './suite.mjs';
import { describeTorch, findTorch, startPytorchWorker } from './pytorch.mjs';
import { writeMnistFile } from './mnist.mjs';
import { trainingMemory } from './train-memory.mjs';
import { peakKernel } from './peak.mjs';
import { makeRows, printTable } from './report.mjs';
import { coldStart, shippedSizes, versions } from './cold-start.mjs';
import { QUIET_CORES, cpuModel, cpuSnapshot, otherCores, waitQuiet } from './machine.mjs';
import { tokenizerResultRows } from './tokenizer.mjs';
import { lstmResultRows } from './lstm.mjs';
import { energyResultRows } from './energy.mjs';
import { generativeResultRows } from './generative.mjs';
import { transformerResultRows } from './transformer.mjs';
import { graphResultRows } from './graph.mjs';
import { compressResultRows } from './compress.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6); // BENCH_ROUNDS=1 for a quick check
const COLD_REPS = Number(process.env.BENCH_COLD_REPS ?? 9); // fresh processes per cold-start variant
const THREADS = 2; // the threaded simdgrad workers
const MAX_TRIES = 5; // takes of one sample batch while the machine is busy
const MAX_WAIT_MS = 15 * 60_000; // total time the bench may wait for a quiet machine
const log = (s) => process.stderr.write(`${s}\n`);

const workerArg = process.argv.indexOf('--worker');
if (process.argv.includes('--profile')) {
  await (await import('./profile.mjs')).runProfile();
} else if (workerArg >= 0) {
  const t = process.argv.indexOf('--threads');
  serve(process.argv[workerArg + 1], t >= 0 ? Number(process.argv[t + 1]) : 1);
} else {
  await main();
}

/** Worker side: answers prepare / round / finish messages from the main process. */
function serve(lib, threads) {
  let suite = null;
  process.on('message', async (msg) => {
    if (msg.cmd === 'prepare') {
      suite = await Suite.create(lib, threads);
      process.send({ info: suite.info });
    } else if (msg.cmd === 'round') {
      await suite.round(msg.index);
      process.send('done');
    } else if (msg.cmd === 'discard') {
      suite.discard(msg.index);
      process.send('done');
    } else if (msg.cmd === 'finish') {
      process.send(suite.finish());
      process.disconnect();
    }
  });
}

/** A worker process as seen from main: ask() resolves with its answer, or null if it died. */
function startWorker(label, lib, { execArgv = [], env = process.env, threads = 1 } = {}) {
  const proc = fork(fileURLToPath(import.meta.url), ['--worker', lib, '--threads', String(threads)], {
    execArgv, env: { ...env, SIMDGRAD_THREADS: String(threads) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const w = {
    label,
    lib,
    threads,
    pid: proc.pid,
    alive: true,
    ask(msg) {
      if (!w.alive || !proc.connected) return Promise.resolve(null);
      return new Promise((resolve) => {
        const done = (answer) => {
          proc.off('message', done);
          proc.off('exit', gone);
          if (answer === null) {
            w.alive = false;
            log(`${label}: worker process ended unexpectedly; its numbers are left out`);
          }
          resolve(answer);
        };
        const gone = () => done(null);
        proc.on('message', done);
        proc.on('exit', gone);
        proc.send(msg);
      });
    },
    close() { if (proc.connected) proc.disconnect(); },
  };
  return w;
}

async function main() {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const measured = versions(); // the commit the run starts at (others may commit meanwhile)

  // simdgrad with the default build first: which build that is decides the second worker.
  const first = startWorker('simdgrad (default build, 1 thread)', 'simdgrad');
  const firstInfo = await first.ask({ cmd: 'prepare' });
  if (firstInfo === null) throw new Error('simdgrad could not be loaded; run `npm run build` first');
  const dflt = firstInfo.info.build;
  const other = dflt === 'simd' ? 'relaxed' : 'simd';
  const flags = other === 'relaxed' && peakKernel(true) === null ? ['--experimental-wasm-relaxed-simd'] : [];
  const otherEnv = { ...process.env, SIMDGRAD_BUILD: other };
  const workers = [
    first,
    startWorker(`simdgrad (${other} build, 1 thread)`, 'simdgrad', { execArgv: flags, env: otherEnv }),
    startWorker(`simdgrad (${dflt} build, ${THREADS} threads)`, 'simdgrad', { threads: THREADS }),
    startWorker(`simdgrad (${other} build, ${THREADS} threads)`, 'simdgrad', { execArgv: flags, env: otherEnv, threads: THREADS }),
    startWorker('TF.js wasm backend', 'tfjs-wasm'),
    startWorker('TF.js cpu backend', 'tfjs-cpu'),
  ];
  const infos = [firstInfo.info];
  for (const w of workers.slice(1)) infos.push((await w.ask({ cmd: 'prepare' }))?.info ?? null);
  log(`workers: simdgrad ${dflt} build (default); simdgrad ${other} build` +
    ` (node ${[...flags, 'bench/run.mjs'].join(' ')}, SIMDGRAD_BUILD=${other}); each with 1 and ${THREADS} threads; TF.js wasm; TF.js cpu`);
  for (const [i, w] of workers.entries()) {
    if (w.lib === 'simdgrad' && infos[i]) log(`  ${w.label}: threads ${infos[i].threads}, pool workers ready ${infos[i].workers}${infos[i].reason ? ` (${infos[i].reason})` : ''}`);
  }
  const wasmInfo = infos[4];
  if (wasmInfo) log(`TF.js ${wasmInfo.version} wasm backend: SIMD ${wasmInfo.simd}, multithread ${wasmInfo.multithread}, threads ${wasmInfo.threads}`);

  // PyTorch joins the rounds as two more workers. The digits go to a file it (and the memory
  // probe's fresh processes) read, so all libraries train on the same pixels.
  const torch = findTorch();
  const dataFile = join(tmpdir(), `simdgrad-bench-mnist-${process.pid}.bin`);
  writeMnistFile(dataFile);
  if (torch.python) {
    for (const threads of [1, THREADS]) {
      const w = startPytorchWorker(`PyTorch (${threads} thread${threads > 1 ? 's' : ''})`, torch.python, threads,
        { cases: CASES, dataFile, budgetMs: ROUND_BUDGET_MS, log });
      workers.push(w);
      infos.push((await w.ask({ cmd: 'prepare' }))?.info ?? null);
    }
    log(describeTorch(infos[6] ?? infos[7]));
    for (const [i, w] of workers.entries()) {
      if (w.lib === 'pytorch' && infos[i]) log(`  ${w.label}: torch.get_num_threads() ${infos[i].threads}, OpenBLAS threads ${infos[i].openblas?.threads ?? '?'}`);
    }
  } else {
    log(`PyTorch: left out (${torch.reason}); \`apt-get install python3-torch\` adds it`);
  }

  // Every sample batch (one worker, one case, one round) is watched: if processes other than
  // this bench used more than QUIET_CORES meanwhile, it is discarded and re-taken once the
  // machine is quiet again (at most MAX_TRIES times, and within a total waiting budget);
  // see machine.mjs.
  const pids = [process.pid, ...workers.map((w) => w.pid)];
  const stats = { batches: 0, retaken: 0, keptBusy: 0, waitedMs: 0 };
  const otherPerRound = [];
  const quietRound = async (w, i) => {
    for (let attempt = 1; ; attempt++) {
      const a = cpuSnapshot(pids);
      await w.ask({ cmd: 'round', index: i });
      const b = cpuSnapshot(pids);
      const others = otherCores(a, b);
      if (others === null || others <= QUIET_CORES) break;
      // Seconds-long single calls (tfjs-cpu's conv backward and CNN steps, 100-1000x slower
      // than the rest) are kept: re-taking them would cost minutes for no visible change.
      if (attempt >= MAX_TRIES || stats.waitedMs >= MAX_WAIT_MS || b.t - a.t > 3) {
        stats.keptBusy++;
        break;
      }
      stats.retaken++;
      log(`  ${elapsed()}: other processes used ${others.toFixed(2)} cores during ${i < 0 ? 'the peak' : CASES[i].case} [${w.label}]: re-taking it when quiet`);
      await w.ask({ cmd: 'discard', index: i });
      stats.waitedMs += await waitQuiet(pids, 10_000);
    }
    stats.batches++;
  };
  const runs = (w, i) => (i < 0 ? w.lib === 'simdgrad' && w.threads === 1 : w.threads === 1 || CASES[i].threads === true);
  for (let r = 1; r <= ROUNDS; r++) {
    const a = cpuSnapshot(pids);
    for (let i = -1; i < CASES.length; i++) { // -1: the SIMD peak (one-thread simdgrad workers only)
      for (const w of workers) {
        if (runs(w, i)) await quietRound(w, i);
      }
    }
    const others = otherCores(a, cpuSnapshot(pids));
    if (others !== null) otherPerRound.push(Number(others.toFixed(2)));
    log(`round ${r}/${ROUNDS} done, ${elapsed()}${others === null ? '' : `; other processes used ${others.toFixed(2)} cores on average`};` +
      ` batches re-taken so far ${stats.retaken}, kept although busy ${stats.keptBusy}`);
  }

  const results = [];
  for (const w of workers) {
    results.push(await w.ask({ cmd: 'finish' }));
    w.close();
  }
  const [wasm, cpu] = results.slice(4, 6);
  const simdgradRuns = results.slice(0, 4).filter((x) => x !== null);
  const peers = { 'tfjs-wasm': wasm, 'tfjs-cpu': cpu };
  // PyTorch by thread count: each row gets the value at its own thread count.
  if (torch.python) peers.pytorch = Object.fromEntries(workers.slice(6).map((w, i) => [w.threads, results[6 + i]]));

  // Peak memory of the training cases, each library in fresh processes (train-memory.mjs).
  let memory = null;
  if (process.env.BENCH_MEMORY !== '0') {
    log('memory: peak wasm memory and RSS of the training cases, fresh processes...');
    memory = await trainingMemory({ dflt, other, flags, threads: THREADS, torch: torch.python, dataFile, log });
  }
  rmSync(dataFile, { force: true });

  log(`cold start: ${COLD_REPS} fresh processes per variant...`);
  const cold = await coldStart(COLD_REPS, log);
  const sizes = shippedSizes();
  // BPE encode against gpt-tokenizer and tiktoken, in a fresh process (bench/tokenizer.mjs);
  // BENCH_TOKENIZER=0 skips it.
  if (process.env.BENCH_TOKENIZER !== '0') log('tokenizer: BPE encode against gpt-tokenizer and tiktoken...');
  const tokenizerRows = process.env.BENCH_TOKENIZER === '0' ? [] : await tokenizerResultRows(log);
  // LSTM training throughput against TF.js-layers (bench/lstm.mjs, alone: `node bench/lstm.mjs`);
  // BENCH_LSTM=0 skips it.
  if (process.env.BENCH_LSTM !== '0') log('lstm: LSTM language-model training against TF.js-layers (wasm and cpu)...');
  const lstmRows = process.env.BENCH_LSTM === '0' ? [] : await lstmResultRows(log);
  // Sparse aggregation (SpMM) against TF.js's sparse segment ops and a dense matmul
  // (bench/graph.mjs, alone: `node bench/graph.mjs`); BENCH_GRAPH=0 skips it.
  if (process.env.BENCH_GRAPH !== '0') log('graph: SpMM against TF.js sparse/segment ops and dense matmul...');
  const graphRows = process.env.BENCH_GRAPH === '0' ? [] : await graphResultRows(log);
  // RBM CD-1 updates against the same step in TF.js ops (bench/energy.mjs, alone: `node bench/energy.mjs`);
  // BENCH_ENERGY=0 skips it.
  if (process.env.BENCH_ENERGY !== '0') log('energy: RBM CD-1 updates against TF.js ops (wasm and cpu)...');
  const energyRows = process.env.BENCH_ENERGY === '0' ? [] : await energyResultRows(log);
  // A DCGAN training step (D and G updates) against the same step in TF.js ops
  // (bench/generative.mjs, alone: `node bench/generative.mjs`); BENCH_GENERATIVE=0 skips it.
  if (process.env.BENCH_GENERATIVE !== '0') log('generative: DCGAN training step against TF.js (wasm and cpu)...');
  const generativeRows = process.env.BENCH_GENERATIVE === '0' ? [] : await generativeResultRows(log);
  // Attention GFLOP/s, a small GPT's training step and KV-cache generation (bench/transformer.mjs,
  // alone: `node bench/transformer.mjs`); BENCH_TRANSFORMER=0 skips it.
  if (process.env.BENCH_TRANSFORMER !== '0') log('transformer: attention, GPT training step, KV-cache generation...');
  const transformerRows = process.env.BENCH_TRANSFORMER === '0' ? [] : await transformerResultRows(log);
  // Sparse (CSR) vs dense matmul at 50-99 % sparsity with the break-even, int8 vs float32 Linear
  // and Conv2d (bench/compress.mjs, alone: `node bench/compress.mjs`); BENCH_COMPRESS=0 skips it.
  if (process.env.BENCH_COMPRESS !== '0') log('compress: sparse vs dense matmul, int8 vs float32 inference...');
  const compressRows = process.env.BENCH_COMPRESS === '0' ? [] : await compressResultRows(log);
  const meta = {
    node: process.version, cpu: cpuModel(), cores: availableParallelism(), ...measured,
    date: new Date().toISOString(), rounds: ROUNDS,
    pytorch: torch.python ? torchMeta(peers.pytorch) : { absent: torch.reason },
    quiet: {
      threshold_cores: QUIET_CORES, batches: stats.batches, retaken: stats.retaken, kept_busy: stats.keptBusy,
      waited_s: Math.round(stats.waitedMs / 1000), other_cores_per_round: otherPerRound,
    },
  };
  const rows = [...makeRows(simdgradRuns, peers, { cold, sizes, memory }), ...tokenizerRows, ...lstmRows, ...graphRows, ...energyRows, ...generativeRows, ...transformerRows, ...compressRows];
  writeFileSync(fileURLToPath(new URL('results.json', import.meta.url)), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(fileURLToPath(new URL('results.meta.json', import.meta.url)), JSON.stringify(meta, null, 2) + '\n');
  console.log('');
  printTable(rows, peers, meta);
  console.log(`\nwrote bench/results.json (${rows.length} rows) in ${elapsed()}`);
}

/** What results.meta.json records of the PyTorch that ran: version, BLAS actually loaded, oneDNN, threads. */
function torchMeta(byThreads) {
  const runs = Object.values(byThreads).filter(Boolean);
  const info = runs[0]?.info;
  if (!info) return { absent: 'its workers ended before finishing' };
  return {
    version: info.version, python: info.python, summary: describeTorch(info),
    // blas_info: what torch was built against ('generic': the libblas.so.3 alternative);
    // blas_loaded: the BLAS the worker actually mapped (/proc/<pid>/maps), resolved.
    blas_info: info.blas_info,
    blas_loaded: info.libraries.map((l) => l.resolved).filter((p) => /blas/i.test(p.split('/').pop())),
    libraries_loaded: info.libraries.map((l) => l.resolved), openblas: info.openblas?.config ?? null,
    mkldnn: info.mkldnn, mkl: info.mkl, cpu_capability: info.cpu_capability,
    threads: runs.map((r) => ({ asked: r.info.asked_threads, torch: r.info.threads, openblas: r.info.openblas?.threads ?? null, interop: r.info.interop_threads })),
  };
}
