// The browser test page's code, bundled by esbuild the way an app would bundle simdgrad:
// `import 'simdgrad'` resolves through package.json's exports map (browser condition), and
// the wasm files are passed to init() as URLs next to the bundle, or as bytes.
// Query: ?wasm=url|bytes|default&build=simd|relaxed (default: let the library choose).
import * as sg from 'simdgrad';

const simdUrl = new URL('./simdgrad-simd.wasm', import.meta.url);
const relaxedUrl = new URL('./simdgrad-relaxed.wasm', import.meta.url);

async function bytes(url: URL): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

export interface SetupResult {
  build: string;
  wasm: string;
  relaxedValidates: boolean;
  crossOriginIsolated: boolean;
  userAgent: string;
}

async function setup(): Promise<SetupResult> {
  const q = new URLSearchParams(location.search);
  const wasm = q.get('wasm') ?? 'url';
  const forced = q.get('build');
  const opts: sg.InitOptions = {};
  if (forced === 'simd' || forced === 'relaxed') opts.build = forced;
  if (wasm === 'url') opts.wasm = { simd: simdUrl, relaxed: relaxedUrl };
  else if (wasm === 'bytes') opts.wasm = { simd: await bytes(simdUrl), relaxed: await bytes(relaxedUrl) };
  else if (wasm !== 'default') throw new Error(`unknown wasm mode ${wasm}`);
  await sg.init(opts);
  return {
    build: sg.build(),
    wasm,
    relaxedValidates: WebAssembly.validate(await bytes(relaxedUrl)),
    crossOriginIsolated: self.crossOriginIsolated === true,
    userAgent: navigator.userAgent,
  };
}

// ---- seeded data and plain-JS references ----------------------------------------------------

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 * 2 - 1; // [-1, 1)
  };
}
function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

export interface Comparison {
  name: string;
  maxError: number;
  /** max over elements of |got - ref| / (bound of that element); <= 1 passes. */
  worst: number;
  ok: boolean;
}

/** Compares with a per-element bound rel * scale[i] + abs (scale: sum of |terms| of each reference). */
function compare(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number> | null, rel: number, abs: number): Comparison {
  if (got.length !== ref.length) return { name, maxError: Infinity, worst: Infinity, ok: false };
  let maxError = 0;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - ref[i]);
    const bound = rel * (scale === null ? Math.abs(ref[i]) : scale[i]) + abs;
    maxError = Math.max(maxError, err);
    worst = Math.max(worst, err / bound);
  }
  return { name, maxError, worst, ok: worst <= 1 };
}

function matmulCheck(): Comparison[] {
  const M = 37, K = 53, N = 29;
  const a = randomArray(M * K, 1);
  const b = randomArray(K * N, 2);
  const ref = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0, m = 0;
    for (let k = 0; k < K; k++) { s += a[i * K + k] * b[k * N + j]; m += Math.abs(a[i * K + k] * b[k * N + j]); }
    ref[i * N + j] = s; mag[i * N + j] = m;
  }
  return sg.scope(() => {
    const A = sg.tensor(a, [M, K], { requiresGrad: true });
    const B = sg.tensor(b, [K, N]);
    const C = sg.matmul(A, B);
    const out = [compare('matmul 37x53 @ 53x29', C.data(), ref, mag, 1e-5, 1e-6)];
    // d sum(A B) / dA[i,k] = sum_j B[k,j]
    sg.sum(C).backward();
    const gref = new Float64Array(M * K);
    const gmag = new Float64Array(M * K);
    for (let k = 0; k < K; k++) {
      let s = 0, m = 0;
      for (let j = 0; j < N; j++) { s += b[k * N + j]; m += Math.abs(b[k * N + j]); }
      for (let i = 0; i < M; i++) { gref[i * K + k] = s; gmag[i * K + k] = m; }
    }
    out.push(compare('matmul backward dA', A.grad!.data(), gref, gmag, 1e-5, 1e-6));
    return out;
  });
}

function softmaxCheck(): Comparison {
  const R = 13, C = 101;
  const x = randomArray(R * C, 3, 30); // logits up to ±30: needs the max subtraction
  x[5] = 1e4; // one huge logit stays finite
  const ref = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, x[r * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[r * C + c] - mx);
    for (let c = 0; c < C; c++) ref[r * C + c] = Math.exp(x[r * C + c] - mx) / s;
  }
  return sg.scope(() => compare('softmax 13x101 (large logits)', sg.softmax(sg.tensor(x, [R, C]), -1).data(), ref, null, 2e-5, 1e-7));
}

function conv2dCheck(): Comparison {
  const [N, C, H, W] = [2, 3, 9, 11];
  const [O, kh, kw] = [4, 3, 3];
  const stride = 2, pad = 1;
  const x = randomArray(N * C * H * W, 4);
  const w = randomArray(O * C * kh * kw, 5, 0.5);
  const bias = randomArray(O, 6);
  const OH = Math.floor((H + 2 * pad - kh) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - kw) / stride) + 1;
  const ref = new Float64Array(N * O * OH * OW);
  const mag = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let s = bias[o], m = Math.abs(bias[o]);
    for (let c = 0; c < C; c++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const t = x[((n * C + c) * H + iy) * W + ix] * w[((o * C + c) * kh + ky) * kw + kx];
      s += t; m += Math.abs(t);
    }
    const i = ((n * O + o) * OH + oy) * OW + ox;
    ref[i] = s; mag[i] = m;
  }
  return sg.scope(() => {
    const y = sg.conv2d(sg.tensor(x, [N, C, H, W]), sg.tensor(w, [O, C, kh, kw]), sg.tensor(bias, [O]), { stride, padding: pad });
    const c = compare(`conv2d [2,3,9,11] * [4,3,3,3] stride 2 pad 1`, y.data(), ref, mag, 1e-5, 1e-6);
    if (y.shape.join() !== [N, O, OH, OW].join()) return { ...c, name: `${c.name}: shape ${y.shape}`, ok: false };
    return c;
  });
}

function kernels(): Comparison[] {
  return [...matmulCheck(), softmaxCheck(), conv2dCheck()];
}

export interface TrainResult {
  losses: number[];
  accuracy: number;
  tensorsAt50: number;
  tensorsAtEnd: number;
  ms: number;
}

/** A 2-16-16-3 MLP on three noisy blobs, full batch, Adam: the loss must fall. */
function trainMlp(steps = 150): TrainResult {
  const t0 = performance.now();
  sg.manualSeed(7);
  const n = 240;
  const r = lcg(11);
  const xs = new Float32Array(n * 2);
  const ys = new Int32Array(n);
  const centres = [[1.5, 0], [-1, 1.3], [-1, -1.3]];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    ys[i] = c;
    xs[2 * i] = centres[c][0] + 0.45 * r();
    xs[2 * i + 1] = centres[c][1] + 0.45 * r();
  }
  const model = new sg.nn.Sequential(
    new sg.nn.Linear(2, 16), new sg.nn.ReLU(), new sg.nn.Linear(16, 16), new sg.nn.Tanh(), new sg.nn.Linear(16, 3),
  );
  const opt = new sg.optim.Adam(model.parameters(), { lr: 0.02 });
  const x = sg.tensor(xs, [n, 2]);
  const y = sg.tensor(ys, [n], { dtype: 'int32' });
  const losses: number[] = [];
  let tensorsAt50 = 0;
  for (let s = 0; s < steps; s++) {
    const loss = sg.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
    if (s === 50) tensorsAt50 = sg.memory().tensors;
  }
  const tensorsAtEnd = sg.memory().tensors;
  const pred = sg.noGrad(() => sg.scope(() => Array.from(sg.argmax(model.forward(x), 1).data())));
  const accuracy = pred.filter((p, i) => p === ys[i]).length / n;
  return { losses, accuracy, tensorsAt50, tensorsAtEnd, ms: performance.now() - t0 };
}

/** GEMM speed in this browser (information only). */
function gemmSpeed(n = 256, reps = 8): { n: number; gflops: number } {
  return sg.scope(() => {
    const a = sg.randn([n, n]);
    const b = sg.randn([n, n]);
    sg.matmul(a, b).dispose();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) sg.matmul(a, b).dispose();
    const s = (performance.now() - t0) / 1000;
    return { n, gflops: (2 * n ** 3 * reps) / s / 1e9 };
  });
}

// ---- threads (test/browser/threads.test.ts) -------------------------------------------------

/** The thread-pool API, reached through a cast so this page also builds before it exists. */
interface ThreadsInfoLike { threads: number; cores: number; sharedMemory: boolean; workers: number; reason: string | null }
interface ThreadsApi {
  setThreads(n: number): void;
  getThreads(): number;
  threadsInfo(): ThreadsInfoLike;
  startThreads?(): Promise<ThreadsInfoLike>;
}

export interface ThreadsResult {
  hasApi: boolean;
  crossOriginIsolated: boolean;
  started: ThreadsInfoLike | null;
  after: ThreadsInfoLike | null;
  getThreads: number;
  /** Largest |threaded - one thread| over a big matmul and a big conv2d, relative to the values' scale. */
  maxRelDiff: number;
  ms: { threaded: number; single: number };
}

/** Asks for `n` threads, runs a large matmul and conv2d, and compares with one thread. */
async function threads(n: number): Promise<ThreadsResult> {
  const api = sg as unknown as Partial<ThreadsApi>;
  const crossOriginIsolated = self.crossOriginIsolated === true;
  if (typeof api.setThreads !== 'function' || typeof api.threadsInfo !== 'function' || typeof api.getThreads !== 'function') {
    return { hasApi: false, crossOriginIsolated, started: null, after: null, getThreads: 1, maxRelDiff: NaN, ms: { threaded: NaN, single: NaN } };
  }
  api.setThreads(n);
  const started = api.startThreads ? await api.startThreads() : api.threadsInfo();
  const a = randomArray(384 * 512, 21);
  const b = randomArray(512 * 256, 22);
  const x = randomArray(8 * 16 * 28 * 28, 23);
  const w = randomArray(32 * 16 * 3 * 3, 24, 0.3);
  const run = (): { values: Float32Array; ms: number } => sg.scope(() => {
    const t0 = performance.now();
    const m = sg.matmul(sg.tensor(a, [384, 512]), sg.tensor(b, [512, 256])).data() as Float32Array;
    const c = sg.conv2d(sg.tensor(x, [8, 16, 28, 28]), sg.tensor(w, [32, 16, 3, 3]), null, { padding: 1 }).data() as Float32Array;
    const values = new Float32Array(m.length + c.length);
    values.set(m);
    values.set(c, m.length);
    return { values, ms: performance.now() - t0 };
  });
  run(); // warm-up (and the first large call starts any worker not yet up)
  const threaded = run();
  const after = api.threadsInfo();
  const getThreads = api.getThreads();
  api.setThreads(1);
  const single = run();
  api.setThreads(n);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < single.values.length; i++) {
    scale = Math.max(scale, Math.abs(single.values[i]));
    diff = Math.max(diff, Math.abs(threaded.values[i] - single.values[i]));
  }
  return { hasApi: true, crossOriginIsolated, started, after, getThreads, maxRelDiff: diff / scale, ms: { threaded: threaded.ms, single: single.ms } };
}

const checks = { setup, kernels, trainMlp, gemmSpeed, threads, sg };
export type Checks = typeof checks;
(globalThis as unknown as { checks: Checks }).checks = checks;
