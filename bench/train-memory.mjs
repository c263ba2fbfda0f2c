// Peak memory of the training cases (the CASES marked `training: true`), for run.mjs: each
// library runs each case in a fresh process of its own, because a bench worker runs every case
// and its high-water marks would be those of the largest case so far (GEMM 1024³, conv (b)).
// The process loads its library and the digits (from run.mjs's binary file: parsing the
// `mnist` package's JSON would set node's peak RSS), builds the case as the bench does (the
// CNN cases run their warm-up step there) and takes steps for about a second (one step at
// least: tfjs-cpu's CNN steps take seconds). Reported:
//   wasm_bytes             the wasm memory's size at the end (simdgrad: sg.memory().heapBytes;
//                          tfjs-wasm: its module's heap). Wasm memory never shrinks, so this is
//                          its peak, the allocator's free space and scratch included;
//   rss_bytes              the process's peak resident set (node: resourceUsage().maxRSS,
//                          PyTorch: VmHWM), the runtime, library and digits included;
//   rss_before_model_bytes the resident set after loading the library and the digits, before
//                          the model: rss_bytes minus this is what training added.
// Alone: `node bench/train-memory.mjs` (needs no PyTorch; BENCH_PYTORCH=0 leaves it out).
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './suite.mjs';
import { loadSimdgrad, loadTfjs, log as stderrLog } from './processes.mjs';
import { mnistDigits, writeMnistFile } from './mnist.mjs';
import { findTorch, torchMemory } from './pytorch.mjs';
import { peakKernel } from './peak.mjs';

const STEP_MS = 1000;
const TRAINING = CASES.filter((c) => c.training);

/** In the fresh process: one case, one library. */
async function measure(lib, threads, caseName) {
  const c = TRAINING.find((x) => x.case === caseName);
  const loaded = lib === 'simdgrad' ? await loadSimdgrad(threads) : await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu', { layers: true });
  mnistDigits();
  const before = process.memoryUsage().rss;
  const { fn, dispose } = lib === 'simdgrad' ? c.simdgrad(loaded.sg) : c.tfjs(loaded.tf);
  let steps = 0;
  const start = performance.now();
  while (steps < 1 || (performance.now() - start < STEP_MS && steps < 200)) {
    fn();
    steps++;
  }
  const wasm = lib === 'simdgrad' ? loaded.sg.memory().heapBytes : lib === 'tfjs-wasm' ? loaded.tf.backend().wasm.HEAPU8.byteLength : null;
  const out = { wasm_bytes: wasm, rss_bytes: process.resourceUsage().maxRSS * 1024, rss_before_model_bytes: before, steps };
  if (lib === 'simdgrad') Object.assign(out, { build: loaded.info.build, threads: loaded.info.threads });
  dispose();
  return out;
}

/** Runs this file with --probe in a fresh node process: its answer, or { error }. */
function nodeProbe(lib, threads, c, { execArgv = [], env = {} } = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [...execArgv, fileURLToPath(import.meta.url), '--probe', lib, '--threads', String(threads), '--case', c.case], {
      env: { ...process.env, ...env, SIMDGRAD_THREADS: String(threads) }, maxBuffer: 1 << 20, timeout: 600_000,
    }, (err, out, errOut) => {
      if (err) resolve({ error: (errOut || err.message).trim().split('\n').filter((l) => /Error/.test(l))[0] ?? err.message.split('\n')[0] });
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/**
 * { [case]: { simdgrad: { '<build>/<threads>': m }, pytorch: { <threads>: m }, 'tfjs-wasm': m, 'tfjs-cpu': m } }
 * for run.mjs: simdgrad's two builds (dflt, and other with node flags `flags`) on 1 and `threads`
 * threads, PyTorch (python `torch`, or null) on the same, TF.js on one.
 */
export async function trainingMemory({ dflt, other, flags, threads, torch, dataFile, log = stderrLog }) {
  const env = { BENCH_MNIST_FILE: dataFile };
  const result = {};
  for (const c of TRAINING) {
    const started = performance.now();
    const m = { simdgrad: {}, pytorch: torch ? {} : undefined };
    for (const t of [1, threads]) {
      m.simdgrad[`${dflt}/${t}`] = await nodeProbe('simdgrad', t, c, { env });
      m.simdgrad[`${other}/${t}`] = await nodeProbe('simdgrad', t, c, { execArgv: flags, env: { ...env, SIMDGRAD_BUILD: other } });
      if (torch && c.pytorch) m.pytorch[t] = torchMemory(torch, t, c.pytorch, dataFile);
    }
    if (c.tfjs) {
      for (const lib of ['tfjs-wasm', 'tfjs-cpu']) m[lib] = await nodeProbe(lib, 1, c, { env });
    }
    result[c.case] = m;
    log(`  ${c.case}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return result;
}

const mib = (b) => (b == null ? '–' : `${(b / 2 ** 20).toFixed(1)}`);

/** One line per library for a case's memory (MiB), for the printed outputs. */
export function memoryLines(m) {
  const one = (label, x) => (!x ? null : x.error ? `${label}: failed (${x.error})`
    : `${label}: ${x.wasm_bytes != null ? `wasm ${mib(x.wasm_bytes)}, ` : ''}peak RSS ${mib(x.rss_bytes)} (${mib(x.rss_before_model_bytes)} before the model)`);
  return [
    ...Object.entries(m.simdgrad ?? {}).map(([k, x]) => one(`simdgrad ${k.replace('/', ', ')} thr`, x)),
    ...Object.entries(m.pytorch ?? {}).map(([k, x]) => one(`PyTorch, ${k} thr`, x)),
    one('tfjs-wasm', m['tfjs-wasm']), one('tfjs-cpu', m['tfjs-cpu']),
  ].filter(Boolean);
}

async function standalone() {
  const { sg } = await loadSimdgrad(1);
  const dflt = sg.build();
  const other = dflt === 'simd' ? 'relaxed' : 'simd';
  const flags = other === 'relaxed' && peakKernel(true) === null ? ['--experimental-wasm-relaxed-simd'] : [];
  const torch = findTorch();
  if (!torch.python) stderrLog(`PyTorch: left out (${torch.reason})`);
  const dataFile = join(tmpdir(), `simdgrad-bench-mnist-${process.pid}.bin`);
  writeMnistFile(dataFile);
  try {
    const result = await trainingMemory({ dflt, other, flags, threads: 2, torch: torch.python, dataFile });
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify(result));
    } else {
      console.log('Peak memory of one training case per fresh process, MiB:');
      for (const [name, m] of Object.entries(result)) console.log(`${name}\n  ${memoryLines(m).join('\n  ')}`);
    }
  } finally {
    rmSync(dataFile, { force: true });
  }
}

// Last: the functions above must be initialised before the top-level await runs them.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const probe = process.argv.indexOf('--probe');
  if (probe >= 0) {
    const t = process.argv.indexOf('--threads');
    console.log(JSON.stringify(await measure(process.argv[probe + 1], Number(process.argv[t + 1]), process.argv[process.argv.indexOf('--case') + 1])));
  } else {
    await standalone();
  }
}
