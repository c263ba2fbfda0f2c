// Loss kernels vs float64 references on awkward shapes: the fused softmax + cross-entropy
// (loss = sum of logsumexp - logit, probs = softmax, finite for hugely negative true logits,
// backward = scale * (probs - onehot), in place) and the negative log-likelihood with its
// backward scatter (invalid labels give NaN / scatter nothing).
import { describe, expect, it } from 'vitest';
import { refSoftmax } from '../reference/softmax';
import { f32, kernels } from '../../bindings/index';
import { blankF32, blankGuarded, expectGuards, free, getF32, logits, putF32, putI32, randomF32, relErr } from '../helpers/wasm';

const SHAPES: [number, number][] = [[1, 1], [1, 3], [3, 5], [7, 13], [64, 10], [129, 33], [2, 1000], [1, 4099], [5, 4], [4, 17], [17, 7], [0, 5]];




function labelsFor(rows: number, cols: number, seed: number): Int32Array {
  return Int32Array.from(randomF32(rows, seed), (v) => Math.min(cols - 1, Math.floor(((v + 1) / 2) * cols)));
}

describe('crossEntropy', () => {
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
      const loss = k.crossEntropy(xp, lp, probs, rows, cols);
      const what = `${rows}x${cols}`;
      expect(Math.abs(loss - want), what).toBeLessThanOrEqual(1e-6 * rows * Math.max(1, Math.abs(want) / Math.max(rows, 1)) + 1e-6);
      expect(relErr(getF32(probs, n), p, 1e-30), `${what} probs`).toBeLessThan(2e-6);
      expectGuards(probs, n, what);
      // In place: probs written over the logits.
      const loss2 = k.crossEntropy(xp, lp, xp, rows, cols);
      expect(loss2, `${what} in place`).toBe(loss);
      free(xp, lp, probs);
    }
  });

  it('stays finite when the true class has a hugely negative logit', () => {
    const k = kernels();
    const x = new Float32Array([0, -1e4, 3, 1e4, -1e4, 0, -1e4, -1e4, -1e4 + 1]);
    const lab = new Int32Array([1, 1, 2]);
    const xp = putF32(x), lp = putI32(lab), probs = blankF32(9);
    const loss = k.crossEntropy(xp, lp, probs, 3, 3);
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
      k.crossEntropyBackward(pp, lp, d, rows, cols, scale);
      const got = getF32(d, n);
      const what = `${rows}x${cols}`;
      expect(relErr(got, want, 1e-30), what).toBeLessThan(2e-7);
      expectGuards(d, n, what);
      k.crossEntropyBackward(pp, lp, pp, rows, cols, scale);
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
      const l = k.crossEntropy(xp, lp, pr, rows, cols);
      free(xp, pr);
      return l;
    };
    const xp = putF32(x), pr = blankF32(rows * cols), d = blankF32(rows * cols);
    k.crossEntropy(xp, lp, pr, rows, cols);
    k.crossEntropyBackward(pr, lp, d, rows, cols, 1);
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

describe('nllLoss', () => {
  it('loss = -sum of logProbs at the labels, in f64 row order, on all shapes', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const lp = Float32Array.from(randomF32(rows * cols, rows * 5 + cols), (v) => v * 4 - 4);
      const lab = labelsFor(rows, cols, rows + 2 * cols);
      let want = 0;
      for (let r = 0; r < rows; r++) want -= lp[r * cols + lab[r]];
      const xp = putF32(lp), lp2 = putI32(lab);
      // The same f64 sum in the same order: equal to the last bit.
      expect(k.nllLoss(xp, lp2, rows, cols), `${rows}x${cols}`).toBe(want);
      free(xp, lp2);
    }
  });

  it('an invalid label gives NaN', () => {
    const k = kernels();
    const xp = putF32([-1, -2, -3, -4, -5, -6]);
    for (const bad of [[0, 3], [-1, 0], [2, 2147483647]]) {
      const lp = putI32(bad);
      expect(k.nllLoss(xp, lp, 2, 3), `labels ${bad}`).toBeNaN();
      free(lp);
    }
    free(xp);
  });

  it('backward: zeros everywhere but value at [r, label[r]]; invalid labels scatter nothing', () => {
    const k = kernels();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const lab = labelsFor(rows, cols, rows * 3 + cols);
      const value = -1 / Math.max(rows, 1);
      const want = new Float32Array(n);
      for (let r = 0; r < rows; r++) want[r * cols + lab[r]] = value;
      const lp = putI32(lab), d = blankGuarded(n);
      k.nllLossBackward(lp, d, rows, cols, value);
      const what = `${rows}x${cols}`;
      expect(Array.from(getF32(d, n)), what).toEqual(Array.from(want));
      expectGuards(d, n, what);
      free(lp, d);
    }
    const lp = putI32([3, -1, 1]), d = blankGuarded(9);
    k.nllLossBackward(lp, d, 3, 3, 2.5);
    expect(Array.from(getF32(d, 9))).toEqual([0, 0, 0, 0, 0, 0, 0, 2.5, 0]);
    expectGuards(d, 9, 'invalid labels');
    free(lp, d);
  });
});
