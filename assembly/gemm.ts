// General matrix multiply with a fused epilogue (see bindings/kernels.ts for the contract):
//   C[M,N] = alpha * op(A) * op(B) + beta * C;  then C += bias[col] and C = max(C, 0) if asked.
//
// Structure (Goto-style blocking):
//   for each column block of C (NC wide)
//     for each k block (<= KC deep)           pack op(B)[k block, column block] -> Bp
//       for each row block of C (<= MC high)   pack op(A)[row block, k block]    -> Ap
//         for each 8-column strip of Bp          (kc x 8 strip stays in L1)
//           for each 4-row strip of Ap           (Ap block stays in L2)
//             4x8 micro-kernel: 8 f32x4 accumulators, per k: 2 B loads + 4 broadcasts.
// Transposed operands are handled only by the packing routines; the micro-kernel always
// reads the same packed layout:
//   Ap strip (4 rows):  Ap[k*4 + r]  = op(A)[i0 + r, k0 + k]   (zero rows beyond M)
//   Bp strip (8 cols):  Bp[k*8 + c]  = op(B)[k0 + k, j0 + c]   (zero columns beyond N)
// (for small M and untransposed B, full strips are read in place, row stride ldb).
// The epilogue is applied when a tile is stored: the first k block scales by alpha and
// adds beta*C (C is not read when beta == 0), later k blocks accumulate into C, and the
// last k block adds the bias and applies ReLU. Partial edge tiles go through a small
// scratch tile and a scalar store, so every M, N, K >= 0 is handled.

// Block sizes. 4x8 is the largest tile that fits V8's 15 usable xmm registers (8
// accumulators + 2 B vectors + broadcasts); a k-unrolled variant spilled and lost ~25 %.
// KC x 8 floats of B (16 KB at KC = 512) stay in L1 and MC x KC floats of A (128 KB) in L2.
// The kernel is compute-bound here: KC 256/512, MC 64-256 and NC 256-2048 all measured
// within noise, so MC and NC are kept small to keep the workspace at ~1.1 MB.
const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 512;
const MC: i32 = 64;
const NC: i32 = 512;
// With few rows of C (M <= DIRECT_M, not transB) each 8-column strip of B is reused by at
// most 4 tiles, so packing it costs more than it saves: the micro-kernel then reads B in
// place with stride ldb (measured 1.1-1.6x faster for M = 1..16, e.g. 4x128x784).
const DIRECT_M: i32 = 16;

const AP_BYTES: usize = <usize>(MC * KC) << 2;
const BP_BYTES: usize = <usize>(KC * NC) << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;

/** Bytes of scratch `gemm` needs: packed A block, packed B block, one edge tile. */
export function gemmWorkspaceBytes(): i32 {
  return <i32>(AP_BYTES + BP_BYTES + TILE_BYTES);
}

// a * b + c: fused in the relaxed build, mul + add otherwise (resolved at compile time).
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// ---- packing ----------------------------------------------------------------------------

/** Packs op(A)[i0 .. i0+mc, k0 .. k0+kc] into 4-row strips at Ap. */
function packA(transA: i32, A: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, Ap: usize): void {
  const ldaB = <usize>lda << 2;
  let dst = Ap;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    if (transA) {
      // A is stored [K, M]: the 4 values of one k are adjacent in memory.
      let src = A + <usize>k0 * ldaB + (<usize>(i0 + ir) << 2);
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += ldaB;
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
          }
          src += ldaB;
          dst += 16;
        }
      }
    } else {
      // A is stored [M, K]: transpose 4 rows x 4 k at a time.
      const r0 = A + <usize>(i0 + ir) * ldaB + (<usize>k0 << 2);
      if (rows == MR) {
        const r1 = r0 + ldaB;
        const r2 = r1 + ldaB;
        const r3 = r2 + ldaB;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          const x0 = v128.load(r0 + o);
          const x1 = v128.load(r1 + o);
          const x2 = v128.load(r2 + o);
          const x3 = v128.load(r3 + o);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
          dst += 64;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(r0 + o));
          store<f32>(dst, load<f32>(r1 + o), 4);
          store<f32>(dst, load<f32>(r2 + o), 8);
          store<f32>(dst, load<f32>(r3 + o), 12);
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const o = <usize>k << 2;
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(r0 + <usize>r * ldaB + o) : 0);
          }
          dst += 16;
        }
      }
    }
  }
}

/** Packs op(B)[k0 .. k0+kc, j0 .. j0+nc] into 8-column strips at Bp. */
function packB(transB: i32, B: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, Bp: usize): void {
  const ldbB = <usize>ldb << 2;
  let dst = Bp;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    if (!transB) {
      // B is stored [K, N]: 8 adjacent values per k.
      let src = B + <usize>k0 * ldbB + (<usize>(j0 + jr) << 2);
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ldbB;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>c << 2)) : 0);
          }
          src += ldbB;
          dst += 32;
        }
      }
    } else {
      // B is stored [N, K]: transpose two groups of 4 rows x 4 k at a time.
      const r0 = B + <usize>(j0 + jr) * ldbB + (<usize>k0 << 2);
      if (cols == NR) {
        const r1 = r0 + ldbB;
        const r2 = r1 + ldbB;
        const r3 = r2 + ldbB;
        const r4 = r3 + ldbB;
        const r5 = r4 + ldbB;
        const r6 = r5 + ldbB;
        const r7 = r6 + ldbB;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          let x0 = v128.load(r0 + o);
          let x1 = v128.load(r1 + o);
          let x2 = v128.load(r2 + o);
          let x3 = v128.load(r3 + o);
          let t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          let t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          let t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          let t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
          x0 = v128.load(r4 + o);
          x1 = v128.load(r5 + o);
          x2 = v128.load(r6 + o);
          x3 = v128.load(r7 + o);
          t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 16);
          v128.store(dst, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 48);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 80);
          v128.store(dst, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 112);
          dst += 128;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(r0 + o));
          store<f32>(dst, load<f32>(r1 + o), 4);
          store<f32>(dst, load<f32>(r2 + o), 8);
          store<f32>(dst, load<f32>(r3 + o), 12);
          store<f32>(dst, load<f32>(r4 + o), 16);
          store<f32>(dst, load<f32>(r5 + o), 20);
          store<f32>(dst, load<f32>(r6 + o), 24);
          store<f32>(dst, load<f32>(r7 + o), 28);
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(r0 + <usize>c * ldbB + o) : 0);
          }
          dst += 32;
        }
      }
    }
  }
}

// ---- micro-kernel -----------------------------------------------------------------------

/**
 * One 4x8 tile: acc = Ap strip (kc x 4) times a B strip (kc x 8, rows sb bytes apart: 32 when
 * packed, 4*ldb when read in place), then the epilogue into C
 * (rows x cols valid, the rest of the tile is padding): C = alpha*acc + beta*C (C unread if
 * beta == 0); C += bias[col] if bias != 0; C = max(C, 0) if relu.
 */
function tile(
  kc: i32, pa: usize, pb: usize, sb: usize, C: usize, ldcB: usize,
  alpha: f32, beta: f32, bias: usize, relu: i32, rows: i32, cols: i32, T: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pa + (<usize>kc << 4);
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += sb;
  }

  const va = f32x4.splat(alpha);
  const full = rows == MR && cols == NR;
  if (full && beta != 0) {
    // C = alpha*acc + beta*C, written in place.
    const vb = f32x4.splat(beta);
    let p = C;
    c00 = madd(vb, v128.load(p), f32x4.mul(va, c00));
    c01 = madd(vb, v128.load(p, 16), f32x4.mul(va, c01));
    p += ldcB;
    c10 = madd(vb, v128.load(p), f32x4.mul(va, c10));
    c11 = madd(vb, v128.load(p, 16), f32x4.mul(va, c11));
    p += ldcB;
    c20 = madd(vb, v128.load(p), f32x4.mul(va, c20));
    c21 = madd(vb, v128.load(p, 16), f32x4.mul(va, c21));
    p += ldcB;
    c30 = madd(vb, v128.load(p), f32x4.mul(va, c30));
    c31 = madd(vb, v128.load(p, 16), f32x4.mul(va, c31));
  } else if (alpha != 1) {
    c00 = f32x4.mul(va, c00);
    c01 = f32x4.mul(va, c01);
    c10 = f32x4.mul(va, c10);
    c11 = f32x4.mul(va, c11);
    c20 = f32x4.mul(va, c20);
    c21 = f32x4.mul(va, c21);
    c30 = f32x4.mul(va, c30);
    c31 = f32x4.mul(va, c31);
  }

  if (full) {
    if (bias != 0) {
      const b0 = v128.load(bias);
      const b1 = v128.load(bias, 16);
      c00 = f32x4.add(c00, b0);
      c01 = f32x4.add(c01, b1);
      c10 = f32x4.add(c10, b0);
      c11 = f32x4.add(c11, b1);
      c20 = f32x4.add(c20, b0);
      c21 = f32x4.add(c21, b1);
      c30 = f32x4.add(c30, b0);
      c31 = f32x4.add(c31, b1);
    }
    if (relu) {
      const z = f32x4.splat(0);
      c00 = f32x4.max(c00, z);
      c01 = f32x4.max(c01, z);
      c10 = f32x4.max(c10, z);
      c11 = f32x4.max(c11, z);
      c20 = f32x4.max(c20, z);
      c21 = f32x4.max(c21, z);
      c30 = f32x4.max(c30, z);
      c31 = f32x4.max(c31, z);
    }
    let p = C;
    v128.store(p, c00);
    v128.store(p, c01, 16);
    p += ldcB;
    v128.store(p, c10);
    v128.store(p, c11, 16);
    p += ldcB;
    v128.store(p, c20);
    v128.store(p, c21, 16);
    p += ldcB;
    v128.store(p, c30);
    v128.store(p, c31, 16);
    return;
  }

  // Edge tile: spill alpha*acc to the scratch tile, then store the valid part element-wise.
  v128.store(T, c00);
  v128.store(T, c01, 16);
  v128.store(T, c10, 32);
  v128.store(T, c11, 48);
  v128.store(T, c20, 64);
  v128.store(T, c21, 80);
  v128.store(T, c30, 96);
  v128.store(T, c31, 112);
  for (let r = 0; r < rows; r++) {
    const crow = C + <usize>r * ldcB;
    const trow = T + (<usize>r << 5);
    for (let c = 0; c < cols; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(trow + o);
      if (beta != 0) v += beta * load<f32>(crow + o);
      if (bias != 0) v += load<f32>(bias + o);
      if (relu) v = max(v, <f32>0);
      store<f32>(crow + o, v);
    }
  }
}

// ---- K == 0: C = beta*C (+ bias, ReLU) --------------------------------------------------

function scaleC(M: i32, N: i32, beta: f32, C: usize, ldcB: usize, bias: usize, relu: i32): void {
  for (let i = 0; i < M; i++) {
    const crow = C + <usize>i * ldcB;
    for (let j = 0; j < N; j++) {
      const o = <usize>j << 2;
      let v: f32 = beta != 0 ? beta * load<f32>(crow + o) : 0;
      if (bias != 0) v += load<f32>(bias + o);
      if (relu) v = max(v, <f32>0);
      store<f32>(crow + o, v);
    }
  }
}

// ---- driver -----------------------------------------------------------------------------

export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
  bias: usize, relu: i32, work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  const ldcB = <usize>ldc << 2;
  if (K <= 0) {
    scaleC(M, N, beta, C, ldcB, bias, relu);
    return;
  }
  const ldbB = <usize>ldb << 2;
  const direct = !transB && M <= DIRECT_M;
  const Ap = work;
  const Bp = work + AP_BYTES;
  const T = Bp + BP_BYTES;

  // Split K (and M) into blocks of nearly equal size rather than full blocks plus a sliver.
  const kBlocks = (K + KC - 1) / KC;
  const kcMax = (K + kBlocks - 1) / kBlocks;
  const mBlocks = (M + MC - 1) / MC;
  const mcMax = min(MC, (((M + mBlocks - 1) / mBlocks) + MR - 1) / MR * MR);

  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min(kcMax, K - pc);
      const first = pc == 0;
      const last = pc + kc >= K;
      const betaK: f32 = first ? beta : 1;
      const reluK = last ? relu : 0;
      if (direct) {
        const full = nc & ~(NR - 1);
        if (full < nc) packB(0, B, ldb, pc, kc, jc + full, nc - full, Bp + (<usize>full * <usize>kc << 2));
      } else {
        packB(transB, B, ldb, pc, kc, jc, nc, Bp);
      }
      for (let ic = 0; ic < M; ic += mcMax) {
        const mc = min(mcMax, M - ic);
        packA(transA, A, lda, ic, mc, pc, kc, Ap);
        const cBlock = C + <usize>ic * ldcB + (<usize>jc << 2);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const useB = direct && cols == NR;
          const pb = useB ? B + <usize>pc * ldbB + (<usize>(jc + jr) << 2) : Bp + (<usize>jr * <usize>kc << 2);
          const sb: usize = useB ? ldbB : 32;
          const biasJ: usize = last && bias != 0 ? bias + (<usize>(jc + jr) << 2) : 0;
          const cStrip = cBlock + (<usize>jr << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            tile(
              kc, Ap + (<usize>ir * <usize>kc << 2), pb, sb, cStrip + <usize>ir * ldcB, ldcB,
              alpha, betaK, biasJ, reluK, min(MR, mc - ir), cols, T,
            );
          }
        }
      }
    }
  }
}
