// The allocator's size classes (bindings/allocator.ts): requests above 4 KiB are rounded up to
// one of 8 classes per power of two, so that a freed block serves later requests of a similar
// size. Without them a sequence growing by one token per step took a new block from fresh
// memory for every size (full-prefix generation of a small GPT reached 861 MiB).
import { describe, expect, it } from 'vitest';
import { Allocator, sizeClass } from '../../bindings/allocator';
import { xorshift } from '../helpers/random';

describe('allocator size classes', () => {
  it('exact 64-byte units up to 4 KiB; above, a multiple of 1/8 of the power of two below, under 12.5% slack', () => {
    expect(sizeClass(0)).toBe(64);
    expect(sizeClass(1)).toBe(64);
    expect(sizeClass(65)).toBe(128);
    expect(sizeClass(4096)).toBe(4096);
    expect(sizeClass(4097)).toBe(4608);
    expect(sizeClass(8192)).toBe(8192);
    expect(sizeClass(8193)).toBe(9216);
    expect(sizeClass(3 * 2 ** 20 + 1)).toBe(3 * 2 ** 20 + 2 ** 18);
    const r = xorshift(5);
    let prev = 0;
    for (const bytes of Array.from({ length: 2000 }, () => Math.floor(r() * 2 ** (4 + 24 * r()))).sort((a, b) => a - b)) {
      const c = sizeClass(bytes);
      expect(c % 64).toBe(0);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c).toBeGreaterThanOrEqual(prev);
      if (bytes > 4096) expect(c / bytes).toBeLessThan(1.125);
      prev = c;
    }
  });

  it('a block freed by one request serves the next, slightly larger one of its class', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024 });
    const cleared: [number, number][] = [];
    const a = new Allocator(memory, 1024, (ptr, bytes) => cleared.push([ptr, bytes]));
    // A growing sequence: 60 requests from 20,000 to 31,800 bytes, each freed before the next.
    const blocks = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const p = a.alloc(20_000 + 200 * i);
      blocks.add(p);
      a.release(p);
    }
    // Classes of 2 KiB in (16 KiB, 32 KiB]: 20,000..31,800 bytes fall in 7 of them (20,480 to
    // 32,768); exact sizes would have taken 60 blocks.
    expect(blocks.size).toBe(7);
    // A zeroed request from a recycled block clears all of its class.
    const p = a.alloc(31_000, true);
    expect(cleared).toEqual([[p, 32768]]);
    expect(a.stats().bytes).toBe(32768);
  });
});
