// Rows of bench/results.json and the printed table.
// Ratios are "times faster than the peer" (> 1: simdgrad faster) for every unit: rates are
// divided ours / theirs, milliseconds theirs / ours.
import { CASES, PEERS, PEAK_CASE, TORCH } from './suite.mjs';
import { describeTorch } from './pytorch.mjs';
import { memoryLines } from './train-memory.mjs';

/** Reference single-thread peaks quoted in DESIGN.md (measured elsewhere), GFLOP/s. */
export const REFERENCE_PEAK = { simd: 34, relaxed: 47 };

const round = (v, digits = 4) => (v === null || v === undefined ? null : Number(v.toPrecision(digits)));

/** Units where less is better: ratios are then theirs / ours. */
const LOWER_IS_BETTER = new Set(['ms', 'KiB']);

function ratio(unit, ours, theirs) {
  if (ours == null || theirs == null) return null;
  return LOWER_IS_BETTER.has(unit) ? theirs / ours : ours / theirs;
}

/**
 * runs: the simdgrad workers' results (default build first; one-thread runs before threaded
 * ones); peers: { 'tfjs-wasm': ..., 'tfjs-cpu': ..., pytorch?: { <threads>: ... } } worker
 * results, null where a worker could not run (no `pytorch` key: no torch, and the rows get no
 * PyTorch columns); extra: { cold, sizes } from cold-start.mjs, { memory } from train-memory.mjs.
 */
export function makeRows(runs, peers, extra = {}) {
  const rows = [];
  const peakOf = (build) => runs.find((r) => r.info.build === build && r.info.threads === 1 && r.peak)?.peak ?? null;
  for (const run of runs) {
    if (!run.peak) continue;
    rows.push({
      case: PEAK_CASE[run.info.build], unit: 'GFLOP/s', simdgrad: round(run.peak.value),
      'tfjs-wasm': null, 'tfjs-cpu': null, ratio_vs_wasm: null, ratio_vs_cpu: null,
      spread: round(run.peak.spread, 2), spread_peers: null, build: run.info.build, threads: 1,
      note: 'machine peak, not simdgrad: hand-assembled wasm loop with 12 independent f32x4 accumulators (bench/peak.mjs); value in the simdgrad column',
    });
  }
  for (const c of CASES) {
    const peer = (p) => peers[p]?.cases[c.case] ?? null;
    const peerValue = (p) => peer(p)?.result?.value;
    for (const run of runs) {
      const mine = run.cases[c.case];
      if (!mine || mine.skipped) continue;
      const ours = mine.result;
      const threads = run.info.threads;
      const row = {
        case: c.case,
        unit: c.unit,
        simdgrad: round(ours?.value),
        'tfjs-wasm': round(peerValue('tfjs-wasm')),
        'tfjs-cpu': round(peerValue('tfjs-cpu')),
        ratio_vs_wasm: round(ratio(c.unit, ours?.value, peerValue('tfjs-wasm')), 3),
        ratio_vs_cpu: round(ratio(c.unit, ours?.value, peerValue('tfjs-cpu')), 3),
        spread: round(ours?.spread, 2),
        spread_peers: Object.fromEntries(PEERS.map((p) => [p, round(peer(p)?.result?.spread, 2)])),
        build: run.info.build,
        threads,
      };
      if (peers[TORCH]) {
        // PyTorch at the row's own thread count: 1-thread torch beside 1-thread simdgrad.
        const torch = peers[TORCH][threads]?.cases[c.case] ?? null;
        row[TORCH] = round(torch?.result?.value);
        row.ratio_vs_pytorch = round(ratio(c.unit, ours?.value, torch?.result?.value), 3);
        row.spread_peers[TORCH] = round(torch?.result?.spread, 2);
      }
      if (threads > 1) {
        const single = runs.find((r) => r.info.build === run.info.build && r.info.threads === 1)?.cases[c.case]?.result;
        row.speedup_vs_1_thread = round(ratio(c.unit, ours?.value, single?.value), 3);
      }
      if (c.gemm) {
        // Against threads x the one-thread peak of the same build measured in this run.
        const peak = peakOf(run.info.build);
        row.of_peak = peak && ours ? round(ours.value / (threads * peak.value), 3) : null;
        row.of_reference_peak = ours ? round(ours.value / (threads * REFERENCE_PEAK[run.info.build]), 3) : null;
        if (threads > 1) row.peak_basis = `${threads} x the one-thread peak`;
      }
      const mem = extra.memory?.[c.case];
      if (mem) {
        row.memory = {
          simdgrad: mem.simdgrad[`${run.info.build}/${threads}`] ?? null,
          ...(mem.pytorch ? { [TORCH]: mem.pytorch[threads] ?? null } : {}),
          ...Object.fromEntries(PEERS.map((p) => [p, mem[p] ?? null])),
        };
      }
      const torchRun = peers[TORCH]?.[threads]?.cases[c.case];
      const notes = [];
      if (c.gemm) notes.push(`simdgrad: gemm kernel on preallocated buffers; TF.js: tf.matMul, which allocates its output (disposed each call)${peers[TORCH] ? '; PyTorch: torch.mm(..., out=c) on a preallocated c' : ''}`);
      if (c.note) notes.push(`simdgrad: ${c.note.simdgrad}`, `TF.js: ${c.note.tfjs}`);
      if (c.note?.pytorch && peers[TORCH]) notes.push(`PyTorch: ${c.note.pytorch}`);
      if (threads > 1) notes.push(`simdgrad: setThreads(${threads}); TF.js: one thread (its wasm backend disables threads in Node)${peers[TORCH] ? `; PyTorch: torch.set_num_threads(${threads})` : ''}`);
      if (mine.extra) notes.push(`simdgrad: ${mine.extra}`);
      if (mine.error) notes.push(`simdgrad failed: ${mine.error}`);
      for (const p of PEERS) {
        if (peer(p)?.extra) notes.push(`${p}: ${peer(p).extra}`);
        if (peer(p)?.error) notes.push(`${p} failed: ${peer(p).error}`);
      }
      if (torchRun?.extra) notes.push(`pytorch: ${torchRun.extra}`);
      if (torchRun?.error) notes.push(`pytorch failed: ${torchRun.error}`);
      if (notes.length) row.note = notes.join(' | ');
      if (mine.extra) row.log = mine.extra;
      rows.push(row);
    }
  }
  if (extra.cold) rows.push(...coldRows(extra.cold));
  if (extra.sizes) rows.push(sizeRow(extra.sizes));
  return rows;
}

const COLD_CASE = 'cold start: import + init + first 256x256 matmul (fresh process)';

function coldRows(cold) {
  const tf = cold['tfjs-wasm'];
  const rows = [];
  for (const name of ['simdgrad-1', 'simdgrad-auto']) {
    const sg = cold[name];
    if (!sg) continue;
    const phases = (x) => (x && !x.error ? {
      import: round(x.import.value, 3), init: round(x.init.value, 3), first_matmul: round(x.first.value, 3),
      process_wall: round(x.wall.value, 3),
    } : null);
    rows.push({
      case: COLD_CASE,
      unit: 'ms',
      simdgrad: round(sg.total?.value),
      'tfjs-wasm': round(tf?.total?.value),
      'tfjs-cpu': null,
      ratio_vs_wasm: round(ratio('ms', sg.total?.value, tf?.total?.value), 3),
      ratio_vs_cpu: null,
      spread: round(sg.total?.spread, 2),
      spread_peers: { 'tfjs-wasm': round(tf?.total?.spread, 2), 'tfjs-cpu': null },
      build: sg.build ?? null,
      threads: sg.threads ?? null,
      samples: sg.total?.samples ?? 0,
      phases: { simdgrad: phases(sg), 'tfjs-wasm': phases(tf) },
      note: [
        `median of ${sg.total?.samples ?? 0} fresh processes per library, alternating (bench/cold-start.mjs); time from just before the first import to the first product read back`,
        name === 'simdgrad-1' ? 'simdgrad: SIMDGRAD_THREADS=1' : `simdgrad: default thread count (${sg.threads}), so the first large call also starts the pool's worker (${sg.workers} ready at the end)`,
        'simdgrad: import dist/index.js, tensor() x2 (instantiates the wasm), matmul(a, b).data()',
        'TF.js: import tfjs-core + tfjs-backend-wasm, setWasmPaths, await setBackend("wasm"), tensor2d x2, matMul(a, b).dataSync()',
        sg.error ? `simdgrad failed: ${sg.error}` : null,
        tf?.error ? `tfjs-wasm failed: ${tf.error}` : null,
      ].filter(Boolean).join(' | '),
    });
  }
  return rows;
}

function sizeRow(sizes) {
  const kib = (x) => (x ? x.gzip / 1024 : null);
  const ours = kib(sizes.simdgrad);
  return {
    case: 'shipped size: core JS + one wasm (gzip -9)',
    unit: 'KiB',
    simdgrad: round(ours),
    'tfjs-wasm': round(kib(sizes['tfjs-wasm'])),
    'tfjs-cpu': round(kib(sizes['tfjs-cpu'])),
    ratio_vs_wasm: round(ratio('KiB', ours, kib(sizes['tfjs-wasm'])), 3),
    ratio_vs_cpu: round(ratio('KiB', ours, kib(sizes['tfjs-cpu'])), 3),
    spread: null,
    spread_peers: null,
    build: null,
    threads: null,
    files: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, v.files.map((f) => ({ file: f.path, bytes: f.raw, gzip: f.gzip }))])),
    note: 'what a browser app downloads (files listed in "files"): simdgrad dist/index.browser.js + the larger wasm build; TF.js tf-core.min.js + tf-backend-wasm.min.js + tfjs-backend-wasm-simd.wasm (tfjs-cpu: tf-core.min.js + tf-backend-cpu.min.js)',
  };
}

function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  if (Math.abs(v) >= 100) return v.toFixed(1);
  if (Math.abs(v) >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

export function printTable(rows, peers, meta = {}) {
  const pct = (v) => (v == null ? '–' : `${v.toFixed(1)}%`);
  const x = (v) => (v == null ? '–' : `${v.toFixed(2)}x`);
  // The PyTorch columns only when PyTorch ran.
  const torch = Boolean(peers[TORCH]);
  const head = ['case', 'build', 'thr', 'unit', 'simdgrad', 'vs 1 thr', 'tfjs-wasm', 'tfjs-cpu', ...(torch ? ['pytorch'] : []),
    'vs wasm', 'vs cpu', ...(torch ? ['vs torch'] : []), `IQR sg / wasm / cpu${torch ? ' / torch' : ''}`, 'of peak (ref)'];
  const body = rows.map((r) => [
    r.case, r.build ?? '', r.threads == null ? '' : String(r.threads), r.unit, fmt(r.simdgrad),
    r.speedup_vs_1_thread === undefined ? '' : x(r.speedup_vs_1_thread),
    fmt(r['tfjs-wasm']), fmt(r['tfjs-cpu']), ...(torch ? [fmt(r[TORCH])] : []),
    x(r.ratio_vs_wasm), x(r.ratio_vs_cpu), ...(torch ? [x(r.ratio_vs_pytorch)] : []),
    r.spread_peers === null && r.spread === null ? '' : [r.spread, r.spread_peers?.['tfjs-wasm'], r.spread_peers?.['tfjs-cpu'], ...(torch ? [r.spread_peers?.[TORCH]] : [])].map(pct).join(' / '),
    r.of_peak != null ? `${(100 * r.of_peak).toFixed(0)}% (${(100 * r.of_reference_peak).toFixed(0)}%)` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((s, i) => (i < 4 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  console.log('');
  console.log('Medians over all rounds. vs wasm / vs cpu: times faster (or smaller) than that TF.js backend (> 1: simdgrad better).');
  console.log('thr: simdgrad threads (setThreads); vs 1 thr: that row against the one-thread row of the same build. TF.js: one thread.');
  if (torch) console.log('pytorch / vs torch: native PyTorch at the row\'s thread count (torch.set_num_threads), and simdgrad against it.');
  console.log('IQR: interquartile range of the per-sample values relative to the median.');
  console.log('of peak: GEMM / (threads x the one-thread machine peak measured in this run for the instruction the build uses:');
  console.log(`mul+add for simd, relaxed_madd for relaxed); (ref): against DESIGN.md's ${REFERENCE_PEAK.simd} / ${REFERENCE_PEAK.relaxed} GFLOP/s.`);
  console.log('Each library ran in its own process; the processes took turns case by case, never at the same time.');
  const w = peers['tfjs-wasm']?.info;
  if (w) console.log(`TF.js ${w.version}; wasm backend SIMD=${w.simd}, multithread=${w.multithread}, threads=${w.threads}.`);
  if (torch) console.log(`${describeTorch(Object.values(peers[TORCH]).find((p) => p?.info)?.info)}.`);
  else if (meta.pytorch?.absent) console.log(`PyTorch: not measured (${meta.pytorch.absent}); \`apt-get install python3-torch\` (and an optimised BLAS such as libopenblas0-openmp) adds it.`);
  if (meta.node) console.log(`Node ${meta.node}; CPU ${meta.cpu}, ${meta.cores} cores; simdgrad commit ${meta.commit ?? '?'}; ${meta.date}.`);
  const q = meta.quiet;
  if (q) {
    console.log(`Sample batches: ${q.batches}; re-taken because other processes used > ${q.threshold_cores} cores meanwhile: ${q.retaken}` +
      ` (waited ${q.waited_s} s for quiet); kept although busy: ${q.kept_busy}. Other processes' average cores per round: ${q.other_cores_per_round.join(', ')}.`);
  }
  // Each case's note once (its first row), then only the per-run log lines of its other rows.
  const noted = new Set();
  for (const r of rows) {
    if (r.case.startsWith('gemm') || r.case.startsWith('SIMD peak')) continue;
    const tag = `${r.case} [${r.build ?? '-'}, ${r.threads ?? '-'} thr]`;
    if (!noted.has(r.case) && r.note) console.log(`- ${tag}: ${r.note}`);
    else if (r.log) console.log(`- ${tag}: simdgrad: ${r.log}`);
    noted.add(r.case);
  }
  // Peak memory of the training cases, one fresh process per library and case (train-memory.mjs).
  const memRows = rows.filter((r) => r.memory);
  if (memRows.length) {
    console.log('');
    console.log('Peak memory of the training cases, MiB (one fresh process per library, case, build and thread count; wasm: the wasm memory\'s size,');
    console.log('which never shrinks; peak RSS: the whole process, runtime and digits included, with the RSS before the model in brackets):');
    for (const r of memRows) {
      const m = { simdgrad: { [`${r.build}/${r.threads}`]: r.memory.simdgrad } };
      // The peers once per case: with its first row, PyTorch again with each new thread count.
      const first = memRows.find((x) => x.case === r.case) === r;
      if (r.memory[TORCH] && memRows.find((x) => x.case === r.case && x.threads === r.threads) === r) m[TORCH] = { [r.threads]: r.memory[TORCH] };
      if (first) for (const p of PEERS) m[p] = r.memory[p];
      console.log(`- ${r.case} [${r.build}, ${r.threads} thr]: ${memoryLines(m).join('; ')}`);
    }
  }
}
