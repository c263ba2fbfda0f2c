// The demo page's main thread: starts the training worker, draws the live chart and the
// progress, and turns a drawn digit into a 28×28 MNIST-like image for the worker to classify.
// Options in the URL query: epochs, train, val, test, batch, steps (per epoch), lr, seed,
// threads (0 = one fewer than the cores) and autostart (0 to wait for the button), e.g. ?epochs=1&steps=30;
// tab=vae (or #vae) opens the VAE tab (demo/vae.ts, with its own options) instead.
import type { FromWorker, ToWorker, TrainConfig } from './protocol';
import { setupVaeTab } from './vae';
import { $, numberParam } from './page';


function readConfig(): TrainConfig {
  const q = new URLSearchParams(location.search);
  const num = (name: string, dflt: number, min: number, max: number): number => numberParam(q, name, dflt, min, max);
  return {
    epochs: Math.round(num('epochs', 3, 1, 100)),
    train: Math.round(num('train', 8000, 100, 9000)),
    val: Math.round(num('val', 1000, 100, 5000)),
    test: Math.round(num('test', 1000, 100, 5000)),
    batchSize: Math.round(num('batch', 64, 1, 1024)),
    steps: Math.round(num('steps', 0, 0, 1e6)),
    lr: num('lr', 2e-3, 1e-6, 1),
    seed: Math.round(num('seed', 1, 0, 2 ** 31)),
    threads: Math.round(num('threads', 0, 0, 64)),
  };
}

const config = readConfig();
const autostart = new URLSearchParams(location.search).get('autostart') !== '0';
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(msg, transfer);

// ---- state shown on the page (also read by the browser test through data attributes) --------

interface Point { step: number; value: number }
const lossPts: Point[] = [];
const accPts: Point[] = [];
const valPts: Point[] = [];
let totalSteps = 1;
let stepsDone = 0;
let epochsDone = 0;
let canPredict = false;
let emaLoss = NaN;
let emaAcc = NaN;
const trainStart = performance.now();

function setState(s: 'loading' | 'training' | 'done' | 'error'): void {
  document.body.dataset.state = s;
}

// ---- responsiveness: the longest gap between 50 ms timer ticks on this thread ------------------

let maxStall = 0;
let lastTick = performance.now();
let beat = false;
setInterval(() => {
  const now = performance.now();
  const stall = now - lastTick - 50;
  lastTick = now;
  if (document.body.dataset.state === 'training') maxStall = Math.max(maxStall, stall);
  beat = !beat;
  $('heartbeat').style.opacity = beat ? '1' : '0.35';
  document.body.dataset.maxStall = String(Math.round(maxStall));
  $('responsive').textContent = `main thread: responsive (longest stall while training ${Math.max(0, Math.round(maxStall))} ms)`;
}, 50);

// ---- the chart --------------------------------------------------------------------------------

let chartDirty = false;
function requestChart(): void {
  if (chartDirty) return;
  chartDirty = true;
  requestAnimationFrame(() => { chartDirty = false; drawChart(); });
}

function drawChart(): void {
  const cv = $<HTMLCanvasElement>('chart');
  const ctx = cv.getContext('2d')!;
  const W = cv.width;
  const H = cv.height;
  const pad = { l: 70, r: 70, t: 20, b: 50 };
  const pw = W - pad.l - pad.r;
  const ph = H - pad.t - pad.b;
  ctx.clearRect(0, 0, W, H);
  ctx.font = '22px system-ui, sans-serif';
  ctx.lineWidth = 1;
  const maxLoss = Math.max(1, ...lossPts.map((p) => p.value)) * 1.05;
  const x = (s: number): number => pad.l + (pw * s) / Math.max(1, totalSteps);
  const yLoss = (v: number): number => pad.t + ph * (1 - v / maxLoss);
  const yAcc = (v: number): number => pad.t + ph * (1 - v);
  // grid and axes
  ctx.strokeStyle = '#e9ecef';
  ctx.fillStyle = '#667085';
  for (let i = 0; i <= 4; i++) {
    const yy = pad.t + (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(pad.l, yy); ctx.lineTo(pad.l + pw, yy); ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), pad.l - 10, yy + 7);
    ctx.textAlign = 'left';
    ctx.fillText(`${Math.round(100 * (1 - i / 4))}%`, pad.l + pw + 10, yy + 7);
  }
  ctx.textAlign = 'center';
  ctx.fillText(`step (of ${totalSteps})`, pad.l + pw / 2, H - 12);
  const line = (pts: Point[], y: (v: number) => number, color: string, width: number, dots = false): void => {
    if (pts.length === 0) return;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    pts.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(p.value)) : ctx.lineTo(x(p.step), y(p.value))));
    ctx.stroke();
    if (dots) for (const p of pts) { ctx.beginPath(); ctx.arc(x(p.step), y(p.value), 6, 0, 2 * Math.PI); ctx.fill(); }
  };
  line(lossPts, yLoss, '#e8590c', 3);
  line(accPts, yAcc, '#1c7ed6', 3);
  line(valPts, yAcc, '#2b8a3e', 3, true);
}

// ---- messages from the worker -----------------------------------------------------------------

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'status':
      $('stats').textContent = m.text;
      break;
    case 'runtime':
      $('runtime').textContent = `wasm build: ${m.build} · threads: ${m.threads}${m.isolated ? ' (cross-origin isolated)' : ' (page not cross-origin isolated)'} · training in a Web Worker`;
      $('runtime').title = m.note ?? '';
      document.body.dataset.build = m.build;
      document.body.dataset.threads = String(m.threads);
      break;
    case 'data':
      totalSteps = m.totalSteps;
      $<HTMLProgressElement>('progress').max = m.totalSteps;
      $('stats').textContent = `${fmtInt(m.train)} training, ${fmtInt(m.val)} validation, ${fmtInt(m.test)} test digits · ${m.stepsPerEpoch} steps per epoch`;
      setState('training');
      break;
    case 'step': {
      stepsDone = m.step;
      canPredict = true;
      emaLoss = Number.isNaN(emaLoss) ? m.loss : 0.8 * emaLoss + 0.2 * m.loss;
      emaAcc = Number.isNaN(emaAcc) ? m.accuracy : 0.8 * emaAcc + 0.2 * m.accuracy;
      lossPts.push({ step: m.step, value: emaLoss });
      accPts.push({ step: m.step, value: emaAcc });
      $<HTMLProgressElement>('progress').value = m.step;
      const left = m.samplesPerSec > 0 ? ((m.totalSteps - m.step) * config.batchSize) / m.samplesPerSec : NaN;
      $('stats').textContent = `epoch ${m.epoch}/${config.epochs} · step ${m.step}/${m.totalSteps} · loss ${emaLoss.toFixed(3)} · ` +
        `${fmtInt(m.samplesPerSec)} samples/s${Number.isFinite(left) ? ` · about ${Math.ceil(left)} s left` : ''}`;
      document.body.dataset.step = String(m.step);
      requestChart();
      if (padDirty) requestPrediction();
      break;
    }
    case 'epoch':
      epochsDone = m.epoch;
      valPts.push({ step: m.step, value: m.valAccuracy });
      document.body.dataset.valAccuracy = m.valAccuracy.toFixed(4);
      document.body.dataset.epochs = String(epochsDone);
      requestChart();
      break;
    case 'done': {
      const secs = (performance.now() - trainStart) / 1000;
      $('stats').textContent = `${m.stopped ? 'stopped' : 'done'} after ${stepsDone} steps, ${epochsDone} epoch${epochsDone === 1 ? '' : 's'} ` +
        `(${secs.toFixed(1)} s) · test accuracy ${(100 * m.testAccuracy).toFixed(2)}%`;
      $<HTMLProgressElement>('progress').value = $<HTMLProgressElement>('progress').max;
      document.body.dataset.testAccuracy = m.testAccuracy.toFixed(4);
      setState('done');
      ($('stop') as HTMLButtonElement).disabled = true;
      ($('restart') as HTMLButtonElement).disabled = false;
      $('padhint').textContent = 'Draw a digit with the mouse (or a finger): the network predicts it as you draw.';
      canPredict = true;
      if (padDirty) requestPrediction();
      break;
    }
    case 'prediction':
      showPrediction(m.id, m.probs);
      break;
    case 'error':
      $('error').textContent = m.message;
      setState('error');
      break;
  }
};
worker.onerror = (e) => {
  $('error').textContent = `worker error: ${e.message}`;
  setState('error');
};

$('stop').addEventListener('click', () => send({ type: 'stop' }));
let started = false;
function start(): void {
  started = true;
  ($('restart') as HTMLButtonElement).disabled = true;
  send({ type: 'train', config });
}
$('restart').addEventListener('click', () => {
  if (started) location.reload(); // a fresh worker and model
  else start();
});

// ---- the drawing pad --------------------------------------------------------------------------

const pad = $<HTMLCanvasElement>('pad');
const pctx = pad.getContext('2d', { willReadFrequently: true })!;
function clearPad(): void {
  pctx.fillStyle = '#000';
  pctx.fillRect(0, 0, pad.width, pad.height);
  padDirty = false;
  $('prediction').textContent = '';
  $('confidence').textContent = '';
  document.body.dataset.prediction = '';
  renderBars(null);
  const prev = $<HTMLCanvasElement>('preview').getContext('2d')!;
  prev.fillStyle = '#000';
  prev.fillRect(0, 0, 28, 28);
}
let padDirty = false;
let drawing = false;
let last: { x: number; y: number } | null = null;

function padPoint(e: PointerEvent): { x: number; y: number } {
  const r = pad.getBoundingClientRect();
  return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height };
}
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  last = padPoint(e);
  stroke(last, last);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || last === null) return;
  const p = padPoint(e);
  stroke(last, p);
  last = p;
  requestPrediction();
});
const endStroke = (): void => {
  if (!drawing) return;
  drawing = false;
  last = null;
  requestPrediction();
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('clear').addEventListener('click', clearPad);

function stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
  pctx.strokeStyle = '#fff';
  pctx.lineWidth = 22;
  pctx.lineCap = 'round';
  pctx.lineJoin = 'round';
  pctx.beginPath();
  pctx.moveTo(a.x, a.y);
  pctx.lineTo(b.x, b.y);
  pctx.stroke();
  padDirty = true;
}

/**
 * MNIST-style preprocessing: crop the ink's bounding box, scale it to fit 20×20 keeping its
 * aspect ratio, put it in a 28×28 image and shift that so the centre of mass is at the centre.
 */
function digitPixels(): Float32Array | null {
  const { width: w, height: h } = pad;
  const img = pctx.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (img[(y * w + x) * 4] > 25) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const sctx = small.getContext('2d', { willReadFrequently: true })!;
  sctx.fillStyle = '#000';
  sctx.fillRect(0, 0, 28, 28);
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(pad, x0, y0, bw, bh, (28 - bw * s) / 2, (28 - bh * s) / 2, bw * s, bh * s);
  const px = sctx.getImageData(0, 0, 28, 28).data;
  const g = new Float32Array(784);
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < 784; i++) {
    const v = px[i * 4] / 255;
    g[i] = v;
    mass += v;
    mx += v * (i % 28);
    my += v * Math.floor(i / 28);
  }
  const dx = Math.round(13.5 - mx / mass);
  const dy = Math.round(13.5 - my / mass);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = g[sy * 28 + sx];
    }
  }
  // What the network sees, enlarged by CSS.
  const prev = $<HTMLCanvasElement>('preview').getContext('2d')!;
  const pimg = prev.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(out[i] * 255);
    pimg.data.set([v, v, v, 255], i * 4);
  }
  prev.putImageData(pimg, 0, 0);
  return out;
}

let predictionId = 0;
let inFlight = false;
let pendingRequest = false;
function requestPrediction(): void {
  if (!canPredict) return;
  if (inFlight) { pendingRequest = true; return; }
  const pixels = digitPixels();
  if (pixels === null) return;
  inFlight = true;
  send({ type: 'predict', id: ++predictionId, pixels }, [pixels.buffer]);
}

function showPrediction(id: number, probs: number[]): void {
  inFlight = false;
  if (pendingRequest) { pendingRequest = false; requestPrediction(); }
  if (id !== predictionId || !padDirty) return;
  let best = 0;
  for (let c = 1; c < 10; c++) if (probs[c] > probs[best]) best = c;
  $('prediction').textContent = String(best);
  $('confidence').textContent = `${(100 * probs[best]).toFixed(1)}% sure`;
  document.body.dataset.prediction = String(best);
  document.body.dataset.probs = probs.map((p) => p.toFixed(5)).join(',');
  renderBars(probs);
}

function renderBars(probs: number[] | null): void {
  const box = $('bars');
  if (box.childElementCount === 0) {
    for (let c = 0; c < 10; c++) {
      const row = document.createElement('div');
      row.className = 'bar';
      row.innerHTML = `<span>${c}</span><span class="track"><span class="fill" style="display:block"></span></span><span class="pct"></span>`;
      box.appendChild(row);
    }
  }
  let best = -1;
  if (probs !== null) best = probs.indexOf(Math.max(...probs));
  Array.from(box.children).forEach((row, c) => {
    const p = probs === null ? 0 : probs[c];
    (row as HTMLElement).classList.toggle('top', c === best);
    (row.querySelector('.fill') as HTMLElement).style.width = `${(100 * p).toFixed(1)}%`;
    (row.querySelector('.pct') as HTMLElement).textContent = probs === null ? '' : `${(100 * p).toFixed(1)}%`;
  });
}

// ---- tabs: each starts training the first time it is shown, so the two never share the cores
// unless the user asks for both -----------------------------------------------------------------

const vaeTab = setupVaeTab();
function showTab(name: 'cnn' | 'vae'): void {
  for (const t of ['cnn', 'vae'] as const) {
    $(`tab-${t}`).hidden = t !== name;
    $(`tablink-${t}`).setAttribute('aria-selected', String(t === name));
  }
  document.body.dataset.tab = name;
  if (name === 'vae') vaeTab.activate();
  else if (autostart && !started) start();
}
const requestedTab = (): 'cnn' | 'vae' =>
  location.hash === '#vae' || (location.hash === '' && new URLSearchParams(location.search).get('tab') === 'vae') ? 'vae' : 'cnn';
window.addEventListener('hashchange', () => showTab(requestedTab()));

clearPad();
drawChart();
if (!autostart) {
  ($('restart') as HTMLButtonElement).disabled = false;
  ($('restart') as HTMLButtonElement).textContent = 'Train';
  $('stats').textContent = 'press Train to start';
}
showTab(requestedTab());
