// The naive convolution loops in f64: the reference of conv2d and convTranspose2d (their
// registry definitions) and of the conv kernel tests. Not exported from the library.
import type { HostTensor } from './registry.js';
import type { Size2 } from './conv.js';

/** Geometry of a reference convolution: strides, top/left padding, output size [OH, OW]. */
export interface NaiveConvGeometry {
  stride: readonly [number, number];
  padding: readonly [number, number];
  out: readonly [number, number];
}

/** A reference convolution's output and, for a given dY, its gradients, in f64. */
export interface NaiveConv {
  shape: number[];
  y: Float64Array;
  /** Σ|terms| of each output: the scale of its f32 rounding error. */
  abs: Float64Array;
  dx: Float64Array; dxAbs: Float64Array;
  dw: Float64Array; dwAbs: Float64Array;
  db: Float64Array; dbAbs: Float64Array;
}

export function pair(v: Size2): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * @internal conv2d by its definition, in f64 loops (the reference of the tests):
 * y[n,f,oy,ox] = b[f] + Σ x[n,c,oy·sh-ph+i,ox·sw-pw+j]·w[f,c,i,j] (0 outside the image), and
 * for a given dY the gradients dx, dW, db by the same loops. x [N,C,H,W], w [F,C,kh,kw].
 */
export function conv2dNaive(x: HostTensor, w: HostTensor, b: HostTensor | null, geo: NaiveConvGeometry, dy?: ArrayLike<number>): NaiveConv {
  const [N, C, H, W] = x.shape;
  const [F, , kh, kw] = w.shape;
  const [sh, sw] = geo.stride;
  const [ph, pw] = geo.padding;
  const [OH, OW] = geo.out;
  const y = new Float64Array(N * F * OH * OW);
  const abs = new Float64Array(y.length);
  const dx = new Float64Array(x.data.length), dxAbs = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length), dwAbs = new Float64Array(w.data.length);
  const db = new Float64Array(F), dbAbs = new Float64Array(F);
  for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    const o = ((n * F + f) * OH + oy) * OW + ox;
    let s = b ? b.data[f] : 0;
    let a = Math.abs(s);
    const g = dy ? dy[o] : 0;
    db[f] += g;
    dbAbs[f] += Math.abs(g);
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = oy * sh - ph + i, ix = ox * sw - pw + j;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const xi = ((n * C + c) * H + iy) * W + ix;
      const wi = ((f * C + c) * kh + i) * kw + j;
      const xv = x.data[xi], wv = w.data[wi];
      s += xv * wv;
      a += Math.abs(xv * wv);
      dx[xi] += g * wv;
      dw[wi] += g * xv;
      dxAbs[xi] += Math.abs(g * wv);
      dwAbs[wi] += Math.abs(g * xv);
    }
    y[o] = s;
    abs[o] = a;
  }
  return { shape: [N, F, OH, OW], y, abs, dx, dxAbs, dw, dwAbs, db, dbAbs };
}

/**
 * @internal convTranspose2d by its definition, in f64 loops: y[n,co,iy·sh-ph+i,ix·sw-pw+j] +=
 * x[n,ci,iy,ix]·w[ci,co,i,j] (+ b[co]) into an output of geo.out, and the gradients for a
 * given dY. x [N,Cin,H,W], w [Cin,Cout,kh,kw].
 */
export function convTranspose2dNaive(x: HostTensor, w: HostTensor, b: HostTensor | null, geo: NaiveConvGeometry, dy?: ArrayLike<number>): NaiveConv {
  const [N, Cin, H, W] = x.shape;
  const [, Cout, kh, kw] = w.shape;
  const [sh, sw] = geo.stride;
  const [ph, pw] = geo.padding;
  const [OH, OW] = geo.out;
  const y = new Float64Array(N * Cout * OH * OW);
  const abs = new Float64Array(y.length);
  const dx = new Float64Array(x.data.length), dxAbs = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length), dwAbs = new Float64Array(w.data.length);
  const db = new Float64Array(Cout), dbAbs = new Float64Array(Cout);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) for (let p = 0; p < OH * OW; p++) {
    const o = (n * Cout + co) * OH * OW + p;
    y[o] = b ? b.data[co] : 0;
    abs[o] = Math.abs(y[o]);
    if (dy) {
      db[co] += dy[o];
      dbAbs[co] += Math.abs(dy[o]);
    }
  }
  for (let n = 0; n < N; n++) for (let ci = 0; ci < Cin; ci++) for (let iy = 0; iy < H; iy++) for (let ix = 0; ix < W; ix++) {
    const xi = ((n * Cin + ci) * H + iy) * W + ix;
    for (let co = 0; co < Cout; co++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const oy = iy * sh - ph + i, ox = ix * sw - pw + j;
      if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
      const o = ((n * Cout + co) * OH + oy) * OW + ox;
      const wi = ((ci * Cout + co) * kh + i) * kw + j;
      const xv = x.data[xi], wv = w.data[wi];
      y[o] += xv * wv;
      abs[o] += Math.abs(xv * wv);
      if (dy) {
        dx[xi] += dy[o] * wv;
        dw[wi] += dy[o] * xv;
        dxAbs[xi] += Math.abs(dy[o] * wv);
        dwAbs[wi] += Math.abs(dy[o] * xv);
      }
    }
  }
  return { shape: [N, Cout, OH, OW], y, abs, dx, dxAbs, dw, dwAbs, db, dbAbs };
}

