// Normalisation and dropout kernels vs direct f64 references:
//  - batchNormTrain / batchNormApply / batchNormBackward on [N, C, S] for S = 1 (the
//    channels-across-lanes path) and S > 1 (per-channel segments), channel counts around
//    the vector width, batch 1, data far from zero mean (two-pass statistics);
//  - batchNormRunningUpdate / batchNormEvalStats bit for bit against the same f64 formulas;
//  - layerNorm / layerNormBackward on row lengths around the vector width;
//  - dropout against a plain-JS copy of the counter-based hash, bit for bit.
// Tolerances allow the relaxed build's fused multiply-adds.
import { describe, expect, it } from 'vitest';
import { UnOp, kernels } from '../../bindings/index';
import { free, getF32, maxRelErr, putF32, randomF32 } from '../helpers/wasm';

const GUARD = 5;
const GUARD_VALUE = 999.25;

function guarded(n: number, fill = Number.NaN): number {
  const a = new Float32Array(n + GUARD).fill(GUARD_VALUE);
  a.fill(fill, 0, n);
  return putF32(a);
}
function read(ptr: number, n: number, what: string): Float32Array {
  const all = getF32(ptr, n + GUARD);
  expect(Array.from(all.subarray(n)), `${what}: wrote past the end`).toEqual(new Array(GUARD).fill(GUARD_VALUE));
  return all.slice(0, n);
}
/** Random values with the given mean offset and spread. */
function data(n: number, seed: number, offset = 0, spread = 1): Float32Array {
  const r = randomF32(n, seed);
  for (let i = 0; i < n; i++) r[i] = offset + spread * r[i];
  return r;
}

// ---- batch norm ---------------------------------------------------------------------------------

const BN_SHAPES: [number, number, number][] = [
  // [N, C, S]
  [4, 3, 1], [8, 4, 1], [5, 5, 1], [7, 9, 1], [2, 1, 1], [300, 6, 1],
  [2, 3, 2], [3, 2, 3], [1, 3, 7], [4, 5, 49], [2, 1, 196], [3, 2, 13], [1, 1, 4],
];

function refBnStats(x: Float32Array, N: number, C: number, S: number, eps: number): { mean: Float64Array; invstd: Float64Array } {
  const mean = new Float64Array(C);
  const invstd = new Float64Array(C);
  const M = N * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) s += x[(n * C + c) * S + k];
    const m = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) q += (x[(n * C + c) * S + k] - m) ** 2;
    mean[c] = m;
    invstd[c] = 1 / Math.sqrt(q / M + eps);
  }
  return { mean, invstd };
}
function refBnApply(x: Float32Array, N: number, C: number, S: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, invstd: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < S; k++) {
        const i = (n * C + c) * S + k;
        y[i] = gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c];
      }
    }
  }
  return y;
}

describe('batch norm kernels', () => {
  for (const [N, C, S] of BN_SHAPES) {
    for (const offset of [0, 50]) {
      it(`train + backward [N ${N}, C ${C}, S ${S}], data offset ${offset}`, () => {
        const k = kernels();
        const n = N * C * S;
        const eps = 1e-5;
        const x = data(n, 3 + n, offset, 2);
        const gamma = data(C, 7, 1, 0.5);
        const beta = data(C, 8);
        const xp = putF32(x), gp = putF32(gamma), bp = putF32(beta);
        const yp = guarded(n), mp = guarded(C), ip = guarded(C);
        k.batchNormTrain(xp, N, C, S, gp, bp, eps, yp, mp, ip, C * S, 0);
        const ref = refBnStats(x, N, C, S, eps);
        const mean = read(mp, C, 'mean');
        const invstd = read(ip, C, 'invstd');
        expect(maxRelErr(mean, ref.mean)).toBeLessThan(2e-6);
        expect(maxRelErr(invstd, ref.invstd)).toBeLessThan(2e-5);
        // y is checked against the exact statistics: its error is that of the kernel's.
        expect(maxRelErr(read(yp, n, 'y'), refBnApply(x, N, C, S, gamma, beta, ref.mean, ref.invstd))).toBeLessThan(5e-5);

        // Backward, in f64 from the kernel's own statistics.
        const dy = data(n, 99 + n);
        const dyp = putF32(dy);
        const dxp = guarded(n), dgp = guarded(C), dbp = guarded(C);
        k.batchNormBackward(xp, dyp, N, C, S, gp, mp, ip, dxp, dgp, dbp, C * S, 0);
        const M = N * S;
        const rdx = new Float64Array(n), rdg = new Float64Array(C), rdb = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          let sdy = 0, sdyx = 0;
          for (let b = 0; b < N; b++) for (let s = 0; s < S; s++) {
            const i = (b * C + c) * S + s;
            sdy += dy[i];
            sdyx += dy[i] * (x[i] - mean[c]) * invstd[c];
          }
          rdg[c] = sdyx;
          rdb[c] = sdy;
          for (let b = 0; b < N; b++) for (let s = 0; s < S; s++) {
            const i = (b * C + c) * S + s;
            const xh = (x[i] - mean[c]) * invstd[c];
            rdx[i] = (gamma[c] * invstd[c] / M) * (M * dy[i] - sdy - xh * sdyx);
          }
        }
        expect(maxRelErr(read(dxp, n, 'dx'), rdx)).toBeLessThan(5e-5);
        expect(maxRelErr(read(dgp, C, 'dgamma'), rdg)).toBeLessThan(5e-5);
        expect(maxRelErr(read(dbp, C, 'dbeta'), rdb)).toBeLessThan(1e-5);
        free(xp, gp, bp, yp, mp, ip, dyp, dxp, dgp, dbp);
      });
    }

    it(`apply [N ${N}, C ${C}, S ${S}] with given statistics`, () => {
      const n = N * C * S;
      const x = data(n, 5 + n, 1, 3);
      const gamma = data(C, 17, 1, 0.5), beta = data(C, 18);
      const mean = data(C, 19), invstd = data(C, 20, 1.5, 0.5);
      const ptrs = [x, gamma, beta, mean, invstd].map(putF32);
      const yp = guarded(n);
      kernels().batchNormApply(ptrs[0], N, C, S, ptrs[1], ptrs[2], ptrs[3], ptrs[4], yp, C * S, 0);
      expect(maxRelErr(read(yp, n, 'y'), refBnApply(x, N, C, S, gamma, beta, mean, invstd))).toBeLessThan(2e-6);
      free(...ptrs, yp);
    });
  }

  it('the fused ReLU gives bitwise what the separate ReLU kernels give, forward and backward', () => {
    const k = kernels();
    for (const [N, C, S] of BN_SHAPES) {
      const n = N * C * S;
      const x = data(n, 41 + n, 0, 2);
      const gamma = data(C, 42, 1, 0.5), beta = data(C, 43, 0, 0.5);
      const dy = data(n, 44 + n);
      // Exact zeros, negative zeros and a NaN in the gradient go through the mask too.
      dy[0] = -0;
      if (n > 2) dy[2] = Number.NaN;
      const [xp, gp, bp, dyp] = [x, gamma, beta, dy].map(putF32);
      const plain = { y: guarded(n), m: guarded(C), i: guarded(C), r: guarded(n), g: guarded(n), dx: guarded(n), dg: guarded(C), db: guarded(C), a: guarded(n), ar: guarded(n) };
      const fused = { y: guarded(n), m: guarded(C), i: guarded(C), dx: guarded(n), dg: guarded(C), db: guarded(C), a: guarded(n) };
      k.batchNormTrain(xp, N, C, S, gp, bp, 1e-5, plain.y, plain.m, plain.i, C * S, 0);
      k.unary(UnOp.Relu, plain.y, plain.r, n);
      k.reluBackward(plain.r, dyp, plain.g, n);
      k.batchNormBackward(xp, plain.g, N, C, S, gp, plain.m, plain.i, plain.dx, plain.dg, plain.db, C * S, 0);
      k.batchNormApply(xp, N, C, S, gp, bp, plain.m, plain.i, plain.a, C * S, 0);
      k.unary(UnOp.Relu, plain.a, plain.ar, n);
      k.batchNormTrain(xp, N, C, S, gp, bp, 1e-5, fused.y, fused.m, fused.i, C * S, 1);
      k.batchNormBackward(xp, dyp, N, C, S, gp, fused.m, fused.i, fused.dx, fused.dg, fused.db, C * S, fused.y);
      k.batchNormApply(xp, N, C, S, gp, bp, plain.m, plain.i, fused.a, C * S, 1);
      const same = (a: Float32Array, b: Float32Array, what: string): void => {
        const i = a.findIndex((v, j) => !Object.is(v, b[j]));
        expect(i, `[${N}, ${C}, ${S}] ${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
      };
      same(read(fused.y, n, 'y'), read(plain.r, n, 'relu(y)'), 'forward');
      expect(read(fused.y, n, 'y').some((v) => v === 0)).toBe(true);
      same(read(fused.dx, n, 'dx'), read(plain.dx, n, 'dx'), 'dx');
      same(read(fused.dg, C, 'dg'), read(plain.dg, C, 'dg'), 'dgamma');
      same(read(fused.db, C, 'db'), read(plain.db, C, 'db'), 'dbeta');
      same(read(fused.a, n, 'apply'), read(plain.ar, n, 'relu(apply)'), 'apply');
      free(xp, gp, bp, dyp, ...Object.values(plain), ...Object.values(fused));
    }
  });

  it('a range of channels (pointers moved, the whole tensor\'s stride) equals those channels of the whole call', () => {
    for (const S of [1, 13]) {
      const N = 5, C = 7, n = N * C * S, c0 = 2, cn = 3;
      const x = data(n, 31 + S, 0, 2);
      const gamma = data(C, 32, 1, 0.5), beta = data(C, 33);
      const dy = data(n, 34);
      const [xp, gp, bp, dyp] = [x, gamma, beta, dy].map(putF32);
      const whole = { y: guarded(n), m: guarded(C), i: guarded(C), dx: guarded(n), dg: guarded(C), db: guarded(C), a: guarded(n) };
      const part = { y: guarded(n), m: guarded(C), i: guarded(C), dx: guarded(n), dg: guarded(C), db: guarded(C), a: guarded(n) };
      const k = kernels();
      const at = (p: number, e: number): number => p + 4 * e;
      // With the fused ReLU, as the op splits it: y moves with the channels like dy.
      k.batchNormTrain(xp, N, C, S, gp, bp, 1e-5, whole.y, whole.m, whole.i, C * S, 1);
      k.batchNormTrain(at(xp, c0 * S), N, cn, S, at(gp, c0), at(bp, c0), 1e-5, at(part.y, c0 * S), at(part.m, c0), at(part.i, c0), C * S, 1);
      k.batchNormBackward(xp, dyp, N, C, S, gp, whole.m, whole.i, whole.dx, whole.dg, whole.db, C * S, whole.y);
      k.batchNormBackward(at(xp, c0 * S), at(dyp, c0 * S), N, cn, S, at(gp, c0), at(part.m, c0), at(part.i, c0),
        at(part.dx, c0 * S), at(part.dg, c0), at(part.db, c0), C * S, at(whole.y, c0 * S));
      k.batchNormApply(xp, N, C, S, gp, bp, whole.m, whole.i, whole.a, C * S, 0);
      k.batchNormApply(at(xp, c0 * S), N, cn, S, at(gp, c0), at(bp, c0), at(part.m, c0), at(part.i, c0), at(part.a, c0 * S), C * S, 0);
      for (const key of ['y', 'dx', 'a'] as const) {
        const w = read(whole[key], n, key), q = read(part[key], n, key);
        for (let b = 0; b < N; b++) for (let c = 0; c < C; c++) for (let s2 = 0; s2 < S; s2++) {
          const i = (b * C + c) * S + s2;
          // Inside the range the same numbers; outside it untouched (still NaN).
          if (c >= c0 && c < c0 + cn) expect(q[i]).toBe(w[i]);
          else expect(q[i]).toBeNaN();
        }
      }
      for (const key of ['m', 'i', 'dg', 'db'] as const) {
        const w = read(whole[key], C, key), q = read(part[key], C, key);
        for (let c = 0; c < C; c++) {
          if (c >= c0 && c < c0 + cn) expect(q[c]).toBe(w[c]);
          else expect(q[c]).toBeNaN();
        }
      }
      free(xp, gp, bp, dyp, ...Object.values(whole), ...Object.values(part));
    }
  });

  it('a constant channel gives y = beta (no NaN) and invstd = 1/sqrt(eps)', () => {
    for (const S of [1, 6]) {
      const N = 3, C = 2, n = N * C * S;
      const xp = putF32(new Float32Array(n).fill(4.5));
      const gp = putF32([2, 3]), bp = putF32([0.5, -1]);
      const yp = guarded(n), mp = guarded(C), ip = guarded(C);
      kernels().batchNormTrain(xp, N, C, S, gp, bp, 1e-5, yp, mp, ip, C * S, 0);
      const y = read(yp, n, 'y');
      for (let i = 0; i < n; i++) expect(y[i]).toBe(Math.floor(i / S) % C === 0 ? 0.5 : -1);
      expect(maxRelErr(read(ip, C, 'invstd'), [1 / Math.sqrt(1e-5), 1 / Math.sqrt(1e-5)])).toBeLessThan(1e-6);
      free(xp, gp, bp, yp, mp, ip);
    }
  });
});

// The running-average update and the evaluation statistics are computed in f64 and rounded
// once, exactly as the same formulas in JavaScript (Float32Array stores round the same way).
describe('batch norm statistics kernels', () => {
  for (const C of [1, 3, 4, 7, 33]) {
    for (const [momentum, eps] of [[0.9, 1e-5], [0.1, 1e-3], [0, 0.5], [1, 1e-5]]) {
      it(`running update, C ${C}, momentum ${momentum}, eps ${eps}: bitwise as f64 JavaScript`, () => {
        const mean = data(C, 40 + C, 2, 3);
        const invstd = data(C, 41 + C, 1.5, 1);
        invstd[0] = 1 / Math.sqrt(eps) * 2; // 1/invstd² < eps: σ clamps to 0
        const rm0 = data(C, 42 + C), rs0 = data(C, 43 + C, 1, 0.5);
        const mp = putF32(mean), ip = putF32(invstd);
        const rmp = guarded(C), rsp = guarded(C);
        const rm = putF32(rm0), rs = putF32(rs0);
        kernels().copy(rm, rmp, C);
        kernels().copy(rs, rsp, C);
        kernels().batchNormRunningUpdate(mp, ip, C, eps, momentum, rmp, rsp);
        const wantM = new Float32Array(C), wantS = new Float32Array(C);
        for (let c = 0; c < C; c++) {
          const sigma = Math.sqrt(Math.max(0, 1 / (invstd[c] * invstd[c]) - eps));
          wantM[c] = momentum * rm0[c] + (1 - momentum) * mean[c];
          wantS[c] = momentum * rs0[c] + (1 - momentum) * sigma;
        }
        expect(Array.from(read(rmp, C, 'runningMean'))).toEqual(Array.from(wantM));
        expect(Array.from(read(rsp, C, 'runningStd'))).toEqual(Array.from(wantS));
        free(mp, ip, rmp, rsp, rm, rs);
      });
    }
    it(`evaluation statistics, C ${C}: bitwise as f64 JavaScript`, () => {
      const rm = data(C, 50 + C), rs = data(C, 51 + C, 0, 2);
      const eps = 1e-5;
      const rmp = putF32(rm), rsp = putF32(rs);
      const mp = guarded(C), ip = guarded(C);
      kernels().batchNormEvalStats(rmp, rsp, C, eps, mp, ip);
      expect(Array.from(read(mp, C, 'mean'))).toEqual(Array.from(rm));
      expect(Array.from(read(ip, C, 'invstd'))).toEqual(Array.from(Float32Array.from(rs, (s) => 1 / Math.sqrt(s * s + eps))));
      free(rmp, rsp, mp, ip);
    });
  }

  it('leaves memory alone for C = 0', () => {
    const p = guarded(0);
    kernels().batchNormRunningUpdate(p, p, 0, 1e-5, 0.9, p, p);
    kernels().batchNormEvalStats(p, p, 0, 1e-5, p, p);
    read(p, 0, 'guard');
    free(p);
  });
});

// ---- layer norm -------------------------------------------------------------------------------

describe('layer norm kernels', () => {
  const SHAPES: [number, number][] = [[1, 1], [2, 3], [3, 4], [4, 5], [7, 8], [2, 13], [5, 64], [3, 100], [1, 301]];
  for (const [rows, cols] of SHAPES) {
    it(`forward + backward [${rows}, ${cols}]`, () => {
      const k = kernels();
      const n = rows * cols;
      const eps = 1e-5;
      const x = data(n, 40 + n, 10, 2);
      const gamma = data(cols, 41, 1, 0.5), beta = data(cols, 42);
      const xp = putF32(x), gp = putF32(gamma), bp = putF32(beta);
      const yp = guarded(n), mp = guarded(rows), ip = guarded(rows);
      k.layerNorm(xp, rows, cols, gp, bp, eps, yp, mp, ip);
      const rm = new Float64Array(rows), ri = new Float64Array(rows), ry = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += x[r * cols + c];
        const m = s / cols;
        let q = 0;
        for (let c = 0; c < cols; c++) q += (x[r * cols + c] - m) ** 2;
        rm[r] = m;
        ri[r] = 1 / Math.sqrt(q / cols + eps);
        for (let c = 0; c < cols; c++) ry[r * cols + c] = gamma[c] * (x[r * cols + c] - m) * ri[r] + beta[c];
      }
      expect(maxRelErr(read(mp, rows, 'mean'), rm)).toBeLessThan(2e-6);
      // cols == 1: variance 0, invstd = 1/sqrt(eps) ~ 316; relative error still small.
      expect(maxRelErr(read(ip, rows, 'invstd'), ri)).toBeLessThan(2e-5);
      expect(maxRelErr(read(yp, n, 'y'), ry)).toBeLessThan(1e-4);

      const dy = data(n, 43 + n);
      const dyp = putF32(dy);
      const dxp = guarded(n), dgp = guarded(cols, 123), dbp = guarded(cols, 456); // garbage: overwritten
      k.layerNormBackward(xp, dyp, rows, cols, gp, mp, ip, dxp, dgp, dbp);
      const mean = getF32(mp, rows), invstd = getF32(ip, rows);
      const rdx = new Float64Array(n), rdg = new Float64Array(cols), rdb = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        let s1 = 0, s2 = 0;
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const xh = (x[i] - mean[r]) * invstd[r];
          const g = dy[i] * gamma[c];
          s1 += g;
          s2 += g * xh;
          rdg[c] += dy[i] * xh;
          rdb[c] += dy[i];
        }
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const xh = (x[i] - mean[r]) * invstd[r];
          rdx[i] = (invstd[r] / cols) * (cols * dy[i] * gamma[c] - s1 - xh * s2);
        }
      }
      // dx of a 1-column row is 0 up to cancellation of terms of size invstd ~ 316.
      expect(maxRelErr(read(dxp, n, 'dx'), rdx)).toBeLessThan(cols === 1 ? 1e-3 : 5e-5);
      expect(maxRelErr(read(dgp, cols, 'dgamma'), rdg)).toBeLessThan(5e-5);
      expect(maxRelErr(read(dbp, cols, 'dbeta'), rdb)).toBeLessThan(1e-5);
      free(xp, gp, bp, yp, mp, ip, dyp, dxp, dgp, dbp);
    });
  }
});

// ---- dropout ------------------------------------------------------------------------------------

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
/** The kernel's hash, in plain JS: uniform in [0, 1) for element i under seed. */
function uniformAt(seed: number, i: number): number {
  const s = seed >>> 0;
  const key = fmix32((s ^ 0x5bd1e995) >>> 0);
  const h = fmix32((fmix32((Math.imul(i, 0x9e3779b9) + s) >>> 0) ^ key) >>> 0);
  return (h >>> 8) / 16777216;
}

function runDropout(x: Float32Array, p: number, seed: number): { y: Float32Array; mask: Float32Array } {
  const xp = putF32(x);
  const yp = guarded(x.length), mp = guarded(x.length);
  kernels().dropout(xp, yp, mp, x.length, p, seed);
  const out = { y: read(yp, x.length, 'y'), mask: read(mp, x.length, 'mask') };
  free(xp, yp, mp);
  return out;
}

describe('dropout kernel', () => {
  for (const n of [0, 1, 3, 4, 5, 17, 1000]) {
    for (const p of [0, 0.3, 0.5, 0.9]) {
      it(`n ${n}, p ${p}: matches the JS hash bit for bit`, () => {
        const seed = 0xdeadbeef; // > 2^31: arrives in wasm as a negative i32
        const x = data(n, 61 + n);
        const { y, mask } = runDropout(x, p, seed);
        const pf = Math.fround(p);
        const scale = Math.fround(1 / Math.fround(1 - pf));
        for (let i = 0; i < n; i++) {
          const m = uniformAt(seed, i) < pf ? 0 : scale;
          expect(mask[i]).toBe(m);
          expect(y[i]).toBe(Math.fround(x[i] * m));
        }
      });
    }
  }

  it('drops a fraction close to p; masks depend only on (seed, i)', () => {
    const n = 200_003;
    const x = new Float32Array(n).fill(1);
    for (const p of [0.1, 0.5, 0.8]) {
      const { mask } = runDropout(x, p, 12345);
      let dropped = 0;
      for (let i = 0; i < n; i++) if (mask[i] === 0) dropped++;
      // binomial standard deviation is <= 0.0012 here; allow 5 of them
      expect(Math.abs(dropped / n - p)).toBeLessThan(0.006);
      const short = runDropout(x.subarray(0, 37), p, 12345);
      expect(Array.from(short.mask)).toEqual(Array.from(mask.subarray(0, 37)));
    }
    const a = runDropout(x, 0.5, 1).mask;
    const b = runDropout(x, 0.5, 2).mask;
    let same = 0;
    for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
    expect(Math.abs(same / n - 0.5)).toBeLessThan(0.01); // independent masks agree half the time
  });
});
