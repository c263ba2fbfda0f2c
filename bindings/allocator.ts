// Allocator for tensor storage in wasm linear memory, run by the main thread (the
// AssemblyScript runtime is not used: kernels never allocate).
//
// Training loops request the same sizes step after step, so freed blocks go to exact-size
// free lists and are handed out again without search; fresh blocks come from a bump pointer
// that grows the memory when needed. Blocks are 64-byte aligned (cache line, SIMD loads).

const ALIGN = 64;
const PAGE = 65536;
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - PAGE; // 4 GiB wasm32 limit

export class Allocator {
  private top: number;
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private internal = new Set<number>();
  private liveBytesCount = 0;
  private liveBlocks = 0;

  /** clear(ptr, bytes) zeroes a recycled block (a SIMD kernel: typed-array fill is slow on shared memory). */
  constructor(private readonly memory: WebAssembly.Memory, heapBase: number, private readonly clear: (ptr: number, bytes: number) => void) {
    this.top = roundUp(heapBase, ALIGN);
  }

  /**
   * Returns a 64-byte aligned byte offset of at least `bytes` bytes (0-byte requests get a block
   * too). With `zeroed`, the block reads as zeros: a recycled block is cleared, a fresh one
   * (above everything handed out before: pages the memory grew by, never written) already is,
   * so a large zeros() costs no pass over its memory.
   */
  alloc(bytes: number, zeroed = false): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`alloc: invalid byte count ${bytes}`);
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    if (size > MAX_BYTES) throw new Error(`alloc: ${bytes} bytes exceed the 4 GiB wasm32 address space`);
    const list = this.free.get(size);
    let ptr: number;
    if (list !== undefined && list.length > 0) {
      ptr = list.pop()!;
      if (zeroed) this.clear(ptr, size);
    } else {
      ptr = this.top;
      const end = ptr + size;
      if (end > MAX_BYTES) throw new Error(`alloc: out of wasm memory (${end} bytes needed, limit 4 GiB)`);
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        // Grow geometrically so a long run of fresh allocations does not grow page by page.
        const want = Math.max(end, Math.min(have * 2, MAX_BYTES));
        const pages = Math.ceil((want - have) / PAGE);
        try {
          this.memory.grow(pages);
        } catch {
          this.memory.grow(Math.ceil((end - have) / PAGE));
        }
      }
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.liveBytesCount += size;
    this.liveBlocks++;
    return ptr;
  }

  /** Returns a block to its free list. Freeing an unknown or already freed pointer throws. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not a live allocation (double free?)`);
    this.sizes.delete(ptr);
    this.internal.delete(ptr);
    this.liveBytesCount -= size;
    this.liveBlocks--;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** Marks a block as the library's own (scratch space), so it is not counted as user data. */
  markInternal(ptr: number): void {
    this.internal.add(ptr);
  }

  /** Live bytes and blocks, excluding the library's internal scratch. */
  stats(): { bytes: number; blocks: number; heapBytes: number } {
    let ib = 0;
    for (const p of this.internal) ib += this.sizes.get(p) ?? 0;
    return { bytes: this.liveBytesCount - ib, blocks: this.liveBlocks - this.internal.size, heapBytes: this.memory.buffer.byteLength };
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
