// safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name
// to { dtype, shape, data_offsets: [begin, end) } relative to the data block, then the data.
// Other tools (Python's safetensors, PyTorch) read these files directly.
import { bytesPerElement, type DType, type TypedData } from '../../bindings/memory.js';
import { Tensor, fmt, tensor } from '../core/tensor.js';

// safetensors dtype codes of the dtypes simdgrad tensors hold. Maps, not plain objects, so a
// header string such as "constructor" or "__proto__" never finds an inherited property.
const DTYPES: ReadonlyMap<string, DType> = new Map<string, DType>([['F32', 'float32'], ['I32', 'int32'], ['I8', 'int8'], ['U8', 'uint8']]);
const CODES: ReadonlyMap<DType, string> = new Map<DType, string>([['float32', 'F32'], ['int32', 'I32'], ['int8', 'I8'], ['uint8', 'U8']]);
const MAX_HEADER = 100 * 1024 * 1024;
const METADATA = '__metadata__';

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const own = (o: object, k: string): unknown => (hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);

/** A record with no prototype: every key, '__proto__' included, is an ordinary own entry. */
function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function set<T>(r: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A short, bounded description of a value taken from an untrusted header (for error messages). */
function show(v: unknown, depth = 0): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) {
    if (depth > 1) return `[${v.length} items]`;
    const items = v.slice(0, 8).map((x) => show(x, depth + 1));
    return `[${items.join(',')}${v.length > 8 ? `,... (${v.length} items)` : ''}]`;
  }
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** A tensor name quoted for an error message, shortened when long. */
function q(name: string): string {
  return `'${name.length > 80 ? `${name.slice(0, 80)}...` : name}'`;
}

/** Serialises named tensors (e.g. module.stateDict()) to safetensors bytes. */
export function saveSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new Error('safetensors: expected an object of named tensors');
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new Error('safetensors: metadata must be an object of strings');
  const names = Object.keys(tensors).sort();
  const header = record<unknown>();
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    const meta = record<string>();
    for (const k of metaKeys) {
      const v = own(metadata, k);
      if (typeof v !== 'string') throw new Error(`safetensors: metadata ${q(k)} must be a string, got ${show(v)}`);
      set(meta, k, v);
    }
    set(header, METADATA, meta);
  }
  const ranges: [number, number][] = [];
  let offset = 0;
  for (const name of names) {
    if (name === METADATA) throw new Error(`safetensors: a tensor cannot be named '${METADATA}' (the name is reserved for metadata)`);
    const t = own(tensors, name);
    if (!(t instanceof Tensor)) throw new Error(`safetensors: ${q(name)} is not a Tensor`);
    const code = CODES.get(t.dtype);
    if (code === undefined) throw new Error(`safetensors: tensor ${q(name)} has dtype ${String(t.dtype)}, which safetensors files here cannot hold`);
    const bytes = t.size * bytesPerElement(t.dtype);
    ranges.push([offset, offset + bytes]);
    set(header, name, { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const headerBytes0 = new TextEncoder().encode(json);
  // Pad with spaces so the data block starts 8-byte aligned, as the format recommends
  // (counting encoded bytes: names may hold non-ASCII characters).
  const pad = (8 - ((8 + headerBytes0.length) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  names.forEach((name, i) => {
    const data = (own(tensors, name) as Tensor).data();
    // Typed arrays are little-endian on every platform simdgrad runs on (wasm is LE).
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), base + ranges[i][0]);
  });
  return out;
}

export interface LoadedTensor {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

/**
 * Parses safetensors bytes, validating everything before reading any tensor, as the format's
 * reference implementation does: header length, JSON, metadata (an object of strings), dtypes,
 * shapes, and that the data ranges, sorted, tile the data block exactly (no overlaps, no gaps,
 * no trailing bytes). Every error is an Error whose message starts with 'safetensors:'.
 * The returned records have no prototype, so any tensor name (even '__proto__') is an entry.
 */
export function parseSafetensors(bytes: Uint8Array): { tensors: Record<string, LoadedTensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) throw new Error('safetensors: expected a Uint8Array');
  if (bytes.length < 8) throw new Error(`safetensors: file too short (${bytes.length} bytes) for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER) throw new Error(`safetensors: header length ${hi * 2 ** 32 + lo} exceeds the ${MAX_HEADER}-byte limit`);
  if (8 + lo > bytes.length) throw new Error(`safetensors: header length ${lo} runs past the end of the file (${bytes.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + lo)));
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('safetensors: header must be a JSON object');
  const dataStart = 8 + lo;
  const dataLen = bytes.length - dataStart;
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  const metadata = record<string>();
  for (const name of Object.keys(header)) {
    const raw = own(header, name);
    if (name === METADATA) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`safetensors: '${METADATA}' must be an object of strings, got ${show(raw)}`);
      for (const k of Object.keys(raw)) {
        const v = own(raw, k);
        if (typeof v !== 'string') throw new Error(`safetensors: '${METADATA}' value ${q(k)} must be a string, got ${show(v)}`);
        set(metadata, k, v);
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`safetensors: entry ${q(name)} is not an object (got ${show(raw)})`);
    const code = own(raw, 'dtype');
    const dtype = typeof code === 'string' ? DTYPES.get(code) : undefined;
    if (dtype === undefined) throw new Error(`safetensors: tensor ${q(name)} has unsupported dtype ${show(code)} (${[...DTYPES.keys()].join(', ')} are supported)`);
    const shape = own(raw, 'shape');
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`safetensors: tensor ${q(name)} has an invalid shape ${show(shape)}`);
    const offs = own(raw, 'data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw new Error(`safetensors: tensor ${q(name)} has invalid data_offsets ${show(offs)}`);
    }
    const [begin, end] = offs as number[];
    if (end > dataLen) throw new Error(`safetensors: tensor ${q(name)} data [${begin}, ${end}) lies outside the ${dataLen}-byte data block`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const need = count * bytesPerElement(dtype);
    if (!Number.isSafeInteger(need) || need !== end - begin) {
      throw new Error(`safetensors: tensor ${q(name)} ${fmt(shape as number[])} needs ${Number.isSafeInteger(need) ? need : 'more than 2^53'} bytes, offsets [${begin}, ${end}) give ${end - begin}`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  // The sorted data ranges must tile the data block exactly: from 0, each starting where the
  // previous one ends, the last ending at the end of the file.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | null = null;
  for (const e of sorted) {
    if (e.begin < at) throw new Error(`safetensors: tensor data ranges overlap: ${q(e.name)} [${e.begin}, ${e.end}) starts before ${q(prev as string)} ends at ${at}`);
    if (e.begin > at) {
      throw new Error(`safetensors: gap in the data block: ${q(e.name)} starts at ${e.begin}, but ${prev === null ? 'the data block starts at 0' : `${q(prev)} ends at ${at}`}`);
    }
    at = e.end;
    prev = e.name;
  }
  if (at !== dataLen) {
    throw new Error(`safetensors: ${dataLen - at} trailing bytes after the tensor data (${prev === null ? 'no tensors' : `the last tensor ${q(prev)} ends at ${at}`}, the data block holds ${dataLen} bytes)`);
  }
  const tensors = record<LoadedTensor>();
  for (const e of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    const data = e.dtype === 'float32' ? new Float32Array(copy.buffer) : e.dtype === 'int32' ? new Int32Array(copy.buffer)
      : e.dtype === 'int8' ? new Int8Array(copy.buffer) : new Uint8Array(copy.buffer);
    set(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Parses safetensors bytes into tensors in wasm memory (a record with no prototype). */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  const { tensors } = parseSafetensors(bytes);
  const out = record<Tensor>();
  const made: Tensor[] = [];
  for (const name of Object.keys(tensors)) {
    const t = tensors[name];
    let x: Tensor;
    try {
      x = tensor(t.data, t.shape, { dtype: t.dtype });
    } catch (e) {
      for (const m of made) m.dispose();
      throw new Error(`safetensors: tensor ${q(name)} ${fmt(t.shape)} could not be created (${e instanceof Error ? e.message : String(e)})`);
    }
    made.push(x);
    set(out, name, x);
  }
  return out;
}
