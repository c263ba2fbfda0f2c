// Transformer throughput: `node bench/transformer.mjs` (after
// `npm run build:if-stale`; `--json` prints the rows as JSON; run.mjs uses that).
//   - attention forward + backward (scaledDotProductAttention, causal, batch 4 × 4 heads ×
//     D_k 32) in GFLOP/s at T = 128 and T = 512, counting 2·T²·(D_k + D_v) per head forward
//     (with the causal mask the kernels still form the full T×T products) and twice that backward;
//   - one training step of a small GPT (4 layers, 4 heads, d = 128, T = 128, batch 16, vocab
//     1,000, AdamW) in tokens/s, against TF.js (below);
//   - greedy generation of 256 tokens with the KV cache against re-reading the prefix, ms.
//   The GPT step is also timed in TF.js 4.22 on its wasm and cpu backends. tfjs-layers 4.x has
//   a MultiHeadAttention class in its sources (dist/layers/nlp) but does not export it, and no
//   transformer layer at all, so the same model is written with tfjs-core ops: matMul (batched
//   for the heads), softmax, layer norm through moments, the tanh GELU, an additive causal
//   mask, and tf.train.adam.minimize. Differences, all small against the GEMMs: TF.js' token
//   embedding is a constant lookup (its wasm backend has no kernel for the gather's gradient,
//   see bench/lstm.mjs) and its Adam has no weight decay. Each library runs in its own process,
//   driven round by round as in bench/lstm.mjs: simdgrad with 1 and 2 threads, TF.js wasm
//   (one thread in Node); TF.js cpu took over 3 minutes per step here and is left out. Medians
//   and interquartile spreads over all samples.
// BENCH_ROUNDS sets the rounds (default 3); the median per-call time over rounds is reported.
import { cpuSnapshot, otherCores } from './machine.mjs';
import { freshProcessRows, loadSimdgrad, loadTfjs, log, main, runWorkers, sig } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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

/** A results.json row in the shape of the other benches' (simdgrad only). */
function row(name, unit, value) {
  return { case: name, unit, simdgrad: value, 'tfjs-wasm': null, 'tfjs-cpu': null, note: 'simdgrad only: not timed in TF.js (see the GPT step rows for the comparison)' };
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
  rows.splice(2, 0, ...(await gptStepRows()));
  return rows;
}

// ---- the GPT training step, simdgrad against TF.js (tfjs-core ops), one process per library ----
const [GL, GH, GD, GT, GN, GV] = [4, 4, 128, 128, 16, 1000];
const GPT_TOKENS = GN * GT;
const GPT_CASE = `GPT train step: ${GL} layers, ${GH} heads, d ${GD}, T ${GT}, batch ${GN}, vocab ${GV}, pre-LN, GELU, causal`;

/** Token ids and next-token targets, fixed (the speed of the arithmetic does not depend on them). */
function gptBatch() {
  const ids = new Int32Array(GPT_TOKENS).map((_, i) => (i * 7919) % GV);
  const tgt = new Int32Array(GPT_TOKENS).map((_, i) => (i * 104729 + 3) % GV);
  return { ids, tgt };
}

function simdgradGptStep(sg) {
  sg.manualSeed(2);
  const embed = new sg.nn.Embedding(GV, GD);
  const pos = new sg.nn.SinusoidalPositionalEncoding(GD);
  const blocks = new sg.nn.TransformerEncoder(GD, GH, { numLayers: GL, dropout: 0, activation: 'gelu', norm: 'pre' });
  const head = new sg.nn.Linear(GD, GV);
  const params = [...embed.parameters(), ...blocks.parameters(), ...head.parameters()];
  const opt = new sg.optim.AdamW(params, { lr: 1e-3 });
  const { ids, tgt } = gptBatch();
  return () => {
    const x = sg.tensor(ids, [GN, GT]);
    const y = sg.tensor(tgt, [GPT_TOKENS]);
    const logits = head.forward(blocks.forward(pos.forward(embed.forward(x)), { causal: true }));
    const loss = sg.crossEntropy(sg.reshape(logits, [GPT_TOKENS, GV]), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    const v = loss.item();
    sg.dispose(x, y);
    return v;
  };
}

function tfjsGptStep(tf) {
  const Dk = GD / GH;
  let seed = 1;
  const w = (shape, std) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed++));
  const zeros = (shape) => tf.variable(tf.zeros(shape));
  const ones = (shape) => tf.variable(tf.ones(shape));
  const lin = (i, o) => ({ w: w([i, o], 1 / Math.sqrt(i)), b: zeros([o]) });
  const layers = Array.from({ length: GL }, () => ({
    ln1: { g: ones([GD]), b: zeros([GD]) }, q: lin(GD, GD), k: lin(GD, GD), v: lin(GD, GD), o: lin(GD, GD),
    ln2: { g: ones([GD]), b: zeros([GD]) }, fc1: lin(GD, 4 * GD), fc2: lin(4 * GD, GD),
  }));
  const lnF = { g: ones([GD]), b: zeros([GD]) };
  const out = lin(GD, GV);
  const table = tf.randomNormal([GV, GD], 0, 1, 'float32', seed++);
  const posEnc = tf.tensor2d(Float32Array.from({ length: GT * GD }, (_, j) => {
    const [n, c] = [Math.floor(j / GD), j % GD];
    const i = Math.floor(c / 2) + 1;
    const a = n * Math.pow(10000, (-2 * i) / GD);
    return c % 2 === 0 ? Math.sin(a) : Math.cos(a);
  }), [GT, GD]);
  const causal = tf.tensor2d(Float32Array.from({ length: GT * GT }, (_, j) => (j % GT > Math.floor(j / GT) ? -1e9 : 0)), [GT, GT]);
  const { ids, tgt } = gptBatch();
  const idsT = tf.tensor1d(ids, 'int32');
  const ys = tf.oneHot(tf.tensor1d(tgt, 'int32'), GV);
  const layerNorm = (x, p) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), p.g), p.b);
  };
  const dense = (x, p) => tf.add(tf.matMul(x, p.w), p.b);
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
  const heads = (x) => tf.transpose(tf.reshape(x, [GN, GT, GH, Dk]), [0, 2, 1, 3]);
  const opt = tf.train.adam(1e-3);
  return () => {
    const cost = tf.tidy(() => opt.minimize(() => {
      let x = tf.reshape(tf.add(tf.reshape(tf.gather(table, idsT), [GN, GT, GD]), posEnc), [GPT_TOKENS, GD]);
      for (const p of layers) {
        const h = layerNorm(x, p.ln1);
        const s = tf.add(tf.div(tf.matMul(heads(dense(h, p.q)), heads(dense(h, p.k)), false, true), Math.sqrt(Dk)), causal);
        const y = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), heads(dense(h, p.v))), [0, 2, 1, 3]), [GPT_TOKENS, GD]);
        x = tf.add(x, dense(y, p.o));
        x = tf.add(x, dense(gelu(dense(layerNorm(x, p.ln2), p.fc1)), p.fc2));
      }
      return tf.losses.softmaxCrossEntropy(ys, dense(layerNorm(x, lnF), out));
    }, true));
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  };
}

async function setup(lib, threads) {
  const { step, info } = lib === 'simdgrad'
    ? await loadSimdgrad(threads).then(({ sg, info }) => ({ step: simdgradGptStep(sg), info }))
    // tfjs-core alone registers no gradient functions; loading tfjs-layers registers them.
    : await loadTfjs(lib === 'tfjs-wasm' ? 'wasm' : 'cpu', { layers: true }).then(({ tf, info }) => ({ step: tfjsGptStep(tf), info }));
  // One untimed step first; its loss goes in the note.
  const firstLoss = step();
  return { info, cases: { step: { label: GPT_CASE, fn: step, work: GPT_TOKENS } }, extra: { firstLoss } };
}

// TF.js' cpu backend took more than 3 minutes for one step of this model here, which no round
// budget fits: it is left out of the GPT step (the rows say so).
const GPT_LIBS = [['simdgrad', 1], ['simdgrad', 2], ['tfjs-wasm', 1]];

async function gptStepRows() {
  const { results: answers, busy } = await runWorkers(import.meta.url, 'GPT step', ROUNDS, GPT_LIBS);
  const results = answers.map((a) => ({ lib: a.lib, threads: a.threads, info: a.info, result: a.results.step ?? null, error: a.errors.all ?? a.errors.step ?? null, firstLoss: a.extra?.firstLoss }));
  const wasm = results.find((x) => x.lib === 'tfjs-wasm')?.result ?? null;
  const losses = results.map((x) => `${x.lib}${x.lib === 'simdgrad' ? ` ${x.threads}t` : ''} ${sig(x.firstLoss, 4)}`).join(', ');
  const rows = results.filter((x) => x.lib === 'simdgrad').map((x) => ({
    case: GPT_CASE, unit: 'tokens/s',
    simdgrad: sig(x.result?.value),
    'tfjs-wasm': sig(wasm?.value), 'tfjs-cpu': null,
    ratio_vs_wasm: x.result && wasm ? sig(x.result.value / wasm.value, 3) : null,
    ratio_vs_cpu: null,
    spread: sig(x.result?.spread, 2),
    spread_peers: { 'tfjs-wasm': sig(wasm?.spread, 2), 'tfjs-cpu': null },
    samples: { simdgrad: x.result?.samples ?? 0, 'tfjs-wasm': wasm?.samples ?? 0, 'tfjs-cpu': 0 },
    build: x.info?.build ?? null, threads: x.threads,
    note: [
      `${GPT_TOKENS} tokens per step; first-step losses: ${losses} (ln ${GV} = ${Math.log(GV).toFixed(3)})`,
      'simdgrad: nn.Embedding, SinusoidalPositionalEncoding, TransformerEncoder (pre-LN, GELU, causal), Linear, crossEntropy, AdamW',
      'TF.js: tfjs-core ops (tfjs-layers 4.x exports no attention layer), constant embedding lookup, tf.train.adam.minimize',
      'TF.js cpu not timed: one step took over 3 minutes here',
      x.threads > 1 ? `simdgrad: setThreads(${x.threads}); TF.js: one thread` : null,
      `other processes' cores per round: ${busy.join(', ') || 'n/a'}`,
      ...results.filter((p) => p.error).map((p) => `${p.lib} failed: ${p.error}`),
      'bench/transformer.mjs',
    ].filter(Boolean).join(' | '),
  }));
  for (const r of rows) {
    log(`  GPT step, simdgrad ${r.threads} thread(s): ${r.simdgrad} tokens/s (IQR ${r.spread} %) | TF.js wasm ${r['tfjs-wasm']} (${r.spread_peers['tfjs-wasm']} %) -> ${r.ratio_vs_wasm}x`);
  }
  return rows;
}

/** For run.mjs: the rows, from a fresh process. */
export function transformerResultRows(progress = () => {}) {
  return freshProcessRows(import.meta.url, 'transformer', progress);
}

function printRows({ rows }) {
  for (const r of rows) console.log(`${r.case}${r.threads ? ` [${r.threads} thread(s)]` : ''}: ${r.simdgrad?.toFixed(2)} ${r.unit}${r.ratio_vs_wasm ? ` (x${r.ratio_vs_wasm} TF.js wasm)` : ''}`);
}

await main(import.meta.url, { setup, roundMs: 1000, bench: async () => ({ rows: await transformerRows() }), print: printRows });
