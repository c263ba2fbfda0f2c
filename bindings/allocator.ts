// Allocator for tensor storage in wasm linear memory, run by the main thread (the
// AssemblyScript runtime is not used: kernels never allocate).
//
// Training loops request the same sizes step after step, so freed blocks go to free lists
// by size (exact up to 4 KiB, size classes above: see CLASS_FROM) and are handed out again
// without search; fresh blocks come from a bump pointer that grows the memory when needed.
// Blocks are 64-byte aligned (cache line, SIMD loads).
//
// Debug guards (setDebugGuards(true) or SIMDGRAD_DEBUG_GUARDS=1): each block then sits between
// guard bytes of a known pattern, which are checked when it is freed and by checkGuards(), so a
// kernel writing past its output (or before it) is caught where it happened rather than as a
// corrupted neighbour much later. Off, the cost is one well-predicted branch per alloc/release.

const ALIGN = 64;
const PAGE = 65536;
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - PAGE; // 4 GiB wasm32 limit
// One alignment unit on each side keeps the block itself 64-byte aligned.
const GUARD = ALIGN;
// Freed blocks are reused by requests of the same size. Above CLASS_FROM bytes, sizes are
// rounded up to one of 8 classes per power of two (under 12.5% slack), so that similar sizes
// share blocks. A sequence growing by one token per step (full-prefix generation) asks for new
// sizes at every step, each from fresh memory: a 4-layer GPT (d 128) generating 128 tokens
// that way pushed the bump pointer to 861 MiB with exact sizes, and to 286 MiB with classes.
const CLASS_FROM = 4096;
// 0xFD: not a byte of small integers, zero or common floats (0xFDFDFDFD is -4.2e37), so a
// kernel's stray write is unlikely to reproduce it.
const GUARD_BYTE = 0xfd;

/** A guarded block: where its underlying allocation starts and how many bytes were asked for. */
interface Guarded {
  base: number;
  bytes: number;
  /** Underlying allocation size (front guard + block + slack + back guard). */
  total: number;
}

function envGuards(): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.SIMDGRAD_DEBUG_GUARDS;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

// Module-wide so that every allocator (one per init()) follows the switch.
let guardsOn = envGuards();
// Allocators that hold guarded blocks, for checkGuards().
const guardedAllocators = new Set<Allocator>();

/**
 * Turns the debug guard bytes on or off for blocks allocated from now on (blocks already live
 * keep what they had; guarded ones are still checked when freed). Returns the previous setting.
 */
export function setDebugGuards(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new Error(`setDebugGuards: expected true or false, got ${String(on)}`);
  const was = guardsOn;
  guardsOn = on;
  return was;
}

/** Whether new blocks get guard bytes. */
export function debugGuards(): boolean {
  return guardsOn;
}

/**
 * Checks the guard bytes of every live guarded block; throws an Error naming the block's size
 * and where the first damaged byte is. Returns how many blocks were checked.
 */
export function checkGuards(): number {
  let n = 0;
  for (const a of guardedAllocators) n += a.checkGuards();
  return n;
}

export class Allocator {
  private top: number;
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private internal = new Set<number>();
  private liveBytesCount = 0;
  private liveBlocks = 0;
  // User pointer -> its guarded block; null until the first guarded allocation, so release()
  // on the plain path pays a null test only.
  private guarded: Map<number, Guarded> | null = null;
  // Size of the block take() returned last (saves a map lookup on the hot path).
  private taken = 0;

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
    if (guardsOn) return this.allocGuarded(bytes, zeroed);
    const ptr = this.take(bytes, zeroed);
    this.liveBytesCount += this.taken;
    this.liveBlocks++;
    return ptr;
  }

  /** A block from a free list or the bump pointer, recorded in `sizes` (not yet counted as live). */
  private take(bytes: number, zeroed: boolean): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`alloc: invalid byte count ${bytes}`);
    const size = sizeClass(bytes);
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
    this.taken = size;
    return ptr;
  }

  private allocGuarded(bytes: number, zeroed: boolean): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`alloc: invalid byte count ${bytes}`);
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    const base = this.take(size + 2 * GUARD, zeroed);
    const total = this.taken;
    const ptr = base + GUARD;
    // The slack between the requested bytes and the rounded size is guarded too: writing one
    // element past a 5-element tensor must be caught, not only past its 64-byte block.
    const u8 = new Uint8Array(this.memory.buffer);
    u8.fill(GUARD_BYTE, base, ptr);
    u8.fill(GUARD_BYTE, ptr + bytes, base + total);
    // Counted as the block alone, so stats() (and the tests comparing them) read the same.
    this.liveBytesCount += size;
    this.liveBlocks++;
    (this.guarded ??= new Map()).set(ptr, { base, bytes, total });
    guardedAllocators.add(this);
    return ptr;
  }

  /** Returns a block to its free list. Freeing an unknown or already freed pointer throws. */
  release(ptr: number): void {
    if (this.guarded !== null) {
      const g = this.guarded.get(ptr);
      if (g !== undefined) {
        this.releaseGuarded(ptr, g);
        return;
      }
    }
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not a live allocation (double free?)`);
    this.liveBytesCount -= size;
    this.liveBlocks--;
    this.recycle(ptr, size);
  }

  private recycle(ptr: number, size: number): void {
    this.sizes.delete(ptr);
    this.internal.delete(ptr);
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(ptr);
  }

  private releaseGuarded(ptr: number, g: Guarded): void {
    // Checked before the block is recycled, but the block is freed either way so that the
    // allocator stays consistent for whoever catches the Error.
    const damage = this.damage(ptr, g);
    this.guarded!.delete(ptr);
    if (this.guarded!.size === 0) guardedAllocators.delete(this);
    this.internal.delete(ptr);
    this.liveBytesCount -= roundUp(Math.max(g.bytes, 1), ALIGN);
    this.liveBlocks--;
    this.recycle(g.base, g.total);
    if (damage !== null) throw new Error(`${damage} (found when it was freed)`);
  }

  /** Describes the first damaged guard byte of a guarded block, or null when intact. */
  private damage(ptr: number, g: Guarded): string | null {
    const u8 = new Uint8Array(this.memory.buffer);
    const end = g.base + g.total;
    for (let i = g.base; i < end; i++) {
      if (i === ptr) i = ptr + g.bytes;
      if (i < end && u8[i] !== GUARD_BYTE) {
        const where = i < ptr ? `${ptr - i} byte(s) before its start` : `${i - (ptr + g.bytes)} byte(s) past its end`;
        return `allocator guard: something wrote outside a block of ${g.bytes} bytes at ${ptr}: byte ${where} is 0x${u8[i].toString(16).padStart(2, '0')}`;
      }
    }
    return null;
  }

  /** Checks every live guarded block of this allocator (see the module's checkGuards()). */
  checkGuards(): number {
    if (this.guarded === null) return 0;
    for (const [ptr, g] of this.guarded) {
      const d = this.damage(ptr, g);
      if (d !== null) throw new Error(d);
    }
    return this.guarded.size;
  }

  /** Marks a block as the library's own (scratch space), so it is not counted as user data. */
  markInternal(ptr: number): void {
    this.internal.add(ptr);
  }

  /** Live bytes and blocks, excluding the library's internal scratch. */
  stats(): { bytes: number; blocks: number; heapBytes: number } {
    let ib = 0;
    for (const p of this.internal) ib += this.blockSize(p);
    return { bytes: this.liveBytesCount - ib, blocks: this.liveBlocks - this.internal.size, heapBytes: this.memory.buffer.byteLength };
  }

  private blockSize(ptr: number): number {
    const g = this.guarded?.get(ptr);
    if (g !== undefined) return roundUp(Math.max(g.bytes, 1), ALIGN);
    return this.sizes.get(ptr) ?? 0;
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** The block size for a request of `bytes`: 64-byte units, then the size classes above CLASS_FROM. */
export function sizeClass(bytes: number): number {
  const size = roundUp(Math.max(bytes, 1), ALIGN);
  if (size <= CLASS_FROM || size > MAX_BYTES) return size;
  // size in (2^k, 2^(k+1)]: a multiple of 2^(k-3).
  return roundUp(size, 2 ** (31 - Math.clz32(size - 1) - 3));
}
