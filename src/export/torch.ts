// Loading a PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict(), path)`)
// into a simdgrad model of the same architecture.
//
// Name map (PyTorch name -> simdgrad name), applied to the last component of each name. Module
// paths stay as they are, except that simdgrad's Sequential holds its children under `layers`:
// PyTorch's "0.weight" is "layers.0.weight" (used when the name as given is not the model's).
//   Linear, Conv2d, ConvTranspose2d, LayerNorm, Embedding: weight, bias -> weight, bias
//     (same layouts: Linear [out, in], Conv2d [out, in, kh, kw], ConvTranspose2d [in, out, kh, kw])
//   BatchNorm1d/2d: weight, bias -> weight, bias; running_mean -> runningMean;
//     running_var -> runningStd, converted: σ̄ = sqrt(running_var). PyTorch keeps a running
//     variance and evaluates (x - mean)/sqrt(var + eps); simdgrad keeps the notes' running σ̄
//     and evaluates (x - μ̄)/sqrt(σ̄² + eps), so σ̄ = sqrt(var) gives the same outputs (eps is
//     added on both sides at use, never stored).
//     num_batches_tracked (int64) is skipped: simdgrad's running averages use a fixed momentum.
//   RNN, LSTM, GRU: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (and the
//     _reverse ones) keep their names: the recurrent layers use PyTorch's names and gate order.
// `map` renames (or, returning null, drops) PyTorch names first, for models whose module
// paths differ; the rules above then apply to the renamed key.
import { parseSafetensors } from './safetensors.js';
import type { Tensor } from '../core/tensor.js';

/** What loadTorchStateDict needs of a model (any Module). */
export interface TorchLoadable {
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): void;
}

export interface TorchLoadOptions {
  /**
   * PyTorch name -> simdgrad name before the built-in rules, as an object (names not in it are
   * kept) or a function; null drops the tensor.
   */
  map?: Record<string, string | null> | ((name: string) => string | null);
}

// Dtypes a PyTorch float model's state dict may hold besides F32, converted to float32 here.
const WIDTH: Record<string, number> = { F64: 8, F16: 2, BF16: 2, I64: 8, F32: 4, I32: 4, I8: 1, U8: 1, BOOL: 1 };

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** The raw bytes of an entry parseSafetensors was told was U8, read as its real dtype. */
function decode(dtype: string, bytes: Uint8Array): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / WIDTH[dtype];
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    if (dtype === 'F64') out[i] = v.getFloat64(8 * i, true);
    else if (dtype === 'F16') out[i] = half(v.getUint16(2 * i, true));
    else bits[i] = v.getUint16(2 * i, true) << 16; // BF16 is the top half of a float32
  }
  return out;
}

interface TorchEntry {
  dtype: string;
  shape: number[];
  values: Float32Array | null;
}

/**
 * The entries of a PyTorch safetensors file. Dtypes that parseSafetensors does not take (F64,
 * F16, BF16, I64, BOOL) are passed to it relabelled as bytes, so that its checks of the header
 * and of the data layout still apply to every entry, and are decoded here.
 */
function readTorch(bytes: Uint8Array): Map<string, TorchEntry> {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) throw new Error('loadTorchStateDict: expected the bytes of a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true);
  if (view.getUint32(4, true) !== 0 || 8 + n > bytes.length) throw new Error('loadTorchStateDict: bad safetensors header length');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`loadTorchStateDict: safetensors header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const real = new Map<string, { dtype: string; shape: number[] }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__' || e === null || typeof e !== 'object') continue;
    if (typeof e.dtype === 'string' && e.dtype !== 'F32' && Object.prototype.hasOwnProperty.call(WIDTH, e.dtype) && Array.isArray(e.data_offsets)) {
      real.set(name, { dtype: e.dtype, shape: e.shape });
      e.dtype = 'U8';
      e.shape = [e.data_offsets[1] - e.data_offsets[0]];
    }
  }
  let relabelled = bytes;
  if (real.size > 0) {
    const h = new TextEncoder().encode(JSON.stringify(header));
    relabelled = new Uint8Array(8 + h.length + bytes.length - 8 - n);
    new DataView(relabelled.buffer).setUint32(0, h.length, true);
    relabelled.set(h, 8);
    relabelled.set(bytes.subarray(8 + n), 8 + h.length);
  }
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(relabelled);
  } catch (e) {
    throw new Error(`loadTorchStateDict: ${e instanceof Error ? e.message : String(e)}`);
  }
  const out = new Map<string, TorchEntry>();
  for (const [name, t] of Object.entries(parsed.tensors)) {
    const r = real.get(name);
    if (r === undefined) out.set(name, { dtype: 'F32', shape: t.shape, values: t.data as Float32Array });
    else if (r.dtype === 'F64' || r.dtype === 'F16' || r.dtype === 'BF16') out.set(name, { dtype: r.dtype, shape: r.shape, values: decode(r.dtype, t.data as Uint8Array) });
    else out.set(name, { dtype: r.dtype, shape: r.shape, values: null });
  }
  return out;
}

/**
 * Loads a PyTorch state dict saved as safetensors into `model` (same architecture), with the
 * name map above. All or nothing: every name and shape is checked before any value is written.
 * Returns the PyTorch names that were skipped on purpose (num_batches_tracked, names `map` dropped).
 */
export function loadTorchStateDict(model: TorchLoadable, bytes: Uint8Array, opts: TorchLoadOptions = {}): string[] {
  if (model === null || typeof model !== 'object' || typeof model.loadStateDict !== 'function') {
    throw new Error('loadTorchStateDict: model must be a Module (it has no loadStateDict)');
  }
  const map = opts.map;
  const rename = (name: string): string | null => {
    if (map === undefined) return name;
    if (typeof map === 'function') return map(name);
    return Object.prototype.hasOwnProperty.call(map, name) ? map[name] : name;
  };
  const state: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = Object.create(null);
  const skipped: string[] = [];
  for (const [torchName, e] of readTorch(bytes)) {
    const name = rename(torchName);
    if (name === null) {
      skipped.push(torchName);
      continue;
    }
    const dot = name.lastIndexOf('.');
    const [path, leaf] = [name.slice(0, dot + 1), name.slice(dot + 1)];
    if (leaf === 'num_batches_tracked') {
      skipped.push(torchName);
      continue;
    }
    if (e.values === null) throw new Error(`loadTorchStateDict: tensor '${torchName}' has dtype ${e.dtype}; only floating-point tensors load (num_batches_tracked is skipped)`);
    if (leaf === 'running_var') {
      const bad = e.values.findIndex((v) => !(v >= 0));
      if (bad >= 0) throw new Error(`loadTorchStateDict: '${torchName}' holds ${e.values[bad]} at ${bad}; a variance must be >= 0`);
      state[`${path}runningStd`] = { shape: e.shape, data: e.values.map(Math.sqrt) };
    } else if (leaf === 'running_mean') {
      state[`${path}runningMean`] = { shape: e.shape, data: e.values };
    } else {
      state[name] = { shape: e.shape, data: e.values };
    }
  }
  const own = model.stateDict();
  const resolved: typeof state = Object.create(null);
  for (const [k, v] of Object.entries(state)) {
    const viaLayers = k.replace(/(^|\.)(\d+)(?=\.)/g, '$1layers.$2');
    resolved[k in own || !(viaLayers in own) ? k : viaLayers] = v;
  }
  model.loadStateDict(resolved);
  return skipped;
}
