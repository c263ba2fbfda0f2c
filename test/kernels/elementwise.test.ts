// Elementwise kernels vs plain-JS references: every UnOp/BinOp, awkward sizes (SIMD tails),
// in-place use, scalar/row/column/strided broadcasting, the activation backwards, and the
// accuracy of the SIMD transcendental functions (exp over a dense sweep and special values).
// Outputs carry guard elements after n that must stay untouched.
import { describe, expect, it } from 'vitest';
import { BinOp, UnOp, f32, kernels } from '../../bindings/index';
import { blankF32, blankGuarded, expectGuards, free, getF32, maxRelErr, putF32, putGuarded, putI32, randomF32 } from '../helpers/wasm';

const f = Math.fround;
const SIZES = [0, 1, 3, 4, 5, 7, 17, 1023, 4099];

/** Exact f32 equality with NaN == NaN (and -0 == +0 unless signed). */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string, signedZero = false): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : signedZero ? Object.is(g, w) : g === w;
    if (!ok) expect.fail(`${what}: element ${i}: got ${g}, want ${w}`);
  }
}

/** Max relative error |g - w| / max(|w|, floor), NaN/Inf must match exactly. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-30): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || g === w)) return Infinity;
      continue;
    }
    const e = Math.abs(g - w) / Math.max(Math.abs(w), floor);
    if (e > m) m = e;
  }
  return m;
}

function scaled(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = randomF32(n, seed);
  for (let i = 0; i < n; i++) r[i] = f(lo + ((r[i] + 1) / 2) * (hi - lo));
  return r;
}

// ---- references ----------------------------------------------------------------------------

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

interface UnCase { op: UnOp; name: string; ref: (x: number) => number; lo: number; hi: number; exact: boolean }
const UNARY: UnCase[] = [
  { op: UnOp.Neg, name: 'neg', ref: (x) => -x, lo: -5, hi: 5, exact: true },
  { op: UnOp.Exp, name: 'exp', ref: Math.exp, lo: -20, hi: 20, exact: false },
  { op: UnOp.Log, name: 'log', ref: Math.log, lo: 1e-6, hi: 1e4, exact: false },
  { op: UnOp.Relu, name: 'relu', ref: (x) => (x < 0 ? 0 : x), lo: -3, hi: 3, exact: true },
  { op: UnOp.Sigmoid, name: 'sigmoid', ref: sigmoid, lo: -30, hi: 30, exact: false },
  { op: UnOp.Tanh, name: 'tanh', ref: Math.tanh, lo: -6, hi: 6, exact: false },
  { op: UnOp.Softplus, name: 'softplus', ref: softplus, lo: -30, hi: 30, exact: false },
  { op: UnOp.Sqrt, name: 'sqrt', ref: Math.sqrt, lo: 0, hi: 100, exact: true },
  { op: UnOp.Square, name: 'square', ref: (x) => x * x, lo: -50, hi: 50, exact: true },
  { op: UnOp.Abs, name: 'abs', ref: Math.abs, lo: -5, hi: 5, exact: true },
];
const UN_TOL = 1e-6;

const BINARY: { op: BinOp; name: string; ref: (a: number, b: number) => number }[] = [
  { op: BinOp.Add, name: 'add', ref: (a, b) => a + b },
  { op: BinOp.Sub, name: 'sub', ref: (a, b) => a - b },
  { op: BinOp.Mul, name: 'mul', ref: (a, b) => a * b },
  { op: BinOp.Div, name: 'div', ref: (a, b) => a / b },
  { op: BinOp.Max, name: 'max', ref: Math.max },
  { op: BinOp.Min, name: 'min', ref: Math.min },
];
// f64 add/sub/mul/div of two f32s, rounded once to f32, is the correctly rounded f32 result.
const binRef = (ref: (a: number, b: number) => number) => (a: number, b: number): number => f(ref(a, b));

// ---- unary ---------------------------------------------------------------------------------

describe('unary', () => {
  for (const c of UNARY) {
    it(`${c.name} matches the reference on all sizes, out of place and in place`, () => {
      const k = kernels();
      for (const n of SIZES) {
        const x = scaled(n, 11 + n, c.lo, c.hi);
        const want = Float32Array.from(x, (v) => f(c.ref(v)));
        const xp = putF32(x);
        const out = blankGuarded(n);
        k.unary(c.op, xp, out, n);
        const got = getF32(out, n);
        if (c.exact) expectSame(got, want, `${c.name} n=${n}`);
        else expect(relErr(got, want), `${c.name} n=${n}`).toBeLessThanOrEqual(UN_TOL);
        expectGuards(out, n, `${c.name} n=${n}`);
        // In place: out == x.
        const ip = putGuarded(x);
        k.unary(c.op, ip, ip, n);
        expectSame(getF32(ip, n), got, `${c.name} in place n=${n}`);
        expectGuards(ip, n, `${c.name} in place n=${n}`);
        free(xp, out, ip);
      }
    });
  }

  /** Runs unary op on the given values and returns the f32 results. */
  function run(op: UnOp, xs: ArrayLike<number>): Float32Array {
    const k = kernels();
    const xp = putF32(xs);
    const out = blankF32(xs.length);
    k.unary(op, xp, out, xs.length);
    const got = getF32(out, xs.length);
    free(xp, out);
    return got;
  }

  it('exp: max relative error <= 1e-6 over 200k points in [-87, 88]', () => {
    const N = 200_000;
    const xs = new Float32Array(N);
    for (let i = 0; i < N; i++) xs[i] = f(-87 + (175 * i) / (N - 1));
    const got = run(UnOp.Exp, xs);
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const w = Math.exp(xs[i]);
      worst = Math.max(worst, Math.abs(got[i] - w) / w);
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('exp: special values, overflow to +Inf, underflow through subnormals to 0', () => {
    const xs = [0, -0, Infinity, -Infinity, NaN, -100, 100, 88.7, 88.8, -87.5, -103, -104, -200, 1e-30, -1e-30];
    const got = run(UnOp.Exp, xs);
    const want = xs.map((x) => f(Math.exp(f(x))));
    for (let i = 0; i < xs.length; i++) {
      if (Number.isNaN(want[i])) expect(got[i], `exp(${xs[i]})`).toBeNaN();
      else if (!Number.isFinite(want[i]) || want[i] === 0) expect(got[i], `exp(${xs[i]})`).toBe(want[i]);
      // Subnormal results: within one subnormal step; normal ones: 1e-6 relative.
      else expect(Math.abs(got[i] - want[i]), `exp(${xs[i]})`).toBeLessThanOrEqual(Math.max(1e-6 * want[i], 1.5e-45));
    }
    expect(got[0]).toBe(1);
    expect(got[2]).toBe(Infinity);
    expect(got[3]).toBe(0);
  });

  it('log: accurate from subnormals to FLT_MAX; log(0) = -Inf, log(x < 0) = NaN', () => {
    const xs: number[] = [];
    for (let e = -149; e <= 127; e += 0.37) xs.push(f(2 ** e));
    for (let i = 0; i < 1000; i++) xs.push(f(0.5 + i / 1000)); // around 1, where log is small
    const got = run(UnOp.Log, xs);
    expect(relErr(got, xs.map(Math.log), 1e-30)).toBeLessThanOrEqual(1e-6);
    const sp = run(UnOp.Log, [0, -0, -1, -Infinity, Infinity, NaN, 1, 3.4028234663852886e38]);
    expectSame(sp.subarray(0, 7), [-Infinity, -Infinity, NaN, NaN, Infinity, NaN, 0], 'log specials');
    expect(Math.abs(sp[7] - Math.log(3.4028234663852886e38))).toBeLessThan(1e-4);
  });

  it('sigmoid, tanh, softplus: accurate near 0, stable and exact limits for large |x|', () => {
    const xs = [0, -0, 1e-20, -1e-20, 1e-5, -1e-5, 0.3, -0.62, 0.63, -5, 20, -20, -80, 80, -100, 100, -1e4, 1e4, Infinity, -Infinity, NaN];
    for (const [op, ref, name] of [[UnOp.Sigmoid, sigmoid, 'sigmoid'], [UnOp.Tanh, Math.tanh, 'tanh'], [UnOp.Softplus, softplus, 'softplus']] as const) {
      const got = run(op, xs);
      const want = xs.map((x) => f(ref(x)));
      for (let i = 0; i < xs.length; i++) {
        const what = `${name}(${xs[i]})`;
        if (Number.isNaN(want[i])) { expect(got[i], what).toBeNaN(); continue; }
        if (!Number.isFinite(want[i])) { expect(got[i], what).toBe(want[i]); continue; }
        // Results below the normal range only need to be tiny (subnormal rounding).
        const tol = Math.max(1e-6 * Math.abs(want[i]), 1e-43);
        expect(Math.abs(got[i] - want[i]), what).toBeLessThanOrEqual(tol);
      }
    }
    // tanh keeps the sign of zero and is odd.
    const t = run(UnOp.Tanh, [-0, 0, -0.3, 0.3, -3, 3]);
    expect(Object.is(t[0], -0)).toBe(true);
    expect(t[2]).toBe(-t[3]);
    expect(t[4]).toBe(-t[5]);
  });

  it('sigmoid, tanh, softplus, log: dense sweeps within 1e-6 relative', () => {
    const N = 20_000;
    const sweep = (lo: number, hi: number): Float32Array => Float32Array.from({ length: N }, (_, i) => f(lo + ((hi - lo) * i) / (N - 1)));
    const cases: [UnOp, (x: number) => number, Float32Array][] = [
      [UnOp.Sigmoid, sigmoid, sweep(-87, 40)],
      [UnOp.Tanh, Math.tanh, sweep(-10, 10)],
      [UnOp.Tanh, Math.tanh, sweep(-1e-3, 1e-3)],
      [UnOp.Softplus, softplus, sweep(-87, 88)],
      [UnOp.Log, Math.log, sweep(1e-3, 10)],
    ];
    for (const [op, ref, xs] of cases) {
      expect(relErr(run(op, xs), Array.from(xs, ref)), `op ${op}`).toBeLessThanOrEqual(1e-6);
    }
  });
});

// ---- binary --------------------------------------------------------------------------------

describe('binary', () => {
  function operands(n: number, seed: number): [Float32Array, Float32Array] {
    const a = scaled(n, seed, -4, 4);
    const b = scaled(n, seed + 1000, -4, 4);
    // Some equal elements, zeros of both signs and a NaN to exercise max/min semantics.
    if (n > 2) { b[1] = a[1]; a[2] = 0; b[2] = -0; }
    if (n > 16) { a[16] = NaN; }
    return [a, b];
  }

  for (const c of BINARY) {
    it(`${c.name}: all sizes, out of place and in place on either input`, () => {
      const k = kernels();
      const ref = binRef(c.ref);
      for (const n of SIZES) {
        const [a, b] = operands(n, 3 + n);
        const want = a.map((v, i) => ref(v, b[i]));
        const ap = putF32(a), bp = putF32(b), out = blankGuarded(n);
        k.binary(c.op, ap, bp, out, n);
        expectSame(getF32(out, n), want, `${c.name} n=${n}`);
        expectGuards(out, n, `${c.name} n=${n}`);
        const ia = putGuarded(a);
        k.binary(c.op, ia, bp, ia, n);
        expectSame(getF32(ia, n), want, `${c.name} in place (a) n=${n}`);
        expectGuards(ia, n, `${c.name} in place (a)`);
        const ib = putGuarded(b);
        k.binary(c.op, ap, ib, ib, n);
        expectSame(getF32(ib, n), want, `${c.name} in place (b) n=${n}`);
        free(ap, bp, out, ia, ib);
      }
    });
  }

  it('max/min follow Math.max/Math.min for NaN and signed zeros', () => {
    const k = kernels();
    const a = [NaN, 1, -0, 0, -0, Infinity, -Infinity];
    const b = [1, NaN, 0, -0, -0, NaN, 5];
    for (const [op, ref] of [[BinOp.Max, Math.max], [BinOp.Min, Math.min]] as const) {
      const ap = putF32(a), bp = putF32(b), out = blankF32(a.length);
      k.binary(op, ap, bp, out, a.length);
      expectSame(getF32(out, a.length), a.map((v, i) => ref(v, b[i])), `op ${op}`, true);
      free(ap, bp, out);
    }
  });

  it('binaryScalar: every op, both orders, all sizes, in place', () => {
    const k = kernels();
    for (const c of BINARY) {
      const ref = binRef(c.ref);
      for (const s of [0.75, -3]) {
        for (const reverse of [0, 1]) {
          for (const n of SIZES) {
            const a = scaled(n, 7 + n, -4, 4);
            const want = a.map((v) => (reverse ? ref(f(s), v) : ref(v, f(s))));
            const ap = putF32(a), out = blankGuarded(n);
            k.binaryScalar(c.op, ap, s, out, n, reverse);
            const what = `${c.name} s=${s} reverse=${reverse} n=${n}`;
            expectSame(getF32(out, n), want, what);
            expectGuards(out, n, what);
            k.binaryScalar(c.op, ap, s, ap, n, reverse);
            expectSame(getF32(ap, n), want, `${what} in place`);
            free(ap, out);
          }
        }
      }
    }
  });

  const SHAPES: [number, number][] = [[1, 1], [1, 7], [7, 1], [3, 5], [7, 13], [64, 10], [129, 33], [5, 4], [2, 1023]];

  it('binaryRow: a[r,c] op b[c], both orders, every op, in place', () => {
    const k = kernels();
    for (const c of BINARY) {
      const ref = binRef(c.ref);
      for (const [rows, cols] of SHAPES) {
        for (const reverse of [0, 1]) {
          const a = scaled(rows * cols, rows * 31 + cols, -4, 4);
          const b = scaled(cols, cols + 5, -4, 4);
          const want = a.map((v, i) => (reverse ? ref(b[i % cols], v) : ref(v, b[i % cols])));
          const ap = putF32(a), bp = putF32(b), out = blankGuarded(rows * cols);
          k.binaryRow(c.op, ap, bp, out, rows, cols, reverse);
          const what = `${c.name} ${rows}x${cols} reverse=${reverse}`;
          expectSame(getF32(out, rows * cols), want, what);
          expectGuards(out, rows * cols, what);
          k.binaryRow(c.op, ap, bp, ap, rows, cols, reverse);
          expectSame(getF32(ap, rows * cols), want, `${what} in place`);
          free(ap, bp, out);
        }
      }
    }
  });

  it('binaryCol: a[r,c] op b[r], both orders, every op, in place', () => {
    const k = kernels();
    for (const c of BINARY) {
      const ref = binRef(c.ref);
      for (const [rows, cols] of SHAPES) {
        for (const reverse of [0, 1]) {
          const a = scaled(rows * cols, rows * 17 + cols, -4, 4);
          const b = scaled(rows, rows + 9, -4, 4);
          const want = a.map((v, i) => {
            const r = Math.floor(i / cols);
            return reverse ? ref(b[r], v) : ref(v, b[r]);
          });
          const ap = putF32(a), bp = putF32(b), out = blankGuarded(rows * cols);
          k.binaryCol(c.op, ap, bp, out, rows, cols, reverse);
          const what = `${c.name} ${rows}x${cols} reverse=${reverse}`;
          expectSame(getF32(out, rows * cols), want, what);
          expectGuards(out, rows * cols, what);
          k.binaryCol(c.op, ap, bp, ap, rows, cols, reverse);
          expectSame(getF32(ap, rows * cols), want, `${what} in place`);
          free(ap, bp, out);
        }
      }
    }
  });

  it('row/col kernels with zero rows or columns write nothing', () => {
    const k = kernels();
    const ap = putF32([1, 2, 3]), bp = putF32([1, 2, 3]), out = blankGuarded(0);
    k.binaryRow(BinOp.Add, ap, bp, out, 0, 3, 0);
    k.binaryRow(BinOp.Add, ap, bp, out, 3, 0, 0);
    k.binaryCol(BinOp.Add, ap, bp, out, 0, 3, 1);
    k.binaryCol(BinOp.Add, ap, bp, out, 3, 0, 1);
    expectGuards(out, 0, 'empty row/col');
    free(ap, bp, out);
  });
});

// ---- strided broadcasting --------------------------------------------------------------------

describe('binaryStrided', () => {
  /** Dense row-major strides of a shape. */
  const dense = (shape: number[]): number[] => {
    const s = new Array(shape.length).fill(1);
    for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
    return s;
  };
  /** Strides for reading an input of shape `inShape` (same rank, 1 = broadcast) as `outShape`. */
  const bcast = (inShape: number[], outShape: number[]): number[] => {
    const s = dense(inShape);
    return outShape.map((n, d) => (inShape[d] === 1 && n !== 1 ? 0 : s[d]));
  };
  const size = (shape: number[]): number => shape.reduce((p, n) => p * n, 1);

  function reference(op: (a: number, b: number) => number, a: Float32Array, b: Float32Array, shape: number[], sa: number[], sb: number[]): Float32Array {
    const n = size(shape);
    const out = new Float32Array(n);
    const idx = new Array(shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let ia = 0, ib = 0;
      for (let d = 0; d < shape.length; d++) { ia += idx[d] * sa[d]; ib += idx[d] * sb[d]; }
      out[i] = f(op(a[ia], b[ib]));
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  /** Runs and checks one case; aLen/bLen are the input buffer sizes. */
  function check(opc: BinOp, ref: (a: number, b: number) => number, shape: number[], sa: number[], sb: number[], aLen: number, bLen: number, what: string): void {
    const k = kernels();
    const a = scaled(aLen, aLen + 3, -4, 4);
    const b = scaled(bLen, bLen + 77, 0.5, 4);
    const want = reference(ref, a, b, shape, sa, sb);
    const n = want.length;
    const ap = putF32(a), bp = putF32(b), out = blankGuarded(n);
    const shp = putI32(shape), sap = putI32(sa), sbp = putI32(sb);
    k.binaryStrided(opc, ap, bp, out, shape.length, shp, sap, sbp);
    expectSame(getF32(out, n), want, what);
    expectGuards(out, n, what);
    free(ap, bp, out, shp, sap, sbp);
  }

  const CASES: { name: string; out: number[]; a: number[]; b: number[] }[] = [
    { name: 'same shape 3-d', out: [3, 5, 7], a: [3, 5, 7], b: [3, 5, 7] },
    { name: 'channel bias [N,C,H,W] + [1,C,1,1]', out: [2, 3, 4, 5], a: [2, 3, 4, 5], b: [1, 3, 1, 1] },
    { name: 'broadcast in a middle dim', out: [2, 7, 3, 5], a: [2, 1, 3, 5], b: [2, 7, 3, 5] },
    { name: 'both broadcast, different dims', out: [3, 4, 5], a: [3, 1, 5], b: [1, 4, 5] },
    { name: 'outer product', out: [6, 9], a: [6, 1], b: [1, 9] },
    { name: 'a broadcast on the last dim', out: [5, 6], a: [5, 1], b: [5, 6] },
    { name: 'b is a scalar', out: [4, 3, 2], a: [4, 3, 2], b: [1, 1, 1] },
    { name: 'a is a scalar', out: [3, 17], a: [1, 1], b: [3, 17] },
    { name: 'size-1 dims inside', out: [2, 1, 3, 1, 5], a: [2, 1, 3, 1, 5], b: [1, 1, 3, 1, 1] },
    { name: '4-d with broadcast in two middle dims', out: [3, 4, 5, 6], a: [3, 1, 1, 6], b: [3, 4, 5, 6] },
    { name: 'long inner run', out: [2, 1031], a: [2, 1031], b: [1, 1031] },
    { name: '1-d', out: [13], a: [13], b: [13] },
  ];

  for (const c of CASES) {
    it(`${c.name}: every op, both operand orders`, () => {
      for (const op of BINARY) {
        check(op.op, op.ref, c.out, bcast(c.a, c.out), bcast(c.b, c.out), size(c.a), size(c.b), `${op.name} ${c.name}`);
        check(op.op, op.ref, c.out, bcast(c.b, c.out), bcast(c.a, c.out), size(c.b), size(c.a), `${op.name} ${c.name} swapped`);
      }
    });
  }

  it('reads transposed (non-contiguous) inputs through their strides', () => {
    // a is a [4,6] view of a [6,4] buffer (transposed); b is dense.
    check(BinOp.Sub, (x, y) => x - y, [4, 6], [1, 4], [6, 1], 24, 24, 'transposed a');
    // Both transposed, 3-d: [2,3,4] read with permuted strides.
    check(BinOp.Mul, (x, y) => x * y, [2, 3, 4], [1, 2, 6], [12, 1, 3], 24, 24, 'permuted 3-d');
  });

  it('0-d is a single element; a zero-size dim writes nothing', () => {
    check(BinOp.Div, (x, y) => x / y, [], [], [], 1, 1, '0-d');
    const k = kernels();
    const ap = putF32([1, 2]), bp = putF32([3, 4]), out = blankGuarded(0);
    const shp = putI32([2, 0, 3]), s = putI32([0, 0, 0]);
    k.binaryStrided(BinOp.Add, ap, bp, out, 3, shp, s, s);
    expectGuards(out, 0, 'zero-size');
    free(ap, bp, out, shp, s);
  });
});

// ---- activations and their backwards -------------------------------------------------------

describe('activation kernels', () => {
  it('leakyRelu and leakyReluBackward (x = 0 takes the x >= 0 branch), in place', () => {
    const k = kernels();
    for (const slope of [0.01, 0.2, 0]) {
      for (const n of SIZES) {
        const x = scaled(n, 5 + n, -3, 3);
        if (n > 3) { x[0] = 0; x[3] = -0; }
        const dy = scaled(n, 50 + n, -2, 2);
        const s = f(slope);
        const wantY = x.map((v) => (v >= 0 ? v : f(s * v)));
        const wantDx = x.map((v, i) => f(dy[i] * (v >= 0 ? 1 : s)));
        const xp = putF32(x), dyp = putF32(dy), out = blankGuarded(n), dx = blankGuarded(n);
        k.leakyRelu(xp, out, n, slope);
        expectSame(getF32(out, n), wantY, `leakyRelu slope=${slope} n=${n}`);
        expectGuards(out, n, 'leakyRelu');
        k.leakyReluBackward(xp, dyp, dx, n, slope);
        expectSame(getF32(dx, n), wantDx, `leakyReluBackward slope=${slope} n=${n}`);
        expectGuards(dx, n, 'leakyReluBackward');
        k.leakyReluBackward(xp, dyp, dyp, n, slope);
        expectSame(getF32(dyp, n), wantDx, 'leakyReluBackward in place');
        k.leakyRelu(xp, xp, n, slope);
        expectSame(getF32(xp, n), wantY, 'leakyRelu in place');
        free(xp, dyp, out, dx);
      }
    }
  });

  it('reluBackward passes dy only where x > 0', () => {
    const k = kernels();
    for (const n of SIZES) {
      const x = scaled(n, 8 + n, -3, 3);
      if (n > 2) { x[1] = 0; x[2] = -0; }
      const dy = scaled(n, 80 + n, -2, 2);
      const want = x.map((v, i) => f(dy[i] * (v > 0 ? 1 : 0)));
      const xp = putF32(x), dyp = putF32(dy), dx = blankGuarded(n);
      k.reluBackward(xp, dyp, dx, n);
      expectSame(getF32(dx, n), want, `reluBackward n=${n}`);
      expectGuards(dx, n, 'reluBackward');
      k.reluBackward(xp, dyp, dyp, n);
      expectSame(getF32(dyp, n), want, 'reluBackward in place');
      free(xp, dyp, dx);
    }
  });

  it('sigmoidBackward, tanhBackward, softplusBackward', () => {
    const k = kernels();
    for (const n of SIZES) {
      const x = scaled(n, 9 + n, -8, 8);
      const dy = scaled(n, 90 + n, -2, 2);
      const ys = x.map((v) => f(sigmoid(v)));
      const yt = x.map((v) => f(Math.tanh(v)));
      const cases: [string, (a: number, b: number, c: number, d: number) => void, Float32Array, Float32Array][] = [
        ['sigmoidBackward', k.sigmoidBackward, ys, ys.map((y, i) => dy[i] * y * (1 - y))],
        ['tanhBackward', k.tanhBackward, yt, yt.map((y, i) => dy[i] * (1 - y * y))],
        ['softplusBackward', k.softplusBackward, x, x.map((v, i) => dy[i] * sigmoid(v))],
      ];
      for (const [name, fn, input, want] of cases) {
        const ip = putF32(input), dyp = putF32(dy), dx = blankGuarded(n);
        fn(ip, dyp, dx, n);
        const got = getF32(dx, n);
        // Absolute error relative to |dy| (the factors are <= 1 in magnitude).
        let bad = -1;
        for (let i = 0; i < n && bad < 0; i++) {
          if (!(Math.abs(got[i] - want[i]) <= 1e-6 * Math.abs(dy[i]) + 1e-7 * Math.abs(want[i]))) bad = i;
        }
        expect(bad, `${name} n=${n}: first bad element ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
        expectGuards(dx, n, name);
        fn(ip, dyp, dyp, n);
        expectSame(getF32(dyp, n), got, `${name} in place`);
        free(ip, dyp, dx);
      }
    }
  });
});

// ---- memory-ish kernels --------------------------------------------------------------------

describe('fill, copy, axpy, countNonFinite, i32ToF32', () => {
  it('fill and copy', () => {
    const k = kernels();
    for (const n of SIZES) {
      const p = blankGuarded(n);
      k.fill(p, -2.5, n);
      expectSame(getF32(p, n), new Float32Array(n).fill(-2.5), `fill n=${n}`);
      expectGuards(p, n, 'fill');
      const src = putF32(randomF32(n, n + 1));
      const dst = blankGuarded(n);
      k.copy(src, dst, n);
      expectSame(getF32(dst, n), randomF32(n, n + 1), `copy n=${n}`);
      expectGuards(dst, n, 'copy');
      free(p, src, dst);
    }
  });

  it('axpy: y += alpha * x', () => {
    const k = kernels();
    for (const n of SIZES) {
      for (const alpha of [1, -0.37, 0]) {
        const x = randomF32(n, n + 2), y = randomF32(n, n + 3);
        const want = y.map((v, i) => v + f(alpha) * x[i]);
        const xp = putF32(x), yp = putGuarded(y);
        k.axpy(alpha, xp, yp, n);
        // The relaxed build fuses the multiply-add: allow an ulp-level difference.
        expect(maxRelErr(getF32(yp, n), want), `axpy n=${n} alpha=${alpha}`).toBeLessThan(3e-7);
        expectGuards(yp, n, 'axpy');
        free(xp, yp);
      }
    }
  });

  it('countNonFinite counts NaN and +-Inf anywhere, including the tail', () => {
    const k = kernels();
    for (const n of SIZES) {
      const x = randomF32(n, n + 4);
      let want = 0;
      for (let i = 0; i < n; i += 3) {
        x[i] = [NaN, Infinity, -Infinity][i % 3 === 0 ? (i / 3) % 3 : 0];
        want++;
      }
      if (n > 1) x[n - 1] = 3.4028234663852886e38; // FLT_MAX is finite
      if (n > 1 && (n - 1) % 3 === 0) want--;
      const p = putF32(x);
      expect(k.countNonFinite(p, n), `n=${n}`).toBe(want);
      free(p);
    }
  });

  it('i32ToF32 rounds like Math.fround', () => {
    const k = kernels();
    for (const n of SIZES) {
      const x = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0);
      if (n > 4) { x[0] = 2147483647; x[1] = -2147483648; x[2] = 16777217; x[3] = -16777217; }
      const p = putI32(x), out = blankGuarded(n);
      k.i32ToF32(p, out, n);
      expectSame(getF32(out, n), Float32Array.from(x, (v) => f(v)), `i32ToF32 n=${n}`);
      expectGuards(out, n, 'i32ToF32');
      free(p, out);
    }
  });
});
