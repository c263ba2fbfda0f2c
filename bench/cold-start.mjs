// Cold start and shipped size.
//
// Cold start: what a fresh Node process pays before its first useful result. Each sample is
// a new process (this file with --child <variant>) that times, from just before its first
// import of the library:
//   import  the library's module(s) (simdgrad: dist/index.js; TF.js: @tensorflow/tfjs-core
//           and @tensorflow/tfjs-backend-wasm);
//   init    instantiating the wasm and making the two 256x256 inputs from Float32Arrays
//           prepared before the clock started (simdgrad instantiates lazily on the first
//           tensor; TF.js: setWasmPaths + await setBackend('wasm') + tf.tensor2d);
//   first   the first 256x256x256 matmul, read back to JS (simdgrad: matmul(a, b).data();
//           TF.js: tf.matMul(a, b).dataSync()).
// The process start itself (Node's own ~40 ms) is common to every variant and left out; the
// parent also records each child's wall time from spawn to exit, reported as a note.
// Variants alternate sample by sample, so a busy phase of the machine hits all of them.
//
// Shipped size: what a browser app downloads for the library, gzip -9: simdgrad's browser
// bundle + one wasm build (the larger of the two), against TF.js' minified core bundle + its
// wasm backend bundle + one of its wasm binaries (the SIMD one, which browsers with SIMD
// load), and TF.js core + cpu backend bundles.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { QUIET_CORES, cpuSnapshot, otherCores, waitQuiet } from './machine.mjs';

const N = 256;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** Cold-start variants: simdgrad on one thread and with its default thread count, TF.js wasm. */
export const COLD_VARIANTS = [
  { name: 'simdgrad-1', lib: 'simdgrad', env: { SIMDGRAD_THREADS: '1' } },
  { name: 'simdgrad-auto', lib: 'simdgrad', env: { SIMDGRAD_THREADS: 'auto' } },
  { name: 'tfjs-wasm', lib: 'tfjs-wasm', env: {} },
];

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
}

function inputs() {
  const a = new Float32Array(N * N);
  const b = new Float32Array(N * N);
  for (let i = 0; i < a.length; i++) {
    a[i] = Math.sin(i) * 0.5;
    b[i] = Math.cos(i) * 0.5;
  }
  return { a, b };
}

async function child(lib) {
  const { a, b } = inputs();
  const out = {};
  if (lib === 'simdgrad') {
    const t0 = performance.now();
    const sg = await import('../dist/index.js');
    const t1 = performance.now();
    const ta = sg.tensor(a, [N, N]);
    const tb = sg.tensor(b, [N, N]);
    const t2 = performance.now();
    const c = sg.matmul(ta, tb);
    const v = c.data()[0];
    const t3 = performance.now();
    Object.assign(out, { import: t1 - t0, init: t2 - t1, first: t3 - t2, total: t3 - t0, check: v });
    out.build = sg.build();
    out.threads = sg.getThreads();
    out.workers = sg.threadsInfo().workers;
  } else {
    const t0 = performance.now();
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const t1 = performance.now();
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(join(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), '..', 'dist') + '/');
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend did not initialise');
    const ta = tf.tensor2d(a, [N, N]);
    const tb = tf.tensor2d(b, [N, N]);
    const t2 = performance.now();
    const v = tf.matMul(ta, tb).dataSync()[0];
    const t3 = performance.now();
    Object.assign(out, { import: t1 - t0, init: t2 - t1, first: t3 - t2, total: t3 - t0, check: v });
    out.threads = wasm.getThreadsCount();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

function medianSpread(values) {
  const v = [...values].sort((x, y) => x - y);
  const q = (p) => {
    const pos = (v.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  };
  const median = q(0.5);
  return { value: median, spread: (100 * (q(0.75) - q(0.25))) / median, samples: v.length };
}

/**
 * Runs `reps` fresh processes per variant, alternating; returns per variant the median and
 * spread of each phase and of the wall time, or an error string.
 */
export async function coldStart(reps = 9, log = () => {}) {
  const samples = Object.fromEntries(COLD_VARIANTS.map((v) => [v.name, []]));
  const errors = {};
  // As for the other cases (machine.mjs): a process run while other processes were busy is
  // run again once the machine is quiet (at most 5 takes). The child's CPU time counts as
  // ours: spawnSync has waited for it by the second snapshot.
  const pids = [process.pid];
  for (let r = 0; r < reps; r++) {
    for (const v of COLD_VARIANTS) {
      if (errors[v.name]) continue;
      let p;
      let wall;
      for (let attempt = 1; ; attempt++) {
        const a = cpuSnapshot(pids);
        const t = performance.now();
        p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', v.lib], {
          cwd: root, env: { ...process.env, ...v.env }, encoding: 'utf8', timeout: 60_000,
        });
        wall = performance.now() - t;
        const others = otherCores(a, cpuSnapshot(pids));
        if (others === null || others <= QUIET_CORES || attempt >= 5) break;
        await waitQuiet(pids, 10_000);
      }
      const line = p.stdout?.trim().split('\n').pop();
      if (p.status !== 0 || !line) {
        errors[v.name] = `exit ${p.status}: ${(p.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`;
        log(`cold start ${v.name} failed: ${errors[v.name]}`);
        continue;
      }
      samples[v.name].push({ ...JSON.parse(line), wall });
    }
  }
  const result = {};
  for (const v of COLD_VARIANTS) {
    const s = samples[v.name];
    if (s.length === 0) {
      result[v.name] = { error: errors[v.name] ?? 'no samples' };
      continue;
    }
    const phase = (k) => medianSpread(s.map((x) => x[k]));
    result[v.name] = {
      import: phase('import'), init: phase('init'), first: phase('first'), total: phase('total'), wall: phase('wall'),
      build: s[0].build ?? null, threads: s[0].threads, workers: s[0].workers ?? null,
    };
  }
  return result;
}

const gz = (path) => {
  const b = readFileSync(path);
  return { path: path.slice(root.length + 1), raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
};

/** Gzip sizes (bytes) of what a browser downloads for each library; see the header. */
export function shippedSizes() {
  const require = createRequire(import.meta.url);
  const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));
  const core = gz(join(pkgDir('@tensorflow/tfjs-core'), 'dist', 'tf-core.min.js'));
  const wasmDir = join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  const ours = [gz(join(root, 'dist', 'index.browser.js'))];
  const wasms = ['simdgrad-simd.wasm', 'simdgrad-relaxed.wasm'].map((f) => gz(join(root, 'dist', 'wasm', f)));
  ours.push(wasms.reduce((x, y) => (y.gzip > x.gzip ? y : x)));
  const sum = (files) => ({ gzip: files.reduce((s, f) => s + f.gzip, 0), raw: files.reduce((s, f) => s + f.raw, 0), files });
  return {
    simdgrad: sum(ours),
    'tfjs-wasm': sum([core, gz(join(wasmDir, 'tf-backend-wasm.min.js')), gz(join(wasmDir, 'tfjs-backend-wasm-simd.wasm'))]),
    'tfjs-cpu': sum([core, gz(join(pkgDir('@tensorflow/tfjs-backend-cpu'), 'dist', 'tf-backend-cpu.min.js'))]),
  };
}

/** Versions of what was measured, for the notes. */
export function versions() {
  const require = createRequire(import.meta.url);
  const v = (name) => JSON.parse(readFileSync(join(dirname(require.resolve(`${name}/package.json`)), 'package.json'), 'utf8')).version;
  let commit = null;
  let localChanges = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    // Uncommitted changes to the library's source (dist/ is built from the working tree).
    localChanges = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bindings', 'assembly'], { cwd: root, encoding: 'utf8' }).trim() !== '';
  } catch {
    commit = null;
  }
  return { tfjs: v('@tensorflow/tfjs-core'), commit, local_changes: localChanges };
}
