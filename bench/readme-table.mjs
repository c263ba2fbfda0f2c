// Prints the README's performance table (markdown) from bench/results.json, so the README
// shows exactly what one `npm run bench` measured: `node bench/readme-table.mjs`.
import { readFileSync } from 'node:fs';

const rows = JSON.parse(readFileSync(new URL('results.json', import.meta.url), 'utf8'));
const meta = JSON.parse(readFileSync(new URL('results.meta.json', import.meta.url), 'utf8'));

const num = (v) => {
  if (v == null) return '';
  if (Math.abs(v) >= 10000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(2);
};
const x = (v) => (v == null ? '' : v >= 100 ? `${Math.round(v)}` : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const find = (c, build, threads) => rows.find((r) => r.case === c && (build === undefined || r.build === build) && (threads === undefined || r.threads === threads));

/** Pretty names for the cases, in table order. */
const CASES = [
  ['SIMD peak f32x4 mul+add (1 thread)', 'SIMD peak, 1 thread (measured in the run: 12 accumulators; simd: mul+add, relaxed: relaxed_madd)'],
  ['gemm 64x64x64', 'GEMM 64³'],
  ['gemm 128x128x128', 'GEMM 128³'],
  ['gemm 256x256x256', 'GEMM 256³'],
  ['gemm 512x512x512', 'GEMM 512³'],
  ['gemm 1024x1024x1024', 'GEMM 1024³'],
  ['gemm MLP fwd X·W 64x784·784x128', 'GEMM MLP forward X·W 64×784·784×128'],
  ['gemm MLP fwd X·Wᵀ 64x784·(128x784)ᵀ', 'GEMM X·Wᵀ (W stored [128,784])'],
  ['gemm MLP dW=dYᵀ·X (64x128)ᵀ·64x784', 'GEMM dW = dYᵀ·X'],
  ['gemm MLP dX=dY·W 64x128·128x784', 'GEMM dX = dY·W'],
  ['gemm MLP out H·W2 64x128·128x10', 'GEMM MLP output 64×128·128×10'],
  ['softmax 1024x1000', 'softmax 1024×1000'],
  ['conv2d fwd (a) 32x1x28x28 → 32 filters 3x3 same', 'conv2d fwd 32×1×28×28 → 32, 3×3 same'],
  ['conv2d bwd (dx+dW) (a) 32x1x28x28 → 32 filters 3x3 same', 'conv2d bwd (dx + dW), same shape'],
  ['conv2d fwd (b) 32x32x14x14 → 64 filters 3x3 same', 'conv2d fwd 32×32×14×14 → 64, 3×3 same'],
  ['conv2d bwd (dx+dW) (b) 32x32x14x14 → 64 filters 3x3 same', 'conv2d bwd (dx + dW), same shape'],
  ['MLP 784-128-10 train (batch 64, Adam)', 'MLP 784-128-10 training, batch 64, Adam'],
  ['MLP 784-128-10 train (batch 256, Adam)', 'MLP 784-128-10 training, batch 256, Adam'],
  ['MLP 784-128-10 train (batch 256, Adam, standardized pixels)', 'same, standardized pixels (no zeros: dense GEMMs)'],
  ['CNN conv8-pool-conv16-pool-dense10 train (batch 64, Adam)', 'small CNN (conv8-pool-conv16-pool-dense10) training, batch 64, Adam'],
  ['CNN conv8-pool-conv16-pool-dense10 train (batch 256, Adam)', 'small CNN training, batch 256, Adam'],
  ['LeNet CNN of npm start (conv16-bn-pool-conv32-bn-pool-dense128-dropout-dense10) train (batch 64, Adam)', 'LeNet-style CNN of `npm start` (conv16-bn-pool-conv32-bn-pool-dense128-dropout-dense10) training, batch 64, Adam'],
];

// PyTorch columns only if the run had PyTorch (its rows carry the key).
const torch = rows.some((r) => 'pytorch' in r);

const lines = [];
lines.push('| case | unit | simd, 1 thr | relaxed, 1 thr | simd, 2 thr | relaxed, 2 thr | 2 thr ÷ 1 thr (simd / relaxed) | tfjs-wasm | tfjs-cpu | × best TF.js, 1 thr (simd / relaxed) |' +
  (torch ? ' PyTorch, 1 thr / 2 thr | × PyTorch, same thr (simd 1 / relaxed 1 / simd 2 / relaxed 2) |' : '') +
  ` IQR: simdgrad (worst of 4) / wasm / cpu${torch ? ' / PyTorch (worse of 2)' : ''} |`);
lines.push(`|---|---|---|---|---|---|---|---|---|---|${torch ? '---|---|' : ''}---|`);
const torchCells = (r) => {
  if (!torch) return '';
  const t1 = r.s1 ?? r.r1;
  const t2 = r.s2 ?? r.r2;
  const ratios = (r.s2 || r.r2 ? [r.s1, r.r1, r.s2, r.r2] : [r.s1, r.r1]).map((row) => x(row?.ratio_vs_pytorch)).join(' / ');
  return ` ${num(t1?.pytorch)}${t2 ? ` / ${num(t2.pytorch)}` : ''} | ${ratios} |`;
};
const torchSpread = (r) => {
  if (!torch) return '';
  const s = [r.s1 ?? r.r1, r.s2 ?? r.r2].map((row) => row?.spread_peers?.pytorch).filter((v) => v != null);
  return ` / ${s.length ? pct(Math.max(...s)) : '–'}`;
};
const pct = (v) => (v == null ? '–' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)}%`);
for (const [id, label] of CASES) {
  if (id.startsWith('SIMD peak')) {
    const a = find(id);
    const b = find('SIMD peak f32x4 relaxed_madd (1 thread)');
    lines.push(`| ${label} | GFLOP/s | ${num(a?.simdgrad)} | ${num(b?.simdgrad)} | | | | | | |${torch ? ' | |' : ''} ${pct(Math.max(a?.spread ?? 0, b?.spread ?? 0))} / – / –${torch ? ' / –' : ''} |`);
    continue;
  }
  const r = { s1: find(id, 'simd', 1), r1: find(id, 'relaxed', 1), s2: find(id, 'simd', 2), r2: find(id, 'relaxed', 2) };
  const any = r.s1 ?? r.r1;
  if (!any) continue;
  const cell = (row) => {
    if (!row || row.simdgrad == null) return '';
    return row.of_peak != null ? `${num(row.simdgrad)} (${Math.round(100 * row.of_peak)}%)` : num(row.simdgrad);
  };
  const best = (row) => {
    if (!row) return null;
    const rs = [row.ratio_vs_wasm, row.ratio_vs_cpu].filter((v) => v != null);
    return rs.length ? Math.min(...rs) : null;
  };
  const sp = (row) => (row?.speedup_vs_1_thread == null ? '' : `${row.speedup_vs_1_thread.toFixed(2)}×`);
  const two = r.s2 || r.r2 ? `${sp(r.s2)} / ${sp(r.r2)}` : '';
  const wasm = any['tfjs-wasm'] == null ? (any.note?.includes("tfjs-wasm failed: Kernel 'Conv2DBackpropFilter'") ? '— ¹' : '') : num(any['tfjs-wasm']);
  const noTfjs = any['tfjs-wasm'] == null && any['tfjs-cpu'] == null; // e.g. the LeNet case, PyTorch only
  const vs = noTfjs ? '' : `${x(best(r.s1))} / ${x(best(r.r1))}` + (any['tfjs-wasm'] == null && any['tfjs-cpu'] != null ? ' (cpu)' : '');
  const worst = Math.max(...Object.values(r).filter(Boolean).map((row) => row.spread ?? 0));
  lines.push(`| ${label} | ${any.unit} | ${cell(r.s1)} | ${cell(r.r1)} | ${cell(r.s2)} | ${cell(r.r2)} | ${two} | ${wasm} | ${num(any['tfjs-cpu'])} | ${vs} |${torchCells(r)} ${pct(worst)} / ${pct(any.spread_peers?.['tfjs-wasm'])} / ${pct(any.spread_peers?.['tfjs-cpu'])}${torchSpread(r)} |`);
}
const cold = rows.filter((r) => r.case.startsWith('cold start'));
const c1 = cold.find((r) => r.threads === 1);
const c2 = cold.find((r) => r.threads > 1);
if (c1) {
  lines.push(`| cold start: import + instantiate + first 256² matmul, fresh process ² | ms | ${num(c1.simdgrad)} | | ${num(c2?.simdgrad)} | | | ${num(c1['tfjs-wasm'])} | | ${x(c1.ratio_vs_wasm)} (wasm) |${torch ? ' | |' : ''} ${pct(Math.max(c1.spread ?? 0, c2?.spread ?? 0))} / ${pct(c1.spread_peers?.['tfjs-wasm'])} / –${torch ? ' / –' : ''} |`);
}
const size = rows.find((r) => r.case.startsWith('shipped size'));
if (size) {
  lines.push(`| shipped size: core JS + one wasm, gzip ³ | KiB | ${num(size.simdgrad)} | | | | | ${num(size['tfjs-wasm'])} | ${num(size['tfjs-cpu'])} | ${x(size.ratio_vs_wasm)} smaller (wasm) |${torch ? ' | |' : ''} |`);
}
console.log(lines.join('\n'));
console.log('');
if (c1) {
  const ph = (p) => `import ${num(p.import)} + init ${num(p.init)} + first matmul ${num(p.first_matmul)} ms`;
  console.log(`Cold start phases (medians): simdgrad 1 thread ${ph(c1.phases.simdgrad)}; simdgrad ${c2?.threads} threads ${c2 ? ph(c2.phases.simdgrad) : ''}; tfjs-wasm ${ph(c1.phases['tfjs-wasm'])}.`);
}
if (size) {
  for (const [lib, files] of Object.entries(size.files)) {
    console.log(`${lib}: ${files.map((f) => `${f.file.replace(/^node_modules\//, '')} ${(f.gzip / 1024).toFixed(1)} KiB`).join(' + ')}`);
  }
}
if (meta.pytorch?.summary) console.log(`${meta.pytorch.summary}; threads ${meta.pytorch.threads.map((t) => `${t.torch} (OpenBLAS ${t.openblas ?? '?'})`).join(' and ')}.`);
// Peak memory of the training cases (bench/train-memory.mjs), MiB.
const mib = (b) => (b == null ? '–' : (b / 2 ** 20).toFixed(1));
const memRows = CASES.map(([id, label]) => [label, rows.filter((r) => r.case === id && r.memory)]).filter(([, rs]) => rs.length);
if (memRows.length) {
  console.log('');
  console.log(`| peak memory, MiB (fresh process per case) | simdgrad wasm, 1 thr / 2 thr | simdgrad RSS, 1 thr / 2 thr |${torch ? ' PyTorch RSS, 1 thr / 2 thr |' : ''} tfjs-wasm RSS | tfjs-cpu RSS |`);
  console.log(`|---|---|---|${torch ? '---|' : ''}---|---|`);
  for (const [label, rs] of memRows) {
    const at = (t) => rs.find((r) => r.threads === t && r.build === 'simd') ?? rs.find((r) => r.threads === t);
    const pair = (f) => [at(1), at(2)].map((r) => (r ? mib(f(r.memory)) : '–')).join(' / ');
    const m = rs[0].memory;
    console.log(`| ${label} | ${pair((mm) => mm.simdgrad?.wasm_bytes)} | ${pair((mm) => mm.simdgrad?.rss_bytes)} |` +
      `${torch ? ` ${pair((mm) => mm.pytorch?.rss_bytes)} |` : ''} ${mib(m['tfjs-wasm']?.rss_bytes)} | ${mib(m['tfjs-cpu']?.rss_bytes)} |`);
  }
}
console.log(JSON.stringify(meta));
