// Deterministic pseudo-random numbers for tests that replay synthetic timings (xorshift32):
// the sequences are fixed by the seed, independent of the library's generator.
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}
