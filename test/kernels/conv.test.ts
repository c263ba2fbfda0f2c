// im2col / col2im kernels vs plain-JS references on awkward shapes (strides 1, 2, 3, 5,
// padding 0..3 and larger than the kernel, H != W, one and many channels, 1x1 and
// non-square kernels, outputs larger than the symmetric padding implies, pointers that are
// not 16-byte aligned), plus the adjoint identity <im2col(x), c> = <x, col2im(c)>.
import { describe, expect, it } from 'vitest';
import { kernels, runtime } from '../../bindings/index';
import { conv2dNaive, convTranspose2dNaive } from '../../src/ops/conv-reference';
import { blankF32, free, getF32, putF32, randomF32 } from '../helpers/wasm';

interface Geo {
  C: number; H: number; W: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; OH: number; OW: number;
}

/** Output size for symmetric padding; `extra` rows/cols beyond it (asymmetric 'same'). */
function geo(C: number, H: number, W: number, kh: number, kw: number, s: [number, number], p: [number, number], extra = 0): Geo {
  const [sh, sw] = s;
  const [ph, pw] = p;
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1 + extra;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1 + extra;
  return { C, H, W, kh, kw, sh, sw, ph, pw, OH, OW };
}

const CASES: [string, Geo][] = [
  ['1x1 kernel, one channel', geo(1, 5, 7, 1, 1, [1, 1], [0, 0])],
  ['3x3 same, stride 1', geo(3, 7, 9, 3, 3, [1, 1], [1, 1])],
  ['3x3 same, 28x28 (long rows)', geo(2, 28, 28, 3, 3, [1, 1], [1, 1])],
  ['3x3, stride 2, padding 1', geo(4, 9, 11, 3, 3, [2, 2], [1, 1])],
  ['3x3, stride 2, no padding, wide rows', geo(2, 5, 37, 3, 3, [2, 2], [0, 0])],
  ['5x3 kernel, padding 2x1', geo(3, 8, 6, 5, 3, [1, 1], [2, 1])],
  ['5x3 kernel, stride 2x1, padding 2x0', geo(2, 10, 13, 5, 3, [2, 1], [2, 0])],
  ['stride 3, padding 2', geo(3, 11, 10, 3, 3, [3, 3], [2, 2])],
  ['stride 1x3, padding 0x1', geo(2, 6, 17, 2, 4, [1, 3], [0, 1])],
  ['stride 5 larger than the kernel', geo(2, 13, 12, 3, 2, [5, 5], [1, 1])],
  ['padding larger than the kernel', geo(2, 4, 5, 2, 3, [1, 2], [3, 3])],
  ['kernel covers the whole padded input', geo(3, 3, 4, 5, 6, [1, 1], [1, 1])],
  ['even kernel, asymmetric same (one extra row/col)', geo(3, 7, 6, 4, 2, [1, 1], [1, 0], 1)],
  ['stride 2 with an extra output column past the image', geo(2, 6, 9, 3, 3, [2, 2], [1, 1], 1)],
  ['many channels, 14x14', geo(17, 14, 14, 3, 3, [1, 1], [1, 1])],
  ['5x3 same on a 2-row image (kernel rows entirely outside)', geo(2, 2, 9, 5, 3, [1, 1], [2, 1])],
  ['7x7 same on a 1-row image', geo(1, 1, 6, 7, 7, [1, 1], [3, 3])],
  ['stride 1, padding wider than the kernel', geo(2, 5, 6, 3, 3, [1, 1], [3, 2])],
];

function refIm2col(x: Float32Array, g: Geo): Float64Array {
  const P = g.OH * g.OW;
  const col = new Float64Array(g.C * g.kh * g.kw * P);
  for (let c = 0; c < g.C; c++) {
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const r = (c * g.kh + i) * g.kw + j;
        for (let oy = 0; oy < g.OH; oy++) {
          for (let ox = 0; ox < g.OW; ox++) {
            const iy = oy * g.sh - g.ph + i;
            const ix = ox * g.sw - g.pw + j;
            const inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
            col[r * P + oy * g.OW + ox] = inside ? x[(c * g.H + iy) * g.W + ix] : 0;
          }
        }
      }
    }
  }
  return col;
}

function refCol2im(col: Float32Array, x0: Float32Array, g: Geo): Float64Array {
  const P = g.OH * g.OW;
  const x = Float64Array.from(x0);
  for (let c = 0; c < g.C; c++) {
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const r = (c * g.kh + i) * g.kw + j;
        for (let oy = 0; oy < g.OH; oy++) {
          for (let ox = 0; ox < g.OW; ox++) {
            const iy = oy * g.sh - g.ph + i;
            const ix = ox * g.sw - g.pw + j;
            if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) x[(c * g.H + iy) * g.W + ix] += col[r * P + oy * g.OW + ox];
          }
        }
      }
    }
  }
  return x;
}

const SENTINEL = 4321.25;
const GUARD = 5; // sentinel floats before and after each array

/** Puts `data` at an element offset `off` inside a block guarded by sentinels; returns [block, ptr]. */
function guarded(data: Float32Array, off: number): [number, number] {
  const buf = new Float32Array(GUARD + off + data.length + GUARD).fill(SENTINEL);
  buf.set(data, GUARD + off);
  const block = putF32(buf);
  return [block, block + (GUARD + off) * 4];
}
function guardsIntact(block: number, off: number, n: number): boolean {
  const all = getF32(block, GUARD + off + n + GUARD);
  for (let i = 0; i < GUARD + off; i++) if (all[i] !== SENTINEL) return false;
  for (let i = GUARD + off + n; i < all.length; i++) if (all[i] !== SENTINEL) return false;
  return true;
}

function run(g: Geo, k: ReturnType<typeof kernels>, fn: 'im2col' | 'col2im', src: number, dst: number): void {
  k[fn](src, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, dst);
}

describe('im2col kernel', () => {
  for (const [name, g] of CASES) {
    for (const off of [0, 1]) {
      it(`${name} [C=${g.C} ${g.H}x${g.W} k=${g.kh}x${g.kw} s=${g.sh},${g.sw} p=${g.ph},${g.pw} -> ${g.OH}x${g.OW}]${off ? ', unaligned' : ''}`, () => {
        const nx = g.C * g.H * g.W;
        const ncol = g.C * g.kh * g.kw * g.OH * g.OW;
        const x = randomF32(nx, 11 + g.H * 7 + g.C);
        const [xb, xp] = guarded(x, off);
        const [cb, cp] = guarded(new Float32Array(ncol).fill(Number.NaN), off);
        run(g, kernels(), 'im2col', xp, cp);
        const got = getF32(cp, ncol);
        const ref = refIm2col(x, g);
        let bad = -1;
        for (let i = 0; i < ncol; i++) if (got[i] !== ref[i]) { bad = i; break; }
        expect(bad).toBe(-1); // exact: im2col only copies
        expect(guardsIntact(cb, off, ncol)).toBe(true);
        expect(guardsIntact(xb, off, nx)).toBe(true);
        expect(Array.from(getF32(xp, nx))).toEqual(Array.from(x));
        free(xb, cb);
      });
    }
  }
});

describe('col2im kernel', () => {
  for (const [name, g] of CASES) {
    for (const off of [0, 1]) {
      it(`${name}${off ? ', unaligned' : ''}: accumulates onto x`, () => {
        const nx = g.C * g.H * g.W;
        const ncol = g.C * g.kh * g.kw * g.OH * g.OW;
        const col = randomF32(ncol, 5 + g.W * 3 + g.kh);
        const x0 = randomF32(nx, 99 + g.C);
        const [cb, cp] = guarded(col, off);
        const [xb, xp] = guarded(x0, off);
        run(g, kernels(), 'col2im', cp, xp);
        const got = getF32(xp, nx);
        const ref = refCol2im(col, x0, g);
        let err = 0;
        for (let i = 0; i < nx; i++) err = Math.max(err, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
        expect(err).toBeLessThan(1e-5);
        expect(guardsIntact(xb, off, nx)).toBe(true);
        expect(guardsIntact(cb, off, ncol)).toBe(true);
        free(xb, cb);
      });
    }
  }
});

describe('col2im is the adjoint of im2col', () => {
  for (const [name, g] of CASES) {
    it(`<im2col(x), c> == <x, col2im(c)>: ${name}`, () => {
      const k = kernels();
      const nx = g.C * g.H * g.W;
      const ncol = g.C * g.kh * g.kw * g.OH * g.OW;
      const x = randomF32(nx, 3 + nx);
      const c = randomF32(ncol, 7 + ncol);
      const xp = putF32(x);
      const cp = putF32(c);
      const colOut = blankF32(ncol);
      const xOut = blankF32(nx, 0);
      run(g, k, 'im2col', xp, colOut);
      run(g, k, 'col2im', cp, xOut);
      const ax = getF32(colOut, ncol);
      const bx = getF32(xOut, nx);
      let lhs = 0, rhs = 0, scale = 0;
      for (let i = 0; i < ncol; i++) { lhs += ax[i] * c[i]; scale += Math.abs(ax[i] * c[i]); }
      for (let i = 0; i < nx; i++) rhs += x[i] * bx[i];
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
      free(xp, cp, colOut, xOut);
    });
  }

  it('handles empty outputs and zero channels without touching memory', () => {
    const k = kernels();
    const [xb, xp] = guarded(randomF32(12, 1), 0);
    const [cb, cp] = guarded(new Float32Array(0), 0);
    k.im2col(xp, 0, 3, 4, 3, 3, 1, 1, 1, 1, 3, 4, cp);
    k.im2col(xp, 1, 3, 4, 3, 3, 1, 1, 1, 1, 0, 0, cp);
    k.col2im(cp, 1, 3, 4, 3, 3, 1, 1, 1, 1, 0, 0, xp);
    expect(guardsIntact(cb, 0, 0)).toBe(true);
    expect(guardsIntact(xb, 0, 12)).toBe(true);
    free(xb, cb);
  });
});

// conv2dDirect: stride-1 convolution of a batch straight from the images (few taps), vs
// conv2d's f64 reference loop (src/ops/conv.ts); every stride-1 geometry above plus the first-layer shape, with F around the
// kernel's groups of 4 filters, bias or not, unaligned pointers, and guards around y and
// the scratch block (its size is exactly conv2dDirectWorkBytes).
function refConv(x: Float32Array, w: Float32Array, bias: Float32Array | null, N: number, F: number, g: Geo): { y: Float64Array; mag: Float64Array } {
  const r = conv2dNaive({ shape: [N, g.C, g.H, g.W], data: x }, { shape: [F, g.C, g.kh, g.kw], data: w }, bias && { shape: [F], data: bias },
    { stride: [1, 1], padding: [g.ph, g.pw], out: [g.OH, g.OW] });
  return { y: r.y, mag: r.abs };
}

const DIRECT_CASES: [string, Geo][] = [
  ...CASES.filter(([, g]) => g.sh === 1 && g.sw === 1),
  ['first layer, 1x28x28 3x3 same', geo(1, 28, 28, 3, 3, [1, 1], [1, 1])],
  ['one output column', geo(2, 5, 3, 3, 3, [1, 1], [0, 0])],
  ['5x5 same, 3 channels, 9x11', geo(3, 9, 11, 5, 5, [1, 1], [2, 2])],
];

describe('conv2dDirect kernel', () => {
  for (const [name, g] of DIRECT_CASES) {
    for (const [F, N, withBias, off] of [[1, 1, false, 0], [4, 2, true, 0], [5, 2, false, 1], [8, 1, true, 1], [32, 2, true, 0]] as const) {
      if (F === 32 && g.C * g.kh * g.kw > 27) continue;
      it(`${name} [C=${g.C} ${g.H}x${g.W} k=${g.kh}x${g.kw} p=${g.ph},${g.pw} -> ${g.OH}x${g.OW}], F=${F}, N=${N}${withBias ? ', bias' : ''}${off ? ', unaligned' : ''}`, () => {
        const k = kernels();
        const nx = N * g.C * g.H * g.W;
        const nw = F * g.C * g.kh * g.kw;
        const ny = N * F * g.OH * g.OW;
        const x = randomF32(nx, 3 + nx + F);
        const w = randomF32(nw, 17 + nw);
        const bias = withBias ? randomF32(F, 29 + F) : null;
        const [xb, xp] = guarded(x, off);
        const [wb, wp] = guarded(w, off);
        const [bb, bp] = guarded(bias ?? new Float32Array(0), off);
        const [yb, yp] = guarded(new Float32Array(ny).fill(Number.NaN), off);
        const workBytes = k.conv2dDirectWorkBytes(g.C, g.kh, g.kw, g.OH, g.OW, F);
        expect(workBytes % 16).toBe(0);
        // Scratch: 16-byte aligned start, sentinels after its last byte.
        const [sb, sp] = guarded(new Float32Array(workBytes / 4 + 3).fill(SENTINEL), 0);
        const work = (sp + 15) & ~15;
        k.conv2dDirect(xp, N, g.C, g.H, g.W, g.kh, g.kw, g.ph, g.pw, g.OH, g.OW, wp, F, bias === null ? 0 : bp, yp, work);
        const got = getF32(yp, ny);
        const ref = refConv(x, w, bias, N, F, g);
        let err = 0;
        for (let i = 0; i < ny; i++) {
          const e = Math.abs(got[i] - ref.y[i]) / Math.max(1e-30, ref.mag[i]);
          if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
        }
        expect(err).toBeLessThan(1e-6);
        expect(guardsIntact(yb, off, ny)).toBe(true);
        const after = getF32(work + workBytes, (sp + (workBytes / 4 + 3) * 4 - work - workBytes) / 4 + GUARD);
        expect(after.every((v) => v === SENTINEL)).toBe(true);
        expect(Array.from(getF32(xp, nx))).toEqual(Array.from(x));
        expect(Array.from(getF32(wp, nw))).toEqual(Array.from(w));
        free(xb, wb, bb, yb, sb);
      });
    }
  }

  it('does nothing for empty batches, filters or outputs', () => {
    const k = kernels();
    const [yb, yp] = guarded(new Float32Array(0), 0);
    const [xb, xp] = guarded(randomF32(12, 1), 0);
    k.conv2dDirect(xp, 0, 1, 3, 4, 3, 3, 1, 1, 3, 4, xp, 2, 0, yp, 0);
    k.conv2dDirect(xp, 1, 1, 3, 4, 3, 3, 1, 1, 3, 4, xp, 0, 0, yp, 0);
    k.conv2dDirect(xp, 1, 1, 3, 4, 3, 3, 1, 1, 0, 0, xp, 2, 0, yp, 0);
    expect(guardsIntact(yb, 0, 0)).toBe(true);
    expect(guardsIntact(xb, 0, 12)).toBe(true);
    free(xb, yb);
  });
});

// ---- conv2dImages / conv2dBackwardImages: runs of images, against the f64 definition ----

const RUN_CASES: [string, Geo][] = [
  ['3x3 same', geo(3, 7, 9, 3, 3, [1, 1], [1, 1])],
  ['3x3, stride 2, padding 1', geo(4, 9, 11, 3, 3, [2, 2], [1, 1])],
  ['5x3 kernel, stride 2x1, padding 2x0', geo(2, 10, 13, 5, 3, [2, 1], [2, 0])],
  ['even kernel, asymmetric same (one extra row/col)', geo(3, 7, 6, 4, 2, [1, 1], [1, 0], 1)],
  ['1x1 pointwise (no column matrix)', geo(5, 4, 6, 1, 1, [1, 1], [0, 0])],
];

/** Max over i of |got − ref| / (Σ|terms| + tiny): f32 rounding is well below 1e-5 of the scale. */
function scaledErr(got: Float32Array, ref: Float64Array, scale: Float64Array): number {
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]) / (scale[i] + 1e-30);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

describe('conv2dImages and conv2dBackwardImages kernels (runs of images)', () => {
  const N = 3;
  const F = 5;
  for (const [name, g] of RUN_CASES) {
    const pointwise = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;
    const K = g.C * g.kh * g.kw;
    const P = g.OH * g.OW;
    const nx = N * g.C * g.H * g.W;
    const ny = N * F * P;
    const x = randomF32(nx, 7 + nx);
    const w = randomF32(F * K, 11 + K);
    const b = randomF32(F, 13);
    const dy = randomF32(ny, 19 + ny);
    const geoNaive = { stride: [g.sh, g.sw] as const, padding: [g.ph, g.pw] as const, out: [g.OH, g.OW] as const };
    const host = (data: Float32Array, shape: number[]) => ({ data, shape });
    const args = (xp: number, count: number) => [xp, count, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW] as const;

    for (const [bias, relu] of [[false, false], [true, false], [true, true]] as const) {
      it(`forward, ${name}${bias ? ', bias' : ''}${relu ? ', relu' : ''}: every image of the run, nothing past it`, () => {
        const k = kernels();
        const ref = conv2dNaive(host(x, [N, g.C, g.H, g.W]), host(w, [F, g.C, g.kh, g.kw]), bias ? host(b, [F]) : null, geoNaive);
        const [xb, xp] = guarded(x, 0);
        const [wb, wp] = guarded(w, 1);
        const bp = putF32(b);
        const [yb, yp] = guarded(new Float32Array(ny).fill(Number.NaN), 0);
        const col = pointwise ? 0 : blankF32(K * P);
        k.conv2dImages(...args(xp, N), wp, F, bias ? bp : 0, relu ? 1 : 0, yp, col, runtime().gemmWork);
        const want = relu ? ref.y.map((v) => Math.max(v, 0)) : ref.y;
        expect(scaledErr(getF32(yp, ny), want, ref.abs)).toBeLessThan(1e-5);
        expect(guardsIntact(yb, 0, ny)).toBe(true);
        expect(Array.from(getF32(xp, nx))).toEqual(Array.from(x));
        free(xb, wb, bp, yb, ...(col ? [col] : []));
      });
    }

    for (const [mask, dwMode, dxToo] of [[false, 1, true], [false, 2, true], [true, 1, true], [true, 2, false], [false, 0, true]] as const) {
      it(`backward, ${name}: ${mask ? 'ReLU mask, ' : ''}${['no dW', 'dW', 'dW transposed'][dwMode]}${dxToo ? ', dx' : ''}; a second run adds to dW`, () => {
        const k = kernels();
        // out: a forward output with zeros where the fused ReLU cut (every third element).
        const out = Float32Array.from(randomF32(ny, 23), (v, i) => (i % 3 === 0 ? 0 : Math.abs(v) + 0.1));
        const gEff = mask ? Float64Array.from(dy, (v, i) => (out[i] > 0 ? v : 0)) : Float64Array.from(dy);
        const ref = conv2dNaive(host(x, [N, g.C, g.H, g.W]), host(w, [F, g.C, g.kh, g.kw]), null, geoNaive, gEff);
        const xp = putF32(x);
        const wp = putF32(w);
        const gyInP = putF32(dy);
        const outP = putF32(out);
        // With the mask the kernel writes the masked gradient to gy; without, gy is dY itself.
        const gyP = mask ? blankF32(ny) : gyInP;
        const [db, dwp] = guarded(new Float32Array(F * K).fill(Number.NaN), 0);
        const [xb2, dxp] = guarded(new Float32Array(nx).fill(Number.NaN), 0);
        const col = pointwise ? 0 : blankF32(K * P);
        const call = (n0: number, count: number, first: number) => {
          const xs = xp + n0 * g.C * g.H * g.W * 4;
          const ys = n0 * F * P * 4;
          k.conv2dBackwardImages(xs, gyInP + ys, outP + ys, gyP + ys, count, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw,
            g.OH, g.OW, wp, F, mask ? 1 : 0, dwMode, dwMode ? dwp : 0, first, dxToo ? dxp + n0 * g.C * g.H * g.W * 4 : 0, col, runtime().gemmWork);
        };
        // Images 0..1 write the partial, image 2 adds to it: the lanes of a parallel plan.
        call(0, 2, 1);
        call(2, 1, 0);
        if (dwMode !== 0) {
          const got = getF32(dwp, F * K);
          // dwMode 2 holds dWᵀ [K, F].
          const dwGot = dwMode === 2 ? Float32Array.from({ length: F * K }, (_, i) => got[(i % K) * F + Math.floor(i / K)]) : got;
          expect(scaledErr(dwGot, ref.dw, ref.dwAbs)).toBeLessThan(1e-5);
        } else {
          expect(getF32(dwp, F * K).every((v) => Number.isNaN(v))).toBe(true);
        }
        expect(guardsIntact(db, 0, F * K)).toBe(true);
        if (dxToo) expect(scaledErr(getF32(dxp, nx), ref.dx, ref.dxAbs)).toBeLessThan(1e-5);
        else expect(getF32(dxp, nx).every((v) => Number.isNaN(v))).toBe(true);
        expect(guardsIntact(xb2, 0, nx)).toBe(true);
        // (−0 and 0 both count as a cut gradient.)
        if (mask) expect(Array.from(getF32(gyP, ny), (v) => v + 0)).toEqual(Array.from(Float32Array.from(gEff), (v) => v + 0));
        expect(Array.from(getF32(gyInP, ny))).toEqual(Array.from(dy));
        free(xp, wp, gyInP, outP, db, xb2, ...(mask ? [gyP] : []), ...(col ? [col] : []));
      });
    }
  }

  it('a run of no images writes nothing', () => {
    const k = kernels();
    const g = RUN_CASES[0][1];
    const [yb, yp] = guarded(new Float32Array(0), 0);
    k.conv2dImages(yp, 0, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, yp, F, 0, 1, yp, 0, runtime().gemmWork);
    k.conv2dBackwardImages(yp, yp, yp, yp, 0, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, yp, F, 1, 1, yp, 1, yp, 0, runtime().gemmWork);
    expect(guardsIntact(yb, 0, 0)).toBe(true);
    free(yb);
  });
});

describe('convTranspose2dImages and convTranspose2dBackwardImages kernels (runs of images)', () => {
  const N = 3;
  const Cin = 4;
  // The im2col geometry is that of the conv2d from the output (C, H, W) to the input (OH, OW).
  for (const [name, g] of RUN_CASES.filter(([, c]) => c.OH === Math.floor((c.H + 2 * c.ph - c.kh) / c.sh) + 1)) {
    const pointwise = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;
    const Ko = g.C * g.kh * g.kw;
    const Pin = g.OH * g.OW;
    const nx = N * Cin * Pin;
    const ny = N * g.C * g.H * g.W;
    const x = randomF32(nx, 31 + nx);
    const w = randomF32(Cin * Ko, 37 + Ko);
    const b = randomF32(g.C, 41);
    const dy = randomF32(ny, 43 + ny);
    const host = (data: Float32Array, shape: number[]) => ({ data, shape });
    const ref = (bias: boolean, grad?: Float32Array) => convTranspose2dNaive(host(x, [N, Cin, g.OH, g.OW]), host(w, [Cin, g.C, g.kh, g.kw]),
      bias ? host(b, [g.C]) : null, { stride: [g.sh, g.sw], padding: [g.ph, g.pw], out: [g.H, g.W] }, grad);
    const geoArgs = [g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW] as const;

    for (const bias of [false, true]) {
      it(`forward, ${name}${bias ? ', bias' : ''}: every image of the run, nothing past it`, () => {
        const k = kernels();
        const r = ref(bias);
        const xp = putF32(x);
        const wp = putF32(w);
        const bp = putF32(b);
        const [yb, yp] = guarded(new Float32Array(ny).fill(Number.NaN), 1);
        const col = pointwise ? 0 : blankF32(Ko * Pin);
        k.convTranspose2dImages(xp, N, Cin, ...geoArgs, wp, bias ? bp : 0, yp, col, runtime().gemmWork);
        expect(scaledErr(getF32(yp, ny), r.y, r.abs)).toBeLessThan(1e-5);
        expect(guardsIntact(yb, 1, ny)).toBe(true);
        free(xp, wp, bp, yb, ...(col ? [col] : []));
      });
    }

    for (const [dwMode, dxToo] of [[1, true], [2, true], [1, false], [0, true]] as const) {
      it(`backward, ${name}: ${['no dW', 'dW', 'dW transposed'][dwMode]}${dxToo ? ', dx' : ''}; a second run adds to dW`, () => {
        const k = kernels();
        const r = ref(false, dy);
        const xp = putF32(x);
        const wp = putF32(w);
        const gyP = putF32(dy);
        const [db, dwp] = guarded(new Float32Array(Cin * Ko).fill(Number.NaN), 0);
        const [xb2, dxp] = guarded(new Float32Array(nx).fill(Number.NaN), 0);
        const col = pointwise ? 0 : blankF32(Ko * Pin);
        const call = (n0: number, count: number, first: number) => k.convTranspose2dBackwardImages(xp + n0 * Cin * Pin * 4,
          gyP + n0 * g.C * g.H * g.W * 4, count, Cin, ...geoArgs, wp, dwMode, dwMode ? dwp : 0, first,
          dxToo ? dxp + n0 * Cin * Pin * 4 : 0, col, runtime().gemmWork);
        call(0, 1, 1);
        call(1, 2, 0);
        if (dwMode !== 0) {
          const got = getF32(dwp, Cin * Ko);
          const dwGot = dwMode === 2 ? Float32Array.from({ length: Cin * Ko }, (_, i) => got[(i % Ko) * Cin + Math.floor(i / Ko)]) : got;
          expect(scaledErr(dwGot, r.dw, r.dwAbs)).toBeLessThan(1e-5);
        } else {
          expect(getF32(dwp, Cin * Ko).every((v) => Number.isNaN(v))).toBe(true);
        }
        expect(guardsIntact(db, 0, Cin * Ko)).toBe(true);
        if (dxToo) expect(scaledErr(getF32(dxp, nx), r.dx, r.dxAbs)).toBeLessThan(1e-5);
        else expect(getF32(dxp, nx).every((v) => Number.isNaN(v))).toBe(true);
        expect(guardsIntact(xb2, 0, nx)).toBe(true);
        expect(Array.from(getF32(gyP, ny))).toEqual(Array.from(dy));
        free(xp, wp, gyP, db, xb2, ...(col ? [col] : []));
      });
    }
  }
});
