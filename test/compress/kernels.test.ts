// The pruning kernels against plain-JS references on awkward sizes: exact top-k magnitude
// selection (per tensor and global, ties, denormals, sizes off the SIMD width), masks, mask
// application, sparsity counts, the dense -> CSR conversion.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { applyMask, magnitudeMask, magnitudeThreshold, sparsityOf, sparsityReport } from '../../src/compress/kernels';
import { toSparse } from '../../src/ops/sparse';
import { randomF32 } from '../helpers/wasm';

/** The k-th smallest |w| over the arrays, by a full sort (the reference the kernel avoids). */
function refKth(arrays: Float32Array[], k: number): number {
  const all: number[] = [];
  for (const a of arrays) for (const v of a) all.push(Math.abs(v));
  all.sort((x, y) => x - y);
  return all[k - 1];
}

function withZeros(n: number, seed: number, zeroEvery: number): Float32Array {
  const a = randomF32(n, seed);
  for (let i = 0; i < n; i += zeroEvery) a[i] = 0;
  return a;
}

describe('magnitudeThreshold', () => {
  it('per tensor: the exact k-th smallest |w| for sizes off the SIMD width', () => {
    for (const [n, s] of [[1, 0.5], [3, 0.34], [17, 0.5], [1000, 0.9], [4099, 0.95], [65537, 0.99]] as const) {
      const data = randomF32(n, n);
      const t = sg.tensor(data);
      const k = Math.round(s * n);
      const th = magnitudeThreshold(t, s);
      if (k === 0) expect(th).toBe(-Infinity);
      else expect(th).toBe(Math.fround(refKth([data], k)));
      const m = magnitudeMask(t, th);
      const kept = Array.from(m.data()).reduce((a, v) => a + v, 0);
      expect(kept).toBe(n - k);
      t.dispose(); m.dispose();
    }
  });

  it('global over several tensors, with ties, zeros, denormals and negative values', () => {
    const a = withZeros(333, 1, 7);
    const b = new Float32Array([1e-40, -1e-40, 0.5, -0.5, 0.5, 2, -3, 1.4e-45, 0, -0]);
    const c = randomF32(4097, 3).map((v) => v * 1000);
    const ts = [a, b, c].map((d) => sg.tensor(d));
    for (const s of [0.01, 0.1, 0.5, 0.73, 0.999, 1]) {
      const total = a.length + b.length + c.length;
      const k = Math.round(s * total);
      expect(magnitudeThreshold(ts, s)).toBe(Math.fround(refKth([a, b, c], k)));
    }
    expect(magnitudeThreshold(ts, 0)).toBe(-Infinity);
    for (const t of ts) t.dispose();
  });

  it('bad input names the function', () => {
    const t = sg.tensor([1, 2, 3]);
    expect(() => magnitudeThreshold(t, 1.5)).toThrow(/^magnitudeThreshold: sparsity must be a number in \[0, 1\]/);
    expect(() => magnitudeThreshold([t, 3 as never], 0.5)).toThrow(/^magnitudeThreshold: expected a tensor or an array of tensors/);
    t.dispose();
  });
});

describe('masks', () => {
  it('applyMask zeroes pruned entries in place (also NaN and -0 ones) for odd sizes', () => {
    for (const n of [1, 7, 8, 9, 31, 1025]) {
      const w = randomF32(n, n + 10);
      w[0] = NaN;
      const m = Float32Array.from(w, (_, i) => (i % 3 === 0 ? 0 : 1));
      const tw = sg.tensor(w);
      const tm = sg.tensor(m);
      applyMask(tw, tm);
      const got = tw.data();
      for (let i = 0; i < n; i++) expect(Object.is(got[i], m[i] === 0 ? 0 : w[i]) || (got[i] === 0 && m[i] === 0)).toBe(true);
      tw.dispose(); tm.dispose();
    }
  });

  it('applyMask rejects a mask of another size', () => {
    const w = sg.tensor([1, 2, 3]);
    const m = sg.tensor([1, 0]);
    expect(() => applyMask(w, m)).toThrow('applyMask: mask [2] does not match the tensor [3]');
    w.dispose(); m.dispose();
  });

  it('sparsityOf counts exact zeros (either sign), per tensor and together', () => {
    const a = withZeros(103, 5, 4);
    a[1] = -0;
    const b = new Float32Array(9);
    const zerosA = a.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
    const ta = sg.tensor(a);
    const tb = sg.tensor(b);
    expect(sparsityOf(ta)).toBeCloseTo(zerosA / 103, 12);
    expect(sparsityOf([ta, tb])).toBeCloseTo((zerosA + 9) / 112, 12);
    expect(sparsityReport([['a', ta], ['b', tb]]).map((r) => r.zeros)).toEqual([zerosA, 9]);
    ta.dispose(); tb.dispose();
  });
});

describe('toSparse', () => {
  it('round-trips a pruned weight through CSR (empty rows, full rows, conv layout)', () => {
    const w = withZeros(5 * 2 * 3 * 3, 9, 2);
    for (let i = 0; i < 18; i++) w[18 + i] = 0; // filter 1 entirely pruned
    const t = sg.tensor(w, [5, 2, 3, 3]);
    const s = toSparse(t);
    expect(s.rows).toBe(5);
    expect(s.cols).toBe(18);
    expect(s.nnz).toBe(w.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
    const back = s.toDense();
    expect(Array.from(back.data())).toEqual(Array.from(w));
    expect(Array.from(s.indptr.data()).slice(1, 3)).toEqual([s.indptr.data()[1], s.indptr.data()[1]]);
    s.dispose(); t.dispose(); back.dispose();
  });
});
