// conv2d / convTranspose2d against the direct nested-loop references of their definitions
// (src/ops/conv.ts: forward and all three gradients), the adjoint relation between them, and
// the layers. Bad configurations are the ops' registry badInputs (test/ops).
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { conv2dNaive, convTranspose2dNaive } from '../src/ops/conv-reference';
import { randomF32 } from './helpers/wasm';
import { expectFlatTraining } from './helpers/memory';

interface Cfg {
  N: number; C: number; H: number; W: number; F: number; kh: number; kw: number;
  stride: [number, number]; padding: [number, number] | 'same';
}

/** Resolved geometry: top/left padding and output size (asymmetric 'same' included). */
function resolve(c: Cfg): { ph: number; pw: number; OH: number; OW: number } {
  if (c.padding === 'same') return { ph: (c.kh - 1) >> 1, pw: (c.kw - 1) >> 1, OH: c.H, OW: c.W };
  const [ph, pw] = c.padding;
  return { ph, pw, OH: Math.floor((c.H + 2 * ph - c.kh) / c.stride[0]) + 1, OW: Math.floor((c.W + 2 * pw - c.kw) / c.stride[1]) + 1 };
}

/** conv2d's reference for a case (its own resolution of the geometry, 'same' included). */
function refConv2d(c: Cfg, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array | null) {
  const { ph, pw, OH, OW } = resolve(c);
  return conv2dNaive({ shape: [c.N, c.C, c.H, c.W], data: x }, { shape: [c.F, c.C, c.kh, c.kw], data: w }, b && { shape: [c.F], data: b },
    { stride: c.stride, padding: [ph, pw], out: [OH, OW] }, dy ?? undefined);
}

interface TCfg {
  N: number; Cin: number; H: number; W: number; Cout: number; kh: number; kw: number;
  stride: [number, number]; padding: [number, number]; outputPadding: [number, number];
}

/** convTranspose2d's reference for a case. */
function refConvT(c: TCfg, x: Float32Array, w: Float32Array, b: Float32Array | null, dy: Float32Array | null) {
  const [sh, sw] = c.stride, [ph, pw] = c.padding;
  const OH = (c.H - 1) * sh - 2 * ph + c.kh + c.outputPadding[0];
  const OW = (c.W - 1) * sw - 2 * pw + c.kw + c.outputPadding[1];
  return convTranspose2dNaive({ shape: [c.N, c.Cin, c.H, c.W], data: x }, { shape: [c.Cin, c.Cout, c.kh, c.kw], data: w }, b && { shape: [c.Cout], data: b },
    { stride: c.stride, padding: c.padding, out: [OH, OW] }, dy ?? undefined);
}

/** Max of |got - ref| / (scale + 1e-3), scale = Σ|terms|: f32 vs f64 accumulation, FMA or not. */
function relErr(got: ArrayLike<number>, ref: ArrayLike<number>, scale?: ArrayLike<number>): number {
  expect(got.length).toBe(ref.length);
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const s = scale ? scale[i] : Math.abs(ref[i]);
    const e = Math.abs(got[i] - ref[i]) / (s + 1e-3);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

let seed = 1;
function t(shape: number[], requiresGrad = true): [sg.Tensor, Float32Array] {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randomF32(n, seed++ * 7919);
  return [sg.tensor(v, shape, { requiresGrad }), v];
}

const CONV_CASES: [string, Cfg][] = [
  ['1x1 kernel, stride 1 (pointwise path)', { N: 2, C: 3, H: 5, W: 7, F: 4, kh: 1, kw: 1, stride: [1, 1], padding: [0, 0] }],
  ['1x1 kernel, stride 2, padding 1', { N: 1, C: 2, H: 6, W: 5, F: 3, kh: 1, kw: 1, stride: [2, 2], padding: [1, 1] }],
  ['3x3, one channel, padding 0', { N: 1, C: 1, H: 6, W: 9, F: 1, kh: 3, kw: 3, stride: [1, 1], padding: [0, 0] }],
  ['3x3 padding 1, many channels, batch 3', { N: 3, C: 5, H: 8, W: 6, F: 7, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] }],
  ['3x3 stride 2 padding 1, H != W', { N: 3, C: 3, H: 9, W: 12, F: 5, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1] }],
  ['3x3 stride 2 padding 2', { N: 2, C: 2, H: 7, W: 8, F: 3, kh: 3, kw: 3, stride: [2, 2], padding: [2, 2] }],
  ['5x3 kernel, padding [2,1]', { N: 2, C: 3, H: 10, W: 7, F: 4, kh: 5, kw: 3, stride: [1, 1], padding: [2, 1] }],
  ['5x3 kernel, stride [2,1], padding 0', { N: 3, C: 1, H: 11, W: 6, F: 2, kh: 5, kw: 3, stride: [2, 1], padding: [0, 0] }],
  ['5x3 kernel, stride 2, padding 2', { N: 1, C: 4, H: 9, W: 10, F: 3, kh: 5, kw: 3, stride: [2, 2], padding: [2, 2] }],
  ["'same' 3x3", { N: 2, C: 3, H: 7, W: 5, F: 6, kh: 3, kw: 3, stride: [1, 1], padding: 'same' }],
  ["'same' with an even 4x2 kernel (asymmetric)", { N: 2, C: 2, H: 6, W: 7, F: 3, kh: 4, kw: 2, stride: [1, 1], padding: 'same' }],
  ['stride 3, kernel covering the padded input', { N: 2, C: 2, H: 3, W: 4, F: 2, kh: 5, kw: 6, stride: [3, 3], padding: [1, 1] }],
  ['LeNet-like 28x28 first layer', { N: 2, C: 1, H: 28, W: 28, F: 6, kh: 5, kw: 5, stride: [1, 1], padding: [2, 2] }],
  ['one channel in, 32 filters (dW accumulated transposed)', { N: 3, C: 1, H: 6, W: 7, F: 32, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1] }],
];

describe('conv2d vs a direct nested-loop reference', () => {
  for (const [name, c] of CONV_CASES) {
    for (const withBias of [true, false]) {
      it(`${name}${withBias ? '' : ', no bias'}: forward and gradients`, () => {
        const [x, xv] = t([c.N, c.C, c.H, c.W]);
        const [w, wv] = t([c.F, c.C, c.kh, c.kw]);
        const [b, bv] = withBias ? t([c.F]) : [null, null];
        const padding = c.padding === 'same' ? 'same' : c.padding;
        const y = sg.conv2d(x, w, b, { stride: c.stride, padding });
        const shape = sg.conv2dOutputShape(x.shape, w.shape, { stride: c.stride, padding });
        const [dy, dyv] = t(y.shape.slice(), false);
        const ref = refConv2d(c, xv, wv, bv, dyv);
        expect(y.shape).toEqual(ref.shape);
        expect(shape).toEqual(ref.shape);
        expect(relErr(y.data(), ref.y, ref.abs)).toBeLessThan(1e-5);
        y.backward({ gradient: dy });
        expect(relErr(x.grad!.data(), ref.dx, ref.dxAbs)).toBeLessThan(1e-5);
        expect(relErr(w.grad!.data(), ref.dw, ref.dwAbs)).toBeLessThan(1e-5);
        if (b) expect(relErr(b.grad!.data(), ref.db, ref.dbAbs)).toBeLessThan(1e-5);
        sg.releaseGraphs();
        sg.dispose(x, w, b, dy);
      });
    }
  }

  it('only computes the gradients that are needed', () => {
    const [x] = t([2, 3, 5, 5], false);
    const [w, wv] = t([4, 3, 3, 3]);
    const [b] = t([4], false);
    const y = sg.conv2d(x, w, b, { padding: 1 });
    sg.sum(y).backward();
    expect(x.grad).toBe(null);
    expect(b.grad).toBe(null);
    expect(w.grad!.shape).toEqual([4, 3, 3, 3]);
    // Without any input requiring grad, no graph is recorded.
    w.requiresGrad = false;
    const z = sg.conv2d(x, w, null);
    expect(z.requiresGrad).toBe(false);
    expect(wv.length).toBe(108);
    sg.releaseGraphs();
    sg.dispose(x, w, b, z);
  });

  it('handles an empty batch', () => {
    const x = sg.zeros([0, 2, 5, 5], { requiresGrad: true });
    const w = sg.ones([3, 2, 3, 3], { requiresGrad: true });
    const b = sg.ones([3], { requiresGrad: true });
    const y = sg.conv2d(x, w, b, { padding: 1 });
    expect(y.shape).toEqual([0, 3, 5, 5]);
    sg.sum(y).backward();
    expect(Array.from(w.grad!.data())).toEqual(new Array(54).fill(0));
    expect(Array.from(b.grad!.data())).toEqual([0, 0, 0]);
    sg.releaseGraphs();
    sg.dispose(x, w, b);
  });
});

const T_CASES: [string, TCfg][] = [
  ['1x1, stride 1 (pointwise path)', { N: 2, Cin: 3, H: 4, W: 5, Cout: 2, kh: 1, kw: 1, stride: [1, 1], padding: [0, 0], outputPadding: [0, 0] }],
  ['3x3, stride 1, padding 0, one channel', { N: 1, Cin: 1, H: 5, W: 4, Cout: 1, kh: 3, kw: 3, stride: [1, 1], padding: [0, 0], outputPadding: [0, 0] }],
  ['3x3, stride 1, padding 1, batch 3', { N: 3, Cin: 4, H: 6, W: 5, Cout: 3, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], outputPadding: [0, 0] }],
  ['3x3, stride 2, padding 1, outputPadding 1', { N: 2, Cin: 3, H: 4, W: 6, Cout: 5, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], outputPadding: [1, 1] }],
  ['4x4, stride 2, padding 1 (DCGAN upsampling)', { N: 3, Cin: 4, H: 5, W: 5, Cout: 2, kh: 4, kw: 4, stride: [2, 2], padding: [1, 1], outputPadding: [0, 0] }],
  ['5x3, stride [2,1], padding [2,0], outputPadding [1,0]', { N: 2, Cin: 2, H: 5, W: 7, Cout: 3, kh: 5, kw: 3, stride: [2, 1], padding: [2, 0], outputPadding: [1, 0] }],
  ['2x2, stride 3 (gaps in the output), padding 2', { N: 1, Cin: 2, H: 4, W: 3, Cout: 2, kh: 2, kw: 2, stride: [3, 3], padding: [2, 2], outputPadding: [2, 1] }],
  ['1x1, stride 2', { N: 2, Cin: 3, H: 3, W: 4, Cout: 2, kh: 1, kw: 1, stride: [2, 2], padding: [0, 0], outputPadding: [1, 0] }],
  ['16 channels to 1 (dW accumulated transposed)', { N: 2, Cin: 16, H: 3, W: 4, Cout: 1, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], outputPadding: [1, 1] }],
];

describe('convTranspose2d vs a direct nested-loop reference', () => {
  for (const [name, c] of T_CASES) {
    for (const withBias of [true, false]) {
      it(`${name}${withBias ? '' : ', no bias'}: forward and gradients`, () => {
        const [x, xv] = t([c.N, c.Cin, c.H, c.W]);
        const [w, wv] = t([c.Cin, c.Cout, c.kh, c.kw]);
        const [b, bv] = withBias ? t([c.Cout]) : [null, null];
        const opts = { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding };
        const y = sg.convTranspose2d(x, w, b, opts);
        const [dy, dyv] = t(y.shape.slice(), false);
        const ref = refConvT(c, xv, wv, bv, dyv);
        expect(y.shape).toEqual(ref.shape);
        expect(sg.convTranspose2dOutputShape(x.shape, w.shape, opts)).toEqual(ref.shape);
        expect(relErr(y.data(), ref.y, ref.abs)).toBeLessThan(1e-5);
        y.backward({ gradient: dy });
        expect(relErr(x.grad!.data(), ref.dx, ref.dxAbs)).toBeLessThan(1e-5);
        expect(relErr(w.grad!.data(), ref.dw, ref.dwAbs)).toBeLessThan(1e-5);
        if (b) expect(relErr(b.grad!.data(), ref.db, ref.dbAbs)).toBeLessThan(1e-5);
        sg.releaseGraphs();
        sg.dispose(x, w, b, dy);
      });
    }
  }
});

describe('convTranspose2d is the adjoint of conv2d', () => {
  const cases: [string, Cfg][] = CONV_CASES.filter(([, c]) => c.padding !== 'same');
  for (const [name, c] of cases) {
    it(`<conv2d(x, W), y> == <x, convTranspose2d(y, W)>: ${name}`, () => {
      const [x, xv] = t([c.N, c.C, c.H, c.W], false);
      const [w] = t([c.F, c.C, c.kh, c.kw], false);
      const padding = c.padding as [number, number];
      const ax = sg.conv2d(x, w, null, { stride: c.stride, padding });
      const [y, yv] = t(ax.shape.slice(), false);
      // outputPadding recovers the rows/cols the conv's floor division dropped.
      const outputPadding: [number, number] = [
        (c.H + 2 * padding[0] - c.kh) % c.stride[0],
        (c.W + 2 * padding[1] - c.kw) % c.stride[1],
      ];
      const aty = sg.convTranspose2d(y, w, null, { stride: c.stride, padding, outputPadding });
      expect(aty.shape).toEqual(x.shape);
      const axv = ax.data(), atyv = aty.data();
      let lhs = 0, rhs = 0, scale = 0;
      for (let i = 0; i < axv.length; i++) { lhs += axv[i] * yv[i]; scale += Math.abs(axv[i] * yv[i]); }
      for (let i = 0; i < xv.length; i++) { rhs += xv[i] * atyv[i]; scale += Math.abs(xv[i] * atyv[i]); }
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
      sg.dispose(x, w, ax, y, aty);
    });
  }
});

describe('graph attributes (for export and pruning)', () => {
  it('conv2d records strides, padding before/after and its weight layout; opShape agrees', () => {
    const x = sg.rand([1, 2, 5, 6], 0, 1, { requiresGrad: true });
    const y = sg.conv2d(x, sg.rand([3, 2, 4, 2]), null, { padding: 'same' });
    expect(y.node?.op).toBe('conv2d');
    expect(y.node?.attrs).toEqual({ stride: [1, 1], padding: [1, 0], paddingEnd: [2, 1], weightLayout: 'OIHW', relu: false });
    expect(sg.opShape('conv2d', [[1, 2, 5, 6], [3, 2, 4, 2]], y.node!.attrs)).toEqual([1, 3, 5, 6]);
    const t = sg.convTranspose2d(x, sg.rand([2, 4, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 });
    expect(t.node?.attrs).toEqual({ stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], weightLayout: 'IOHW' });
    expect(t.shape).toEqual([1, 4, 10, 12]);
  });

  it("linear records 'linear' with its fused ReLU as an attribute", () => {
    const x = sg.rand([2, 3], 0, 1, { requiresGrad: true });
    const w = sg.rand([4, 3]);
    expect(sg.linear(x, w).node?.attrs).toEqual({ relu: false });
    const y = sg.linear(x, w, sg.rand([4]), { relu: true });
    expect(y.node?.op).toBe('linear');
    expect(y.node?.attrs).toEqual({ relu: true });
    expect(y.node?.inputs.length).toBe(3);
  });
});

describe('nn.Conv2d and nn.ConvTranspose2d', () => {
  it('Conv2d: PyTorch layout, default init range, zero bias, outputShape', () => {
    sg.manualSeed(3);
    const conv = new sg.nn.Conv2d(3, 8, [5, 3], { stride: 2, padding: [2, 1] });
    expect(conv.weight.shape).toEqual([8, 3, 5, 3]);
    expect(conv.bias!.shape).toEqual([8]);
    const bound = 1 / Math.sqrt(3 * 5 * 3);
    const wv = conv.weight.data();
    expect(Math.max(...wv.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...wv.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Array.from(conv.bias!.data())).toEqual(new Array(8).fill(0));
    expect(conv.parameters().length).toBe(2);
    expect(Object.keys(conv.stateDict())).toEqual(['weight', 'bias']);
    expect(conv.outputShape([4, 3, 11, 7])).toEqual([4, 8, 6, 4]);
    expect(conv.outputShape([3, 11, 7])).toEqual([8, 6, 4]);
    const x = sg.rand([4, 3, 11, 7]);
    const y = conv.forward(x);
    expect(y.shape).toEqual([4, 8, 6, 4]);
    expect(() => conv.outputShape([4, 2, 11, 7])).toThrow(/^conv2d: channel mismatch/);
    sg.dispose(x, y);
  });

  it("Conv2d: 'same', no bias, He init", () => {
    const conv = new sg.nn.Conv2d(2, 4, 3, { padding: 'same', bias: false, init: 'he' });
    expect(conv.bias).toBe(null);
    expect(conv.parameters().length).toBe(1);
    expect(conv.outputShape([1, 2, 9, 6])).toEqual([1, 4, 9, 6]);
    const wv = Array.from(conv.weight.data());
    const std = Math.sqrt(wv.reduce((s, v) => s + v * v, 0) / wv.length);
    expect(std).toBeGreaterThan(0.25); // He: sqrt(2/18) = 0.33 (U[-1/√18, 1/√18] would be 0.14)
  });

  it('ConvTranspose2d: layout, outputShape and forward agree, and it inverts a strided Conv2d shape', () => {
    const up = new sg.nn.ConvTranspose2d(8, 3, 4, { stride: 2, padding: 1 });
    expect(up.weight.shape).toEqual([8, 3, 4, 4]);
    expect(up.bias!.shape).toEqual([3]);
    const bound = 1 / Math.sqrt(3 * 16);
    expect(Math.max(...up.weight.data().map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(up.outputShape([2, 8, 7, 5])).toEqual([2, 3, 14, 10]);
    const x = sg.rand([2, 8, 7, 5]);
    const y = up.forward(x);
    expect(y.shape).toEqual([2, 3, 14, 10]);
    const down = new sg.nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 });
    const back = new sg.nn.ConvTranspose2d(8, 3, 3, { stride: 2, padding: 1, outputPadding: 1 });
    expect(back.outputShape(down.outputShape([1, 3, 14, 10]))).toEqual([1, 3, 14, 10]);
    sg.dispose(x, y);
  });

  it('rejects bad layer arguments', () => {
    expect(() => new sg.nn.Conv2d(0, 4, 3)).toThrow(/^Conv2d: inChannels must be a positive integer, got 0/);
    expect(() => new sg.nn.Conv2d(3, 4, 0)).toThrow(/^Conv2d: kernelSize must be a positive integer or a pair/);
    expect(() => new sg.nn.Conv2d(3, 4, 3, { stride: 2, padding: 'same' })).toThrow(/^conv2d: padding 'same' needs stride 1/);
    expect(() => new sg.nn.Conv2d(3, 4, 3, { padding: -2 })).toThrow(/^Conv2d: padding must be an integer >= 0/);
    expect(() => new sg.nn.ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 })).toThrow(/^ConvTranspose2d: outputPadding \[2,2\] must be smaller than the stride \[2,2\]/);
    expect(() => new sg.nn.ConvTranspose2d(3, 2.5, 3)).toThrow(/^ConvTranspose2d: outChannels must be a positive integer, got 2.5/);
  });

  it('a conv training step keeps live memory flat', () => {
    const conv = new sg.nn.Conv2d(2, 3, 3, { padding: 1 });
    const up = new sg.nn.ConvTranspose2d(3, 2, 2, { stride: 2 });
    const opt = new sg.optim.SGD([...conv.parameters(), ...up.parameters()], { lr: 0.01 });
    const x = sg.rand([2, 2, 6, 6]);
    const target = sg.rand([2, 2, 12, 12]);
    const step = (): number => {
      opt.zeroGrad();
      const loss = sg.mseLoss(up.forward(sg.relu(conv.forward(x))), target);
      loss.backward();
      opt.step();
      return loss.item();
    };
    expectFlatTraining(step, 20);
    sg.dispose(x, target);
  });
});
