// The single door to wasm: loads the right build, owns the linear memory, its typed-array
// views and the allocator. Nothing else in simdgrad sees raw offsets except through here.
import { KERNEL_NAMES, type Kernels } from './kernels.js';
import { Allocator } from './allocator.js';
import { bytesPerElement } from './memory.js';

export type { Kernels } from './kernels.js';
export { BinOp, UnOp } from './kernels.js';
export { setDebugGuards, debugGuards, checkGuards } from './allocator.js';

export type Build = 'simd' | 'relaxed';

export interface InitOptions {
  /** Force a build; default: relaxed when the runtime validates it, plain SIMD otherwise. */
  build?: Build;
  /** Wasm bytes or URLs to use instead of the files shipped next to the library (CDNs, strict CSP). */
  wasm?: Partial<Record<Build, BufferSource | URL | string>>;
  /**
   * Threads for large GEMM/convolution calls (default: the available cores, or the
   * SIMDGRAD_THREADS environment variable). 'off' also gives up the shared memory, as when
   * the runtime has no SharedArrayBuffer (a browser page that is not cross-origin isolated).
   */
  threads?: number | 'off';
}

export interface Runtime {
  readonly build: Build;
  readonly kernels: Kernels;
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  /** Scratch space for gemm packing, allocated once. */
  readonly gemmWork: number;
  /** The compiled kernels, for worker threads to instantiate on the same memory. */
  readonly module: WebAssembly.Module;
  /** Whether `memory` is a shared memory that worker threads can use. */
  readonly shared: boolean;
  /** Why there is no shared memory (so one thread only), or null. */
  readonly sharedNote: string | null;
}

// Thread count asked for by setThreads() / init({ threads: n }); null: SIMDGRAD_THREADS or
// the available cores (bindings/threads.ts).
let threadRequest: number | null = null;

/** @internal The thread count asked for, or null for the default (see bindings/threads.ts). */
export function requestedThreads(): number | null {
  if (threadRequest !== null) return threadRequest;
  const env = envThreads();
  return typeof env === 'number' ? env : null;
}
/** @internal Used by setThreads(). */
export function requestThreads(n: number | null): void {
  threadRequest = n;
}

let current: Runtime | null = null;

// Typed-array views over memory.buffer. Growth detaches them (non-shared memory) or leaves
// them covering only the old pages (shared memory, whose `buffer` getter then returns a new,
// longer SharedArrayBuffer), so they are re-derived here, and only here, whenever the buffer
// object changed. Views index by byteOffset >>> 2: pointers may be >= 2 GiB.
let viewBuffer: ArrayBuffer | null = null;
let f32View = new Float32Array(0);
let i32View = new Int32Array(0);
let u8View = new Uint8Array(0);

function refreshViews(): void {
  const buf = runtime().memory.buffer as ArrayBuffer;
  if (buf !== viewBuffer) {
    viewBuffer = buf;
    f32View = new Float32Array(buf);
    i32View = new Int32Array(buf);
    u8View = new Uint8Array(buf);
  }
}
/** Float32 view of the whole memory; index = byteOffset >>> 2. Do not keep across allocations. */
export function f32(): Float32Array { refreshViews(); return f32View; }
/** Int32 view of the whole memory; index = byteOffset >>> 2. Do not keep across allocations. */
export function i32(): Int32Array { refreshViews(); return i32View; }
/** Byte view of the whole memory. Do not keep across allocations. */
export function u8(): Uint8Array { refreshViews(); return u8View; }

const wasmFile: Record<Build, () => URL> = {
  simd: () => new URL('../dist/wasm/simdgrad-simd.wasm', import.meta.url),
  relaxed: () => new URL('../dist/wasm/simdgrad-relaxed.wasm', import.meta.url),
};

function chooseBuild(opts: InitOptions, relaxedBytes: () => BufferSource | null): Build {
  const forced = opts.build ?? envBuild();
  if (forced === 'simd') return 'simd';
  const bytes = relaxedBytes();
  // Validated as the non-shared flavour: some browsers refuse shared memories in pages
  // that are not cross-origin isolated, which says nothing about relaxed SIMD.
  const ok = bytes !== null && WebAssembly.validate(compileFor(bytes, false).bytes as Uint8Array<ArrayBuffer>);
  if (forced === 'relaxed' && !ok) {
    throw new Error('simdgrad: the relaxed-SIMD build was requested but this runtime does not validate it (Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  return ok ? 'relaxed' : 'simd';
}

function envBuild(): Build | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.SIMDGRAD_BUILD;
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v !== 'simd' && v !== 'relaxed') throw new Error(`simdgrad: SIMDGRAD_BUILD must be simd, relaxed or auto, got '${v}'`);
  return v;
}

type ThreadsSetting = number | 'off' | undefined;

function envThreads(): ThreadsSetting {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.SIMDGRAD_THREADS?.trim();
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v === 'off') return 'off';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`simdgrad: SIMDGRAD_THREADS must be a positive integer, 'off' or 'auto', got '${v}'`);
  return n;
}

function threadsSetting(opts: InitOptions): ThreadsSetting {
  const t = opts.threads;
  if (t === undefined) return envThreads();
  if (t !== 'off' && (typeof t !== 'number' || !Number.isInteger(t) || t < 1)) {
    throw new Error(`simdgrad: init({ threads }) must be a positive integer or 'off', got ${String(t)}`);
  }
  return t;
}

/** Null when a shared memory may be tried, else why not. */
function noSharedMemoryReason(opts: InitOptions): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (threadsSetting(opts) === 'off') {
    return opts.threads === 'off' ? "threads are off: init({ threads: 'off' })" : 'threads are off: SIMDGRAD_THREADS=off';
  }
  if (g.crossOriginIsolated === false) {
    return 'no SharedArrayBuffer: the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof g.SharedArrayBuffer !== 'function') return 'no SharedArrayBuffer in this runtime';
  return null;
}

interface MemoryImport { flagAt: number; shared: boolean; hasMax: boolean; max: number }

/** Finds the limits of the module's imported memory (env.memory) in the wasm binary. */
function memoryImport(bytes: Uint8Array): MemoryImport | null {
  let p = 8;
  const u32 = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return r;
      shift += 7;
    }
  };
  const skipName = (): void => { const n = u32(); p += n; };
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    if (id !== 2) { p += size; continue; }
    const count = u32();
    for (let i = 0; i < count; i++) {
      skipName();
      skipName();
      const kind = bytes[p++];
      if (kind === 0) u32();
      else if (kind === 1) { p++; const f = bytes[p++]; u32(); if (f & 1) u32(); }
      else if (kind === 3) p += 2;
      else if (kind === 4) { p++; u32(); }
      else if (kind === 2) {
        const flagAt = p;
        const f = bytes[p++];
        if (f > 3) return null; // memory64 or unknown: leave the module alone
        u32();
        const max = f & 1 ? u32() : 65536;
        return { flagAt, shared: (f & 2) !== 0, hasMax: (f & 1) !== 0, max };
      } else return null;
    }
    return null;
  }
  return null;
}

function asBytes(src: BufferSource): Uint8Array {
  return src instanceof Uint8Array ? src : ArrayBuffer.isView(src) ? new Uint8Array(src.buffer, src.byteOffset, src.byteLength) : new Uint8Array(src);
}

/**
 * Compiles the kernels for a shared or a non-shared memory. The shipped .wasm files are
 * built for a shared memory (asc --sharedMemory); the two flavours differ only in the
 * flags byte of the memory import's limits (0x03 shared, 0x01 not), so the other flavour is
 * made by flipping that byte in a copy instead of shipping twice the files.
 */
function compileFor(src: BufferSource, wantShared: boolean): { bytes: Uint8Array; shared: boolean; max: number; note: string | null } {
  const bytes = asBytes(src);
  const imp = memoryImport(bytes);
  if (imp === null) throw new Error('simdgrad: the wasm module does not import its memory as env.memory');
  if (imp.shared === wantShared) return { bytes, shared: wantShared, max: imp.max, note: null };
  if (wantShared && !imp.hasMax) {
    return { bytes, shared: false, max: imp.max, note: 'the wasm build declares no maximum memory, so it cannot use a shared memory' };
  }
  const copy = bytes.slice();
  copy[imp.flagAt] = wantShared ? 0x03 : 0x01;
  return { bytes: copy, shared: wantShared, max: imp.max, note: null };
}

/** A shared memory with the largest maximum the runtime can reserve, or the reason it failed. */
function sharedMemory(declaredMax: number): WebAssembly.Memory | string {
  let err: unknown = null;
  // 4 GiB cannot always be reserved up front (32-bit devices): try smaller maxima.
  for (const max of [65536, 16384, 4096]) {
    if (max > declaredMax) continue;
    try {
      return new WebAssembly.Memory({ initial: 32, maximum: max, shared: true });
    } catch (e) {
      err = e;
    }
  }
  return `could not create a shared WebAssembly.Memory (${String(err)})`;
}

function instantiate(build: Build, src: BufferSource, opts: InitOptions, compile: (b: Uint8Array) => WebAssembly.Module): Runtime;
function instantiate(build: Build, src: BufferSource, opts: InitOptions, compile: (b: Uint8Array) => Promise<WebAssembly.Module>): Promise<Runtime>;
function instantiate(
  build: Build, src: BufferSource, opts: InitOptions, compile: (b: Uint8Array) => WebAssembly.Module | Promise<WebAssembly.Module>,
): Runtime | Promise<Runtime> {
  let note = noSharedMemoryReason(opts);
  let plan = compileFor(src, note === null);
  note ??= plan.note;
  let memory: WebAssembly.Memory | null = null;
  if (plan.shared) {
    const m = sharedMemory(plan.max);
    if (typeof m === 'string') {
      note = m;
      plan = compileFor(src, false);
    } else {
      memory = m;
    }
  }
  memory ??= new WebAssembly.Memory({ initial: 32, maximum: Math.min(65536, plan.max) });
  const mem = memory;
  const made = compile(plan.bytes);
  const finish = (module: WebAssembly.Module): Runtime => start(build, module, mem, plan.shared, note);
  return made instanceof WebAssembly.Module ? finish(made) : made.then(finish);
}

function start(build: Build, module: WebAssembly.Module, memory: WebAssembly.Memory, shared: boolean, sharedNote: string | null): Runtime {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`simdgrad: wasm abort at ${line}:${col}`);
      },
    },
  });
  const exports = instance.exports as unknown as Record<string, unknown>;
  const missing = KERNEL_NAMES.filter((n) => typeof exports[n] !== 'function');
  if (missing.length > 0) throw new Error(`simdgrad: the ${build} wasm build lacks kernels: ${missing.join(', ')}`);
  const kernels = exports as unknown as Kernels;
  // Blocks are multiples of 64 bytes, so a recycled one is cleared as whole f32 lanes.
  const allocator = new Allocator(memory, kernels.heapBase(), (ptr, bytes) => kernels.fill(ptr, 0, bytes / bytesPerElement('float32')));
  const gemmWork = allocator.alloc(kernels.gemmWorkspaceBytes());
  allocator.markInternal(gemmWork);
  return { build, kernels, memory, allocator, gemmWork, module, shared, sharedNote };
}

interface NodeFs { readFileSync(path: string | URL): Uint8Array }

function nodeFs(): NodeFs | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  return fs ?? null;
}

/** Synchronous start-up for runtimes that can read files (Node); browsers call `init()` first. */
function initSync(opts: InitOptions = {}): Runtime {
  const fs = nodeFs();
  const source = (b: Build): BufferSource | null => {
    const given = opts.wasm?.[b];
    if (given !== undefined && !(given instanceof URL) && typeof given !== 'string') return given;
    if (fs === null) return null;
    return fs.readFileSync(given ?? wasmFile[b]()) as Uint8Array<ArrayBuffer>;
  };
  const build = chooseBuild(opts, () => source('relaxed'));
  const bytes = source(build);
  if (bytes === null) {
    throw new Error('simdgrad: not initialised; call `await init()` before using tensors in this runtime');
  }
  current = instantiate(build, bytes, opts, (b) => new WebAssembly.Module(b as Uint8Array<ArrayBuffer>));
  viewBuffer = null;
  return current;
}

async function fetchBytes(src: URL | string): Promise<ArrayBuffer> {
  const res = await fetch(src);
  if (!res.ok) throw new Error(`simdgrad: could not fetch ${String(src)}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/**
 * Loads and instantiates the wasm kernels. Needed once in browsers before any tensor is
 * made; in Node it happens on first use, but calling it is harmless and lets you choose.
 */
export async function init(opts: InitOptions = {}): Promise<Runtime> {
  const threads = threadsSetting(opts);
  if (typeof opts.threads === 'number') threadRequest = opts.threads;
  if (current !== null && opts.build === undefined && opts.wasm === undefined) {
    // A thread count alone does not need new kernels; switching to or from 'off' (a shared or
    // a non-shared memory) does, where the runtime allows it.
    if (opts.threads === undefined || current.shared === (threads !== 'off')) return current;
    if (threads !== 'off' && noSharedMemoryReason(opts) !== null) return current;
  }
  if (nodeFs() !== null && !hasUrlSources(opts)) return initSync(opts);
  const cache: Partial<Record<Build, BufferSource>> = {};
  const load = async (b: Build): Promise<BufferSource> => {
    const given = opts.wasm?.[b];
    if (given !== undefined && !(given instanceof URL) && typeof given !== 'string') return given;
    return (cache[b] ??= await fetchBytes(given ?? wasmFile[b]()));
  };
  let relaxed: BufferSource | null = null;
  if ((opts.build ?? envBuild()) !== 'simd') {
    try { relaxed = await load('relaxed'); } catch { relaxed = null; }
  }
  const build = chooseBuild(opts, () => relaxed);
  current = await instantiate(build, await load(build), opts, (b) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>));
  viewBuffer = null;
  return current;
}

function hasUrlSources(opts: InitOptions): boolean {
  return Object.values(opts.wasm ?? {}).some((v) => v instanceof URL || (typeof v === 'string' && /^(https?|blob|data):/.test(v)));
}

/** The loaded runtime; in Node the first call loads it synchronously. */
export function runtime(): Runtime {
  return current ?? initSync();
}

/** Shorthand for the kernel table. */
export function kernels(): Kernels {
  return runtime().kernels;
}

/** Which build is running (relaxed = with f32x4.relaxed_madd). */
export function build(): Build {
  return runtime().build;
}
