// int8 post-training quantisation: weight quantisation against a host reference, the int8
// Linear / Conv2d ops against their float32 versions within stated bounds, and a small MNIST
// MLP (and CNN) that loses at most 0.5 points of test accuracy when quantised.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../../examples/mnist-data.mjs';
import { hostQuantize, quantizeWeight, quantizedConv2d, quantizedLinear, tensorRange } from '../../src/ops/quantize';
import { quantizeModel } from '../../src/compress/quantize';
import { randomF32 } from '../helpers/wasm';

/** max |a - b| / max |b|: the error relative to the output's range, the int8 bound's scale. */
function rangeErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

describe('quantizeWeight', () => {
  it('per-channel symmetric scales and rounding as the host reference, padded to 16', () => {
    sg.scope(() => {
      const w = randomF32(7 * 37, 3);
      w.fill(0, 37, 74); // an all-zero channel
      const q = quantizeWeight(sg.tensor(w, [7, 37]));
      const ref = hostQuantize(w, 7, 37);
      expect(q.q.shape).toEqual([7, 48]);
      expect(Array.from(q.scales.data())).toEqual(ref.s.map(Math.fround));
      const got = q.q.data();
      for (let r = 0; r < 7; r++) {
        for (let c = 0; c < 48; c++) expect(got[r * 48 + c]).toBe(c < 37 ? ref.q[r * 37 + c] : 0);
      }
      q.dispose();
    });
  });
});

describe('int8 ops vs float32', () => {
  it('quantizedLinear is within 2% of the output range of linear (signed and unsigned inputs, awkward sizes)', () => {
    for (const [M, K, N, unsigned] of [[1, 5, 3, false], [7, 33, 17, true], [64, 784, 129, true], [3, 100, 10, false]] as const) {
      sg.scope(() => {
        const xd = randomF32(M * K, M + K).map((v) => (unsigned ? Math.abs(v) : v));
        const x = sg.tensor(xd, [M, K]);
        const w = sg.tensor(randomF32(N * K, N), [N, K]);
        const b = sg.tensor(randomF32(N, 5));
        const qw = quantizeWeight(w);
        const { min, max } = tensorRange(x);
        const inScale = Math.max(Math.abs(min), Math.abs(max)) / 127;
        const got = quantizedLinear(x, qw.q, qw.scales, b, { inScale, unsigned }).data();
        const want = sg.linear(x, w, b).data();
        expect(rangeErr(got, want), `${M}x${K}x${N}`).toBeLessThan(0.02);
        qw.dispose();
      });
    }
  });

  it('quantizedConv2d is within 2% of the output range of conv2d', () => {
    const cases: { x: number[]; w: number[]; opts: sg.Conv2dOptions }[] = [
      { x: [2, 1, 28, 28], w: [8, 1, 3, 3], opts: { padding: 1 } },
      { x: [1, 3, 9, 11], w: [5, 3, 5, 3], opts: { stride: 2, padding: [2, 1] } },
      { x: [3, 8, 7, 7], w: [16, 8, 3, 3], opts: { padding: 'same' } },
    ];
    cases.forEach((c, i) => sg.scope(() => {
      const x = sg.tensor(randomF32(c.x.reduce((a, b) => a * b, 1), 40 + i).map(Math.abs), c.x);
      const w = sg.tensor(randomF32(c.w.reduce((a, b) => a * b, 1), 50 + i), c.w);
      const b = sg.tensor(randomF32(c.w[0], 60 + i));
      const qw = quantizeWeight(w);
      const got = quantizedConv2d(x, qw.q, qw.scales, b, { kernelSize: [c.w[2], c.w[3]], ...c.opts, inScale: 1 / 127, unsigned: true } as never).data();
      const want = sg.conv2d(x, w, b, c.opts).data();
      expect(rangeErr(got, want), `case ${i}`).toBeLessThan(0.02);
      qw.dispose();
    }));
  });
});

describe('quantizeModel', () => {
  function data(): { xs: Float32Array; ys: Int32Array; trainN: number; testN: number } {
    const { x, y } = loadAllDigits();
    const n = y.length;
    // a fixed shuffle so train and test both hold every digit
    const order = Array.from({ length: n }, (_, i) => i);
    let s = 12345;
    for (let i = n - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) >>> 0;
      const j = s % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const xs = new Float32Array(n * PIXELS);
    const ys = new Int32Array(n);
    order.forEach((o, i) => { xs.set(x.subarray(o * PIXELS, (o + 1) * PIXELS), i * PIXELS); ys[i] = y[o]; });
    const testN = Math.min(1000, Math.floor(n / 5));
    return { xs, ys, trainN: n - testN, testN };
  }

  function accuracy(f: (x: sg.Tensor) => sg.Tensor, xs: Float32Array, ys: Int32Array, from: number, n: number, shape: number[]): number {
    let correct = 0;
    for (let i = 0; i < n; i += 250) {
      const m = Math.min(250, n - i);
      sg.scope(() => {
        const x = sg.tensor(xs.subarray((from + i) * PIXELS, (from + i + m) * PIXELS), [m, ...shape]);
        const out = f(x).data();
        for (let r = 0; r < m; r++) {
          let best = 0;
          for (let c = 1; c < 10; c++) if (out[r * 10 + c] > out[r * 10 + best]) best = c;
          if (best === ys[from + i + r]) correct++;
        }
      });
    }
    return (100 * correct) / n;
  }

  function train(model: sg.nn.Sequential, xs: Float32Array, ys: Int32Array, n: number, shape: number[], epochs: number): void {
    const opt = new sg.optim.Adam(model.parameters(), { lr: 2e-3 });
    for (let e = 0; e < epochs; e++) {
      for (let i = 0; i + 64 <= n; i += 64) {
        sg.scope(() => {
          const x = sg.tensor(xs.subarray(i * PIXELS, (i + 64) * PIXELS), [64, ...shape]);
          const y = sg.tensor(ys.subarray(i, i + 64), { dtype: 'int32' });
          opt.zeroGrad();
          sg.crossEntropy(model.call(x), y).backward();
          opt.step();
        });
      }
    }
  }

  it('an MNIST MLP loses at most 0.5 points of test accuracy in int8', () => {
    const { xs, ys, trainN, testN } = data();
    const model = new sg.nn.Sequential(new sg.nn.Linear(PIXELS, 128), new sg.nn.ReLU(), new sg.nn.Linear(128, 64), new sg.nn.ReLU(), new sg.nn.Linear(64, 10));
    train(model, xs, ys, trainN, [PIXELS], 2);
    model.eval();
    const calib = [0, 1, 2, 3].map((b) => sg.tensor(xs.slice(b * 128 * PIXELS, (b + 1) * 128 * PIXELS), [128, PIXELS]));
    const q = quantizeModel(model, calib);
    const f32 = accuracy((x) => model.call(x), xs, ys, trainN, testN, [PIXELS]);
    const i8 = accuracy((x) => q.call(x), xs, ys, trainN, testN, [PIXELS]);
    console.log(`MNIST MLP: float32 ${f32.toFixed(2)}%, int8 ${i8.toFixed(2)}% (${testN} test digits), weights ${q.weightBytes} bytes int8`);
    expect(f32).toBeGreaterThan(85);
    expect(f32 - i8).toBeLessThanOrEqual(0.5);
    expect(q.scales.every((s) => s.unsigned)).toBe(true);
    const qp = quantizeModel(model, calib, { calibration: 'percentile', percentile: 0.999 });
    const i8p = accuracy((x) => qp.call(x), xs, ys, trainN, testN, [PIXELS]);
    expect(f32 - i8p).toBeLessThanOrEqual(1);
    q.dispose(); qp.dispose();
    for (const c of calib) c.dispose();
  });

  it('a small CNN quantises too, and unsupported layers are refused by name', () => {
    const { xs, ys, trainN, testN } = data();
    const model = new sg.nn.Sequential(
      new sg.nn.Conv2d(1, 8, 3, { padding: 1 }), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Conv2d(8, 16, 3, { padding: 1 }), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Flatten(), new sg.nn.Linear(16 * 7 * 7, 10),
    );
    train(model, xs, ys, Math.min(trainN, 3200), [1, 28, 28], 1);
    model.eval();
    const calib = [sg.tensor(xs.slice(0, 128 * PIXELS), [128, 1, 28, 28])];
    const q = quantizeModel(model, calib);
    const f32 = accuracy((x) => model.call(x), xs, ys, trainN, testN, [1, 28, 28]);
    const i8 = accuracy((x) => q.call(x), xs, ys, trainN, testN, [1, 28, 28]);
    console.log(`MNIST CNN: float32 ${f32.toFixed(2)}%, int8 ${i8.toFixed(2)}%`);
    expect(f32 - i8).toBeLessThanOrEqual(1);
    expect(() => quantizeModel(new sg.nn.Sequential(new sg.nn.Linear(4, 2), new sg.nn.Tanh()), calib)).toThrow(/^quantizeModel: layer 1 is a Tanh/);
    q.dispose();
    calib[0].dispose();
  });

  it('a batch norm after a Conv2d or Linear is folded into it, a dropout left out: the int8 model tracks the float one', () => {
    sg.manualSeed(5);
    const model = new sg.nn.Sequential(
      new sg.nn.Conv2d(2, 6, 3, { padding: 1 }), new sg.nn.BatchNorm2d(6), new sg.nn.ReLU(), new sg.nn.Dropout(0.5), new sg.nn.Flatten(),
      new sg.nn.Linear(6 * 5 * 5, 4), new sg.nn.BatchNorm1d(4),
    );
    const x = sg.randn([16, 2, 5, 5]);
    // Running statistics away from 0 and 1, and non-trivial γ, β: the fold has to use them all.
    for (let i = 0; i < 20; i++) sg.noGrad(() => model.call(sg.add(sg.mul(x, 2), 0.5)));
    const bn2 = model.layers[1] as sg.nn.BatchNorm2d;
    bn2.weight!.setData([0.5, 1.5, -1, 2, 0.8, 1.2]);
    bn2.bias!.setData([0.1, -0.2, 0.3, 0, 0.5, -0.4]);
    model.eval();
    const q = quantizeModel(model, [x]);
    const want = sg.noGrad(() => model.call(x)).data();
    const got = q.call(x).data();
    let maxOut = 0;
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) {
      maxOut = Math.max(maxOut, Math.abs(want[i]));
      maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
    }
    expect(maxErr / maxOut).toBeLessThan(0.03);
    expect(q.scales.length).toBe(2); // two int8 layers: the batch norms are gone into them
    q.dispose();
  });
});
