// Inverted dropout with a counter-based hash: the keep/drop decision for element i is a pure
// function of (seed, i), so masks are reproducible, independent of n and of how the work is
// split, and four elements are hashed at once in i32x4 lanes.
//
// hash(seed, i) = fmix32(fmix32(i * 0x9E3779B9 + seed) ^ fmix32(seed ^ 0x5BD1E995)),
// fmix32 being MurmurHash3's 32-bit finaliser (x ^= x >>> 16; x *= 0x85EBCA6B;
// x ^= x >>> 13; x *= 0xC2B2AE35; x ^= x >>> 16). The first round spreads the counter, the
// second keys it with a scrambled seed, so seeds that differ by a multiple of the counter
// step do not give shifted copies of one mask. u = (hash >>> 8) * 2^-24 is uniform in
// [0, 1) with 24 bits, exact in f32; the element is dropped when u < p.
//
// Contract: bindings/kernels.ts (dropout.ts section).

// @ts-ignore: decorator
@inline function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85EBCA6B;
  h ^= h >>> 13;
  h *= 0xC2B2AE35;
  h ^= h >>> 16;
  return h;
}

// @ts-ignore: decorator
@inline function vfmix32(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x85EBCA6B));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xC2B2AE35));
  h = v128.xor(h, i32x4.shr_u(h, 16));
  return h;
}

export function dropout(x: usize, y: usize, mask: usize, n: i32, p: f32, seed: i32): void {
  const s = <u32>seed;
  const key = fmix32(s ^ 0x5BD1E995);
  const scale: f32 = <f32>1 / (<f32>1 - p);
  const vkey = i32x4.splat(key);
  const vseed = i32x4.splat(s);
  const vstep = i32x4.splat(0x9E3779B9);
  const vp = f32x4.splat(p);
  const vscale = f32x4.splat(scale);
  const unit = f32x4.splat(<f32>5.9604644775390625e-8); // 2^-24
  // ctr = i * 0x9E3779B9 + seed for the four lanes, advanced by 4 steps per iteration.
  let ctr = i32x4.splat(0);
  ctr = i32x4.replace_lane(ctr, 1, 1);
  ctr = i32x4.replace_lane(ctr, 2, 2);
  ctr = i32x4.replace_lane(ctr, 3, 3);
  ctr = i32x4.add(i32x4.mul(ctr, vstep), vseed);
  const advance = i32x4.mul(i32x4.splat(4), vstep);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = vfmix32(v128.xor(vfmix32(ctr), vkey));
    const u = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h, 8)), unit);
    // keep lanes: u >= p -> scale; dropped lanes: 0
    const m = v128.and(f32x4.ge(u, vp), vscale);
    const o = <usize>i << 2;
    v128.store(mask + o, m);
    v128.store(y + o, f32x4.mul(v128.load(x + o), m));
    ctr = i32x4.add(ctr, advance);
  }
  for (; i < n; i++) {
    const h = fmix32(fmix32(<u32>i * 0x9E3779B9 + s) ^ key);
    const u = <f32>(h >>> 8) * <f32>5.9604644775390625e-8;
    const m: f32 = u < p ? 0 : scale;
    const o = <usize>i << 2;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}
