// Pictures for the examples and tests: image grids from a tensor and line plots of a fit
// history, written as PNG through fast-png (a devDependency). It lives beside the examples,
// not in src/, so the published library never needs an image encoder at run time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decode, encode } from 'fast-png';

/** What a grid takes: a tensor-like with shape [N, C, H, W] (C = 1), [N, H, W] or [N, H·W], or plain values. */
export interface ImagesLike {
  shape: readonly number[];
  data(): ArrayLike<number>;
}

export interface GridOptions {
  /** Tiles per row (default ⌈√N⌉). */
  columns?: number;
  /** Tile height and width when the input is [N, H·W] (default: a square, √(H·W)). */
  height?: number;
  width?: number;
  /**
   * Value range mapped to black..white (default [0, 1]; [-1, 1] for tanh outputs or ±1 states).
   * 'tile' scales each tile to its own min..max; 'symmetric' each tile to ±its max |value|, 0 grey
   * (weights: positive white, negative black).
   */
  range?: readonly [number, number] | 'tile' | 'symmetric';
  /** Pixels between tiles (default 2, drawn in `gapShade`). */
  gap?: number;
  /** Grey of the gaps, 0..255 (default 64). */
  gapShade?: number;
  /** Screen pixels per image pixel (default 2). */
  zoom?: number;
}

function tileGeometry(shape: readonly number[], o: GridOptions): { n: number; h: number; w: number } {
  const n = shape[0] ?? 0;
  if (shape.length === 4) {
    if (shape[1] !== 1) throw new Error(`writeImageGrid: expected one channel, got [${shape.join(',')}]`);
    return { n, h: shape[2], w: shape[3] };
  }
  if (shape.length === 3) return { n, h: shape[1], w: shape[2] };
  if (shape.length === 2) {
    const side = Math.round(Math.sqrt(shape[1]));
    const h = o.height ?? side, w = o.width ?? shape[1] / h;
    if (h * w !== shape[1]) throw new Error(`writeImageGrid: ${shape[1]} values per row do not make ${h}×${w} tiles; pass height and width`);
    return { n, h, w };
  }
  throw new Error(`writeImageGrid: expected [N, 1, H, W], [N, H, W] or [N, H·W], got [${shape.join(',')}]`);
}

/** Grey bytes of a grid of the images (row-major tiles), with its width and height in pixels. */
export function imageGrid(images: ImagesLike, opts: GridOptions = {}): { pixels: Uint8Array; width: number; height: number } {
  const { n, h, w } = tileGeometry(images.shape, opts);
  const values = images.data();
  const cols = Math.max(1, opts.columns ?? Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  const gap = opts.gap ?? 2, zoom = opts.zoom ?? 2;
  const W = (cols * (w + gap) + gap) * zoom, H = (rows * (h + gap) + gap) * zoom;
  const img = new Uint8Array(W * H).fill(opts.gapShade ?? 64);
  const range = opts.range ?? [0, 1];
  for (let t = 0; t < n; t++) {
    const base = t * h * w;
    let lo: number, hi: number;
    if (range === 'tile') {
      lo = Infinity; hi = -Infinity;
      for (let i = 0; i < h * w; i++) { lo = Math.min(lo, values[base + i]); hi = Math.max(hi, values[base + i]); }
    } else if (range === 'symmetric') {
      hi = 1e-12;
      for (let i = 0; i < h * w; i++) hi = Math.max(hi, Math.abs(values[base + i]));
      lo = -hi;
    } else [lo, hi] = range;
    const span = hi > lo ? hi - lo : 1;
    const ox = gap + (t % cols) * (w + gap), oy = gap + Math.floor(t / cols) * (h + gap);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const byte = Math.max(0, Math.min(255, Math.round(255 * (values[base + r * w + c] - lo) / span)));
        for (let dy = 0; dy < zoom; dy++) img.fill(byte, ((oy + r) * zoom + dy) * W + (ox + c) * zoom, ((oy + r) * zoom + dy) * W + (ox + c + 1) * zoom);
      }
    }
  }
  return { pixels: img, width: W, height: H };
}

function writePng(path: string, width: number, height: number, data: Uint8Array, channels: 1 | 3): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encode({ width, height, data, channels, depth: 8 }));
}

/** `count` square tiles of side² values each, laid end to end in `values`, as images for a grid. */
export function squareTiles(values: ArrayLike<number>, count: number, side = 28): ImagesLike {
  if (values.length < count * side * side) throw new Error(`squareTiles: ${values.length} values for ${count} tiles of ${side}×${side}`);
  return { shape: [count, side, side], data: () => values };
}

/** Writes the images as one grey PNG grid (see GridOptions). */
export function writeImageGrid(path: string, images: ImagesLike, opts: GridOptions = {}): void {
  const { pixels, width, height } = imageGrid(images, opts);
  writePng(path, width, height, pixels, 1);
}

/** Reads a grey or RGB PNG back (tests check what was written). */
export function readPng(bytes: Uint8Array): { width: number; height: number; channels: number; data: ArrayLike<number> } {
  const img = decode(bytes);
  return { width: img.width, height: img.height, channels: img.channels, data: img.data };
}

// ---- line plots --------------------------------------------------------------------------

// A 3×5 pixel font for axis numbers and legend names: each glyph is five rows of three bits.
const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001010010010', '8': '111101111101111', '9': '111101111001111',
  '.': '000000000000010', '-': '000000111000000', '_': '000000000000111', ':': '000010000010000', ' ': '000000000000000',
  a: '000011101101011', b: '100110101101110', c: '000011100100011', d: '001011101101011', e: '000111111100011',
  f: '011100110100100', g: '011101011001110', h: '100110101101101', i: '010000010010010', j: '001000001101010',
  k: '100101110101101', l: '110010010010111', m: '000111111101101', n: '000110101101101', o: '000010101101010',
  p: '000110101110100', q: '000011101011001', r: '000011100100100', s: '000011110011110', t: '010111010010011',
  u: '000101101101011', v: '000101101101010', w: '000101101111111', x: '000101010101101', y: '000101011001110',
  z: '000111011110111', '(': '001010010010001', ')': '100010010010100', '/': '001001010100100', '=': '000111000111000',
  '+': '000010111010000',
};

const COLOURS: readonly [number, number, number][] = [
  [31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189], [140, 86, 75], [227, 119, 194], [23, 190, 207],
];

class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, [r, g, b]: readonly [number, number, number]): void {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = r; this.data[i + 1] = g; this.data[i + 2] = b;
  }
  /** A line of thickness `thick` by sampling it densely (enough for plots; no antialiasing). */
  line(x0: number, y0: number, x1: number, y1: number, c: readonly [number, number, number], thick = 1): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
    for (let s = 0; s <= steps; s++) {
      const x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps;
      for (let dx = 0; dx < thick; dx++) for (let dy = 0; dy < thick; dy++) this.set(x + dx - (thick - 1) / 2, y + dy - (thick - 1) / 2, c);
    }
  }
  text(x: number, y: number, s: string, c: readonly [number, number, number], scale = 2): void {
    let cx = x;
    for (const ch of s.toLowerCase()) {
      const g = GLYPHS[ch] ?? GLYPHS[' '];
      for (let r = 0; r < 5; r++) for (let col = 0; col < 3; col++) {
        if (g[r * 3 + col] === '1') for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) this.set(cx + col * scale + a, y + r * scale + b, c);
      }
      cx += 4 * scale;
    }
  }
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return Number(v.toPrecision(3)).toString();
}

export interface PlotOptions {
  /** Series to draw (default: every numeric series of the history but 'lr'). */
  keys?: readonly string[];
  width?: number;
  height?: number;
  /** Title drawn at the top left. */
  title?: string;
  /** Label of the x axis (default 'epoch'). */
  xLabel?: string;
}

/**
 * A line plot of series against their index from 1 (a fit history: loss and metrics per
 * epoch), with axes, tick values, a legend and a title, as an RGB PNG.
 */
export function writeHistoryPlot(path: string, history: Record<string, ArrayLike<number> | undefined>, opts: PlotOptions = {}): void {
  const keys = opts.keys ?? Object.keys(history).filter((k) => k !== 'lr' && history[k] !== undefined && history[k]!.length > 0 && typeof history[k]![0] === 'number');
  const series = keys.map((k) => ({ name: k, values: Array.from(history[k] ?? [], Number) }));
  const W = opts.width ?? 640, H = opts.height ?? 400;
  const left = 70, right = 20, top = 40, bottom = 50;
  const cv = new Canvas(W, H);
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  let lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 1;
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  // Round tick steps (1, 2 or 5 × 10^k) and limits on whole steps, about five ticks.
  const raw = (hi - lo) / 5, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  lo = Math.floor(lo / step) * step; hi = Math.ceil(hi / step) * step;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const px = (i: number): number => left + (W - left - right) * (i / (n - 1));
  const py = (v: number): number => top + (H - top - bottom) * (1 - (v - lo) / (hi - lo));
  const axis: [number, number, number] = [0, 0, 0], grid: [number, number, number] = [225, 225, 225];
  for (let v = lo; v <= hi + step / 2; v += step) {
    cv.line(left, py(v), W - right, py(v), grid);
    const label = tickLabel(Math.abs(v) < step / 1e6 ? 0 : Number(v.toPrecision(6)));
    cv.text(left - 8 - label.length * 8, py(v) - 5, label, axis);
  }
  const xTicks = Math.min(n, 10);
  for (let t = 0; t < xTicks; t++) {
    const i = Math.round((n - 1) * t / Math.max(1, xTicks - 1));
    cv.line(px(i), H - bottom, px(i), H - bottom + 5, axis);
    const label = String(i + 1);
    cv.text(px(i) - label.length * 4, H - bottom + 10, label, axis);
  }
  cv.line(left, top, left, H - bottom, axis);
  cv.line(left, H - bottom, W - right, H - bottom, axis);
  const xl = opts.xLabel ?? 'epoch';
  cv.text((left + W - right) / 2 - xl.length * 4, H - 18, xl, axis);
  if (opts.title) cv.text(left, 12, opts.title, axis);
  series.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length];
    for (let i = 1; i < s.values.length; i++) {
      if (Number.isFinite(s.values[i - 1]) && Number.isFinite(s.values[i])) cv.line(px(i - 1), py(s.values[i - 1]), px(i), py(s.values[i]), c, 2);
    }
    if (s.values.length === 1 && Number.isFinite(s.values[0])) cv.line(px(0) - 2, py(s.values[0]), px(0) + 2, py(s.values[0]), c, 3);
    const ly = top + 6 + k * 16, lx = W - right - 12 - Math.max(...series.map((q) => q.name.length)) * 8 - 24;
    cv.line(lx, ly + 5, lx + 16, ly + 5, c, 3);
    cv.text(lx + 22, ly, s.name, c);
  });
  writePng(path, W, H, cv.data, 3);
}

/** A 2-D scatter plot of point sets (e.g. GAN samples over the data), RGB PNG. */
export function writeScatter(path: string, sets: readonly { name: string; points: ArrayLike<number> }[], opts: { width?: number; height?: number; range?: number; title?: string } = {}): void {
  const W = opts.width ?? 400, H = opts.height ?? 400, R = opts.range ?? 3;
  const cv = new Canvas(W, H);
  const grid: [number, number, number] = [225, 225, 225];
  cv.line(0, H / 2, W, H / 2, grid);
  cv.line(W / 2, 0, W / 2, H, grid);
  sets.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length];
    for (let i = 0; i + 1 < s.points.length; i += 2) {
      const x = W / 2 + (s.points[i] / R) * (W / 2), y = H / 2 - (s.points[i + 1] / R) * (H / 2);
      cv.set(x, y, c); cv.set(x + 1, y, c); cv.set(x, y + 1, c); cv.set(x + 1, y + 1, c);
    }
    cv.text(8, 8 + (opts.title ? 16 : 0) + k * 14, s.name, c);
  });
  if (opts.title) cv.text(8, 8, opts.title, [0, 0, 0]);
  writePng(path, W, H, cv.data, 3);
}
