// The VAE tab's Web Worker: trains a dense VAE (784-256-16, Bernoulli pixels) on the MNIST
// digits and decodes latent codes the page sends, between training steps and after it.
import * as sg from 'simdgrad';
import { PIXELS, fetchDigits } from '../examples/mnist-data.mjs';
import type { FromVaeWorker, ToVaeWorker, VaeConfig } from './protocol';
import { loadRuntime } from './runtime';

// The DOM lib types `self` as a Window; in this worker postMessage takes a transfer list.
const workerScope = self as unknown as { postMessage(msg: unknown, transfer: Transferable[]): void };
function post(msg: FromVaeWorker, transfer: Transferable[] = []): void {
  workerScope.postMessage(msg, transfer);
}

let vae: sg.generative.Vae | null = null;
let latent = 16;
let training = false;
let stopRequested = false;

function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Fisher–Yates on [0, n) with the library's seeded generator, so runs are reproducible. */
function permutation(n: number): Int32Array {
  const u = sg.noGrad(() => sg.scope(() => Array.from(sg.rand([n]).data())));
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/** Spread of μ over the digits per coordinate, and the coordinates sorted by it. */
function latentActivity(model: sg.generative.Vae, x: Float32Array, n: number): { active: number[]; activity: number[] } {
  const mu = sg.noGrad(() => sg.scope(() => Array.from(model.encode(sg.tensor(x.subarray(0, n * PIXELS), [n, PIXELS])).mu.data())));
  const activity: number[] = [];
  for (let k = 0; k < latent; k++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = mu[i * latent + k]; s += v; s2 += v * v; }
    activity.push(Math.max(0, s2 / n - (s / n) ** 2));
  }
  const active = activity.map((_, k) => k).sort((a, b) => activity[b] - activity[a]);
  return { active, activity };
}

async function train(cfg: VaeConfig): Promise<void> {
  training = true;
  stopRequested = false;
  const t0 = performance.now();
  const info = await loadRuntime(cfg.threads, (text) => post({ type: 'status', text }));
  post({ type: 'runtime', ...info });
  post({ type: 'status', text: 'loading the MNIST digits…' });
  const { x } = await fetchDigits(new URL('../mnist/', import.meta.url));
  const n = x.length / PIXELS;
  sg.manualSeed(cfg.seed);
  latent = cfg.latent;
  const model = sg.generative.denseVae(PIXELS, cfg.latent, { hidden: [cfg.hidden] });
  vae = model;
  const opt = new sg.optim.Adam(model.parameters(), { lr: cfg.lr });
  post({ type: 'data', digits: n, latent: cfg.latent, steps: cfg.steps, seconds: cfg.seconds });

  const B = cfg.batchSize;
  const batch = new Float32Array(B * PIXELS);
  let order = permutation(n);
  let cursor = 0;
  let step = 0;
  const trainStart = performance.now();
  let lastYield = trainStart;
  let lastPost = 0;
  const more = (): boolean => !stopRequested &&
    (cfg.steps > 0 ? step < cfg.steps : performance.now() - trainStart < cfg.seconds * 1000);
  while (more()) {
    if (cursor + B > n) { order = permutation(n); cursor = 0; }
    for (let i = 0; i < B; i++) batch.set(x.subarray(order[cursor + i] * PIXELS, (order[cursor + i] + 1) * PIXELS), i * PIXELS);
    cursor += B;
    const out = model.loss(sg.tensor(batch, [B, PIXELS]));
    opt.zeroGrad();
    out.loss.backward();
    opt.step();
    step++;
    const now = performance.now();
    // The first step, the last, and about 12 a second between: enough for a smooth curve.
    if (step === 1 || now - lastPost > 80 || !more()) {
      const elapsed = (now - trainStart) / 1000;
      post({
        type: 'step', step, loss: out.loss.item(), reconstruction: out.reconstruction.item(), kl: out.kl.item(),
        elapsed, samplesPerSec: elapsed > 0 ? (step * B) / elapsed : 0,
      });
      lastPost = now;
    }
    if (now - lastYield > 40) {
      await yieldToEvents(); // decode and stop messages are answered here
      lastYield = performance.now();
    }
  }
  sg.releaseGraphs();
  const { active, activity } = latentActivity(model, x, Math.min(n, 1000));
  post({ type: 'done', step, seconds: (performance.now() - t0) / 1000, stopped: stopRequested, active, activity });
  training = false;
}

function decode(id: number, count: number, z: Float32Array): void {
  if (vae === null || z.length !== count * latent) return;
  const model = vae;
  const pixels = sg.noGrad(() => sg.scope(() => Float32Array.from(model.decode(sg.tensor(z, [count, latent])).data())));
  post({ type: 'decoded', id, n: count, pixels }, [pixels.buffer]);
}

self.onmessage = (e: MessageEvent<ToVaeWorker>) => {
  const msg = e.data;
  try {
    if (msg.type === 'train') {
      if (training) return;
      train(msg.config).catch((err: unknown) => {
        training = false;
        post({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
      });
    } else if (msg.type === 'decode') {
      decode(msg.id, msg.n, msg.z);
    } else if (msg.type === 'stop') {
      stopRequested = true;
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
