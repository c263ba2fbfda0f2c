// Hardening of the safetensors reader/writer: prototype-named dtypes and tensor names, the data
// block tiled exactly (no gaps, no trailing bytes), metadata as an object of strings.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

/** A file from a header (any JSON value, or raw text) and a data block of `dataBytes` bytes. */
function withHeader(h: unknown, dataBytes: number | Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(typeof h === 'string' ? h : JSON.stringify(h));
  const data = typeof dataBytes === 'number' ? new Uint8Array(dataBytes) : dataBytes;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

/** Runs f, expecting an Error whose message starts with 'safetensors:' and matches `re`. */
function refuses(f: () => unknown, re: RegExp): void {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as Error).message).toMatch(/^safetensors: /);
  expect((thrown as Error).message).toMatch(re);
}

describe('safetensors: names from Object.prototype', () => {
  it('refuses prototype property names as dtypes', () => {
    for (const dtype of PROTO_NAMES) {
      const f = withHeader({ a: { dtype, shape: [1], data_offsets: [0, 4] } }, 4);
      refuses(() => sg.parseSafetensors(f), new RegExp(`tensor 'a' has unsupported dtype "${dtype}"`));
      refuses(() => sg.loadSafetensors(f), /unsupported dtype/);
    }
  });

  it('reads a tensor named __proto__ (and other prototype names) as an ordinary entry', () => {
    const text = '{"__proto__":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"constructor":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}';
    const data = new Uint8Array(9);
    new Float32Array(data.buffer, 0, 2).set([1.5, -2]);
    data[8] = 7;
    const { tensors } = sg.parseSafetensors(withHeader(text, data));
    expect(Object.keys(tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.prototype.hasOwnProperty.call(tensors, '__proto__')).toBe(true);
    expect(tensors['__proto__'].dtype).toBe('float32');
    expect(Array.from(tensors['__proto__'].data)).toEqual([1.5, -2]);
    expect(Array.from(tensors['constructor'].data)).toEqual([7]);
    // Absent names are absent, not inherited.
    expect(tensors['toString']).toBeUndefined();
  });

  it('round-trips tensors and metadata keys named after prototype properties through save/load', () => {
    const input: Record<string, sg.Tensor> = {};
    PROTO_NAMES.forEach((name, i) => Object.defineProperty(input, name, { value: sg.tensor([i, i + 1]), enumerable: true }));
    const meta: Record<string, string> = {};
    Object.defineProperty(meta, '__proto__', { value: 'x', enumerable: true });
    const bytes = sg.saveSafetensors(input, meta);
    const back = sg.loadSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual([...PROTO_NAMES].sort());
    PROTO_NAMES.forEach((name, i) => expect(Array.from(back[name].data())).toEqual([i, i + 1]));
    const parsed = sg.parseSafetensors(bytes);
    expect(Object.keys(parsed.metadata)).toEqual(['__proto__']);
    expect(parsed.metadata['__proto__']).toBe('x');
    sg.dispose(Object.values(input), Object.values(back));
  });
});

describe('safetensors: the data block is tiled exactly', () => {
  const good = (): Uint8Array => sg.saveSafetensors({ w: sg.tensor([[1, 2], [3, 4]]), b: sg.tensor([5, 6]) });

  it('refuses trailing bytes after the last tensor', () => {
    const g = good();
    const longer = new Uint8Array(g.length + 4);
    longer.set(g);
    refuses(() => sg.parseSafetensors(longer), /4 trailing bytes after the tensor data \(the last tensor 'w' ends at 24, the data block holds 28 bytes\)/);
    refuses(() => sg.parseSafetensors(withHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, 3)), /1 trailing bytes/);
  });

  it('refuses gaps between tensors and before the first', () => {
    const gap = withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12);
    refuses(() => sg.parseSafetensors(gap), /gap in the data block: 'b' starts at 8, but 'a' ends at 4/);
    const front = withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8);
    refuses(() => sg.parseSafetensors(front), /gap in the data block: 'a' starts at 4, but the data block starts at 0/);
  });

  it('an empty file has an empty data block', () => {
    const empty = sg.saveSafetensors({});
    expect(Object.keys(sg.parseSafetensors(empty).tensors)).toEqual([]);
    expect(Object.keys(sg.loadSafetensors(empty))).toEqual([]);
    refuses(() => sg.parseSafetensors(withHeader({}, 3)), /3 trailing bytes after the tensor data \(no tensors/);
  });

  it('zero-size tensors may sit anywhere in the tiling', () => {
    const f = withHeader({ e: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, z: { dtype: 'I8', shape: [0], data_offsets: [0, 0] } }, 4);
    const t = sg.parseSafetensors(f).tensors;
    expect(t.e.shape).toEqual([0, 3]);
    expect(t.z.data.length).toBe(0);
  });

  it('overlaps name both tensors', () => {
    const f = withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12);
    refuses(() => sg.parseSafetensors(f), /tensor data ranges overlap: 'b' \[4, 12\) starts before 'a' ends at 8/);
  });
});

describe('safetensors: __metadata__', () => {
  it('refuses non-string values and a non-object __metadata__', () => {
    refuses(() => sg.parseSafetensors(withHeader({ __metadata__: { a: 1 } }, 0)), /'__metadata__' value 'a' must be a string, got 1/);
    refuses(() => sg.parseSafetensors(withHeader({ __metadata__: { a: { b: 'c' } } }, 0)), /must be a string, got an object/);
    refuses(() => sg.parseSafetensors(withHeader({ __metadata__: { a: null } }, 0)), /must be a string, got null/);
    for (const m of [[], ['a'], 'text', 3, null, true]) {
      refuses(() => sg.parseSafetensors(withHeader({ __metadata__: m }, 0)), /'__metadata__' must be an object of strings/);
    }
  });

  it('the writer refuses what the reader would refuse', () => {
    const t = sg.tensor([1]);
    refuses(() => sg.saveSafetensors({ a: t }, { n: 1 } as unknown as Record<string, string>), /metadata 'n' must be a string, got 1/);
    refuses(() => sg.saveSafetensors({ __metadata__: t }), /reserved for metadata/);
    t.dispose();
  });

  it('pads the header to 8 bytes counting UTF-8 bytes, not UTF-16 units', () => {
    const t = sg.tensor([1, 2]);
    for (const name of ['é', 'ωω', '🚀', 'naïve.weight']) {
      const bytes = sg.saveSafetensors({ [name]: t });
      const len = new DataView(bytes.buffer).getUint32(0, true);
      expect((8 + len) % 8).toBe(0);
      expect(Array.from(sg.parseSafetensors(bytes).tensors[name].data)).toEqual([1, 2]);
    }
    t.dispose();
  });
});
