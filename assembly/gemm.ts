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
// Products with few columns (N < 16, A untransposed) take a separate dot-product path
// (gemmNarrow below), where 8-column strips would be mostly padding.

// Block sizes. 4x8 is the largest tile that fits V8's 15 usable xmm registers: V8 issues all
// loads of a loop iteration before its arithmetic, so accumulators + loaded values must fit
// (8 + 2 B vectors + 4 broadcasts); 5x8, 6x8, 4x12 and a hand-unrolled k loop spill. The FMA
// build has exactly 8 independent accumulator chains, enough to cover the FMA latency; a
// 3x12 tile (9 chains) would waste more at the edges of power-of-two sizes than it gains.
// The micro-kernel is inlined into the driver's loop nest on purpose: V8 unrolls (and peels)
// only small loops nested deep enough, and unrolled it hoists the broadcast address
// arithmetic and runs one stack check per several k steps, which it does not for a separate
// function at loop depth 1.
// KC x 8 floats of B (16 KB at KC = 512) stay in L1 and MC x KC floats of A (128 KB) in L2.
// The kernel is compute-bound here, insensitive to KC, MC and NC within a wide range, so MC
// and NC are kept small to keep the workspace at ~1.1 MB.
const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 512;
const MC: i32 = 64;
const NC: i32 = 512;
// With few rows of C (M <= DIRECT_M, not transB) each 8-column strip of B is reused by few
// tiles, so packing it costs more than it saves: the micro-kernel then reads B in place with
// stride ldb. The FMA build waits on its accumulator chains and hides the slower strided
// reads for more rows than the mul+add build, which is issue-bound there.
const DIRECT_M: i32 = ASC_FEATURE_RELAXED_SIMD ? 64 : 16;

const AP_BYTES: usize = <usize>(MC * KC) << 2;
const BP_BYTES: usize = <usize>(KC * NC) << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;
// With OPT_SKIP_ZEROS_A: the k of each kept step of every 4-row strip, and each strip's count.
const IDX_BYTES: usize = <usize>((MC / MR) * KC) << 2;
const STEPS_BYTES: usize = <usize>(MC / MR) << 2;

/** Bytes of scratch `gemm` needs: packed A block, packed B block, one edge tile, the zero-skip step lists. */
export function gemmWorkspaceBytes(): i32 {
  return <i32>(AP_BYTES + BP_BYTES + TILE_BYTES + IDX_BYTES + STEPS_BYTES);
}

// Bits of gemm's `options` argument.
const OPT_RELU: i32 = 1;
// Skip the k steps where a 4-row strip of op(A) is all zeros: a mostly-zero A (raw pixels,
// one-hot features) then costs about its non-zero steps only. 0·B adds nothing when B is
// finite; where B may hold Inf or NaN (0·Inf = NaN) the caller must not ask for it.
const OPT_SKIP_ZEROS_A: i32 = 2;
// C is stored transposed: element (i, j) of the product at C[j * ldc + i] (C is [N, M]). The
// tiles are transposed in registers as they are stored, so a product whose transposed form
// suits the kernel better (zeros on the A side) still lands in the layout the caller wants.
const OPT_TRANS_C: i32 = 4;

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

/**
 * Drops the k steps of each packed 4-row strip whose 4 values are all ±0, moving the kept ones
 * to the front in order: idx[s*kc + t] is the k of strip s's kept step t and steps[s] how many
 * were kept. NaN is kept (it is not zero).
 */
function compactA(Ap: usize, mc: i32, kc: i32, idx: usize, steps: usize): void {
  const zero = f32x4.splat(0);
  for (let ir = 0, s = 0; ir < mc; ir += MR, s++) {
    const strip = Ap + (<usize>ir * <usize>kc << 2);
    const ix = idx + (<usize>s * <usize>kc << 2);
    let n = 0;
    for (let k = 0; k < kc; k++) {
      const v = v128.load(strip + (<usize>k << 4));
      v128.store(strip + (<usize>n << 4), v);
      store<i32>(ix + (<usize>n << 2), k);
      n += <i32>v128.any_true(f32x4.ne(v, zero));
    }
    store<i32>(steps + (<usize>s << 2), n);
  }
}

/**
 * How many steps compactA would drop from op(A)'s whole 4-row strips (rows 0 .. M & ~3, all K
 * steps): a sample of it tells linear whether OPT_SKIP_ZEROS_A pays.
 */
export function gemmZeroSteps(transA: i32, A: usize, lda: i32, M: i32, K: i32): i32 {
  const ldaB = <usize>lda << 2;
  const zero = f32x4.splat(0);
  let n = 0;
  for (let i = 0; i + MR <= M; i += MR) {
    if (transA) {
      // A is stored [K, M]: a step's 4 values are adjacent.
      let p = A + (<usize>i << 2);
      for (let k = 0; k < K; k++) {
        n += <i32>!v128.any_true(f32x4.ne(v128.load(p), zero));
        p += ldaB;
      }
    } else {
      const r0 = A + <usize>i * ldaB;
      for (let k = 0; k < K; k++) {
        const o = <usize>k << 2;
        const nz = load<f32>(r0 + o) != 0 || load<f32>(r0 + ldaB + o) != 0 || load<f32>(r0 + 2 * ldaB + o) != 0 || load<f32>(r0 + 3 * ldaB + o) != 0;
        n += <i32>!nz;
      }
    }
  }
  return n;
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

// Epilogue steps, decided once per k block (branches on these are predicted, and the
// common flags == 0 case is 8 plain stores).
const F_BETA: i32 = 1; // C = alpha*acc + beta*C (C is read)
const F_ALPHA: i32 = 2; // C = alpha*acc, alpha != 1
const F_BIAS: i32 = 4; // C += bias[col]
const F_RELU: i32 = 8; // C = max(C, 0)
const F_TRANS: i32 = 16; // C stored transposed: element (r, c) of a tile at C + c*ldcB + r*4

/**
 * Epilogue of a whole 4x8 tile (accumulators c00..c31) into C, rows ldcB bytes apart; with
 * F_TRANS (and never F_BETA) stored transposed: tile column c at C + c*ldcB.
 */
// @ts-ignore: decorator
@inline function tileEpilogueFull(
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  C: usize, ldcB: usize, flags: i32, alpha: f32, beta: f32, bias: usize,
): void {
  if (flags & F_BETA) {
    const va = f32x4.splat(alpha);
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
  } else if (flags & F_ALPHA) {
    const va = f32x4.splat(alpha);
    c00 = f32x4.mul(va, c00);
    c01 = f32x4.mul(va, c01);
    c10 = f32x4.mul(va, c10);
    c11 = f32x4.mul(va, c11);
    c20 = f32x4.mul(va, c20);
    c21 = f32x4.mul(va, c21);
    c30 = f32x4.mul(va, c30);
    c31 = f32x4.mul(va, c31);
  }
  if (flags & F_BIAS) {
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
  if (flags & F_RELU) {
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
  if (flags & F_TRANS) {
    transposeStore4(c00, c10, c20, c30, C, ldcB);
    transposeStore4(c01, c11, c21, c31, C + (ldcB << 2), ldcB);
    return;
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
}

/**
 * One 4x8 tile: acc = Ap strip (kc x 4) times a B strip (kc x 8, rows sb bytes apart: 32 when
 * packed, 4*ldb when read in place), then the epilogue into C (rows x cols valid, the rest of
 * the tile is padding): C = alpha*acc + beta*C (C unread without F_BETA); C += bias[col] with
 * F_BIAS; C = max(C, 0) with F_RELU.
 */
// @ts-ignore: decorator
@inline function tile(
  kc: i32, pa: usize, pb: usize, sb: usize, C: usize, ldcB: usize,
  flags: i32, alpha: f32, beta: f32, bias: usize, rows: i32, cols: i32, T: usize,
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
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, C, ldcB, flags, alpha, beta, bias, rows, cols, T);
}

/**
 * tile() over the kept steps of a compacted strip (compactA): n steps, the k of each at ix,
 * whose row of B is looked up instead of stepped to. A separate loop rather than a flag of
 * tile(): with the lookup in its loop (ix a constant 0 on the dense call), the dense kernel
 * measured 39 GFLOP/s instead of 46 on 256x784x128.
 */
// @ts-ignore: decorator
@inline function tileSkip(
  n: i32, pa: usize, ix: usize, pb: usize, sb: usize, C: usize, ldcB: usize,
  flags: i32, alpha: f32, beta: f32, bias: usize, rows: i32, cols: i32, T: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = ix + (<usize>n << 2);
  while (ix < end) {
    const p = pb + <usize>load<i32>(ix) * sb;
    const b0 = v128.load(p);
    const b1 = v128.load(p, 16);
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
    ix += 4;
  }
  storeTile(c00, c01, c10, c11, c20, c21, c30, c31, C, ldcB, flags, alpha, beta, bias, rows, cols, T);
}

/**
 * The epilogue of a tile's accumulators into C: whole tiles in registers, edge tiles (rows x cols
 * valid) through the scratch tile T. With F_TRANS, element (r, c) goes to C + c*ldcB + r*4.
 */
// @ts-ignore: decorator
@inline function storeTile(
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
  C: usize, ldcB: usize, flags: i32, alpha: f32, beta: f32, bias: usize, rows: i32, cols: i32, T: usize,
): void {
  if (rows == MR && cols == NR && (flags & (F_TRANS | F_BETA)) != (F_TRANS | F_BETA)) {
    tileEpilogueFull(c00, c01, c10, c11, c20, c21, c30, c31, C, ldcB, flags, alpha, beta, bias);
    return;
  }
  // Edge tile (or a transposed one that reads C): spill acc to the scratch tile, then store
  // the valid part element-wise.
  v128.store(T, c00);
  v128.store(T, c01, 16);
  v128.store(T, c10, 32);
  v128.store(T, c11, 48);
  v128.store(T, c20, 64);
  v128.store(T, c21, 80);
  v128.store(T, c30, 96);
  v128.store(T, c31, 112);
  const trans = (flags & F_TRANS) != 0;
  const rowStep: usize = trans ? 4 : ldcB;
  const colStep: usize = trans ? ldcB : 4;
  for (let r = 0; r < rows; r++) {
    const crow = C + <usize>r * rowStep;
    const trow = T + (<usize>r << 5);
    for (let c = 0; c < cols; c++) {
      const q = crow + <usize>c * colStep;
      let v = alpha * load<f32>(trow + (<usize>c << 2));
      if (flags & F_BETA) v += beta * load<f32>(q);
      if (flags & F_BIAS) v += load<f32>(bias + (<usize>c << 2));
      if (flags & F_RELU) v = max(v, <f32>0);
      store<f32>(q, v);
    }
  }
}

/** Rows a, b, c, d of a 4x4 block stored as its columns: column j at C + j*ldcB. */
// @ts-ignore: decorator
@inline function transposeStore4(a: v128, b: v128, c: v128, d: v128, C: usize, ldcB: usize): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(C, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(C + ldcB, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(C + 2 * ldcB, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(C + 3 * ldcB, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

// ---- narrow products (few columns): dot-product tiles ------------------------------------

// With few columns of C the 8-column strips above are mostly padding (N = 10 computes 16
// columns, N = 4 computes 8). Instead C[i, j] = A[i, :] . op(B)[:, j] is computed along k: A
// is read in place (its rows are contiguous in k), op(B) is packed once as column pairs, and
// a 4x2 tile keeps 8 f32x4 partial sums over 4 consecutive k each, reduced horizontally at
// the end. From 16 columns on, the 8-column strips are as fast or faster.
const NARROW_N: i32 = 15;

/**
 * Packs op(B)^T as column pairs: Bq[(jp*K4 + k4)*8 + c*4 + l] = op(B)[4*k4 + l, 2*jp + c]
 * (zeros beyond K and N); K4 = ceil(K / 4).
 */
function packBt(transB: i32, B: usize, ldb: i32, K: i32, N: i32, Bq: usize): void {
  const ldbB = <usize>ldb << 2;
  const K4 = (K + 3) >> 2;
  const pairBytes = <usize>K4 << 5;
  if (!transB) {
    // B is [K, N]: 4 rows x 4 columns at a time, transposed with shuffles; the ragged right
    // edge and the last partial group of rows element by element, with zeros beyond K and N.
    const kFull = K >> 2;
    const nFull = N & ~3;
    for (let k4 = 0; k4 < kFull; k4++) {
      const s0 = B + <usize>(4 * k4) * ldbB;
      const s1 = s0 + ldbB;
      const s2 = s1 + ldbB;
      const s3 = s2 + ldbB;
      const d = Bq + (<usize>k4 << 5);
      for (let j = 0; j < nFull; j += 4) {
        const o = <usize>j << 2;
        const x0 = v128.load(s0 + o);
        const x1 = v128.load(s1 + o);
        const x2 = v128.load(s2 + o);
        const x3 = v128.load(s3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        // Columns j, j+1 form pair j/2; columns j+2, j+3 pair j/2 + 1.
        const p0 = d + <usize>(j >> 1) * pairBytes;
        const p1 = p0 + pairBytes;
        v128.store(p0, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(p0, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(p1, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(p1, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 16);
      }
    }
    const pairs = (N + 1) >> 1;
    for (let j = 0; j < 2 * pairs; j++) {
      const d = Bq + <usize>(j >> 1) * pairBytes + (<usize>(j & 1) << 4);
      const k4From = j < nFull ? kFull : 0;
      for (let k4 = k4From; k4 < K4; k4++) {
        for (let l = 0; l < 4; l++) {
          const k = 4 * k4 + l;
          store<f32>(d + (<usize>k4 << 5) + (<usize>l << 2), k < K && j < N ? load<f32>(B + <usize>k * ldbB + (<usize>j << 2)) : 0);
        }
      }
    }
    return;
  }
  const pairs = (N + 1) >> 1;
  for (let jp = 0; jp < pairs; jp++) {
    const base = Bq + <usize>jp * pairBytes;
    for (let c = 0; c < 2; c++) {
      const j = 2 * jp + c;
      const dst0 = base + (<usize>c << 4);
      if (j >= N) {
        for (let k4 = 0; k4 < K4; k4++) v128.store(dst0 + (<usize>k4 << 5), f32x4.splat(0));
        continue;
      }
      // op(B)[k, j] = B[j, k]: the column is a contiguous row of B.
      const src = B + <usize>j * ldbB;
      let k = 0;
      for (; k + 4 <= K; k += 4) v128.store(dst0 + (<usize>k << 3), v128.load(src + (<usize>k << 2)));
      if (k < K) {
        const d = dst0 + (<usize>k << 3);
        v128.store(d, f32x4.splat(0));
        for (let t = k; t < K; t++) store<f32>(d + (<usize>(t - k) << 2), load<f32>(src + (<usize>t << 2)));
      }
    }
  }
}

/** (s0 lanes summed, s1 ..., s2 ..., s3 ...) */
// @ts-ignore: decorator
@inline function hsum4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), v128.shuffle<f32>(v0, v1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), v128.shuffle<f32>(v2, v3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/** Loads A[row, k .. K) (1 to 3 floats) into the low lanes, zeros above; never reads past K. */
// @ts-ignore: decorator
@inline function loadTail(p: usize, n: i32): v128 {
  if (n == 1) return v128.load32_zero(p);
  const v = v128.load64_zero(p);
  if (n == 2) return v;
  return f32x4.replace_lane(v, 2, load<f32>(p, 8));
}

/** The whole product for N <= NARROW_N, A untransposed; Bq from packBt, T a 32-byte scratch tile. */
function gemmNarrow(
  M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, Bq: usize, beta: f32, C: usize, ldc: i32,
  bias: usize, relu: i32, T: usize,
): void {
  const flags = (beta != 0 ? F_BETA : 0) | (alpha != 1 ? F_ALPHA : 0) | (bias != 0 ? F_BIAS : 0) | (relu ? F_RELU : 0);
  const ldaB = <usize>lda << 2;
  const ldcB = <usize>ldc << 2;
  const K4 = (K + 3) >> 2;
  const kMain = <usize>(K & ~3) << 2; // bytes of A read as whole vectors
  const tail = K & 3;
  const pairBytes = <usize>K4 << 5;
  for (let i0 = 0; i0 < M; i0 += 4) {
    // Rows past M repeat the last row (always readable); their results are not stored.
    const r0 = A + <usize>i0 * ldaB;
    const r1 = A + <usize>min(i0 + 1, M - 1) * ldaB;
    const r2 = A + <usize>min(i0 + 2, M - 1) * ldaB;
    const r3 = A + <usize>min(i0 + 3, M - 1) * ldaB;
    const rows = min(4, M - i0);
    for (let j0 = 0; j0 < N; j0 += 2) {
      const q = Bq + <usize>(j0 >> 1) * pairBytes;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
      let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      let o: usize = 0;
      let pq = q;
      for (; o < kMain; o += 16) {
        const b0 = v128.load(pq);
        const b1 = v128.load(pq, 16);
        let a = v128.load(r0 + o);
        s00 = madd(a, b0, s00);
        s01 = madd(a, b1, s01);
        a = v128.load(r1 + o);
        s10 = madd(a, b0, s10);
        s11 = madd(a, b1, s11);
        a = v128.load(r2 + o);
        s20 = madd(a, b0, s20);
        s21 = madd(a, b1, s21);
        a = v128.load(r3 + o);
        s30 = madd(a, b0, s30);
        s31 = madd(a, b1, s31);
        pq += 32;
      }
      if (tail) {
        const b0 = v128.load(pq);
        const b1 = v128.load(pq, 16);
        let a = loadTail(r0 + o, tail);
        s00 = madd(a, b0, s00);
        s01 = madd(a, b1, s01);
        a = loadTail(r1 + o, tail);
        s10 = madd(a, b0, s10);
        s11 = madd(a, b1, s11);
        a = loadTail(r2 + o, tail);
        s20 = madd(a, b0, s20);
        s21 = madd(a, b1, s21);
        a = loadTail(r3 + o, tail);
        s30 = madd(a, b0, s30);
        s31 = madd(a, b1, s31);
      }
      // Row pairs (C[r, j0], C[r, j0 + 1]): rows 0, 1 in h01, rows 2, 3 in h23.
      let h01 = hsum4(s00, s01, s10, s11);
      let h23 = hsum4(s20, s21, s30, s31);
      const cp = C + <usize>i0 * ldcB + (<usize>j0 << 2);
      if (rows == 4 && j0 + 2 <= N) {
        const cp1 = cp + ldcB;
        const cp2 = cp1 + ldcB;
        const cp3 = cp2 + ldcB;
        if (flags & F_ALPHA) {
          const va = f32x4.splat(alpha);
          h01 = f32x4.mul(h01, va);
          h23 = f32x4.mul(h23, va);
        }
        if (flags & F_BETA) {
          const vb = f32x4.splat(beta);
          h01 = madd(vb, v128.load64_lane(cp1, v128.load64_zero(cp), 1), h01);
          h23 = madd(vb, v128.load64_lane(cp3, v128.load64_zero(cp2), 1), h23);
        }
        if (flags & F_BIAS) {
          const bj = v128.load64_splat(bias + (<usize>j0 << 2));
          h01 = f32x4.add(h01, bj);
          h23 = f32x4.add(h23, bj);
        }
        if (flags & F_RELU) {
          const z = f32x4.splat(0);
          h01 = f32x4.max(h01, z);
          h23 = f32x4.max(h23, z);
        }
        v128.store64_lane(cp, h01, 0);
        v128.store64_lane(cp1, h01, 1);
        v128.store64_lane(cp2, h23, 0);
        v128.store64_lane(cp3, h23, 1);
        continue;
      }
      v128.store(T, h01);
      v128.store(T, h23, 16);
      const cols = min(2, N - j0);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const p = cp + <usize>r * ldcB + (<usize>c << 2);
          let v = alpha * load<f32>(T + (<usize>(r * 2 + c) << 2));
          if (flags & F_BETA) v += beta * load<f32>(p);
          if (flags & F_BIAS) v += load<f32>(bias + (<usize>(j0 + c) << 2));
          if (flags & F_RELU) v = max(v, <f32>0);
          store<f32>(p, v);
        }
      }
    }
  }
}

// ---- K == 0: C = beta*C (+ bias, ReLU) --------------------------------------------------

function scaleC(M: i32, N: i32, beta: f32, C: usize, rowStep: usize, colStep: usize, bias: usize, relu: i32): void {
  for (let i = 0; i < M; i++) {
    const crow = C + <usize>i * rowStep;
    for (let j = 0; j < N; j++) {
      const q = crow + <usize>j * colStep;
      let v: f32 = beta != 0 ? beta * load<f32>(q) : 0;
      if (bias != 0) v += load<f32>(bias + (<usize>j << 2));
      if (relu) v = max(v, <f32>0);
      store<f32>(q, v);
    }
  }
}

// ---- driver -----------------------------------------------------------------------------

export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
  bias: usize, options: i32, work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  const relu = options & OPT_RELU;
  const skipA = (options & OPT_SKIP_ZEROS_A) != 0;
  const transC = (options & OPT_TRANS_C) != 0;
  const ldcB = <usize>ldc << 2;
  // Bytes from C's element (i, j) to (i + 1, j) and to (i, j + 1).
  const rowStep: usize = transC ? 4 : ldcB;
  const colStep: usize = transC ? ldcB : 4;
  if (K <= 0) {
    scaleC(M, N, beta, C, rowStep, colStep, bias, relu);
    return;
  }
  const ldbB = <usize>ldb << 2;
  const direct = !transB && M <= DIRECT_M;
  const Ap = work;
  const Bp = work + AP_BYTES;
  const T = Bp + BP_BYTES;
  const Aidx = T + TILE_BYTES;
  const Asteps = Aidx + IDX_BYTES;
  if (!transA && !transC && N <= NARROW_N && (<i64>((N + 1) >> 1) * <i64>((K + 3) >> 2) << 5) <= <i64>BP_BYTES) {
    packBt(transB, B, ldb, K, N, Bp);
    gemmNarrow(M, N, K, alpha, A, lda, Bp, beta, C, ldc, bias, relu, T);
    return;
  }

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
      let flags = (betaK != 0 ? F_BETA : 0) | (alpha != 1 ? F_ALPHA : 0) | (transC ? F_TRANS : 0);
      if (last) flags |= (bias != 0 ? F_BIAS : 0) | (relu ? F_RELU : 0);
      if (direct) {
        const full = nc & ~(NR - 1);
        if (full < nc) packB(0, B, ldb, pc, kc, jc + full, nc - full, Bp + (<usize>full * <usize>kc << 2));
      } else {
        packB(transB, B, ldb, pc, kc, jc, nc, Bp);
      }
      for (let ic = 0; ic < M; ic += mcMax) {
        const mc = min(mcMax, M - ic);
        packA(transA, A, lda, ic, mc, pc, kc, Ap);
        if (skipA) compactA(Ap, mc, kc, Aidx, Asteps);
        const cBlock = C + <usize>ic * rowStep + <usize>jc * colStep;
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const useB = direct && cols == NR;
          const pb = useB ? B + <usize>pc * ldbB + (<usize>(jc + jr) << 2) : Bp + (<usize>jr * <usize>kc << 2);
          const sb: usize = useB ? ldbB : 32;
          const biasJ: usize = bias + (<usize>(jc + jr) << 2);
          const cStrip = cBlock + <usize>jr * colStep;
          if (skipA) {
            for (let ir = 0; ir < mc; ir += MR) {
              const s = <usize>(ir / MR);
              tileSkip(
                load<i32>(Asteps + (s << 2)), Ap + (<usize>ir * <usize>kc << 2), Aidx + (s * <usize>kc << 2), pb, sb,
                cStrip + <usize>ir * rowStep, ldcB, flags, alpha, betaK, biasJ, min(MR, mc - ir), cols, T,
              );
            }
          } else {
            for (let ir = 0; ir < mc; ir += MR) {
              tile(
                kc, Ap + (<usize>ir * <usize>kc << 2), pb, sb, cStrip + <usize>ir * rowStep, ldcB,
                flags, alpha, betaK, biasJ, min(MR, mc - ir), cols, T,
              );
            }
          }
        }
      }
    }
  }
}

// ---- transpose ------------------------------------------------------------------------------

/** Columns of src per pass over a band of 4 rows: the band's reads and writes stay in cache. */
const TR_COLS: i32 = 64;

/**
 * dst[c, r] = src[r, c] for src [rows, cols] (dst is [cols, rows]; the two must not overlap).
 * 4x4 blocks are transposed in registers (two rounds of shuffles); the last rows % 4 rows and
 * cols % 4 columns are copied one by one.
 */
export function transpose2d(src: usize, rows: i32, cols: i32, dst: usize): void {
  const rb = <usize>rows << 2; // bytes of one dst row
  const cb = <usize>cols << 2; // bytes of one src row
  const rows4 = rows & ~3;
  const cols4 = cols & ~3;
  for (let c0 = 0; c0 < cols4; c0 += TR_COLS) {
    const c1 = min(c0 + TR_COLS, cols4);
    for (let r = 0; r < rows4; r += 4) {
      let s = src + <usize>r * cb + (<usize>c0 << 2);
      let d = dst + <usize>c0 * rb + (<usize>r << 2);
      for (let c = c0; c < c1; c += 4) {
        transposeStore4(v128.load(s), v128.load(s + cb), v128.load(s + 2 * cb), v128.load(s + 3 * cb), d, rb);
        s += 16;
        d += rb << 2;
      }
    }
  }
  // The last rows % 4 rows (all columns), then the last cols % 4 columns of the other rows.
  for (let r = rows4; r < rows; r++) {
    for (let c = 0; c < cols; c++) store<f32>(dst + <usize>c * rb + (<usize>r << 2), load<f32>(src + <usize>r * cb + (<usize>c << 2)));
  }
  for (let r = 0; r < rows4; r++) {
    for (let c = cols4; c < cols; c++) store<f32>(dst + <usize>c * rb + (<usize>r << 2), load<f32>(src + <usize>r * cb + (<usize>c << 2)));
  }
}
