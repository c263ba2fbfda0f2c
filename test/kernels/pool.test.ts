// Pooling kernels vs direct loops over each window (f64), on awkward shapes: strides 1, 2
// and 3, padding 0 and 1, H != W, one and many planes, kernels 1x1 to 3x3 and non-square,
// windows hanging off every edge, planes too small for the SIMD interior and wide enough
// for it (including interiors that are not a multiple of 4 wide). Guard values past the
// outputs catch out-of-bounds writes.
import { describe, expect, it } from 'vitest';
import { kernels } from '../../bindings/index';
import { free, getF32, getI32, maxRelErr, putF32, putI32, randomF32 } from '../helpers/wasm';

interface Cfg { planes: number; H: number; W: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number }

const CFGS: Cfg[] = [
  { planes: 1, H: 4, W: 4, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 },
  { planes: 3, H: 14, W: 14, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 }, // 7x7 out: overlapping last vector
  { planes: 2, H: 14, W: 14, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
  { planes: 5, H: 7, W: 13, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
  { planes: 1, H: 9, W: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
  { planes: 4, H: 11, W: 23, kh: 2, kw: 3, sh: 1, sw: 2, ph: 1, pw: 1 },
  { planes: 2, H: 10, W: 31, kh: 3, kw: 2, sh: 2, sw: 1, ph: 0, pw: 1 },
  { planes: 3, H: 8, W: 29, kh: 3, kw: 3, sh: 3, sw: 3, ph: 1, pw: 1 },
  { planes: 1, H: 5, W: 17, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1 },
  { planes: 6, H: 3, W: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
  { planes: 2, H: 6, W: 40, kh: 1, kw: 1, sh: 1, sw: 2, ph: 0, pw: 0 },
  { planes: 1, H: 2, W: 2, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1 },
  { planes: 2, H: 9, W: 20, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0 },
  // 2x2 stride 2 (its own SIMD path): odd sizes, padding 1 (clipped top/bottom rows), wide rows
  { planes: 3, H: 7, W: 15, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 },
  { planes: 2, H: 9, W: 19, kh: 2, kw: 2, sh: 2, sw: 2, ph: 1, pw: 1 },
  { planes: 1, H: 6, W: 37, kh: 2, kw: 2, sh: 2, sw: 2, ph: 1, pw: 0 },
];

const GUARD = 6;
const GUARD_VALUE = 4242.5;

function outSize(c: Cfg): [number, number] {
  return [Math.floor((c.H + 2 * c.ph - c.kh) / c.sh) + 1, Math.floor((c.W + 2 * c.pw - c.kw) / c.sw) + 1];
}
function label(c: Cfg): string {
  return `planes ${c.planes}, ${c.H}x${c.W}, k ${c.kh}x${c.kw}, s ${c.sh},${c.sw}, p ${c.ph},${c.pw}`;
}

/** The in-image positions of window (oy, ox), row-major. */
function windowOf(c: Cfg, oy: number, ox: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.kh; i++) {
    const y = oy * c.sh - c.ph + i;
    if (y < 0 || y >= c.H) continue;
    for (let j = 0; j < c.kw; j++) {
      const x = ox * c.sw - c.pw + j;
      if (x >= 0 && x < c.W) out.push(y * c.W + x);
    }
  }
  return out;
}

function refMax(c: Cfg, x: ArrayLike<number>): { y: Float64Array; arg: Int32Array } {
  const [OH, OW] = outSize(c);
  const y = new Float64Array(c.planes * OH * OW);
  const arg = new Int32Array(y.length);
  for (let p = 0; p < c.planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const win = windowOf(c, oy, ox);
        let best = win[0];
        for (const k of win) if (x[p * c.H * c.W + k] > x[p * c.H * c.W + best]) best = k;
        const o = (p * OH + oy) * OW + ox;
        y[o] = x[p * c.H * c.W + best];
        arg[o] = best;
      }
    }
  }
  return { y, arg };
}

function refAvg(c: Cfg, x: ArrayLike<number>, include: boolean): Float64Array {
  const [OH, OW] = outSize(c);
  const y = new Float64Array(c.planes * OH * OW);
  for (let p = 0; p < c.planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const win = windowOf(c, oy, ox);
        let s = 0;
        for (const k of win) s += x[p * c.H * c.W + k];
        y[(p * OH + oy) * OW + ox] = s / (include ? c.kh * c.kw : win.length);
      }
    }
  }
  return y;
}

function refAvgBackward(c: Cfg, g: ArrayLike<number>, include: boolean): Float64Array {
  const [OH, OW] = outSize(c);
  const dx = new Float64Array(c.planes * c.H * c.W);
  for (let p = 0; p < c.planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const win = windowOf(c, oy, ox);
        const v = g[(p * OH + oy) * OW + ox] / (include ? c.kh * c.kw : win.length);
        for (const k of win) dx[p * c.H * c.W + k] += v;
      }
    }
  }
  return dx;
}

function guarded(n: number, fill = Number.NaN): number {
  const a = new Float32Array(n + GUARD).fill(GUARD_VALUE);
  a.fill(fill, 0, n);
  return putF32(a);
}
function expectGuards(ptr: number, n: number, what: string): void {
  expect(Array.from(getF32(ptr, n + GUARD).subarray(n)), `${what}: wrote past the end`).toEqual(new Array(GUARD).fill(GUARD_VALUE));
}

function runMax(c: Cfg, x: Float32Array): { y: Float32Array; arg: Int32Array } {
  const [OH, OW] = outSize(c);
  const n = c.planes * OH * OW;
  const xp = putF32(x);
  const yp = guarded(n);
  const ap = putI32(new Int32Array(n + GUARD).fill(-7));
  kernels().maxPool2d(xp, c.planes, c.H, c.W, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, OH, OW, yp, ap);
  expectGuards(yp, n, 'maxPool2d y');
  expect(Array.from(getI32(ap, n + GUARD).subarray(n))).toEqual(new Array(GUARD).fill(-7));
  const out = { y: getF32(yp, n), arg: getI32(ap, n) };
  free(xp, yp, ap);
  return out;
}

describe('maxPool2d kernel', () => {
  for (const c of CFGS) {
    it(label(c), () => {
      const x = randomF32(c.planes * c.H * c.W, 11 + c.W);
      const ref = refMax(c, x);
      const got = runMax(c, x);
      expect(Array.from(got.y)).toEqual(Array.from(ref.y, Math.fround));
      expect(Array.from(got.arg)).toEqual(Array.from(ref.arg));
    });
  }

  it('ties go to the first in-image element of the window (row-major), padding never wins', () => {
    for (const c of CFGS) {
      const x = new Float32Array(c.planes * c.H * c.W).fill(-3); // all equal and negative
      // plus some repeated maxima inside windows
      for (let i = 0; i < x.length; i += 5) x[i] = 2;
      const got = runMax(c, x);
      const ref = refMax(c, x);
      expect(Array.from(got.arg), label(c)).toEqual(Array.from(ref.arg));
      expect(Array.from(got.y), label(c)).toEqual(Array.from(ref.y));
    }
  });

  it('a plane of -Infinity still yields in-image argmax positions', () => {
    const c = CFGS[2];
    const x = new Float32Array(c.planes * c.H * c.W).fill(-Infinity);
    const got = runMax(c, x);
    expect(Array.from(got.arg)).toEqual(Array.from(refMax(c, x).arg));
  });

  it('NaN propagates (a window containing NaN gives NaN), in SIMD and border outputs', () => {
    const c = CFGS[2]; // 14x14, k3 s1 p1
    const x = randomF32(c.planes * c.H * c.W, 5);
    x[5 * c.W + 6] = Number.NaN; // interior
    x[0] = Number.NaN; // corner
    const got = runMax(c, x);
    const [, OW] = outSize(c);
    expect(Number.isNaN(got.y[5 * OW + 6])).toBe(true);
    expect(got.arg[5 * OW + 6]).toBe(5 * c.W + 6);
    expect(Number.isNaN(got.y[0])).toBe(true);
    expect(Number.isNaN(got.y[4 * OW + 6])).toBe(true); // window rows 3..5
    expect(Number.isNaN(got.y[10 * OW + 10])).toBe(false);
  });

  it('backward scatters dy to the argmax positions (and sums where windows share a maximum)', () => {
    for (const c of CFGS) {
      const [OH, OW] = outSize(c);
      const x = randomF32(c.planes * c.H * c.W, 3 + c.H);
      const { arg } = refMax(c, x);
      const g = randomF32(c.planes * OH * OW, 9);
      const ref = new Float64Array(c.planes * c.H * c.W);
      for (let p = 0; p < c.planes; p++) {
        for (let o = 0; o < OH * OW; o++) ref[p * c.H * c.W + arg[p * OH * OW + o]] += g[p * OH * OW + o];
      }
      const gp = putF32(g);
      const ap = putI32(arg);
      const dxp = guarded(ref.length, 77); // garbage: the kernel zeroes dx itself
      kernels().maxPool2dBackward(gp, ap, c.planes, c.H * c.W, OH * OW, dxp);
      expectGuards(dxp, ref.length, 'maxPool2dBackward dx');
      expect(maxRelErr(getF32(dxp, ref.length), ref), label(c)).toBeLessThan(1e-6);
      free(gp, ap, dxp);
    }
  });
});

describe('avgPool2d kernel', () => {
  for (const include of [true, false]) {
    for (const c of CFGS) {
      it(`${label(c)}, countIncludePad ${include}`, () => {
        const [OH, OW] = outSize(c);
        const n = c.planes * OH * OW;
        const x = randomF32(c.planes * c.H * c.W, 21 + c.H);
        const xp = putF32(x);
        const yp = guarded(n);
        kernels().avgPool2d(xp, c.planes, c.H, c.W, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, OH, OW, yp, include ? 1 : 0);
        expectGuards(yp, n, 'avgPool2d y');
        expect(maxRelErr(getF32(yp, n), refAvg(c, x, include))).toBeLessThan(1e-6);

        const g = randomF32(n, 31 + c.W);
        const gp = putF32(g);
        const dxp = guarded(c.planes * c.H * c.W, 5);
        kernels().avgPool2dBackward(gp, c.planes, c.H, c.W, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, OH, OW, dxp, include ? 1 : 0);
        expectGuards(dxp, c.planes * c.H * c.W, 'avgPool2dBackward dx');
        const dx = getF32(dxp, c.planes * c.H * c.W);
        expect(maxRelErr(dx, refAvgBackward(c, g, include))).toBeLessThan(1e-6);
        // Adjoint identity: <avgPool(x), g> == <x, avgPoolBackward(g)>.
        const y = getF32(yp, n);
        let lhs = 0, rhs = 0;
        for (let i = 0; i < n; i++) lhs += y[i] * g[i];
        for (let i = 0; i < x.length; i++) rhs += x[i] * dx[i];
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
        free(xp, yp, gp, dxp);
      });
    }
  }

  it('2x2 windows, stride 2, no padding (their own path): dx is dy/4 exactly, 0 where no window reaches, +0 for a -0 gradient', () => {
    for (const [H, W] of [[4, 4], [7, 15], [14, 14], [9, 8], [2, 3]]) {
      const planes = 3, OH = H >> 1, OW = W >> 1;
      const g = randomF32(planes * OH * OW, H * 31 + W);
      g[0] = -0;
      const gp = putF32(g);
      const dxp = guarded(planes * H * W, 5);
      kernels().avgPool2dBackward(gp, planes, H, W, 2, 2, 2, 2, 0, 0, OH, OW, dxp, 1);
      expectGuards(dxp, planes * H * W, 'avgPool2dBackward dx');
      const dx = getF32(dxp, planes * H * W);
      for (let p = 0; p < planes; p++) {
        for (let r = 0; r < H; r++) {
          for (let c = 0; c < W; c++) {
            const covered = r < 2 * OH && c < 2 * OW;
            const want = covered ? Math.fround(g[(p * OH + (r >> 1)) * OW + (c >> 1)] / 4) + 0 : 0;
            expect(Object.is(dx[(p * H + r) * W + c], want), `${H}x${W} plane ${p} (${r}, ${c})`).toBe(true);
          }
        }
      }
      free(gp, dxp);
    }
  });

  it('0 planes writes nothing', () => {
    const yp = guarded(0);
    kernels().avgPool2d(yp, 0, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, yp, 1);
    kernels().maxPool2d(yp, 0, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, yp, yp);
    expectGuards(yp, 0, 'empty');
    free(yp);
  });
});
