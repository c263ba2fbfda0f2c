// Strided block copy for the shape ops: dst[i] = src[i] over an ndim index space, each side
// addressed with its own element strides. One kernel serves gathers (permute, slice, the
// backward of concat: src strided, dst dense), scatters (the backward of slice, concat: src
// dense, dst strided into a larger block) and any dtype (elements of 1, 2, 4 or 8 bytes).
//
// Adjacent dims that are contiguous on both sides are merged first, so a slice of whole rows
// or a concat block is a few long runs; a run that is contiguous on both sides is one
// memory.copy, any other run moves one element at a time.
//
// Contract: bindings/kernels.ts (shape.ts section).

/** One run of n elements; strides in bytes. */
function copyRun(src: usize, dst: usize, n: i32, ss: usize, ds: usize, bytes: i32): void {
  if (ss == <usize>bytes && ds == <usize>bytes) {
    memory.copy(dst, src, <usize>n * <usize>bytes);
    return;
  }
  if (bytes == 4) {
    for (let i = 0; i < n; i++) { store<u32>(dst, load<u32>(src)); src += ss; dst += ds; }
  } else if (bytes == 1) {
    for (let i = 0; i < n; i++) { store<u8>(dst, load<u8>(src)); src += ss; dst += ds; }
  } else if (bytes == 2) {
    for (let i = 0; i < n; i++) { store<u16>(dst, load<u16>(src)); src += ss; dst += ds; }
  } else {
    for (let i = 0; i < n; i++) { store<u64>(dst, load<u64>(src)); src += ss; dst += ds; }
  }
}

// @ts-ignore: decorator
@inline function at(p: usize, d: i32): i32 {
  return load<i32>(p + (<usize>d << 2));
}

/** Loops over dims d..last-1, then copies the merged innermost run. */
function copyRec(src: usize, dst: usize, d: i32, last: i32, shapePtr: usize, ssPtr: usize, dsPtr: usize,
  n: i32, ss: usize, ds: usize, bytes: i32): void {
  if (d == last) {
    copyRun(src, dst, n, ss, ds, bytes);
    return;
  }
  const m = at(shapePtr, d);
  const sStep = <usize>at(ssPtr, d) * <usize>bytes;
  const dStep = <usize>at(dsPtr, d) * <usize>bytes;
  for (let i = 0; i < m; i++) {
    copyRec(src, dst, d + 1, last, shapePtr, ssPtr, dsPtr, n, ss, ds, bytes);
    src += sStep;
    dst += dStep;
  }
}

/**
 * For every index (i0, …) of `shape` (i32[ndim]): dst[Σ i_k·dstStrides[k]] = src[Σ i_k·srcStrides[k]],
 * strides in elements (i32[ndim]), elements of `bytes` bytes (1, 2, 4 or 8). src and dst must not
 * overlap. ndim = 0 copies one element; a 0 in the shape copies nothing.
 */
export function copyStrided(src: usize, dst: usize, ndim: i32, shapePtr: usize, srcStridesPtr: usize, dstStridesPtr: usize, bytes: i32): void {
  if (ndim <= 0) {
    copyRun(src, dst, 1, <usize>bytes, <usize>bytes, bytes);
    return;
  }
  for (let d = 0; d < ndim; d++) if (at(shapePtr, d) <= 0) return;
  let d = ndim - 1;
  let n = at(shapePtr, d);
  let ss = at(srcStridesPtr, d);
  let ds = at(dstStridesPtr, d);
  // Merge outer dims into the run while both sides stay contiguous (size-1 dims merge freely).
  while (d > 0) {
    const m = at(shapePtr, d - 1);
    const ss2 = at(srcStridesPtr, d - 1);
    const ds2 = at(dstStridesPtr, d - 1);
    if (m == 1) { d--; continue; }
    if (n == 1) { n = m; ss = ss2; ds = ds2; d--; continue; }
    if (ss2 == ss * n && ds2 == ds * n) { n *= m; d--; continue; }
    break;
  }
  // A run of one element is contiguous whatever its strides say.
  if (n == 1) { ss = 1; ds = 1; }
  copyRec(src, dst, 0, d, shapePtr, srcStridesPtr, dstStridesPtr, n, <usize>ss * <usize>bytes, <usize>ds * <usize>bytes, bytes);
}
