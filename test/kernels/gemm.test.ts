// gemm kernel vs a plain-JS reference accumulated in f64, on random data and awkward shapes:
// all four transpose combinations, with and without the fused epilogue, padded leading
// dimensions, unaligned sub-matrix pointers and sizes that cross the kernel's block sizes.
import { describe, expect, it } from 'vitest';
import { build, kernels, runtime } from '../../bindings/index';
import { GEMM_RELU, GEMM_SKIP_ZEROS_A, GEMM_TRANS_C } from '../../bindings/kernels';
import { blankF32, free, getF32, putF32, randomF32 } from '../helpers/wasm';

interface Epilogue {
  name: string;
  alpha: number;
  beta: number;
  bias: boolean;
  relu: boolean;
}

const EPILOGUES: Epilogue[] = [
  { name: 'plain (alpha 1, beta 0, C NaN-filled)', alpha: 1, beta: 0, bias: false, relu: false },
  { name: 'alpha 0.75, beta -0.5, bias, relu', alpha: 0.75, beta: -0.5, bias: true, relu: true },
  { name: 'alpha -1.25, beta 0 (C NaN-filled), bias', alpha: -1.25, beta: 0, bias: true, relu: false },
  { name: 'alpha 1, beta 1, relu', alpha: 1, beta: 1, bias: false, relu: true },
];

interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  ep: Epilogue;
  /** Leading dimensions larger than needed and pointers offset by one element (not 16-byte aligned). */
  padded: boolean;
  seed: number;
}

/** Tolerance on |got - ref| relative to the magnitude of the summed terms (f32 rounding, FMA or not). */
const TOL = 1e-5;

function runCase(c: Case): { err: number; paddingIntact: boolean; finite: boolean } {
  const { transA, transB, M, N, K, ep, padded, seed } = c;
  const pad = padded ? 3 : 0;
  const off = padded ? 1 : 0; // element offset of each matrix inside its block
  const aRows = transA ? K : M, aCols = transA ? M : K;
  const bRows = transB ? N : K, bCols = transB ? K : N;
  const lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;

  // Storage with padding columns filled with NaN, so a read outside the matrix shows up.
  const fill = (rows: number, cols: number, ld: number, s: number): Float32Array => {
    const vals = randomF32(rows * cols, s);
    const buf = new Float32Array(off + rows * ld).fill(Number.NaN);
    for (let r = 0; r < rows; r++) buf.set(vals.subarray(r * cols, (r + 1) * cols), off + r * ld);
    return buf;
  };
  const a = fill(aRows, aCols, lda, seed);
  const b = fill(bRows, bCols, ldb, seed + 1);
  const bias = ep.bias ? randomF32(N, seed + 2) : null;
  // C: random when beta != 0, NaN when beta == 0 (it must not be read). Padding gets a sentinel.
  const SENTINEL = 12345.5;
  const c0 = new Float32Array(off + M * ldc).fill(SENTINEL);
  const cvals = randomF32(M * N, seed + 3);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) c0[off + i * ldc + j] = ep.beta !== 0 ? cvals[i * N + j] : Number.NaN;
  }

  const pa = putF32(a), pb = putF32(b), pc = putF32(c0);
  const pbias = bias ? putF32(bias) : 0;
  kernels().gemm(
    transA ? 1 : 0, transB ? 1 : 0, M, N, K, ep.alpha,
    pa + 4 * off, lda, pb + 4 * off, ldb, ep.beta, pc + 4 * off, ldc,
    pbias, ep.relu ? 1 : 0, runtime().gemmWork,
  );
  const got = getF32(pc, c0.length);
  free(pa, pb, pc);
  if (pbias) free(pbias);

  const A = (i: number, k: number) => (transA ? a[off + k * lda + i] : a[off + i * lda + k]);
  const B = (k: number, j: number) => (transB ? b[off + j * ldb + k] : b[off + k * ldb + j]);
  let err = 0;
  let finite = true;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, mag = 0;
      for (let k = 0; k < K; k++) {
        const t = A(i, k) * B(k, j);
        s += t;
        mag += Math.abs(t);
      }
      let v = ep.alpha * s;
      mag = Math.abs(ep.alpha) * mag;
      if (ep.beta !== 0) {
        const cij = c0[off + i * ldc + j];
        v += ep.beta * cij;
        mag += Math.abs(ep.beta * cij);
      }
      if (bias) {
        v += bias[j];
        mag += Math.abs(bias[j]);
      }
      if (ep.relu) v = Math.max(v, 0);
      const g = got[off + i * ldc + j];
      if (!Number.isFinite(g)) finite = false;
      const e = Math.abs(g - v) / Math.max(mag, 1e-30);
      if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
      if (ep.relu && g < 0) err = Infinity; // ReLU output must never be negative
    }
  }
  // Everything outside the M x N window (leading offset, padding columns) must be untouched.
  let paddingIntact = true;
  for (let p = 0; p < got.length; p++) {
    const inside = p >= off && (p - off) % ldc < N;
    if (!inside && !Object.is(got[p], c0[p])) paddingIntact = false;
  }
  return { err, paddingIntact, finite };
}

const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
const tname = (t: [boolean, boolean]) => `${t[0] ? 'A^T' : 'A'}${t[1] ? 'B^T' : 'B'}`;

// [M, N, K]
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [2, 3, 5],
  [4, 8, 16], // exactly one tile
  [5, 9, 4],
  [13, 17, 19],
  [31, 37, 41],
  [9, 17, 1],
  [127, 129, 65],
  [64, 128, 784], // Linear forward: [64,784] x [784,128]
  [64, 784, 128], // Linear input gradient shape
  [128, 784, 64], // Linear weight gradient shape
  [1, 33, 600], // K crosses one k block
  [67, 23, 1031], // three k blocks: beta on the first, bias/ReLU on the last
  [257, 19, 30], // several row blocks
  [3, 2053, 5], // several column blocks
  [64, 10, 128], // narrow N (dot-product path): a 10-class output layer
  [67, 13, 130], // narrow N with ragged rows, an odd column and k % 4 == 2
  [6, 16, 35], // narrow N at its limit, k % 4 == 3
  [9, 7, 1031], // narrow N with a long k
];

describe('gemm', () => {
  it('runs the requested build', () => {
    const want = process.env.SIMDGRAD_BUILD;
    if (want !== undefined && want !== '' && want !== 'auto') expect(build()).toBe(want);
    expect(['simd', 'relaxed']).toContain(build());
  });

  it('has a positive workspace size and a 64-byte aligned scratch block', () => {
    expect(kernels().gemmWorkspaceBytes()).toBeGreaterThan(0);
    expect(runtime().gemmWork % 64).toBe(0);
  });

  for (const [M, N, K] of SHAPES) {
    describe(`${M}x${N}x${K} (MxNxK)`, () => {
      for (const t of TRANS) {
        EPILOGUES.forEach((ep, ei) => {
          const padded = ei % 2 === 1;
          it(`${tname(t)}, ${ep.name}${padded ? ', padded ld / unaligned' : ''}`, () => {
            const r = runCase({ transA: t[0], transB: t[1], M, N, K, ep, padded, seed: M * 7919 + N * 104729 + K * 31 + ei });
            expect(r.err).toBeLessThanOrEqual(TOL);
            expect(r.finite).toBe(true);
            expect(r.paddingIntact).toBe(true);
          });
        });
      }
    });
  }

  it('also handles unpadded/padded layouts the other way round for the awkward shapes', () => {
    for (const [M, N, K] of [[3, 5, 7], [127, 129, 65], [13, 17, 19]] as const) {
      for (const t of TRANS) {
        EPILOGUES.forEach((ep, ei) => {
          const r = runCase({ transA: t[0], transB: t[1], M, N, K, ep, padded: ei % 2 === 0, seed: 17 + ei });
          expect(r.err, `${M}x${N}x${K} ${tname(t)} ${ep.name}`).toBeLessThanOrEqual(TOL);
          expect(r.paddingIntact).toBe(true);
        });
      }
    }
  });

  describe('zero-sized dimensions', () => {
    for (const [M, N, K] of [[0, 5, 3], [5, 0, 3], [0, 0, 0], [0, 4, 0]] as const) {
      it(`${M}x${N}x${K} leaves memory untouched`, () => {
        for (const ep of EPILOGUES) {
          const r = runCase({ transA: false, transB: false, M, N, K, ep, padded: true, seed: 5 });
          expect(r.paddingIntact).toBe(true);
        }
      });
    }
    for (const [M, N] of [[1, 1], [5, 3], [6, 13]] as const) {
      for (const t of TRANS) {
        EPILOGUES.forEach((ep, ei) => {
          it(`K = 0, ${M}x${N}, ${tname(t)}: C = beta*C (+bias, relu); ${ep.name}`, () => {
            const r = runCase({ transA: t[0], transB: t[1], M, N, K: 0, ep, padded: ei % 2 === 1, seed: 9 + ei });
            expect(r.err).toBeLessThanOrEqual(TOL);
            expect(r.finite).toBe(true);
            expect(r.paddingIntact).toBe(true);
          });
        });
      }
    }
  });

  it('K = 0 with beta = 0 writes exactly bias (or zeros) over NaN-filled C', () => {
    const M = 3, N = 6;
    const pc = blankF32(M * N); // NaN
    const bias = putF32([1, -2, 3, -4, 0.5, -0.5]);
    kernels().gemm(0, 0, M, N, 0, 1, 0, 1, 0, N, 0, pc, N, bias, 1, runtime().gemmWork);
    expect(Array.from(getF32(pc, M * N))).toEqual([1, 0, 3, 0, 0.5, 0, 1, 0, 3, 0, 0.5, 0, 1, 0, 3, 0, 0.5, 0]);
    kernels().gemm(0, 0, M, N, 0, 1, 0, 1, 0, N, 0, pc, N, 0, 0, runtime().gemmWork);
    expect(Array.from(getF32(pc, M * N))).toEqual(new Array(M * N).fill(0));
    free(pc, bias);
  });

  it('gives exact results on small integers (no reassociation surprises)', () => {
    // Integer data small enough that every partial sum is exact in f32, FMA or not.
    const M = 6, N = 11, K = 9;
    const a = Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
    const b = Array.from({ length: K * N }, (_, i) => (i % 5) - 2);
    const pa = putF32(a), pb = putF32(b), pc = blankF32(M * N);
    kernels().gemm(0, 0, M, N, K, 1, pa, K, pb, N, 0, pc, N, 0, 0, runtime().gemmWork);
    const got = getF32(pc, M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
        expect(got[i * N + j]).toBe(s);
      }
    }
    free(pa, pb, pc);
  });
});

// GEMM_SKIP_ZEROS_A (linear's zero skipping): the k steps where a 4-row strip of op(A) is all
// zeros are dropped. A skipped step adds only zeros, and the kept ones are summed in the same
// order, so the result must be bitwise the dense kernel's on the same data — whatever the
// epilogue, the transposes and the block boundaries — with NaN in A still propagating.
describe('gemm with GEMM_SKIP_ZEROS_A', () => {
  const SKIP_SHAPES: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [13, 17, 19], [64, 128, 784], [128, 784, 64], [67, 23, 1031], [257, 19, 30], [3, 2053, 5], [5, 9, 4],
  ];
  /** op(A) with whole zero runs (as image borders give) and scattered non-zeros; `nan`: one NaN in a zero run. */
  function sparseA(rows: number, cols: number, seed: number, nan: boolean): Float32Array {
    const v = randomF32(rows * cols, seed);
    for (let i = 0; i < v.length; i++) {
      const c = i % cols;
      const r = Math.floor(i / cols);
      // Zero everywhere except a band that moves with the row, and a few lone values.
      if (Math.abs(c - ((r * 7) % Math.max(cols, 1))) > 2 && (i * 2654435761) % 97 !== 0) v[i] = (i & 1) === 0 ? 0 : -0;
    }
    if (nan) v[Math.floor(v.length / 2)] = Number.NaN;
    return v;
  }
  for (const [M, N, K] of SKIP_SHAPES) {
    for (const t of TRANS) {
      EPILOGUES.slice(0, 2).forEach((ep, ei) => {
        for (const nan of [false, true]) {
          it(`${M}x${N}x${K} ${tname(t)}, ${ep.name}${nan ? ', a NaN in A' : ''}: bitwise the dense kernel's`, () => {
            const [transA, transB] = t;
            const seed = M * 31 + N * 17 + K + ei;
            const a = sparseA(transA ? K : M, transA ? M : K, seed, nan);
            const b = randomF32(K * N, seed + 1);
            const bias = ep.bias ? randomF32(N, seed + 2) : null;
            const c0 = ep.beta !== 0 ? randomF32(M * N, seed + 3) : new Float32Array(M * N).fill(Number.NaN);
            const run = (options: number): Float32Array => {
              const pa = putF32(a), pb = putF32(b), pc = putF32(c0), pbias = bias ? putF32(bias) : 0;
              kernels().gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, ep.alpha, pa, transA ? M : K, pb, transB ? K : N, ep.beta, pc, N,
                pbias, options, runtime().gemmWork);
              const out = getF32(pc, M * N);
              free(pa, pb, pc);
              if (pbias) free(pbias);
              return out;
            };
            const relu = ep.relu ? GEMM_RELU : 0;
            const dense = run(relu);
            const skipped = run(relu | GEMM_SKIP_ZEROS_A);
            let same = 0;
            for (let i = 0; i < dense.length; i++) if (Object.is(dense[i], skipped[i])) same++;
            expect(same).toBe(dense.length);
            if (nan && !ep.relu) expect(skipped.some((x) => Number.isNaN(x))).toBe(true);
          });
        }
      });
    }
  }

  it('gemmZeroSteps counts the steps of whole 4-row strips that are all zero, as a plain loop does', () => {
    for (const [M, K] of [[8, 33], [11, 7], [3, 9], [16, 100]]) {
      for (const transA of [0, 1]) {
        const a = sparseA(transA ? K : M, transA ? M : K, M + K, false);
        const at = (i: number, k: number): number => (transA ? a[k * M + i] : a[i * K + k]);
        let want = 0;
        for (let i = 0; i + 4 <= M; i += 4) for (let k = 0; k < K; k++) if ([0, 1, 2, 3].every((r) => at(i + r, k) === 0)) want++;
        const pa = putF32(a);
        const got = kernels().gemmZeroSteps(transA, pa, transA ? M : K, M, K);
        free(pa);
        expect(got, `${M}x${K} transA ${transA}`).toBe(want);
        if (M >= 4) expect(want).toBeGreaterThan(0);
      }
    }
  });

  it('one non-zero column of A: the products are exact', () => {
    // Every strip but one step is skipped: what is left must be exactly x·b (small integers).
    const M = 8, N = 16, K = 64;
    const a = new Float32Array(M * K);
    for (let i = 0; i < M; i++) a[i * K + 5] = i + 1;
    const b = Float32Array.from({ length: K * N }, (_, i) => (i % 9) - 4);
    const pa = putF32(a), pb = putF32(b), pc = blankF32(M * N);
    kernels().gemm(0, 0, M, N, K, 1, pa, K, pb, N, 0, pc, N, 0, GEMM_SKIP_ZEROS_A, runtime().gemmWork);
    const got = getF32(pc, M * N);
    free(pa, pb, pc);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) expect(got[i * N + j]).toBe((i + 1) * b[5 * N + j]);
  });
});

// transpose2d (the weight-gradient layout change of convolutions): exact copies, on sizes
// around the 4x4 register blocks and the 64-column bands, unaligned pointers, and guards
// after the output.
describe('gemm with GEMM_TRANS_C', () => {
  /**
   * The product stored normally and stored transposed (into [N, M] with a padded leading
   * dimension, padding filled with a sentinel), same inputs and options otherwise.
   */
  function both(M: number, N: number, K: number, t: [boolean, boolean], ep: Epilogue, options: number, a: Float32Array, seed: number): { normal: Float32Array; trans: Float32Array; ldt: number; sentinel: number } {
    const [transA, transB] = t;
    const b = randomF32(K * N, seed + 1);
    const bias = ep.bias ? randomF32(N, seed + 2) : null;
    const c0 = ep.beta !== 0 ? randomF32(M * N, seed + 3) : new Float32Array(M * N).fill(Number.NaN);
    const ldt = M + 3;
    const sentinel = 4321.25;
    const ct = new Float32Array(N * ldt).fill(sentinel);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) ct[j * ldt + i] = c0[i * N + j];
    const run = (c: Float32Array, ldc: number, opts: number): Float32Array => {
      const pa = putF32(a), pb = putF32(b), pc = putF32(c), pbias = bias ? putF32(bias) : 0;
      kernels().gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, ep.alpha, pa, transA ? M : K, pb, transB ? K : N, ep.beta, pc, ldc,
        pbias, opts, runtime().gemmWork);
      const out = getF32(pc, c.length);
      free(pa, pb, pc);
      if (pbias) free(pbias);
      return out;
    };
    return { normal: run(c0, N, options), trans: run(ct, ldt, options | GEMM_TRANS_C), ldt, sentinel };
  }

  /**
   * Transposed equals normal: bitwise, or within `tol` of it where the two take different
   * paths: beta reading C (the relaxed build fuses that multiply-add in whole normal tiles
   * only), and few columns with A untransposed (the normal product takes the dot-product path,
   * which sums in another order; a transposed C always takes the tiles).
   */
  function expectTransposed(r: ReturnType<typeof both>, M: number, N: number, exact: boolean, tol = 1e-6): void {
    let diff = '';
    for (let i = 0; i < M && diff === ''; i++) {
      for (let j = 0; j < N; j++) {
        const want = r.normal[i * N + j];
        const got = r.trans[j * r.ldt + i];
        const ok = exact ? Object.is(got, want) : Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
        if (!ok) { diff = `(${i}, ${j}): ${got} vs ${want}`; break; }
      }
    }
    expect(diff).toBe('');
    for (let j = 0; j < N; j++) for (let i = M; i < r.ldt; i++) expect(r.trans[j * r.ldt + i]).toBe(r.sentinel);
  }

  for (const [M, N, K] of [...SHAPES, [5, 9, 0], [16, 8, 0]] as [number, number, number][]) {
    for (const t of TRANS) {
      EPILOGUES.forEach((ep, ei) => {
        it(`${M}x${N}x${K} ${tname(t)}, ${ep.name}: the normal product, transposed; padding untouched`, () => {
          const seed = M * 7 + N * 3 + K + ei;
          const a = randomF32(M * K, seed);
          const r = both(M, N, K, t, ep, ep.relu ? GEMM_RELU : 0, a, seed);
          const narrow = !t[0] && N <= 15 && K > 0;
          expectTransposed(r, M, N, ep.beta === 0 && !narrow, narrow ? 2e-5 : 1e-6);
        });
      });
    }
  }

  it('with GEMM_SKIP_ZEROS_A too (the weight gradient of linear): bitwise the dense product, transposed', () => {
    for (const [M, N, K] of [[784, 128, 64], [784, 128, 256], [13, 17, 19], [130, 10, 37]] as [number, number, number][]) {
      // op(A) = xᵀ with x [K, M] mostly zeros, as MNIST rows are.
      const x = randomF32(K * M, M + K);
      for (let i = 0; i < x.length; i++) if (i % M < M / 4 || (i * 2654435761) % 5 !== 0) x[i] = 0;
      const r = both(M, N, K, [true, false], EPILOGUES[0], 0, x, N);
      const skipped = both(M, N, K, [true, false], EPILOGUES[0], GEMM_SKIP_ZEROS_A, x, N);
      for (let i = 0; i < r.normal.length; i++) expect(Object.is(skipped.trans[Math.floor(i / N) + (i % N) * skipped.ldt], r.normal[i])).toBe(true);
    }
  });
});

describe('transpose2d kernel', () => {
  const SIZES: [number, number][] = [
    [0, 0], [0, 5], [5, 0], [1, 1], [1, 7], [7, 1], [3, 3], [4, 4], [4, 8], [5, 9], [8, 5],
    [9, 32], [32, 9], [33, 17], [16, 64], [13, 65], [64, 65], [67, 130], [128, 3],
  ];
  for (const [rows, cols] of SIZES) {
    for (const off of [0, 1]) {
      it(`${rows}x${cols}${off ? ', unaligned' : ''}`, () => {
        const n = rows * cols;
        const GUARD = 5;
        const src = putF32([...new Array<number>(off).fill(0), ...randomF32(n, 3 + rows * 131 + cols)]);
        const dst = blankF32(off + n + GUARD, 777.5);
        const s = src + off * 4;
        const d = dst + off * 4;
        kernels().transpose2d(s, rows, cols, d);
        const x = getF32(s, n);
        const got = getF32(d, n + GUARD);
        let bad = -1;
        for (let r = 0; r < rows && bad < 0; r++) for (let c = 0; c < cols; c++) if (!Object.is(got[c * rows + r], x[r * cols + c])) { bad = c * rows + r; break; }
        expect(bad).toBe(-1);
        expect(Array.from(got.subarray(n))).toEqual(new Array(GUARD).fill(777.5));
        expect(Array.from(getF32(dst, off))).toEqual(new Array(off).fill(777.5));
        free(src, dst);
      });
    }
  }
});
