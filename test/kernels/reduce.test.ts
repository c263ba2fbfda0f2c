// Reduction kernels vs plain-JS (float64) references on the [outer, n, inner] view: row sums
// (inner = 1), column sums (outer = 1), full sums and the general 3-d case, with awkward
// sizes; reduceMax values, first-index argmax on ties, NaN propagation; reduceMaxBackward (the
// scatter to the argmax positions); dot.
import { describe, expect, it } from 'vitest';
import { f32, kernels } from '../../bindings/index';
import { GUARD, blankF32, blankGuarded, expectGuards, free, getF32, getI32, putF32, putI32, randomF32 } from '../helpers/wasm';


// [outer, n, inner]
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 1], [1, 4, 1], [1, 5, 1], [1, 7, 1], [1, 17, 1], [1, 1023, 1], [1, 4099, 1],
  [3, 5, 1], [64, 10, 1], [7, 13, 1], [2, 3000, 1],
  [1, 5, 3], [1, 13, 7], [1, 10, 64], [1, 33, 129], [1, 3, 4099], [1, 1, 17], [1, 1100, 20],
  [2, 7, 13], [3, 5, 4], [4, 3, 17], [5, 2, 2], [2, 9, 33],
];

function refSum(x: Float32Array, outer: number, n: number, inner: number, scale: number): { sum: Float64Array; abs: Float64Array } {
  const sum = new Float64Array(outer * inner);
  const abs = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < inner; i++) {
        const v = x[(o * n + k) * inner + i];
        sum[o * inner + i] += v;
        abs[o * inner + i] += Math.abs(v);
      }
    }
  }
  for (let j = 0; j < sum.length; j++) { sum[j] *= scale; abs[j] *= Math.abs(scale); }
  return { sum, abs };
}

function refMax(x: Float32Array, outer: number, n: number, inner: number): { max: Float32Array; arg: Int32Array } {
  const max = new Float32Array(outer * inner);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let m = -Infinity, a = -1;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i];
        if (Number.isNaN(v)) { m = NaN; a = k; break; }
        if (v > m || a < 0) { m = v; a = k; }
      }
      max[o * inner + i] = m;
      arg[o * inner + i] = a;
    }
  }
  return { max, arg };
}

describe('reduceSum', () => {
  it('matches the float64 reference on rows, columns, everything and 3-d views', () => {
    const k = kernels();
    for (const [outer, n, inner] of SHAPES) {
      for (const scale of [1, 0.25]) {
        const x = randomF32(outer * n * inner, outer * 7 + n * 3 + inner);
        const { sum, abs } = refSum(x, outer, n, inner, scale);
        const xp = putF32(x), out = blankGuarded(outer * inner);
        k.reduceSum(xp, out, outer, n, inner, scale);
        const got = getF32(out, outer * inner);
        const what = `[${outer},${n},${inner}] scale=${scale}`;
        for (let j = 0; j < sum.length; j++) {
          // f32 summation: error bounded by a small multiple of eps * sum|x|.
          if (!(Math.abs(got[j] - sum[j]) <= 4e-7 * abs[j] + 1e-30)) {
            expect.fail(`${what}: out[${j}] = ${got[j]}, want ${sum[j]}`);
          }
        }
        expectGuards(out, outer * inner, what);
        free(xp, out);
      }
    }
  });

  it('a long sum stays accurate (chunked accumulation)', () => {
    const k = kernels();
    const n = 1 << 20;
    const x = new Float32Array(n).fill(0.1);
    const xp = putF32(x), out = blankF32(1);
    k.reduceSum(xp, out, 1, n, 1, 1);
    const want = n * Math.fround(0.1);
    expect(Math.abs(getF32(out, 1)[0] - want) / want).toBeLessThan(1e-6);
    // The same data as one long column (inner = 3).
    const out3 = blankF32(3);
    k.reduceSum(xp, out3, 1, n / 4, 3, 1);
    for (const v of getF32(out3, 3)) expect(Math.abs(v - (n / 4) * Math.fround(0.1)) / ((n / 4) * 0.1)).toBeLessThan(2e-6);
    free(xp, out, out3);
  });

  it('n = 0 gives zeros; outer or inner = 0 writes nothing', () => {
    const k = kernels();
    const xp = putF32([1, 2, 3]);
    const out = blankGuarded(6);
    k.reduceSum(xp, out, 2, 0, 3, 1);
    expect(Array.from(getF32(out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expectGuards(out, 6, 'n = 0');
    const none = blankGuarded(0);
    k.reduceSum(xp, none, 0, 3, 1, 1);
    k.reduceSum(xp, none, 1, 3, 0, 1);
    expectGuards(none, 0, 'empty');
    free(xp, out, none);
  });

  it('NaN and Inf propagate into their own output only', () => {
    const k = kernels();
    const x = randomF32(3 * 6, 5);
    x[0 * 6 + 2] = NaN; // row 0
    x[2 * 6 + 5] = Infinity; // row 2
    const xp = putF32(x), out = blankF32(3);
    k.reduceSum(xp, out, 3, 6, 1, 1);
    const got = getF32(out, 3);
    expect(got[0]).toBeNaN();
    expect(Number.isFinite(got[1])).toBe(true);
    expect(got[2]).toBe(Infinity);
    free(xp, out);
  });
});

describe('reduceMax', () => {
  it('values and first argmax match the reference on every shape', () => {
    const k = kernels();
    for (const [outer, n, inner] of SHAPES) {
      const x = randomF32(outer * n * inner, outer * 11 + n + inner * 5);
      const { max, arg } = refMax(x, outer, n, inner);
      const m = outer * inner;
      const xp = putF32(x), out = blankGuarded(m), ap = putI32(new Int32Array(m + GUARD).fill(-7));
      k.reduceMax(xp, out, ap, outer, n, inner);
      const what = `[${outer},${n},${inner}]`;
      expect(Array.from(getF32(out, m)), what).toEqual(Array.from(max));
      expect(Array.from(getI32(ap, m)), `${what} argmax`).toEqual(Array.from(arg));
      expect(Array.from(getI32(ap, m + GUARD).subarray(m)), `${what} argmax guard`).toEqual(new Array(GUARD).fill(-7));
      expectGuards(out, m, what);
      // Without argmax (pointer 0): same values.
      const out2 = blankF32(m);
      k.reduceMax(xp, out2, 0, outer, n, inner);
      expect(Array.from(getF32(out2, m)), `${what} no argmax`).toEqual(Array.from(max));
      free(xp, out, ap, out2);
    }
  });

  it('ties pick the first index (rows and columns)', () => {
    const k = kernels();
    for (const [outer, n, inner] of [[3, 37, 1], [1, 37, 9], [2, 21, 18], [1, 4, 1]] as [number, number, number][]) {
      // Small integers: many ties, including ties for the max.
      const x = Float32Array.from(randomF32(outer * n * inner, n + inner), (v) => Math.floor(v * 3));
      const { max, arg } = refMax(x, outer, n, inner);
      const m = outer * inner;
      const xp = putF32(x), out = blankF32(m), ap = putI32(new Int32Array(m));
      k.reduceMax(xp, out, ap, outer, n, inner);
      expect(Array.from(getF32(out, m))).toEqual(Array.from(max));
      expect(Array.from(getI32(ap, m)), `[${outer},${n},${inner}]`).toEqual(Array.from(arg));
      free(xp, out, ap);
    }
    // All equal: index 0 everywhere.
    const xp = putF32(new Float32Array(40).fill(2)), out = blankF32(8), ap = putI32(new Int32Array(8).fill(9));
    k.reduceMax(xp, out, ap, 1, 5, 8);
    expect(Array.from(getI32(ap, 8))).toEqual(new Array(8).fill(0));
    k.reduceMax(xp, out, ap, 1, 40, 1);
    expect(getI32(ap, 1)[0]).toBe(0);
    free(xp, out, ap);
  });

  it('a NaN makes the max NaN and argmax points at the first NaN; -Inf rows work', () => {
    const k = kernels();
    // Rows of 9 (SIMD body + tail); NaN in the body, in the tail, twice, and none.
    const rows = [
      [1, 2, NaN, 4, 5, 6, 7, 8, 0],
      [1, 2, 3, 4, 5, 6, 7, 8, NaN],
      [9, NaN, 3, NaN, 5, 6, 7, 8, 1],
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [-1, -2, -3, -4, -5, -6, -7, -8, -0.5],
    ];
    const x = Float32Array.from(rows.flat());
    const xp = putF32(x), out = blankF32(5), ap = putI32(new Int32Array(5));
    k.reduceMax(xp, out, ap, 5, 9, 1);
    const got = getF32(out, 5);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBeNaN();
    expect(got[2]).toBeNaN();
    expect(got[3]).toBe(-Infinity);
    expect(got[4]).toBe(-0.5);
    expect(Array.from(getI32(ap, 5))).toEqual([2, 8, 1, 0, 8]);
    // Same data as columns: [1, 9, 5] viewed with inner = 5 after a transpose.
    const t = new Float32Array(45);
    for (let r = 0; r < 5; r++) for (let c = 0; c < 9; c++) t[c * 5 + r] = x[r * 9 + c];
    const tp = putF32(t), out2 = blankF32(5), ap2 = putI32(new Int32Array(5));
    k.reduceMax(tp, out2, ap2, 1, 9, 5);
    const got2 = getF32(out2, 5);
    expect(Array.from(got2).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(['NaN', 'NaN', 'NaN', -Infinity, -0.5]);
    expect(Array.from(getI32(ap2, 5))).toEqual([2, 8, 1, 0, 8]);
    free(xp, out, ap, tp, out2, ap2);
  });
});

describe('reduceMaxBackward', () => {
  it('scatters dy to the argmax positions and zeroes the rest, on every shape', () => {
    const k = kernels();
    for (const [outer, n, inner] of [...SHAPES, [0, 3, 2], [2, 0, 3], [3, 4, 0]] as [number, number, number][]) {
      const m = outer * inner;
      const total = outer * n * inner;
      const dy = randomF32(m, outer + 3 * n + inner);
      const arg = Int32Array.from(randomF32(m, n * 7 + inner), (v) => Math.min(n - 1, Math.floor(((v + 1) / 2) * n)));
      const want = new Float32Array(total);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) want[(o * n + arg[o * inner + i]) * inner + i] = dy[o * inner + i];
      const dyp = putF32(dy), ap = putI32(arg), dx = blankGuarded(total);
      k.reduceMaxBackward(dyp, ap, dx, outer, n, inner);
      const what = `[${outer},${n},${inner}]`;
      expect(Array.from(getF32(dx, total)), what).toEqual(Array.from(want));
      expectGuards(dx, total, what);
      free(dyp, ap, dx);
    }
  });

  it('is the adjoint of reduceMax with its own argmax', () => {
    const k = kernels();
    const [outer, n, inner] = [3, 7, 5];
    const x = randomF32(outer * n * inner, 99);
    const xp = putF32(x), out = blankF32(outer * inner), ap = putI32(new Int32Array(outer * inner));
    k.reduceMax(xp, out, ap, outer, n, inner);
    const dy = randomF32(outer * inner, 100);
    const dyp = putF32(dy), dx = blankF32(x.length);
    k.reduceMaxBackward(dyp, ap, dx, outer, n, inner);
    // <dx, x> = <dy, max(x)>: each dy lands on the element max(x) read.
    const g = getF32(dx, x.length), mx = getF32(out, outer * inner);
    let lhs = 0, rhs = 0;
    for (let i = 0; i < x.length; i++) lhs += g[i] * x[i];
    for (let i = 0; i < dy.length; i++) rhs += dy[i] * mx[i];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9);
    free(xp, out, ap, dyp, dx);
  });

  it('an argmax outside [0, n) scatters nothing', () => {
    const k = kernels();
    const dyp = putF32([1, 2, 3]), ap = putI32([-1, 4, 1]), dx = blankGuarded(12);
    k.reduceMaxBackward(dyp, ap, dx, 1, 4, 3);
    expect(Array.from(getF32(dx, 12))).toEqual([0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
    expectGuards(dx, 12, 'invalid argmax');
    free(dyp, ap, dx);
  });
});

describe('dot', () => {
  it('matches the float64 reference on awkward sizes', () => {
    const k = kernels();
    for (const n of [0, 1, 3, 4, 5, 7, 17, 1023, 4099, 100_003]) {
      const x = randomF32(n, n + 1), y = randomF32(n, n + 2);
      let want = 0, abs = 0;
      for (let i = 0; i < n; i++) { want += x[i] * y[i]; abs += Math.abs(x[i] * y[i]); }
      const xp = putF32(x), yp = putF32(y);
      const got = k.dot(xp, yp, n);
      expect(Math.abs(got - want), `n=${n}`).toBeLessThanOrEqual(4e-7 * abs + 1e-30);
      free(xp, yp);
    }
  });
});
