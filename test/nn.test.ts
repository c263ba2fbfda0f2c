// Modules, initialisers (notes §1.3.5.2) and safetensors I/O.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

const stats = (t: sg.Tensor): { mean: number; std: number; min: number; max: number } => {
  const d = Array.from(t.data());
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
};

describe('initialisers as the notes define them', () => {
  it('He: N(0, ε²) with ε = √(2/M)', () => {
    sg.manualSeed(1);
    const s = stats(sg.nn.heNormal([400, 200], 200));
    expect(s.mean).toBeCloseTo(0, 2);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 200), 2);
  });
  it('Xavier: U[-ε, ε] with ε = 1/√M', () => {
    const eps = 1 / Math.sqrt(300);
    const s = stats(sg.nn.xavierUniform([300, 300], 300));
    expect(s.min).toBeGreaterThanOrEqual(-eps);
    expect(s.max).toBeLessThanOrEqual(eps);
    expect(s.max).toBeGreaterThan(0.99 * eps);
    expect(s.std).toBeCloseTo(eps / Math.sqrt(3), 3);
  });
  it('normalized Xavier: U[-ε, ε] with ε = 6/√(N+M)', () => {
    const eps = 6 / Math.sqrt(100 + 300);
    const s = stats(sg.nn.xavierNormalizedUniform([100, 300], 300, 100));
    expect(s.min).toBeGreaterThanOrEqual(-eps);
    expect(s.max).toBeLessThanOrEqual(eps);
    expect(s.max).toBeGreaterThan(0.99 * eps);
  });
  it('the same seed gives the same model', () => {
    sg.manualSeed(5);
    const a = new sg.nn.Linear(10, 4, { init: 'he' }).weight.data();
    sg.manualSeed(5);
    const b = new sg.nn.Linear(10, 4, { init: 'he' }).weight.data();
    expect(a).toEqual(b);
  });
});

describe('Module', () => {
  const model = (): sg.nn.Sequential => new sg.nn.Sequential(new sg.nn.Linear(3, 4), new sg.nn.PReLU(), new sg.nn.Linear(4, 2), new sg.nn.Sigmoid());
  it('finds parameters with dotted names', () => {
    const m = model();
    expect(m.namedParameters().map(([n, t]) => `${n}${JSON.stringify(t.shape)}`)).toEqual([
      'layers.0.weight[4,3]', 'layers.0.bias[4]', 'layers.1.weight[1]', 'layers.2.weight[2,4]', 'layers.2.bias[2]',
    ]);
    expect(m.numParameters()).toBe(12 + 4 + 1 + 8 + 2);
  });
  it('train/eval mode reaches every sub-module', () => {
    const m = model().eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, x]) => x.training)).toBe(true);
  });
  it('PReLU learns its slope', () => {
    const p = new sg.nn.PReLU(1, 0.25);
    const y = p.forward(sg.tensor([-2, 3]));
    expect(Array.from(y.data())).toEqual([-0.5, 3]);
    sg.sum(y).backward();
    expect(p.weight.grad!.item()).toBeCloseTo(-2, 6);
  });
  it('activation modules compute their functions', () => {
    const x = sg.tensor([-1, 0.5]);
    expect(Array.from(new sg.nn.LeakyReLU(0.1).forward(x).data())).toEqual([-0.1, 0.5].map(Math.fround));
    expect(new sg.nn.Softplus().forward(x).data()[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 6);
    expect(new sg.nn.Tanh().forward(x).data()[1]).toBeCloseTo(Math.tanh(0.5), 6);
    expect(Array.from(new sg.nn.ReLU().forward(x).data())).toEqual([0, 0.5]);
  });
  it('state dict save -> safetensors -> load gives identical predictions', () => {
    sg.manualSeed(9);
    const a = model();
    const b = model();
    const x = sg.randn([5, 3]);
    const bytes = sg.saveSafetensors(a.stateDict());
    b.loadStateDict(sg.loadSafetensors(bytes));
    expect(sg.noGrad(() => b.forward(x)).data()).toEqual(sg.noGrad(() => a.forward(x)).data());
  });
  it('refuses a mismatched state without loading any of it', () => {
    const a = model();
    const before = a.parameters().map((p) => p.data());
    const other = new sg.nn.Sequential(new sg.nn.Linear(3, 5), new sg.nn.PReLU(), new sg.nn.Linear(5, 2));
    expect(() => a.loadStateDict(other.stateDict())).toThrow(/loadStateDict: state does not match the model: layers.0.weight: expected \[4,3\], got \[5,3\]/);
    expect(a.parameters().map((p) => p.data())).toEqual(before);
  });
});

describe('safetensors files from strangers', () => {
  const good = (): Uint8Array => sg.saveSafetensors({ w: sg.tensor([[1, 2], [3, 4]]), b: sg.tensor([5, 6]) });
  it('round trip', () => {
    const t = sg.parseSafetensors(good()).tensors;
    expect(Array.from(t.w.data)).toEqual([1, 2, 3, 4]);
    expect(t.w.shape).toEqual([2, 2]);
  });
  it('a truncated file', () => {
    const g = good();
    expect(() => sg.parseSafetensors(g.subarray(0, 5))).toThrow(/too short/);
    expect(() => sg.parseSafetensors(g.subarray(0, 20))).toThrow(/runs past the end/);
    expect(() => sg.parseSafetensors(g.subarray(0, g.length - 4))).toThrow(/outside the .*-byte data block/);
  });
  it('an oversized header length', () => {
    const g = good().slice();
    new DataView(g.buffer).setUint32(4, 1, true);
    expect(() => sg.parseSafetensors(g)).toThrow(/exceeds the .*-byte limit/);
  });
  const withHeader = (h: unknown, dataBytes: number): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 8);
    return out;
  };
  it('overlapping data ranges', () => {
    const f = withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12);
    expect(() => sg.parseSafetensors(f)).toThrow(/overlap/);
  });
  it('bad JSON, dtype, shape or offsets', () => {
    const bad = new Uint8Array(8 + 3);
    new DataView(bad.buffer).setUint32(0, 3, true);
    bad.set(new TextEncoder().encode('{x:'), 8);
    expect(() => sg.parseSafetensors(bad)).toThrow(/not valid JSON/);
    expect(() => sg.parseSafetensors(withHeader({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8))).toThrow(/unsupported dtype "F64"/);
    expect(() => sg.parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4))).toThrow(/invalid shape/);
    expect(() => sg.parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8))).toThrow(/needs 12 bytes/);
    expect(() => sg.parseSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, 8))).toThrow(/invalid data_offsets/);
  });
});
