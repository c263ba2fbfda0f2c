// Grids of 28×28 (or any square) tiles as a grey PNG, for filters, samples and recalls.
import { writeFileSync } from 'node:fs';
import { encode } from 'fast-png';

export interface GridOptions {
  /** Tiles per row. */
  columns: number;
  /** Side of a square tile in pixels. */
  side: number;
  /** Pixels of border between tiles (default 1, drawn mid-grey). */
  gap?: number;
  /** Screen pixels per tile pixel (default 2). */
  zoom?: number;
  /**
   * 'unit': values in [0, 1] → black..white; 'symmetric': each tile scaled by its own max |value|,
   * 0 grey (weights: positive white, negative black); '±1': −1 black, 1 white.
   */
  scale?: 'unit' | 'symmetric' | '±1';
}

/** Writes `count` tiles (values of tile t at t·side², row-major) into one PNG. */
export function writeGrid(path: string, values: ArrayLike<number>, count: number, o: GridOptions): void {
  const gap = o.gap ?? 1, zoom = o.zoom ?? 2, s = o.side;
  const rows = Math.ceil(count / o.columns);
  const W = (o.columns * (s + gap) + gap) * zoom;
  const H = (rows * (s + gap) + gap) * zoom;
  const img = new Uint8Array(W * H).fill(128);
  for (let t = 0; t < count; t++) {
    const base = t * s * s;
    let m = 1;
    if (o.scale === 'symmetric') {
      m = 1e-12;
      for (let i = 0; i < s * s; i++) m = Math.max(m, Math.abs(values[base + i]));
    }
    const ox = gap + (t % o.columns) * (s + gap);
    const oy = gap + Math.floor(t / o.columns) * (s + gap);
    for (let r = 0; r < s; r++) {
      for (let c = 0; c < s; c++) {
        const v = values[base + r * s + c];
        const g = o.scale === 'symmetric' ? 0.5 + 0.5 * v / m : o.scale === '±1' ? (v + 1) / 2 : v;
        const byte = Math.max(0, Math.min(255, Math.round(255 * g)));
        for (let dy = 0; dy < zoom; dy++) for (let dx = 0; dx < zoom; dx++) img[((oy + r) * zoom + dy) * W + (ox + c) * zoom + dx] = byte;
      }
    }
  }
  writeFileSync(path, encode({ width: W, height: H, data: img, channels: 1, depth: 8 }));
}
