// Softmax-family kernels vs float64 references: softmax / log-softmax rows on awkward shapes,
// in place, huge logits (+-1e4) staying finite, NaN confined to its row, both backwards, and
// the fused softmax + cross-entropy loss and gradient (finite for very negative true logits).
import { describe, expect, it } from 'vitest';
import { f32, kernels } from '../../bindings/index';
import { blankF32, free, getF32, putF32, putI32, randomF32 } from '../helpers/wasm';

const SHAPES: [number, number][] = [[1, 1], [1, 3], [3, 5], [7, 13], [64, 10], [129, 33], [2, 1000], [1, 4099], [5, 4], [4, 17]];
const GUARD = 8;
const GUARD_VALUE = 12345.5;

function blankGuarded(n: number): number {
  const ptr = blankF32(n + GUARD);
  f32().fill(GUARD_VALUE, (ptr >> 2) + n, (ptr >> 2) + n + GUARD);
  return ptr;
}
function expectGuards(ptr: number, n: number, what: string): void {
  const tail = Array.from(getF32(ptr, n + GUARD).subarray(n));
  expect(tail, `${what}: elements past the output were written`).toEqual(new Array(GUARD).fill(GUARD_VALUE));
}

/** Logits with spread `amp` (random in [-amp, amp)). */
function logits(rows: number, cols: number, seed: number, amp = 8): Float32Array {
  return Float32Array.from(randomF32(rows * cols, seed), (v) => v * amp);
}

function refSoftmax(x: ArrayLike<number>, rows: number, cols: number): { p: Float64Array; logp: Float64Array; lse: Float64Array } {
  const p = new Float64Array(rows * cols);
  const logp = new Float64Array(rows * cols);
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    lse[r] = m + Math.log(s);
    for (let c = 0; c < cols; c++) {
      logp[r * cols + c] = x[r * cols + c] - m - Math.log(s);
      p[r * cols + c] = Math.exp(logp[r * cols + c]);
    }
  }
  return { p, logp, lse };
}

/** max |got - want| / max(|want|, floor) */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

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

describe('softmaxCrossEntropy', () => {
  function labelsFor(rows: number, cols: number, seed: number): Int32Array {
    return Int32Array.from(randomF32(rows, seed), (v) => Math.min(cols - 1, Math.floor(((v + 1) / 2) * cols)));
  }

  it('loss = sum(logsumexp - logit[label]) and probs = softmax, on all shapes', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const x = logits(rows, cols, rows + cols * 3);
      const lab = labelsFor(rows, cols, rows * 3 + 1);
      const { p, lse } = refSoftmax(x, rows, cols);
      let want = 0;
      for (let r = 0; r < rows; r++) want += lse[r] - x[r * cols + lab[r]];
      const xp = putF32(x), lp = putI32(lab), probs = blankGuarded(n);
      const loss = k.softmaxCrossEntropy(xp, lp, probs, rows, cols);
      const what = `${rows}x${cols}`;
      expect(Math.abs(loss - want), what).toBeLessThanOrEqual(1e-6 * rows * Math.max(1, Math.abs(want) / rows) + 1e-6);
      expect(relErr(getF32(probs, n), p, 1e-30), `${what} probs`).toBeLessThan(2e-6);
      expectGuards(probs, n, what);
      // In place: probs written over the logits.
      const loss2 = k.softmaxCrossEntropy(xp, lp, xp, rows, cols);
      expect(loss2, `${what} in place`).toBe(loss);
      free(xp, lp, probs);
    }
  });

  it('stays finite when the true class has a hugely negative logit', () => {
    const k = kernels();
    const x = new Float32Array([0, -1e4, 3, 1e4, -1e4, 0, -1e4, -1e4, -1e4 + 1]);
    const lab = new Int32Array([1, 1, 2]);
    const xp = putF32(x), lp = putI32(lab), probs = blankF32(9);
    const loss = k.softmaxCrossEntropy(xp, lp, probs, 3, 3);
    const { lse } = refSoftmax(x, 3, 3);
    const want = lse[0] - x[1] + (lse[1] - x[4]) + (lse[2] - x[8]);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - want) / want).toBeLessThan(1e-6);
    expect(loss).toBeGreaterThan(2e4);
    free(xp, lp, probs);
  });

  it('backward: dlogits = scale * (probs - onehot), in place on probs', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const { p } = refSoftmax(logits(rows, cols, cols * 7 + rows), rows, cols);
      const probs = Float32Array.from(p);
      const lab = labelsFor(rows, cols, rows + 11);
      const scale = 1 / rows;
      const want = new Float64Array(n);
      for (let i = 0; i < n; i++) want[i] = Math.fround(scale) * (probs[i] - (i % cols === lab[Math.floor(i / cols)] ? 1 : 0));
      const pp = putF32(probs), lp = putI32(lab), d = blankGuarded(n);
      k.softmaxCrossEntropyBackward(pp, lp, d, rows, cols, scale);
      const got = getF32(d, n);
      const what = `${rows}x${cols}`;
      expect(relErr(got, want, 1e-30), what).toBeLessThan(2e-7);
      expectGuards(d, n, what);
      k.softmaxCrossEntropyBackward(pp, lp, pp, rows, cols, scale);
      expect(Array.from(getF32(pp, n)), `${what} in place`).toEqual(Array.from(got));
      free(pp, lp, d);
    }
  });

  it('loss and gradient agree with a central finite difference of the loss', () => {
    const k = kernels();
    const rows = 3, cols = 5;
    const x = Array.from(logits(rows, cols, 21, 2));
    const lab = new Int32Array([4, 0, 2]);
    const lp = putI32(lab);
    const lossAt = (v: number[]): number => {
      const xp = putF32(v), pr = blankF32(rows * cols);
      const l = k.softmaxCrossEntropy(xp, lp, pr, rows, cols);
      free(xp, pr);
      return l;
    };
    const xp = putF32(x), pr = blankF32(rows * cols), d = blankF32(rows * cols);
    k.softmaxCrossEntropy(xp, lp, pr, rows, cols);
    k.softmaxCrossEntropyBackward(pr, lp, d, rows, cols, 1);
    const g = getF32(d, rows * cols);
    const h = 1e-2;
    for (let i = 0; i < rows * cols; i++) {
      const up = x.slice(), dn = x.slice();
      up[i] += h; dn[i] -= h;
      const fd = (lossAt(up) - lossAt(dn)) / (2 * h);
      expect(Math.abs(fd - g[i]), `d loss / d x[${i}]`).toBeLessThan(2e-3);
    }
    free(xp, pr, d, lp);
  });
});
