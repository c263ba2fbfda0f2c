// The single door to wasm: loads the right build, owns the linear memory, its typed-array
// views and the allocator. Nothing else in simdgrad sees raw offsets except through here.
import { KERNEL_NAMES, type Kernels } from './kernels';
import { Allocator } from './allocator';

export type { Kernels } from './kernels';
export { BinOp, UnOp } from './kernels';

export type Build = 'simd' | 'relaxed';

export interface InitOptions {
  /** Force a build; default: relaxed when the runtime validates it, plain SIMD otherwise. */
  build?: Build;
  /** Wasm bytes or URLs to use instead of the files shipped next to the library (CDNs, strict CSP). */
  wasm?: Partial<Record<Build, BufferSource | URL | string>>;
}

export interface Runtime {
  readonly build: Build;
  readonly kernels: Kernels;
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  /** Scratch space for gemm packing, allocated once. */
  readonly gemmWork: number;
}

let current: Runtime | null = null;

// Typed-array views over memory.buffer. Growth detaches them, so they are re-derived here,
// and only here, whenever the buffer object changed.
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
/** Float32 view of the whole memory; index = byteOffset >> 2. Do not keep across allocations. */
export function f32(): Float32Array { refreshViews(); return f32View; }
/** Int32 view of the whole memory; index = byteOffset >> 2. Do not keep across allocations. */
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
  const ok = bytes !== null && WebAssembly.validate(bytes);
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

function instantiate(build: Build, module: WebAssembly.Module): Runtime {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536 });
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
  const allocator = new Allocator(memory, kernels.heapBase());
  const gemmWork = allocator.alloc(kernels.gemmWorkspaceBytes());
  allocator.markInternal(gemmWork);
  return { build, kernels, memory, allocator, gemmWork };
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
  current = instantiate(build, new WebAssembly.Module(bytes));
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
  if (current !== null && opts.build === undefined && opts.wasm === undefined) return current;
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
  const module = await WebAssembly.compile(await load(build));
  current = instantiate(build, module);
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
