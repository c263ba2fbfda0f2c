// safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name
// to { dtype, shape, data_offsets: [begin, end) } relative to the data block, then the data.
// Other tools (Python's safetensors, PyTorch) read these files directly.
import { bytesPerElement, type DType, type TypedData } from '../../bindings/memory';
import { Tensor, fmt, tensor } from '../core/tensor';

// safetensors dtype codes of the dtypes simdgrad tensors hold.
const DTYPES: Record<string, DType> = { F32: 'float32', I32: 'int32', I8: 'int8', U8: 'uint8' };
const CODES: Record<DType, string> = { float32: 'F32', int32: 'I32', int8: 'I8', uint8: 'U8' };
const MAX_HEADER = 100 * 1024 * 1024;

/** Serialises named tensors (e.g. module.stateDict()) to safetensors bytes. */
export function saveSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.size * bytesPerElement(t.dtype);
    header[name] = { dtype: CODES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data block starts 8-byte aligned, as the format recommends.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const data = t.data();
    const [b] = (header[name] as { data_offsets: number[] }).data_offsets;
    // Typed arrays are little-endian on every platform simdgrad runs on (wasm is LE).
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), base + b);
  }
  return out;
}

export interface LoadedTensor {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

/**
 * Parses safetensors bytes, validating everything before reading any tensor: header length,
 * JSON, dtypes, shapes, and that data ranges lie inside the file without overlapping.
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
    throw new Error(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('safetensors: header must be a JSON object');
  const dataStart = 8 + lo;
  const dataLen = bytes.length - dataStart;
  const entries: [string, LoadedTensor & { begin: number; end: number }][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') throw new Error(`safetensors: entry '${name}' is not an object`);
    const dtype = typeof e.dtype === 'string' ? DTYPES[e.dtype] : undefined;
    if (dtype === undefined) throw new Error(`safetensors: tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (${Object.keys(DTYPES).join(', ')} are supported)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw new Error(`safetensors: tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    if (end > dataLen) throw new Error(`safetensors: tensor '${name}' data [${begin}, ${end}) lies outside the ${dataLen}-byte data block`);
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    const need = count * bytesPerElement(dtype);
    if (need !== end - begin) throw new Error(`safetensors: tensor '${name}' ${fmt(e.shape as number[])} needs ${need} bytes, offsets give ${end - begin}`);
    entries.push([name, { dtype, shape: e.shape as number[], data: new Float32Array(0), begin, end }]);
  }
  const sorted = entries.map(([, e]) => e).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) throw new Error('safetensors: tensor data ranges overlap');
  }
  const tensors: Record<string, LoadedTensor> = {};
  for (const [name, e] of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    const data = e.dtype === 'float32' ? new Float32Array(copy.buffer) : e.dtype === 'int32' ? new Int32Array(copy.buffer)
      : e.dtype === 'int8' ? new Int8Array(copy.buffer) : new Uint8Array(copy.buffer);
    tensors[name] = { dtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, metadata };
}

/** Parses safetensors bytes into tensors in wasm memory. */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  const { tensors } = parseSafetensors(bytes);
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = tensor(t.data, t.shape, { dtype: t.dtype });
  return out;
}
