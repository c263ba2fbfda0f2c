// Compression kernels, ms per call, in one run: `node bench/compress.mjs` (after
// `npm run build:if-stale`; `--json` prints the rows for run.mjs, which runs it in a fresh
// process; BENCH_ROUNDS sets the rounds, default 5; BENCH_COMPRESS=0 makes run.mjs skip it).
//
//   - sparse vs dense matmul: Linear y = x·Wᵀ + b, x [64, 1024], W [1024, 1024], and a conv
//     GEMM (Conv2d 32 -> 64, 3x3, padding 1, on [8, 32, 28, 28]), with W at 50/80/90/95/99 %
//     random unstructured sparsity: sg.sparseLinear / sg.sparseConv2d against sg.linear /
//     sg.conv2d on the same weights. The break-even sparsity is interpolated (linearly in
//     sparsity) between the measured points where sparse time crosses dense time.
//   - int8 vs float32 inference: the same Linear and Conv2d as sg.quantizedLinear /
//     sg.quantizedConv2d (activation quantisation included in the timing) against float32.
//   - pruned-and-shrunk CNN vs the dense one: a small CNN (two conv blocks with batch norm,
//     two Linear) on [CNN_BATCH, 3, 32, 32], inference in eval mode, against the same model
//     after compress.structuredPruning removed half the filters and hidden neurons (physically
//     smaller layers, no retraining: speed only). Samples/s of both in the notes.
//
// One simdgrad process, 1 thread (the dense GEMM would take more threads; the sparse and int8
// kernels split rows the same way, so 1 thread compares kernels, not thread counts). Every
// round runs every case once for about ROUND_MS (cases interleaved, so machine drift hits all
// of them alike); the value is the median of the per-round means, the spread the
// interquartile range over the rounds as a percentage of the median.
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = 250;
const SPARSITIES = [0.5, 0.8, 0.9, 0.95, 0.99];
const CNN_BATCH = 16;

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomArray(n, seed, sparsity = 0) {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = r() * 2 - 1;
    a[i] = r() < sparsity ? 0 : v;
  }
  return a;
}

function quantile(sorted, q) {
  const p = (sorted.length - 1) * q;
  const lo = Math.floor(p);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (p - lo);
}

/** Runs fn repeatedly for about ms milliseconds; mean ms per call. */
function timeFor(fn, ms) {
  fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    fn();
    n++;
    t = performance.now();
  }
  return (t - t0) / n;
}

function cases(sg) {
  const out = [];
  const keep = (t) => sg.keep(t);
  // Linear
  const [B, IN, OUT] = [64, 1024, 1024];
  const x = keep(sg.tensor(randomArray(B * IN, 1), [B, IN]));
  const b = keep(sg.tensor(randomArray(OUT, 2)));
  const wDense = keep(sg.tensor(randomArray(OUT * IN, 3), [OUT, IN]));
  out.push({ id: 'linear-dense', group: 'linear', label: `Linear dense f32 [${B}x${IN}]·[${OUT}x${IN}]ᵀ`, fn: () => sg.noGrad(() => sg.linear(x, wDense, b)).dispose() });
  for (const s of SPARSITIES) {
    const w = keep(sg.tensor(randomArray(OUT * IN, 10 + s * 100, s), [OUT, IN]));
    const sw = sg.toSparse(w);
    for (const t of [sw.indptr, sw.indices, sw.values]) keep(t);
    out.push({ id: `linear-sparse-${s}`, group: 'linear', sparsity: s, label: `Linear CSR ${Math.round(s * 100)} % sparse`, fn: () => sg.noGrad(() => sg.sparseLinear(x, sw.indptr, sw.indices, sw.values, b)).dispose() });
    if (s === SPARSITIES[0]) out.push({ id: 'linear-dense-pruned', group: 'linear-check', label: 'Linear dense f32 on the 50 % pruned weight', fn: () => sg.noGrad(() => sg.linear(x, w, b)).dispose() });
  }
  const qw = sg.quantizeWeight(wDense);
  keep(qw.q); keep(qw.scales);
  const xAbs = keep(sg.tensor(randomArray(B * IN, 4).map(Math.abs), [B, IN]));
  out.push({ id: 'linear-f32-relu-input', group: 'int8-linear', label: 'Linear f32 (non-negative input)', fn: () => sg.noGrad(() => sg.linear(xAbs, wDense, b)).dispose() });
  out.push({ id: 'linear-int8', group: 'int8-linear', label: 'Linear int8 (quantizedLinear, unsigned input)', fn: () => sg.quantizedLinear(xAbs, qw.q, qw.scales, b, { inScale: 1 / 127, unsigned: true }).dispose() });
  out.push({ id: 'linear-int8-signed', group: 'int8-linear', label: 'Linear int8 (quantizedLinear, signed input)', fn: () => sg.quantizedLinear(x, qw.q, qw.scales, b, { inScale: 1 / 127 }).dispose() });
  // Conv2d
  const [N, C, H, F] = [8, 32, 28, 64];
  const cx = keep(sg.tensor(randomArray(N * C * H * H, 5).map(Math.abs), [N, C, H, H]));
  const cb = keep(sg.tensor(randomArray(F, 6)));
  const cwDense = keep(sg.tensor(randomArray(F * C * 9, 7), [F, C, 3, 3]));
  out.push({ id: 'conv-dense', group: 'conv', label: `Conv2d dense f32 [${N},${C},${H},${H}] -> ${F}, 3x3`, fn: () => sg.noGrad(() => sg.conv2d(cx, cwDense, cb, { padding: 1 })).dispose() });
  for (const s of SPARSITIES) {
    const w = keep(sg.tensor(randomArray(F * C * 9, 20 + s * 100, s), [F, C, 3, 3]));
    const sw = sg.toSparse(w);
    for (const t of [sw.indptr, sw.indices, sw.values]) keep(t);
    out.push({ id: `conv-sparse-${s}`, group: 'conv', sparsity: s, label: `Conv2d CSR ${Math.round(s * 100)} % sparse`, fn: () => sg.noGrad(() => sg.sparseConv2d(cx, sw.indptr, sw.indices, sw.values, cb, { kernelSize: 3, padding: 1 })).dispose() });
  }
  const cq = sg.quantizeWeight(cwDense);
  keep(cq.q); keep(cq.scales);
  // Pruned-and-shrunk CNN: both models start from the same weights (same seed).
  const makeCnn = () => {
    sg.manualSeed(42);
    const m = new sg.nn.Sequential(
      new sg.nn.Conv2d(3, 32, 3, { padding: 1 }), new sg.nn.BatchNorm2d(32), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Conv2d(32, 64, 3, { padding: 1 }), new sg.nn.BatchNorm2d(64), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Flatten(), new sg.nn.Linear(64 * 8 * 8, 128), new sg.nn.ReLU(), new sg.nn.Linear(128, 10),
    );
    m.eval();
    return m;
  };
  const dense = makeCnn();
  const pruned = makeCnn();
  const nx = keep(sg.tensor(randomArray(CNN_BATCH * 3 * 32 * 32, 8), [CNN_BATCH, 3, 32, 32]));
  const batch = { x: nx, y: keep(sg.tensor(Array.from({ length: CNN_BATCH }, (_, i) => i % 10), [CNN_BATCH])) };
  const pr = sg.compress.structuredPruning({ fraction: 0.5, rounds: 1 }).prune(pruned, { data: [], batch, epochs: 0 });
  pruned.eval();
  const widths = sg.compress.unitLayers(pruned).map((e) => e.layer.weight.shape[0]).join('/');
  out.push({ id: 'cnn-dense', group: 'cnn', samples: CNN_BATCH, label: `CNN dense 32/64/128 [${CNN_BATCH},3,32,32]`, fn: () => sg.noGrad(() => dense.forward(nx)).dispose() });
  out.push({ id: 'cnn-pruned', group: 'cnn', samples: CNN_BATCH, label: `CNN pruned+shrunk ${widths.split('/').slice(0, 3).join('/')} (${pr.summary})`, fn: () => sg.noGrad(() => pruned.forward(nx)).dispose() });
  out.push({ id: 'conv-int8', group: 'int8-conv', label: 'Conv2d int8 (quantizedConv2d, unsigned input)', fn: () => sg.quantizedConv2d(cx, cq.q, cq.scales, cb, { kernelSize: 3, padding: 1, inScale: 1 / 127, unsigned: true }).dispose() });
  return out;
}

export async function compressBench() {
  const sg = await import('../dist/index.js');
  sg.setThreads(1);
  const list = cases(sg);
  const samples = new Map(list.map((c) => [c.id, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of list) samples.get(c.id).push(timeFor(c.fn, ROUND_MS));
  }
  const stat = new Map();
  for (const c of list) {
    const s = samples.get(c.id).slice().sort((a, b) => a - b);
    const med = quantile(s, 0.5);
    stat.set(c.id, { value: med, spread: (100 * (quantile(s, 0.75) - quantile(s, 0.25))) / med });
  }
  const sig = (v, d = 4) => (v === null || v === undefined ? null : Number(v.toPrecision(d)));
  const breakEven = (group, dense) => {
    const pts = list.filter((c) => c.group === group && c.sparsity !== undefined).map((c) => [c.sparsity, stat.get(c.id).value]);
    const d = stat.get(dense).value;
    if (pts[0][1] <= d) return `<= ${pts[0][0]}`;
    for (let i = 1; i < pts.length; i++) {
      const [s0, t0] = pts[i - 1];
      const [s1, t1] = pts[i];
      if (t1 <= d) return String(sig(s0 + ((t0 - d) / (t0 - t1)) * (s1 - s0), 3));
    }
    return `> ${pts[pts.length - 1][0]}`;
  };
  const be = { linear: breakEven('linear', 'linear-dense'), conv: breakEven('conv', 'conv-dense') };
  const info = { build: sg.build(), threads: sg.getThreads() };
  const rows = list.map((c) => {
    const m = stat.get(c.id);
    const ref = c.group === 'linear' ? 'linear-dense' : c.group === 'conv' ? 'conv-dense' : c.group === 'int8-linear' && c.id !== 'linear-f32-relu-input' ? 'linear-f32-relu-input' : c.group === 'int8-conv' ? 'conv-dense' : c.group === 'cnn' ? 'cnn-dense' : null;
    const speed = ref && ref !== c.id ? stat.get(ref).value / m.value : null;
    return {
      case: c.label, unit: 'ms', simdgrad: sig(m.value), 'tfjs-wasm': null, 'tfjs-cpu': null, ratio_vs_wasm: null, ratio_vs_cpu: null,
      spread: sig(m.spread, 2), spread_peers: null, build: info.build, threads: info.threads,
      note: [
        speed !== null ? `${sig(speed, 3)}x vs the dense float32 version` : null,
        c.samples !== undefined ? `${sig((1000 * c.samples) / m.value, 4)} samples/s` : null,
        c.group === 'linear' && c.id === 'linear-dense' ? `break-even sparsity ${be.linear}` : null,
        c.group === 'conv' && c.id === 'conv-dense' ? `break-even sparsity ${be.conv}` : null,
        'bench/compress.mjs',
      ].filter(Boolean).join(' | '),
    };
  });
  return { rows, meta: { rounds: ROUNDS, breakEven: be } };
}

/** For run.mjs: the bench in a fresh process, as rows of results.json. */
export async function compressResultRows(progress = () => {}) {
  const { freshProcessRows } = await import('./processes.mjs');
  return freshProcessRows(import.meta.url, 'compress', progress);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await compressBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`ms per call, median of ${result.meta.rounds} rounds (IQR / median); break-even sparsity: Linear ${result.meta.breakEven.linear}, conv GEMM ${result.meta.breakEven.conv}`);
    for (const r of result.rows) console.log(`${r.case.padEnd(52)} ${String(r.simdgrad).padStart(9)} ms (${r.spread}%)  ${r.note}`);
  }
}
