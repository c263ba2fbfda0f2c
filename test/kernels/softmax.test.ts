// Softmax-family kernels vs float64 references: softmax / log-softmax rows on awkward shapes,
// in place, huge logits (+-1e4) staying finite, NaN confined to its row, both backwards.
// The fused softmax + cross-entropy kernels are tested in loss.test.ts.
import { describe, expect, it } from 'vitest';
import { refSoftmax } from '../reference/softmax';
import { f32, kernels } from '../../bindings/index';
import { blankF32, blankGuarded, expectGuards, free, getF32, logits, putF32, randomF32, relErr } from '../helpers/wasm';

const SHAPES: [number, number][] = [[1, 1], [1, 3], [3, 5], [7, 13], [64, 10], [129, 33], [2, 1000], [1, 4099], [5, 4], [4, 17]];




function rowSums(y: ArrayLike<number>, rows: number, cols: number): number[] {
  const s: number[] = [];
  for (let r = 0; r < rows; r++) {
    let t = 0;
    for (let c = 0; c < cols; c++) t += y[r * cols + c];
    s.push(t);
  }
  return s;
}

describe('softmax and logSoftmax', () => {
  it('softmax matches the reference, rows sum to 1, in place gives the same', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const x = logits(rows, cols, rows * 13 + cols);
      const { p } = refSoftmax(x, rows, cols);
      const xp = putF32(x), y = blankGuarded(n);
      k.softmax(xp, y, rows, cols);
      const got = getF32(y, n);
      const what = `${rows}x${cols}`;
      // Relative to each probability (floor 1e-30: tiny probabilities must be accurate too).
      expect(relErr(got, p, 1e-30), what).toBeLessThan(2e-6);
      for (const s of rowSums(got, rows, cols)) expect(Math.abs(s - 1), `${what} row sum`).toBeLessThan(1e-5);
      expectGuards(y, n, what);
      k.softmax(xp, xp, rows, cols);
      expect(Array.from(getF32(xp, n)), `${what} in place`).toEqual(Array.from(got));
      free(xp, y);
    }
  });

  it('logSoftmax matches the reference and in place gives the same', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const x = logits(rows, cols, rows * 5 + cols + 1);
      const { logp } = refSoftmax(x, rows, cols);
      const xp = putF32(x), y = blankGuarded(n);
      k.logSoftmax(xp, y, rows, cols);
      const got = getF32(y, n);
      const what = `${rows}x${cols}`;
      expect(relErr(got, logp, 1), what).toBeLessThan(2e-6);
      expectGuards(y, n, what);
      k.logSoftmax(xp, xp, rows, cols);
      expect(Array.from(getF32(xp, n)), `${what} in place`).toEqual(Array.from(got));
      free(xp, y);
    }
  });

  it('huge logits (+-1e4) stay finite and correct; shifted rows give identical results', () => {
    const k = kernels();
    const rows = 4, cols = 7;
    const x = new Float32Array([
      1e4, -1e4, 0, 1e4, -1e4, 5, 1e4 - 1,
      -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4 + 2,
      1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4,
      -1e30, 1e30, 0, 1, 2, 3, 4,
    ]);
    const { p, logp } = refSoftmax(x, rows, cols);
    const xp = putF32(x), y = blankF32(rows * cols), ly = blankF32(rows * cols);
    k.softmax(xp, y, rows, cols);
    k.logSoftmax(xp, ly, rows, cols);
    const got = getF32(y, rows * cols), lgot = getF32(ly, rows * cols);
    for (let i = 0; i < got.length; i++) {
      expect(Number.isFinite(got[i]), `softmax[${i}]`).toBe(true);
      expect(Number.isFinite(lgot[i]), `logSoftmax[${i}]`).toBe(true);
    }
    expect(relErr(got, p, 1e-30)).toBeLessThan(2e-6);
    expect(relErr(lgot, logp, 1)).toBeLessThan(2e-6);
    for (const s of rowSums(got, rows, cols)) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    // Softmax is shift invariant: a row plus a constant (exactly representable shift).
    const base = logits(1, 33, 99, 4);
    const shifted = Float32Array.from(base, (v) => v + 1024);
    const bp = putF32(base), sp = putF32(shifted), yb = blankF32(33), ys = blankF32(33);
    k.softmax(bp, yb, 1, 33);
    k.softmax(sp, ys, 1, 33);
    expect(relErr(getF32(ys, 33), getF32(yb, 33), 1e-30)).toBeLessThan(1e-3); // base+1024 rounds the inputs
    free(xp, y, ly, bp, sp, yb, ys);
  });

  it('a NaN poisons only its own row; rows = 0 or cols = 0 write nothing', () => {
    const k = kernels();
    const x = logits(3, 9, 4);
    x[9 + 8] = NaN; // row 1, in the tail
    const xp = putF32(x), y = blankF32(27), ly = blankF32(27);
    k.softmax(xp, y, 3, 9);
    k.logSoftmax(xp, ly, 3, 9);
    for (const out of [getF32(y, 27), getF32(ly, 27)]) {
      for (let c = 0; c < 9; c++) {
        expect(Number.isFinite(out[c])).toBe(true);
        expect(out[9 + c]).toBeNaN();
        expect(Number.isFinite(out[18 + c])).toBe(true);
      }
    }
    const none = blankGuarded(0);
    k.softmax(xp, none, 0, 9);
    k.softmax(xp, none, 3, 0);
    k.logSoftmax(xp, none, 0, 9);
    k.logSoftmax(xp, none, 3, 0);
    expectGuards(none, 0, 'empty');
    free(xp, y, ly, none);
  });
});

describe('softmax backwards', () => {
  it('softmaxBackward: dx = y * (dy - sum(dy * y)), in place on dy', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const { p } = refSoftmax(logits(rows, cols, cols + 3), rows, cols);
      const y = Float32Array.from(p);
      const dy = randomF32(n, rows + 7);
      const want = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += dy[r * cols + c] * y[r * cols + c];
        for (let c = 0; c < cols; c++) want[r * cols + c] = y[r * cols + c] * (dy[r * cols + c] - s);
      }
      const yp = putF32(y), dyp = putF32(dy), dx = blankGuarded(n);
      k.softmaxBackward(yp, dyp, dx, rows, cols);
      const got = getF32(dx, n);
      // Error scale: y * (|dy| + |s|) <= 2 * y.
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-6 * y[i] + 1e-12)) bad = i;
      expect(bad, `${rows}x${cols}: element ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
      expectGuards(dx, n, `${rows}x${cols}`);
      k.softmaxBackward(yp, dyp, dyp, rows, cols);
      expect(Array.from(getF32(dyp, n)), 'in place').toEqual(Array.from(got));
      free(yp, dyp, dx);
    }
  });

  it('logSoftmaxBackward: dx = dy - exp(y) * sum(dy), in place on dy', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const { logp } = refSoftmax(logits(rows, cols, cols + 5), rows, cols);
      const y = Float32Array.from(logp);
      const dy = randomF32(n, rows + 9);
      const want = new Float64Array(n);
      const scale = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        let s = 0, sa = 0;
        for (let c = 0; c < cols; c++) { s += dy[r * cols + c]; sa += Math.abs(dy[r * cols + c]); }
        for (let c = 0; c < cols; c++) {
          want[r * cols + c] = dy[r * cols + c] - Math.exp(y[r * cols + c]) * s;
          scale[r * cols + c] = Math.abs(dy[r * cols + c]) + Math.exp(y[r * cols + c]) * sa;
        }
      }
      const yp = putF32(y), dyp = putF32(dy), dx = blankGuarded(n);
      k.logSoftmaxBackward(yp, dyp, dx, rows, cols);
      const got = getF32(dx, n);
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-6 * scale[i] + 1e-12)) bad = i;
      expect(bad, `${rows}x${cols}: element ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
      expectGuards(dx, n, `${rows}x${cols}`);
      k.logSoftmaxBackward(yp, dyp, dyp, rows, cols);
      expect(Array.from(getF32(dyp, n)), 'in place').toEqual(Array.from(got));
      free(yp, dyp, dx);
    }
  });
});
