// `npm run bench`: simdgrad against TF.js (wasm and cpu backends), measured in the same run,
// printed as a table and written to bench/results.json.
//
// Each library runs in its own worker process (this file with --worker <lib>), so that one
// library's heap and garbage collections do not slow another down:
//   simdgrad, the build that loads by default (on Node 20: plain SIMD);
//   simdgrad, the other build, forced with SIMDGRAD_BUILD (on Node 20: relaxed SIMD with FMA,
//            which needs node --experimental-wasm-relaxed-simd);
//   TF.js with the wasm backend;  TF.js with the cpu backend.
// This process only drives them, one at a time: for each round, for each case, every worker
// runs that case once (~0.2 s). Samples of all rounds are pooled, so every library sees the
// same phases of a noisy machine. A call slower than 250 ms is one sample per round; the conv
// backward and CNN training cases take those in their first rounds only (tfjs-cpu needs
// seconds per call there; see slowRounds in conv.mjs and cnn-train.mjs).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES, Suite } from './suite.mjs';
import { peakKernel } from './peak.mjs';
import { makeRows, printTable } from './report.mjs';

const ROUNDS = 6;
const log = (s) => process.stderr.write(`${s}\n`);

const workerArg = process.argv.indexOf('--worker');
if (workerArg >= 0) {
  serve(process.argv[workerArg + 1]);
} else {
  await main();
}

/** Worker side: answers prepare / round / finish messages from the main process. */
function serve(lib) {
  let suite = null;
  process.on('message', async (msg) => {
    if (msg.cmd === 'prepare') {
      suite = await Suite.create(lib);
      process.send({ info: suite.info });
    } else if (msg.cmd === 'round') {
      await suite.round(msg.index);
      process.send('done');
    } else if (msg.cmd === 'finish') {
      process.send(suite.finish());
      process.disconnect();
    }
  });
}

/** A worker process as seen from main: ask() resolves with its answer, or null if it died. */
function startWorker(label, lib, { execArgv = [], env = process.env } = {}) {
  const proc = fork(fileURLToPath(import.meta.url), ['--worker', lib], {
    execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const w = {
    label,
    lib,
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

  // simdgrad with the default build first: which build that is decides the second worker.
  const first = startWorker('simdgrad (default build)', 'simdgrad');
  const firstInfo = await first.ask({ cmd: 'prepare' });
  if (firstInfo === null) throw new Error('simdgrad could not be loaded; run `npm run build` first');
  const other = firstInfo.info.build === 'simd' ? 'relaxed' : 'simd';
  const flags = other === 'relaxed' && peakKernel(true) === null ? ['--experimental-wasm-relaxed-simd'] : [];
  const workers = [
    first,
    startWorker(`simdgrad (${other} build)`, 'simdgrad', { execArgv: flags, env: { ...process.env, SIMDGRAD_BUILD: other } }),
    startWorker('TF.js wasm backend', 'tfjs-wasm'),
    startWorker('TF.js cpu backend', 'tfjs-cpu'),
  ];
  const infos = [firstInfo.info];
  for (const w of workers.slice(1)) infos.push((await w.ask({ cmd: 'prepare' }))?.info ?? null);
  log(`workers: simdgrad ${firstInfo.info.build} build (default); simdgrad ${other} build` +
    ` (node ${[...flags, 'bench/run.mjs'].join(' ')}, SIMDGRAD_BUILD=${other}); TF.js wasm; TF.js cpu`);
  const wasmInfo = infos[2];
  if (wasmInfo) log(`TF.js ${wasmInfo.version} wasm backend: SIMD ${wasmInfo.simd}, multithread ${wasmInfo.multithread}, threads ${wasmInfo.threads}`);

  for (let r = 1; r <= ROUNDS; r++) {
    for (let i = -1; i < CASES.length; i++) { // -1: the SIMD peak (simdgrad workers only)
      for (const w of workers) {
        if (i >= 0 || w.lib === 'simdgrad') await w.ask({ cmd: 'round', index: i });
      }
    }
    log(`round ${r}/${ROUNDS} done, ${elapsed()}`);
  }

  const results = [];
  for (const w of workers) {
    results.push(await w.ask({ cmd: 'finish' }));
    w.close();
  }
  const [ours, theirs, wasm, cpu] = results;
  const runs = [ours, theirs].filter((x) => x !== null);
  const peers = { 'tfjs-wasm': wasm, 'tfjs-cpu': cpu };
  const rows = makeRows(runs, peers);
  writeFileSync(fileURLToPath(new URL('results.json', import.meta.url)), JSON.stringify(rows, null, 2) + '\n');
  console.log('');
  printTable(rows, peers);
  console.log(`\nwrote bench/results.json (${rows.length} rows) in ${elapsed()}`);
}
