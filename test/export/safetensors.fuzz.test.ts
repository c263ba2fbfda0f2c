// Property-based tests of the safetensors reader: hostile headers and bytes either give tensors
// consistent with the header or an Error whose message starts with 'safetensors:'; random named
// tensors of every dtype survive save -> load. Fixed seed, so failures reproduce.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const SEED = 20240611;
const CODES: Record<string, string> = { F32: 'float32', I32: 'int32', I8: 'int8', U8: 'uint8' };
const SIZES: Record<string, number> = { F32: 4, I32: 4, I8: 1, U8: 1 };
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function fileOf(header: string, data: Uint8Array, headerLength?: number, high = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength ?? json.length, true);
  view.setUint32(4, high, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Either a result consistent with the file's header, or a 'safetensors:' Error. */
function checkParse(bytes: Uint8Array): void {
  let result: ReturnType<typeof sg.parseSafetensors>;
  try {
    result = sg.parseSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).constructor).toBe(Error);
    expect((e as Error).message).toMatch(/^safetensors: /);
    return;
  }
  // Accepted: re-read the header independently and compare.
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<string, unknown>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  expect(Object.keys(result.tensors).sort()).toEqual(names.sort());
  let total = 0;
  for (const name of names) {
    const h = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const t = result.tensors[name];
    expect(hasOwn(CODES, h.dtype)).toBe(true);
    expect(t.dtype).toBe(CODES[h.dtype]);
    expect(t.shape).toEqual(h.shape);
    const [b, e] = h.data_offsets;
    expect(t.data.length).toBe(h.shape.reduce((x, y) => x * y, 1));
    expect(t.data.byteLength).toBe(e - b);
    expect(Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toEqual(Array.from(bytes.subarray(8 + len + b, 8 + len + e)));
    total += e - b;
  }
  // Tiled exactly: the ranges (disjoint) sum to the whole data block.
  expect(total).toBe(bytes.length - 8 - len);
  const meta = hasOwn(header, '__metadata__') ? (header.__metadata__ as Record<string, string>) : {};
  expect(Object.keys(result.metadata).sort()).toEqual(Object.keys(meta).sort());
  for (const k of Object.keys(meta)) expect(result.metadata[k]).toBe(meta[k]);
}

function checkLoad(bytes: Uint8Array): void {
  let out: Record<string, sg.Tensor>;
  try {
    out = sg.loadSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).constructor).toBe(Error);
    expect((e as Error).message).toMatch(/^safetensors: /);
    return;
  }
  const parsed = sg.parseSafetensors(bytes).tensors;
  expect(Object.keys(out).sort()).toEqual(Object.keys(parsed).sort());
  for (const k of Object.keys(out)) {
    expect(out[k].dtype).toBe(parsed[k].dtype);
    expect(out[k].shape).toEqual(parsed[k].shape);
  }
  sg.dispose(Object.values(out));
}

// ---- arbitraries ---------------------------------------------------------------------------

const dtypeArb = fc.oneof(
  fc.constantFrom('F32', 'I32', 'I8', 'U8', 'F64', 'BF16', 'F16', 'BOOL', 'f32', '', ...PROTO_NAMES),
  fc.string({ maxLength: 6 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const dimArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat(4) },
  { weight: 2, arbitrary: fc.constantFrom(0, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, -1, 1.5, -0) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);
const shapeArb = fc.oneof({ weight: 8, arbitrary: fc.array(dimArb, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const offsetArb = fc.oneof(
  { weight: 8, arbitrary: fc.nat(48) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, 2 ** 53, 2 ** 60, 1e308, '4', null) },
);
const offsetsArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(offsetArb, offsetArb) },
  { weight: 1, arbitrary: fc.array(offsetArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const entryArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ dtype: dtypeArb, shape: shapeArb, data_offsets: offsetsArb }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const nameArb = fc.oneof(fc.constantFrom('a', 'b', 'w.0', 'ünï🚀', ...PROTO_NAMES), fc.string({ maxLength: 5 }));
const metadataArb = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(nameArb, fc.string({ maxLength: 4 }), { maxKeys: 3 }) },
  { weight: 2, arbitrary: fc.dictionary(nameArb, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
/** Headers of random entries (each field random) and maybe __metadata__. */
const hostileHeaderArb = fc
  .tuple(fc.dictionary(nameArb, entryArb, { maxKeys: 4 }), fc.option(metadataArb, { nil: undefined }))
  .map(([entries, meta]) => {
    const h: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entries)) Object.defineProperty(h, k, { value: v, enumerable: true });
    if (meta !== undefined) Object.defineProperty(h, '__metadata__', { value: meta, enumerable: true });
    return h;
  });

/** Headers that are nearly right: consistent offsets, then one lie (or none). */
const plausibleArb = fc
  .tuple(
    fc.uniqueArray(fc.tuple(nameArb, fc.constantFrom('F32', 'I32', 'I8', 'U8'), fc.array(fc.nat(3), { maxLength: 3 })), { selector: (e) => e[0], maxLength: 4 }),
    fc.constantFrom('none', 'truncate', 'extend', 'shiftOffset', 'shape', 'dtype', 'hugeDim', 'zeroHuge', 'headerLength', 'highLength'),
    fc.nat(),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([specs, lie, r, extra]) => {
    const h: Record<string, unknown> = {};
    let at = 0;
    for (const [name, dtype, shape] of specs) {
      if (name === '__metadata__') continue;
      const n = shape.reduce((a, b) => a * b, 1) * SIZES[dtype];
      Object.defineProperty(h, name, { value: { dtype, shape, data_offsets: [at, at + n] }, enumerable: true });
      at += n;
    }
    const keys = Object.keys(h);
    const victim = keys.length > 0 ? (h[keys[r % keys.length]] as { dtype: string; shape: number[]; data_offsets: number[] }) : null;
    let data = new Uint8Array(at).map((_, i) => (i * 37 + r) & 255);
    let headerLength: number | undefined;
    let high = 0;
    if (lie === 'truncate') data = data.subarray(0, r % (at + 1));
    else if (lie === 'extend') data = Uint8Array.from([...data, ...extra]);
    else if (victim && lie === 'shiftOffset') victim.data_offsets[r % 2] += (r % 5) - 2;
    else if (victim && lie === 'shape') victim.shape = [...victim.shape, 2];
    else if (victim && lie === 'dtype') victim.dtype = ['F32', 'I8', 'constructor', '__proto__'][r % 4];
    else if (victim && lie === 'hugeDim') victim.shape = [2 ** 31, 2 ** 31, ...victim.shape];
    else if (victim && lie === 'zeroHuge') victim.shape = [0, 2 ** 40, ...victim.shape];
    else if (lie === 'headerLength') headerLength = r % 4096;
    else if (lie === 'highLength') high = 1 + (r % 3);
    return fileOf(JSON.stringify(h), data, headerLength, high);
  });

const fileArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(hostileHeaderArb, fc.nat(64)).map(([h, n]) => fileOf(JSON.stringify(h), new Uint8Array(n))) },
  { weight: 4, arbitrary: plausibleArb },
  { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 16 })).map(([v, d]) => fileOf(JSON.stringify(v) ?? 'null', d)) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 24 }), fc.uint8Array({ maxLength: 16 })).map(([s, d]) => fileOf(s, d)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(40), fc.uint8Array({ maxLength: 48 })).map(([n, d]) => fileOf('', d, n)) },
);

// ---- properties ----------------------------------------------------------------------------

describe('safetensors fuzz: hostile files', () => {
  it('parseSafetensors returns tensors consistent with the header or throws a safetensors: Error', () => {
    fc.assert(fc.property(fileArb, (bytes) => checkParse(bytes)), { seed: SEED, numRuns: 1500 });
  });

  it('loadSafetensors does the same, making wasm tensors', () => {
    fc.assert(fc.property(fileArb, (bytes) => checkLoad(bytes)), { seed: SEED + 1, numRuns: 500 });
  });

  it('truncating a valid file anywhere is refused with a safetensors: Error', () => {
    const good = sg.saveSafetensors({ w: sg.tensor([[1, 2], [3, 4]]), b: sg.tensor([5, 6], { dtype: 'int8' }) }, { k: 'v' });
    fc.assert(
      fc.property(fc.nat(good.length - 1), (n) => {
        expect(() => sg.parseSafetensors(good.subarray(0, n))).toThrow(/^safetensors: /);
      }),
      { seed: SEED + 2, numRuns: 200 },
    );
  });

  it('accepts some of the generated files (the generator reaches past the first check)', () => {
    const samples = fc.sample(fileArb, { seed: SEED, numRuns: 1500 });
    let ok = 0;
    for (const s of samples) {
      try {
        sg.parseSafetensors(s);
        ok++;
      } catch {
        // refused
      }
    }
    expect(ok).toBeGreaterThan(50);
  });
});

// ---- round trip ----------------------------------------------------------------------------

type Spec = { name: string; dtype: 'float32' | 'int32' | 'int8' | 'uint8'; shape: number[]; values: Float32Array | Int32Array | Int8Array | Uint8Array };

const specArb: fc.Arbitrary<Spec> = fc
  .tuple(
    fc.oneof(fc.constantFrom(...PROTO_NAMES, 'ünïcødé 🚀', 'layers.0.weight', '', ' '), fc.string({ unit: 'grapheme', maxLength: 8 })).filter((n) => n !== '__metadata__'),
    fc.constantFrom('float32' as const, 'int32' as const, 'int8' as const, 'uint8' as const),
    fc.array(fc.nat(4), { maxLength: 3 }),
  )
  .chain(([name, dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const len = { minLength: n, maxLength: n };
    const values: fc.Arbitrary<Spec['values']> = dtype === 'float32' ? fc.float32Array(len) : dtype === 'int32' ? fc.int32Array(len) : dtype === 'int8' ? fc.int8Array(len) : fc.uint8Array(len);
    return values.map((v) => ({ name, dtype, shape, values: v }));
  });

describe('safetensors fuzz: round trip', () => {
  it('random named tensors of every dtype survive save -> load with equal shapes, dtypes and values', () => {
    fc.assert(
      fc.property(fc.uniqueArray(specArb, { selector: (s) => s.name, maxLength: 5 }), fc.dictionary(fc.oneof(fc.constantFrom(...PROTO_NAMES), fc.string({ unit: 'grapheme', maxLength: 4 })), fc.string({ unit: 'grapheme', maxLength: 6 }), { maxKeys: 3 }), (specs, meta) => {
        const input: Record<string, sg.Tensor> = {};
        for (const s of specs) Object.defineProperty(input, s.name, { value: sg.tensor(s.values, s.shape, { dtype: s.dtype }), enumerable: true });
        try {
          const bytes = sg.saveSafetensors(input, meta);
          const back = sg.loadSafetensors(bytes);
          expect(Object.keys(back).sort()).toEqual(specs.map((s) => s.name).sort());
          for (const s of specs) {
            const t = back[s.name];
            expect(hasOwn(back, s.name)).toBe(true);
            expect(t.dtype).toBe(s.dtype);
            expect(t.shape).toEqual(s.shape);
            const d = t.data();
            // Bitwise: NaN payloads and -0 survive too.
            expect(Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))).toEqual(Array.from(new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength)));
          }
          const { metadata } = sg.parseSafetensors(bytes);
          expect(Object.keys(metadata).sort()).toEqual(Object.keys(meta).sort());
          for (const k of Object.keys(meta)) expect(metadata[k]).toBe(meta[k]);
          sg.dispose(Object.values(back));
        } finally {
          sg.dispose(Object.values(input));
        }
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});
