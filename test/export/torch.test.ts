// loadTorchStateDict on a safetensors file laid out as PyTorch's save_file writes it (names,
// layouts, an int64 num_batches_tracked), checked against PyTorch's eval-mode forward written
// in plain JS.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

type Entry = { dtype: 'F32' | 'I64' | 'F16'; shape: number[]; bytes: Uint8Array };

/** A safetensors file as Python's safetensors writes it (entries in the given order). */
function safetensors(entries: Record<string, Entry>): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, e] of Object.entries(entries)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + e.bytes.length] };
    at += e.bytes.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + at);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  let p = 8 + h.length;
  for (const e of Object.values(entries)) {
    out.set(e.bytes, p);
    p += e.bytes.length;
  }
  return out;
}

const f32 = (shape: number[], values: Float32Array): Entry => ({ dtype: 'F32', shape, bytes: new Uint8Array(values.buffer.slice(0)) });
const i64 = (v: bigint): Entry => ({ dtype: 'I64', shape: [], bytes: new Uint8Array(new BigInt64Array([v]).buffer) });

function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 2 ** 32) * (hi - lo);
  });
}

// PyTorch's eval-mode forward of Conv2d(2, 3, 3, padding=1) -> BatchNorm2d(3) -> ReLU -> Flatten -> Linear(3·4·4, 5).
function torchForward(x: Float32Array, N: number, p: Record<string, Float32Array>): Float32Array {
  const [C, F, H, W, K] = [2, 3, 4, 4, 3];
  const eps = 1e-5;
  const feat = new Float32Array(N * F * H * W);
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      const inv = 1 / Math.sqrt(p['1.running_var'][f] + eps);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          let acc = p['0.bias'][f];
          for (let c = 0; c < C; c++) {
            for (let u = 0; u < K; u++) {
              for (let v = 0; v < K; v++) {
                const yi = i + u - 1, xj = j + v - 1;
                if (yi < 0 || yi >= H || xj < 0 || xj >= W) continue;
                acc += p['0.weight'][((f * C + c) * K + u) * K + v] * x[((n * C + c) * H + yi) * W + xj];
              }
            }
          }
          const bn = (acc - p['1.running_mean'][f]) * inv * p['1.weight'][f] + p['1.bias'][f];
          feat[((n * F + f) * H + i) * W + j] = Math.max(0, bn);
        }
      }
    }
  }
  const [inF, outF] = [F * H * W, 5];
  const out = new Float32Array(N * outF);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < outF; o++) {
      let acc = p['4.bias'][o];
      for (let k = 0; k < inF; k++) acc += p['4.weight'][o * inF + k] * feat[n * inF + k];
      out[n * outF + o] = acc;
    }
  }
  return out;
}

function torchStyleModel(): sg.nn.Sequential {
  return new sg.nn.Sequential(new sg.nn.Conv2d(2, 3, 3, { padding: 1 }), new sg.nn.BatchNorm2d(3), new sg.nn.ReLU(),
    new sg.nn.Flatten(), new sg.nn.Linear(48, 5));
}

function torchParams(): Record<string, Float32Array> {
  return {
    '0.weight': values(3 * 2 * 9, 1, -0.5, 0.5), '0.bias': values(3, 2, -0.2, 0.2),
    '1.weight': values(3, 3, 0.5, 1.5), '1.bias': values(3, 4, -0.3, 0.3),
    '1.running_mean': values(3, 5, -0.4, 0.4), '1.running_var': values(3, 6, 0.2, 3),
    '4.weight': values(5 * 48, 7, -0.2, 0.2), '4.bias': values(5, 8, -0.1, 0.1),
  };
}

const shapes: Record<string, number[]> = {
  '0.weight': [3, 2, 3, 3], '0.bias': [3], '1.weight': [3], '1.bias': [3], '1.running_mean': [3], '1.running_var': [3],
  '4.weight': [5, 48], '4.bias': [5],
};

describe('loadTorchStateDict', () => {
  it('loads Conv2d, BatchNorm2d (running_var -> σ̄) and Linear and matches PyTorch\'s eval forward', () => {
    const p = torchParams();
    const entries: Record<string, Entry> = {};
    for (const [k, v] of Object.entries(p)) entries[k] = f32(shapes[k], v);
    entries['1.num_batches_tracked'] = i64(1234n);
    const model = torchStyleModel();
    const skipped = sg.loadTorchStateDict(model, safetensors(entries));
    expect(skipped).toEqual(['1.num_batches_tracked']);
    const bn = model.layers[1] as sg.nn.BatchNorm2d;
    const std = bn.runningStd.data() as Float32Array;
    p['1.running_var'].forEach((v, i) => expect(std[i]).toBeCloseTo(Math.sqrt(v), 6));
    model.eval();
    const N = 2;
    const x = values(N * 2 * 16, 9);
    const ours = sg.noGrad(() => model.forward(sg.tensor(x, [N, 2, 4, 4])).data() as Float32Array);
    const want = torchForward(x, N, p);
    for (let i = 0; i < want.length; i++) expect(Math.abs(ours[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
  });

  it('renames with `map` and converts half-precision tensors', () => {
    const model = new sg.nn.Sequential(new sg.nn.Linear(2, 2));
    const w = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x0000]); // 1, -2, 0.5, 0 in F16
    const file = safetensors({
      'fc.weight': { dtype: 'F16', shape: [2, 2], bytes: new Uint8Array(w.buffer) },
      'fc.bias': f32([2], new Float32Array([0.25, -0.75])),
      'extra.scale': f32([1], new Float32Array([3])),
    });
    const skipped = sg.loadTorchStateDict(model, file, { map: (n) => (n.startsWith('fc.') ? `0.${n.slice(3)}` : null) });
    expect(skipped).toEqual(['extra.scale']);
    expect(Array.from((model.layers[0] as sg.nn.Linear).weight.data())).toEqual([1, -2, 0.5, 0]);
    expect(Array.from((model.layers[0] as sg.nn.Linear).bias!.data())).toEqual([0.25, -0.75]);
  });

  it('refuses a mismatch without writing anything, and int64 tensors other than num_batches_tracked', () => {
    const model = new sg.nn.Sequential(new sg.nn.Linear(2, 2));
    const before = Array.from((model.layers[0] as sg.nn.Linear).weight.data());
    const wrong = safetensors({ '0.weight': f32([2, 3], new Float32Array(6)), '0.bias': f32([2], new Float32Array(2)) });
    expect(() => sg.loadTorchStateDict(model, wrong)).toThrow(/0\.weight: expected \[2,2\], got \[2,3\]/);
    expect(Array.from((model.layers[0] as sg.nn.Linear).weight.data())).toEqual(before);
    const ints = safetensors({ '0.weight': f32([2, 2], new Float32Array(4)), '0.bias': f32([2], new Float32Array(2)), '0.steps': i64(3n) });
    expect(() => sg.loadTorchStateDict(model, ints)).toThrow(/'0\.steps' has dtype I64/);
  });

  it('keeps the recurrent layers\' PyTorch names', () => {
    const lstm = new sg.nn.LSTM(2, 3);
    const names = Object.keys(lstm.stateDict()).sort();
    expect(names).toEqual(['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']);
    const entries: Record<string, Entry> = {};
    for (const k of names) entries[k] = f32(lstm.stateDict()[k].shape.slice(), values(lstm.stateDict()[k].size, k.length));
    sg.loadTorchStateDict(lstm, safetensors(entries));
    expect(Array.from(lstm.stateDict().weight_ih_l0.data())).toEqual(Array.from(values(24, 'weight_ih_l0'.length)));
  });
});
