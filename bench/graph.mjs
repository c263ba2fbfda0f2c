// Sparse aggregation (SpMM) throughput for graph neural networks, ms per call: simdgrad's
// spmm against TF.js's sparse segment ops on the wasm and cpu backends, and against a dense
// adjacency matmul where the dense matrix fits, in one run: `node bench/graph.mjs` (after
// `npm run build:if-stale`; `--json` prints the rows as JSON; run.mjs uses that). BENCH_ROUNDS
// sets the rounds (default 4).
//
// Graphs: random directed graphs, every edge's endpoints uniform (seeded LCG, the same for
// every library), stored sorted by target (CSR rows). Features X [nodes, 64] random.
//   - "large": 100,000 nodes, 1,000,000 edges: Y = A X (sum over in-neighbours); 64 M
//     multiply-adds. simdgrad: spmm(indptr, indices, ones, X, 'sum') and, separately, the same
//     product's backward (dX = Aᵀ dY, built from the CSR transpose each call). TF.js:
//     tf.sparse.sparseSegmentSum(X, sources, targets) — the same sum, the op TF.js has for it
//     on both backends; per-edge messages: tf.gather then sparseSegmentSum.
//   - "tiny": 128 nodes, 1,280 edges: gather + tf.unsortedSegmentSum on the cpu backend, which
//     computes it with one mask per segment (too slow for the large graph); the wasm backend
//     has no UnsortedSegmentSum kernel and uses sparseSegmentSum there.
//   - "dense fits": 4,096 nodes, 40,960 edges (the same mean degree 10): the SpMM against
//     the dense product A·X with A [4096, 4096] (64 MB) in simdgrad (matmul) and TF.js (tf.matMul).
// Each library runs in its own process, as in bench/lstm.mjs: simdgrad with 1 thread and 2,
// TF.js wasm (one thread in Node) and TF.js cpu. Rounds alternate between them; medians and
// interquartile spreads are over all samples of all rounds.
import { freshProcessRows, loadSimdgrad, loadTfjs, main, runWorkers, sig } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROUND_MS = 600;
const F = 64;
const GRAPHS = { large: { nodes: 100_000, edges: 1_000_000 }, small: { nodes: 4096, edges: 40_960 }, tiny: { nodes: 128, edges: 1280 } };

/** A random graph as CSR sorted by target: indptr, sources (per entry), targets (per entry). */
function randomGraph({ nodes, edges }, seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const src = new Int32Array(edges);
  const dst = new Int32Array(edges);
  for (let e = 0; e < edges; e++) {
    src[e] = next() % nodes;
    dst[e] = next() % nodes;
  }
  const indptr = new Int32Array(nodes + 1);
  for (const v of dst) indptr[v + 1]++;
  for (let v = 0; v < nodes; v++) indptr[v + 1] += indptr[v];
  const cursor = indptr.slice(0, nodes);
  const sources = new Int32Array(edges);
  const targets = new Int32Array(edges);
  for (let e = 0; e < edges; e++) {
    const p = cursor[dst[e]]++;
    sources[p] = src[e];
    targets[p] = dst[e];
  }
  const x = new Float32Array(nodes * F);
  for (let i = 0; i < x.length; i++) x[i] = (next() / 2 ** 32) * 2 - 1;
  return { nodes, edges, indptr, sources, targets, x };
}

const CASES = [
  { id: 'spmm', graph: 'large', label: 'SpMM sum forward, 100k nodes x 1M edges x 64 features' },
  { id: 'spmm-backward', graph: 'large', label: 'SpMM sum forward + backward (dX = Aᵀ dY), 100k nodes x 1M edges x 64' },
  { id: 'spmm-max', graph: 'large', label: 'SpMM max forward (with argmax), 100k nodes x 1M edges x 64' },
  { id: 'gather-segment', graph: 'large', label: 'gather rows + segment sum (per-edge messages), 100k x 1M x 64' },
  { id: 'small-spmm', graph: 'small', label: 'SpMM sum forward, 4096 nodes x 40,960 edges x 64' },
  { id: 'small-dense', graph: 'small', label: 'dense adjacency matmul A[4096,4096] · X[4096,64]' },
  { id: 'tiny-gather-segment', graph: 'tiny', label: 'gather rows + unsorted segment sum, 128 nodes x 1280 edges x 64' },
];

function simdgradCases(sg) {
  const out = {};
  for (const key of Object.keys(GRAPHS)) {
    const g = randomGraph(GRAPHS[key], 11);
    const ip = sg.tensor(g.indptr, [g.nodes + 1], { dtype: 'int32' });
    const ix = sg.tensor(g.sources, [g.edges], { dtype: 'int32' });
    const tg = sg.tensor(g.targets, [g.edges], { dtype: 'int32' });
    const w = sg.ones([g.edges]);
    const x = sg.tensor(g.x, [g.nodes, F]);
    out[key] = { g, ip, ix, tg, w, x };
  }
  const L = out.large;
  const S = out.small;
  const xg = sg.tensor(L.g.x, [L.g.nodes, F], { requiresGrad: true });
  let dense = null;
  return {
    spmm: () => { sg.noGrad(() => sg.spmm(L.ip, L.ix, L.w, L.x, 'sum')).dispose(); },
    'spmm-backward': () => {
      const y = sg.spmm(L.ip, L.ix, L.w, xg, 'sum');
      sg.backward(sg.sum(y));
      xg.grad.dispose();
      xg.grad = null;
    },
    'spmm-max': () => { sg.noGrad(() => sg.spmm(L.ip, L.ix, L.w, L.x, 'max')).dispose(); },
    'gather-segment': () => {
      sg.noGrad(() => {
        const m = sg.gatherRows(L.x, L.ix);
        sg.scatterRows(m, L.tg, L.g.nodes, 'sum').dispose();
        m.dispose();
      });
    },
    'small-spmm': () => { sg.noGrad(() => sg.spmm(S.ip, S.ix, S.w, S.x, 'sum')).dispose(); },
    'tiny-gather-segment': () => {
      const T = out.tiny;
      sg.noGrad(() => {
        const m = sg.gatherRows(T.x, T.ix);
        sg.scatterRows(m, T.tg, T.g.nodes, 'sum').dispose();
        m.dispose();
      });
    },
    'small-dense': () => {
      if (dense === null) {
        const a = new Float32Array(S.g.nodes * S.g.nodes);
        for (let p = 0; p < S.g.edges; p++) a[S.g.targets[p] * S.g.nodes + S.g.sources[p]] += 1;
        dense = sg.keep(sg.tensor(a, [S.g.nodes, S.g.nodes]));
      }
      sg.noGrad(() => sg.matmul(dense, S.x)).dispose();
    },
  };
}

function tfjsCases(tf, backend) {
  const out = {};
  for (const key of Object.keys(GRAPHS)) {
    const g = randomGraph(GRAPHS[key], 11);
    out[key] = { g, src: tf.tensor1d(g.sources, 'int32'), dst: tf.tensor1d(g.targets, 'int32'), x: tf.tensor2d(g.x, [g.nodes, F]) };
  }
  const L = out.large;
  const S = out.small;
  let dense = null;
  const cases = {
    spmm: () => { tf.sparse.sparseSegmentSum(L.x, L.src, L.dst).dispose(); },
    'small-spmm': () => { tf.sparse.sparseSegmentSum(S.x, S.src, S.dst).dispose(); },
    'small-dense': () => {
      if (dense === null) {
        const a = new Float32Array(S.g.nodes * S.g.nodes);
        for (let p = 0; p < S.g.edges; p++) a[S.g.targets[p] * S.g.nodes + S.g.sources[p]] += 1;
        dense = tf.tensor2d(a, [S.g.nodes, S.g.nodes]);
      }
      tf.matMul(dense, S.x).dispose();
    },
  };
  // tf.unsortedSegmentSum: the cpu backend loops over segments (a mask per segment, O(segments
  // · edges · F)), so it runs on the tiny graph only; the wasm backend has no kernel for it.
  cases['gather-segment'] = () => { tf.tidy(() => tf.sparse.sparseSegmentSum(tf.gather(L.x, L.src), tf.range(0, L.g.edges, 1, 'int32'), L.dst)).dispose(); };
  const T = out.tiny;
  cases['tiny-gather-segment'] = backend === 'cpu'
    ? () => { tf.tidy(() => tf.unsortedSegmentSum(tf.gather(T.x, T.src), T.dst, T.g.nodes)).dispose(); }
    : () => { tf.tidy(() => tf.sparse.sparseSegmentSum(tf.gather(T.x, T.src), tf.range(0, T.g.edges, 1, 'int32'), T.dst)).dispose(); };
  return cases;
}

async function setup(lib, threads) {
  const { cases, info } = lib === 'simdgrad'
    ? await loadSimdgrad(threads).then(({ sg, info }) => ({ cases: simdgradCases(sg), info }))
    : await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu').then(({ tf, info }) => ({ cases: tfjsCases(tf, info.backend), info }));
  // ms per call (no work figure): the rows compare times.
  return { info, cases: Object.fromEntries(CASES.filter((c) => cases[c.id] !== undefined).map((c) => [c.id, { label: c.label, fn: cases[c.id] }])) };
}

export async function graphBench() {
  const { results, busy } = await runWorkers(import.meta.url, 'graph', ROUNDS);
  const round = sig;
  const peer = (lib, id) => results.find((x) => x.lib === lib)?.results[id] ?? null;
  const rows = [];
  for (const c of CASES) {
    for (const x of results.filter((r) => r.lib === 'simdgrad')) {
      const mine = x.results[c.id] ?? null;
      const [wasm, cpu] = [peer('tfjs-wasm', c.id), peer('tfjs-cpu', c.id)];
      // ms per call: a ratio above 1 means simdgrad is faster.
      rows.push({
        case: c.label, unit: 'ms', simdgrad: round(mine?.value), 'tfjs-wasm': round(wasm?.value), 'tfjs-cpu': round(cpu?.value),
        ratio_vs_wasm: mine && wasm ? round(wasm.value / mine.value, 3) : null,
        ratio_vs_cpu: mine && cpu ? round(cpu.value / mine.value, 3) : null,
        spread: round(mine?.spread, 2),
        spread_peers: { 'tfjs-wasm': round(wasm?.spread, 2), 'tfjs-cpu': round(cpu?.spread, 2) },
        build: x.info?.build ?? null, threads: x.threads,
        note: [
          c.id === 'small-dense' ? 'both libraries: dense matmul' : null,
          c.id === 'spmm' || c.id === 'small-spmm' ? 'TF.js: tf.sparse.sparseSegmentSum(X, sources, targets)' : null,
          c.id === 'gather-segment' ? 'simdgrad: gatherRows + scatterRows; TF.js: gather + sparse.sparseSegmentSum' : null,
          c.id === 'tiny-gather-segment' ? 'simdgrad: gatherRows + scatterRows; TF.js cpu: gather + unsortedSegmentSum (O(segments·edges·F) there); wasm (no UnsortedSegmentSum kernel): gather + sparseSegmentSum' : null,
          ...results.flatMap((p) => Object.entries(p.errors ?? {}).filter(([id]) => id === c.id || id === 'all').map(([, e]) => `${p.lib} failed: ${e}`)),
          'bench/graph.mjs',
        ].filter(Boolean).join(' | '),
      });
    }
  }
  return { rows, meta: { rounds: ROUNDS, other_cores_per_round: busy } };
}

/** For run.mjs: the bench in a fresh process, as rows of results.json. */
export function graphResultRows(progress = () => {}) {
  return freshProcessRows(import.meta.url, 'graph', progress);
}

function printRows({ rows, meta }) {
  const f = (v) => (v === null ? '-' : v.toFixed(2));
  const r = (v) => (v === null ? '-' : `${v.toFixed(2)}x`);
  console.log(`ms per call, medians over ${meta.rounds} alternating rounds (IQR / median in brackets); ratio = TF.js ms / simdgrad ms`);
  for (const row of rows) {
    console.log(`${row.case} | simdgrad ${row.build} ${row.threads}T ${f(row.simdgrad)} (${row.spread}%)` +
      ` | TF.js wasm ${f(row['tfjs-wasm'])} (${row.spread_peers['tfjs-wasm']}%) -> ${r(row.ratio_vs_wasm)}` +
      ` | TF.js cpu ${f(row['tfjs-cpu'])} (${row.spread_peers['tfjs-cpu']}%) -> ${r(row.ratio_vs_cpu)}`);
  }
  if (meta.other_cores_per_round.length) console.log(`Other processes' cores per round: ${meta.other_cores_per_round.join(', ')}.`);
}

await main(import.meta.url, { setup, roundMs: ROUND_MS, bench: graphBench, print: printRows });
