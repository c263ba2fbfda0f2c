// Transformer throughput, simdgrad only for now: `node bench/transformer.mjs` (after
// `npm run build:if-stale`; `--json` prints the rows as JSON; run.mjs uses that).
//   - attention forward + backward (scaledDotProductAttention, causal, batch 4 × 4 heads ×
//     D_k 32) in GFLOP/s at T = 128 and T = 512, counting 2·T²·(D_k + D_v) per head forward
//     (with the causal mask the kernels still form the full T×T products) and twice that backward;
//   - one training step of a small GPT (4 layers, 4 heads, d = 128, T = 128, batch 16, vocab
//     1,000, AdamW) in tokens/s;
//   - greedy generation of 256 tokens with the KV cache against re-reading the prefix, ms.
// Not yet here: the same GPT step in TF.js-layers (its MultiHeadAttention layer), see issue 11.
// BENCH_ROUNDS sets the rounds (default 3); the median per-call time over rounds is reported.
import { cpuSnapshot, otherCores } from './machine.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const log = (s) => process.stderr.write(`${s}\n`);

/** Median ms per call of fn over ROUNDS rounds of about `ms` each. */
function time(fn, ms = 1000) {
  fn();
  const per = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms || n === 0) {
      fn();
      n++;
    }
    per.push((performance.now() - start) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

/** A results.json row in the shape of the other benches' (simdgrad only: no TF.js column yet). */
function row(name, unit, value) {
  return { case: name, unit, simdgrad: value, 'tfjs-wasm': null, 'tfjs-cpu': null, note: 'simdgrad only; the TF.js-layers comparison is not written yet' };
}

export async function transformerRows() {
  const sg = await import('../dist/index.js');
  const rows = [];
  const before = cpuSnapshot();

  for (const T of [128, 512]) {
    const [B, H, Dk] = [4, 4, 32];
    sg.manualSeed(1);
    const mk = () => sg.randn([B, T, H * Dk], 0, 1, { requiresGrad: true });
    const q = mk();
    const k = mk();
    const v = mk();
    const flops = 3 * 2 * B * H * T * T * (2 * Dk);
    const ms = time(() => {
      const y = sg.scaledDotProductAttention(q, k, v, { heads: H, causal: true });
      sg.sum(y).backward();
      for (const t of [q, k, v]) { t.grad.dispose(); t.grad = null; }
    });
    rows.push(row(`attention fwd+bwd, causal, B ${B} x H ${H} x D_k ${Dk}, T ${T}`, 'GFLOP/s', flops / (ms * 1e6)));
    log(`  attention T ${T}: ${(flops / (ms * 1e6)).toFixed(2)} GFLOP/s (${ms.toFixed(1)} ms)`);
  }

  {
    const [L, H, D, T, N, V] = [4, 4, 128, 128, 16, 1000];
    sg.manualSeed(2);
    const embed = new sg.nn.Embedding(V, D);
    const pos = new sg.nn.SinusoidalPositionalEncoding(D);
    const blocks = new sg.nn.TransformerEncoder(D, H, { numLayers: L, dropout: 0, activation: 'gelu', norm: 'pre' });
    const head = new sg.nn.Linear(D, V);
    const params = [...embed.parameters(), ...blocks.parameters(), ...head.parameters()];
    const opt = new sg.optim.AdamW(params, { lr: 1e-3 });
    const ids = new Int32Array(N * T).map((_, i) => (i * 7919) % V);
    const tgt = new Int32Array(N * T).map((_, i) => (i * 104729 + 3) % V);
    const ms = time(() => {
      const x = sg.tensor(ids, [N, T]);
      const y = sg.tensor(tgt, [N * T]);
      const logits = head.forward(blocks.forward(pos.forward(embed.forward(x)), { causal: true }));
      const loss = sg.crossEntropy(sg.reshape(logits, [N * T, V]), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      loss.item();
      sg.dispose(x, y);
    }, 3000);
    const rate = (N * T) / (ms / 1000);
    rows.push(row(`GPT train step: ${L} layers, ${H} heads, d ${D}, T ${T}, batch ${N}, vocab ${V}, AdamW`, 'tokens/s', rate));
    log(`  GPT step: ${rate.toFixed(0)} tokens/s (${ms.toFixed(0)} ms per step)`);
  }

  {
    sg.manualSeed(3);
    const [L, H, D, V, NEW] = [4, 4, 128, 1000, 256];
    const embed = new sg.nn.Embedding(V, D);
    const pos = new sg.nn.SinusoidalPositionalEncoding(D);
    const blocks = new sg.nn.TransformerEncoder(D, H, { numLayers: L, dropout: 0, activation: 'gelu', norm: 'pre' }).eval();
    const head = new sg.nn.Linear(D, V);
    const logitsOf = (ids, cache) => sg.noGrad(() => {
      const x = sg.tensor(Int32Array.from(ids), [1, ids.length]);
      const h = blocks.forward(pos.forward(embed.forward(x), cache?.length ?? 0), { causal: true, cache });
      if (cache) cache.length += ids.length;
      const out = head.forward(h).data();
      return out.subarray(out.length - V);
    });
    const argmax = (row) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
    const greedy = (useCache) => {
      const seq = [1, 2, 3, 4];
      const cache = useCache ? new sg.nn.KVCache() : null;
      for (let t = 0; t < NEW; t++) seq.push(argmax(logitsOf(useCache ? seq.slice(cache.length) : seq, cache)));
      cache?.dispose();
      return seq;
    };
    const t0 = performance.now();
    const a = greedy(true);
    const msCached = performance.now() - t0;
    const t1 = performance.now();
    const b = greedy(false);
    const msFull = performance.now() - t1;
    const same = a.every((t, i) => t === b[i]);
    rows.push(row(`greedy generation, ${NEW} tokens, ${L} layers x d ${D}: KV cache`, 'ms', msCached));
    rows.push(row(`greedy generation, ${NEW} tokens, ${L} layers x d ${D}: full prefix`, 'ms', msFull));
    log(`  generation: KV cache ${msCached.toFixed(0)} ms, full prefix ${msFull.toFixed(0)} ms, same tokens: ${same}`);
  }
  const other = otherCores(before, cpuSnapshot());
  if (other !== null) log(`  other processes used ${other.toFixed(2)} cores meanwhile`);
  return rows;
}

/** For run.mjs: the rows, from a fresh process. */
export async function transformerResultRows(log2 = () => {}) {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  return new Promise((resolve) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), '--json'], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (stderr) log2(stderr.trimEnd());
      if (err) {
        log2(`transformer bench failed: ${err.message}`);
        resolve([]);
      } else resolve(JSON.parse(stdout));
    });
  });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const rows = await transformerRows();
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows));
  else for (const r of rows) console.log(`${r.case}: ${r.simdgrad.toFixed(2)} ${r.unit}`);
}
