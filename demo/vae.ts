// The VAE tab: starts its own worker (demo/vae-worker.ts) the first time the tab is shown,
// charts the loss (−ELBO with its reconstruction and KL terms), then draws digits decoded from
// codes z ~ N(0, I): a 10×10 grid redrawn every second, and one digit under a 2-D slider over
// the two latent coordinates the trained encoder uses most.
// URL options: vaeSteps (0: train for vaeSeconds), vaeSeconds, vaeBatch, vaeLatent, vaeHidden,
// vaeLr, seed, threads; e.g. ?tab=vae&vaeSteps=50 for a short run.
import type { FromVaeWorker, ToVaeWorker, VaeConfig } from './protocol';
import { $, numberParam } from './page';

const GRID = 10;
const SPAN = 3; // the slider covers z ∈ [−3, 3] on both axes: nearly all of N(0, 1)

function readVaeConfig(): VaeConfig {
  const q = new URLSearchParams(location.search);
  const num = (name: string, dflt: number, min: number, max: number): number => numberParam(q, name, dflt, min, max);
  return {
    steps: Math.round(num('vaeSteps', 0, 0, 1e6)),
    seconds: num('vaeSeconds', 30, 1, 3600),
    batchSize: Math.round(num('vaeBatch', 100, 1, 1024)),
    latent: Math.round(num('vaeLatent', 16, 2, 256)),
    hidden: Math.round(num('vaeHidden', 256, 8, 2048)),
    lr: num('vaeLr', 1e-3, 1e-6, 1),
    seed: Math.round(num('seed', 1, 0, 2 ** 31)),
    threads: Math.round(num('threads', 0, 0, 64)),
  };
}

/** A small seeded generator for the codes the page asks for (mulberry32 + Box–Muller). */
function gaussians(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function setupVaeTab(): { activate(): void } {
  const config = readVaeConfig();
  const root = $('tab-vae');
  const data = root.dataset;
  data.state = 'idle';
  const L = config.latent;
  const normal = gaussians(config.seed + 7);
  const freshCodes = (n: number): Float32Array => Float32Array.from({ length: n * L }, normal);
  let worker: Worker | null = null;
  const send = (msg: ToVaeWorker, transfer: Transferable[] = []): void => worker?.postMessage(msg, transfer);

  // ---- the loss chart ---------------------------------------------------------------------------
  interface Pt { step: number; loss: number; rec: number; kl: number }
  const pts: Pt[] = [];
  let ema: Pt | null = null;
  let chartQueued = false;
  function drawChart(): void {
    chartQueued = false;
    const cv = $<HTMLCanvasElement>('vae-chart');
    const ctx = cv.getContext('2d')!;
    const W = cv.width, H = cv.height;
    const pad = { l: 80, r: 24, t: 20, b: 50 };
    const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
    ctx.clearRect(0, 0, W, H);
    ctx.font = '22px system-ui, sans-serif';
    const maxY = Math.max(50, ...pts.map((p) => p.loss)) * 1.05;
    const maxX = Math.max(config.steps, pts.length ? pts[pts.length - 1].step : 1, 1);
    const x = (s: number): number => pad.l + (pw * s) / maxX;
    const y = (v: number): number => pad.t + ph * (1 - v / maxY);
    ctx.strokeStyle = '#e9ecef';
    ctx.fillStyle = '#667085';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const yy = pad.t + (ph * i) / 4;
      ctx.beginPath(); ctx.moveTo(pad.l, yy); ctx.lineTo(pad.l + pw, yy); ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText((maxY * (1 - i / 4)).toFixed(0), pad.l - 10, yy + 7);
    }
    ctx.textAlign = 'center';
    ctx.fillText(`step (of ${config.steps > 0 ? config.steps : `${config.seconds} s`}) · nats per digit`, pad.l + pw / 2, H - 12);
    const line = (key: 'loss' | 'rec' | 'kl', color: string): void => {
      if (pts.length === 0) return;
      ctx.strokeStyle = color;
      ctx.lineWidth = 3;
      ctx.beginPath();
      pts.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(p[key])) : ctx.lineTo(x(p.step), y(p[key]))));
      ctx.stroke();
    };
    line('loss', '#e8590c');
    line('rec', '#1c7ed6');
    line('kl', '#2b8a3e');
  }
  const requestChart = (): void => {
    if (!chartQueued) { chartQueued = true; requestAnimationFrame(drawChart); }
  };

  // ---- decoded digits ---------------------------------------------------------------------------
  let gridZ = freshCodes(GRID * GRID);
  let base = new Float32Array(L); // the slider's other coordinates: the origin, or a clicked sample
  let axes = [0, 1];
  let slider = { a: 0, b: 0 };
  let trained = false;
  let paused = false;
  let nextId = 0;
  let gridPending = -1;
  let oneInFlight = -1;
  let oneQueued = false;
  let gridsDrawn = 0;

  function paint(canvas: HTMLCanvasElement, pixels: Float32Array, n: number, cols: number): void {
    const rows = Math.ceil(n / cols);
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(cols * 28, rows * 28);
    for (let k = 0; k < n; k++) {
      const ox = (k % cols) * 28, oy = Math.floor(k / cols) * 28;
      for (let i = 0; i < 784; i++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, pixels[k * 784 + i])));
        const o = ((oy + Math.floor(i / 28)) * cols * 28 + ox + (i % 28)) * 4;
        img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  function requestGrid(): void {
    if (worker === null || gridPending >= 0 || data.step === undefined) return;
    // While it trains the codes stay fixed, so the same digits sharpen; afterwards each
    // second brings new ones.
    if (trained && !paused) gridZ = freshCodes(GRID * GRID);
    gridPending = ++nextId;
    const z = gridZ.slice();
    send({ type: 'decode', id: gridPending, n: GRID * GRID, z }, [z.buffer]);
  }

  function requestOne(): void {
    if (worker === null || data.step === undefined) return;
    if (oneInFlight >= 0) { oneQueued = true; return; }
    const z = base.slice();
    z[axes[0]] = slider.a;
    z[axes[1]] = slider.b;
    oneInFlight = ++nextId;
    send({ type: 'decode', id: oneInFlight, n: 1, z }, [z.buffer]);
  }

  function drawSliderPad(): void {
    const cv = $<HTMLCanvasElement>('vae-pad');
    const ctx = cv.getContext('2d')!;
    const W = cv.width, H = cv.height;
    ctx.fillStyle = '#f8f9fa';
    ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = '#dee2e6';
    ctx.lineWidth = 1;
    for (let v = -SPAN; v <= SPAN; v++) {
      const px = ((v + SPAN) / (2 * SPAN)) * W, py = ((SPAN - v) / (2 * SPAN)) * H;
      ctx.beginPath(); ctx.moveTo(px, 0); ctx.lineTo(px, H); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, py); ctx.lineTo(W, py); ctx.stroke();
    }
    ctx.fillStyle = '#1c7ed6';
    ctx.beginPath();
    ctx.arc(((slider.a + SPAN) / (2 * SPAN)) * W, ((SPAN - slider.b) / (2 * SPAN)) * H, 8, 0, 2 * Math.PI);
    ctx.fill();
    $('vae-coords').textContent = `z[${axes[0]}] = ${slider.a.toFixed(2)}, z[${axes[1]}] = ${slider.b.toFixed(2)}`;
  }

  function onDecoded(id: number, n: number, pixels: Float32Array): void {
    if (id === gridPending) {
      gridPending = -1;
      paint($<HTMLCanvasElement>('vae-grid'), pixels, n, GRID);
      let lo = Infinity, hi = -Infinity, sum = 0;
      for (const v of pixels) { if (v < lo) lo = v; if (v > hi) hi = v; sum += v; }
      gridsDrawn++;
      data.grids = String(gridsDrawn);
      data.sampleMin = lo.toFixed(5);
      data.sampleMax = hi.toFixed(5);
      data.sampleMean = (sum / pixels.length).toFixed(5);
    } else if (id === oneInFlight) {
      oneInFlight = -1;
      paint($<HTMLCanvasElement>('vae-one'), pixels, 1, 1);
      data.sliderDraws = String(Number(data.sliderDraws ?? 0) + 1);
      if (oneQueued) { oneQueued = false; requestOne(); }
    }
  }

  // ---- messages from the worker -----------------------------------------------------------------
  function onMessage(m: FromVaeWorker): void {
    switch (m.type) {
      case 'status':
        $('vae-stats').textContent = m.text;
        break;
      case 'runtime':
        $('vae-runtime').textContent = `wasm build: ${m.build} · threads: ${m.threads} · training in its own Web Worker`;
        $('vae-runtime').title = m.note ?? '';
        break;
      case 'data':
        $<HTMLProgressElement>('vae-progress').max = m.steps > 0 ? m.steps : m.seconds;
        $('vae-title').textContent = `Training a variational autoencoder (784-${config.hidden}-${m.latent})`;
        $('vae-stats').textContent = `${m.digits.toLocaleString('en-US')} digits · ${m.latent} latent coordinates`;
        data.state = 'training';
        break;
      case 'step': {
        const first = data.step === undefined;
        ema = ema === null ? { step: m.step, loss: m.loss, rec: m.reconstruction, kl: m.kl }
          : { step: m.step, loss: 0.8 * ema.loss + 0.2 * m.loss, rec: 0.8 * ema.rec + 0.2 * m.reconstruction, kl: 0.8 * ema.kl + 0.2 * m.kl };
        pts.push(ema);
        if (first) data.lossFirst = m.loss.toFixed(3);
        data.step = String(m.step);
        data.loss = m.loss.toFixed(3);
        $<HTMLProgressElement>('vae-progress').value = config.steps > 0 ? m.step : m.elapsed;
        $('vae-stats').textContent = `step ${m.step} · loss ${ema.loss.toFixed(1)} = reconstruction ${ema.rec.toFixed(1)} + KL ${ema.kl.toFixed(1)} nats · ` +
          `${Math.round(m.samplesPerSec).toLocaleString('en-US')} digits/s`;
        requestChart();
        if (first) { requestGrid(); requestOne(); }
        break;
      }
      case 'done': {
        trained = true;
        axes = m.active.slice(0, 2);
        const used = m.activity.filter((v) => v > 0.01).length;
        $('vae-stats').textContent = `${m.stopped ? 'stopped' : 'done'} after ${m.step} steps (${m.seconds.toFixed(1)} s) · loss ${ema?.loss.toFixed(1) ?? '?'} nats · ` +
          `the encoder uses ${used} of ${L} latent coordinates`;
        $('vae-slider-hint').textContent = `Drag to move z[${axes[0]}] and z[${axes[1]}], the two coordinates the encoder uses most; ` +
          'the others stay at 0, or at a sample you click in the grid.';
        $<HTMLProgressElement>('vae-progress').value = $<HTMLProgressElement>('vae-progress').max;
        $<HTMLButtonElement>('vae-stop').disabled = true;
        $<HTMLButtonElement>('vae-pause').disabled = false;
        data.axes = axes.join(',');
        data.state = 'done';
        drawSliderPad();
        requestOne();
        break;
      }
      case 'decoded':
        onDecoded(m.id, m.n, m.pixels);
        break;
      case 'error':
        $('vae-error').textContent = m.message;
        data.state = 'error';
        break;
    }
  }

  // ---- input ------------------------------------------------------------------------------------
  const sliderPad = $<HTMLCanvasElement>('vae-pad');
  let dragging = false;
  const moveSlider = (e: PointerEvent): void => {
    const r = sliderPad.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const fy = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
    slider = { a: (2 * fx - 1) * SPAN, b: (1 - 2 * fy) * SPAN };
    drawSliderPad();
    requestOne();
  };
  sliderPad.addEventListener('pointerdown', (e) => { dragging = true; sliderPad.setPointerCapture(e.pointerId); moveSlider(e); });
  sliderPad.addEventListener('pointermove', (e) => { if (dragging) moveSlider(e); });
  sliderPad.addEventListener('pointerup', () => { dragging = false; });
  sliderPad.addEventListener('pointercancel', () => { dragging = false; });

  // Clicking a sample makes it the slider's starting point: its other coordinates stay put.
  $('vae-grid').addEventListener('click', (e) => {
    const cv = e.currentTarget as HTMLCanvasElement;
    const r = cv.getBoundingClientRect();
    const col = Math.min(GRID - 1, Math.floor(((e.clientX - r.left) / r.width) * GRID));
    const row = Math.min(GRID - 1, Math.floor(((e.clientY - r.top) / r.height) * GRID));
    const k = row * GRID + col;
    base = gridZ.slice(k * L, (k + 1) * L);
    slider = { a: Math.max(-SPAN, Math.min(SPAN, base[axes[0]])), b: Math.max(-SPAN, Math.min(SPAN, base[axes[1]])) };
    drawSliderPad();
    requestOne();
  });
  $('vae-stop').addEventListener('click', () => send({ type: 'stop' }));
  $('vae-pause').addEventListener('click', () => {
    paused = !paused;
    $('vae-pause').textContent = paused ? 'New samples every second' : 'Hold these samples';
  });

  setInterval(() => {
    if (!root.hidden) requestGrid();
  }, 1000);
  drawChart();
  drawSliderPad();

  return {
    activate(): void {
      if (worker !== null) return;
      worker = new Worker(new URL('./vae-worker.js', import.meta.url), { type: 'module' });
      worker.onmessage = (e: MessageEvent<FromVaeWorker>) => onMessage(e.data);
      worker.onerror = (e) => {
        $('vae-error').textContent = `worker error: ${e.message}`;
        data.state = 'error';
      };
      data.state = 'loading';
      send({ type: 'train', config });
    },
  };
}
