// Rows of bench/results.json and the printed table.
// Ratios are "times faster than the peer" (> 1: simdgrad faster) for every unit: rates are
// divided ours / theirs, milliseconds theirs / ours.
import { CASES, PEERS, PEAK_CASE } from './suite.mjs';

/** Reference single-thread peaks quoted in DESIGN.md (measured elsewhere), GFLOP/s. */
export const REFERENCE_PEAK = { simd: 34, relaxed: 47 };

const round = (v, digits = 4) => (v === null || v === undefined ? null : Number(v.toPrecision(digits)));

function ratio(unit, ours, theirs) {
  if (ours == null || theirs == null) return null;
  return unit === 'ms' ? theirs / ours : ours / theirs;
}

/**
 * runs: the simdgrad workers' results (default build first); peers: { 'tfjs-wasm': ..., 'tfjs-cpu': ... }
 * worker results, null where a worker could not run.
 */
export function makeRows(runs, peers) {
  const rows = [];
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
      const ours = mine.result;
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
        threads: 1,
      };
      if (c.gemm) {
        row.of_peak = run.peak && ours ? round(ours.value / run.peak.value, 3) : null;
        row.of_reference_peak = ours ? round(ours.value / REFERENCE_PEAK[run.info.build], 3) : null;
      }
      const notes = [];
      if (c.gemm) notes.push('simdgrad: gemm kernel on preallocated buffers; TF.js: tf.matMul, which allocates its output (disposed each call)');
      if (c.note) notes.push(`simdgrad: ${c.note.simdgrad}`, `TF.js: ${c.note.tfjs}`);
      if (mine.extra) notes.push(`simdgrad: ${mine.extra}`);
      if (mine.error) notes.push(`simdgrad failed: ${mine.error}`);
      for (const p of PEERS) {
        if (peer(p)?.extra) notes.push(`${p}: ${peer(p).extra}`);
        if (peer(p)?.error) notes.push(`${p} failed: ${peer(p).error}`);
      }
      if (notes.length) row.note = notes.join(' | ');
      rows.push(row);
    }
  }
  return rows;
}

function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  if (Math.abs(v) >= 100) return v.toFixed(1);
  if (Math.abs(v) >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

export function printTable(rows, peers) {
  const pct = (v) => (v == null ? '–' : `${v.toFixed(1)}%`);
  const x = (v) => (v == null ? '–' : `${v.toFixed(2)}x`);
  const head = ['case', 'build', 'unit', 'simdgrad', 'tfjs-wasm', 'tfjs-cpu', 'vs wasm', 'vs cpu', 'IQR sg / wasm / cpu', 'of peak (ref)'];
  const body = rows.map((r) => [
    r.case, r.build, r.unit, fmt(r.simdgrad), fmt(r['tfjs-wasm']), fmt(r['tfjs-cpu']),
    x(r.ratio_vs_wasm), x(r.ratio_vs_cpu),
    [r.spread, r.spread_peers?.['tfjs-wasm'], r.spread_peers?.['tfjs-cpu']].map(pct).join(' / '),
    r.of_peak != null ? `${(100 * r.of_peak).toFixed(0)}% (${(100 * r.of_reference_peak).toFixed(0)}%)` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((s, i) => (i < 3 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  console.log('');
  console.log('Medians over all rounds. vs wasm / vs cpu: times faster than that TF.js backend (> 1: simdgrad faster).');
  console.log('IQR: interquartile range of the per-sample values relative to the median. Everything single-threaded.');
  console.log('of peak: GEMM / the machine peak measured in this run for the instruction the build uses');
  console.log(`(mul+add for simd, relaxed_madd for relaxed); (ref): against DESIGN.md's ${REFERENCE_PEAK.simd} / ${REFERENCE_PEAK.relaxed} GFLOP/s.`);
  console.log('Each library ran in its own process; the processes took turns case by case, never at the same time.');
  const w = peers['tfjs-wasm']?.info;
  if (w) console.log(`TF.js ${w.version}; wasm backend SIMD=${w.simd}, multithread=${w.multithread}, threads=${w.threads}. Node ${process.version}.`);
  for (const r of rows) {
    if (r.note && !r.case.startsWith('gemm') && !r.case.startsWith('SIMD peak')) console.log(`- ${r.case} [${r.build}]: ${r.note}`);
  }
}
