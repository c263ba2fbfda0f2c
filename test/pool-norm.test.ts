// Pooling, batch/layer normalisation and dropout at the op and layer level: values on small
// hand-checkable inputs, the notes' running averages (§1.3.5.4) followed by hand for two
// steps, train/eval behaviour, dropout statistics and reproducibility, shape inference, the
// layers' error messages, state dicts and flat memory over a training loop. The ops' gradients,
// references and bad inputs are checked from their registry definitions (test/ops), the
// layers' gradients through test/nn/layer-table.ts.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { expectFlatTraining } from './helpers/memory';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol * Math.max(1, Math.abs(b[i])));
};

describe('pooling ops', () => {
  const x = sg.tensor([
    1, 2, 3, 4, 5,
    6, 7, 8, 9, 10,
    11, 12, 13, 14, 15,
    16, 17, 18, 19, 20,
  ], [1, 1, 4, 5]);

  it('maxPool2d: stride defaults to the kernel; padding never wins; 3-D input', () => {
    const y = sg.maxPool2d(x, 2);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data())).toEqual([7, 9, 17, 19]);
    const neg = sg.mul(x, -1);
    const p = sg.maxPool2d(neg, 3, { stride: 2, padding: 1 }); // all values < 0: a zero pad would win
    expect(p.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(p.data())).toEqual([-1, -2, -4, -6, -7, -9]);
    const y3 = sg.maxPool2d(sg.reshape(x, [1, 4, 5]), [2, 3], { stride: [2, 1] });
    expect(y3.shape).toEqual([1, 2, 3]);
    expect(Array.from(y3.data())).toEqual([8, 9, 10, 18, 19, 20]);
  });

  it('avgPool2d: countIncludePad true divides by the kernel area, false by the in-image count', () => {
    const a = sg.avgPool2d(x, 2, { stride: 2, padding: 1 });
    expect(a.shape).toEqual([1, 1, 3, 3]);
    close(a.data(), [1 / 4, (2 + 3) / 4, (4 + 5) / 4, (6 + 11) / 4, (7 + 8 + 12 + 13) / 4, (9 + 10 + 14 + 15) / 4, 16 / 4, (17 + 18) / 4, (19 + 20) / 4]);
    const b = sg.avgPool2d(x, 2, { stride: 2, padding: 1, countIncludePad: false });
    close(b.data(), [1, 2.5, 4.5, 8.5, 10, 12, 16, 17.5, 19.5]);
  });

  it('globalAvgPool2d: [N, C, H, W] -> [N, C] plane means; gradient 1/(H*W)', () => {
    const t = sg.tensor(Array.from({ length: 2 * 3 * 2 * 3 }, (_, i) => i), [2, 3, 2, 3], { requiresGrad: true });
    const y = sg.globalAvgPool2d(t);
    expect(y.shape).toEqual([2, 3]);
    close(y.data(), [2.5, 8.5, 14.5, 20.5, 26.5, 32.5]);
    sg.sum(y).backward();
    close(t.grad!.data(), new Array(36).fill(1 / 6));
    expect(sg.globalAvgPool2d(sg.zeros([3, 4, 4])).shape).toEqual([3]);
  });

  it('maxPool2d backward sends the gradient to the maximum of each window', () => {
    const t = sg.tensor([1, 5, 2, 0, 3, 4, 9, 8, 7], [1, 1, 3, 3], { requiresGrad: true });
    sg.sum(sg.maxPool2d(t, 2, { stride: 1 })).backward(); // window maxima: 5, 5, 9, 8
    expect(Array.from(t.grad!.data())).toEqual([0, 2, 0, 0, 0, 0, 1, 1, 0]);
  });
});

describe('graph attributes (for export and pruning)', () => {
  it('pooling and normalisation record their hyperparameters', () => {
    const x = sg.rand([2, 3, 6, 6], 0, 1, { requiresGrad: true });
    expect(sg.maxPool2d(x, 2).node?.attrs).toEqual({ kernel: [2, 2], stride: [2, 2], padding: [0, 0] });
    expect(sg.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }).node?.attrs)
      .toEqual({ kernel: [3, 3], stride: [1, 1], padding: [1, 1], countIncludePad: false });
    const rm = sg.zeros([3]), rs = sg.ones([3]);
    const bn = sg.batchNorm(x, null, null, rm, rs, { training: true });
    expect(bn.node?.attrs).toEqual({ training: true, momentum: 0.9, eps: 1e-5, relu: false });
    // The running statistics are inputs of the node (as ONNX's BatchNormalization has them).
    expect(bn.node?.inputs).toEqual([x, rm, rs]);
    expect(sg.layerNorm(x, null, null, 1e-3, [6, 6]).node?.attrs).toEqual({ normalizedShape: [6, 6], eps: 1e-3 });
  });
});

describe('pooling layers and Flatten', () => {
  it('outputShape matches forward', () => {
    const x = sg.rand([2, 3, 9, 7]);
    const layers: (sg.nn.Module & { outputShape(s: readonly number[]): number[] })[] = [
      new sg.nn.MaxPool2d(2), new sg.nn.MaxPool2d(3, { stride: 1, padding: 1 }), new sg.nn.AvgPool2d([3, 2], { stride: [2, 1] }),
      new sg.nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), new sg.nn.GlobalAvgPool2d(), new sg.nn.Flatten(), new sg.nn.Flatten(2),
    ];
    for (const l of layers) expect(l.forward(x).shape).toEqual(l.outputShape(x.shape));
    expect(new sg.nn.MaxPool2d(2).outputShape([8, 3, 28, 28])).toEqual([8, 3, 14, 14]);
    expect(new sg.nn.MaxPool2d(2).outputShape([3, 28, 28])).toEqual([3, 14, 14]);
    expect(new sg.nn.Flatten().outputShape([8, 16, 7, 7])).toEqual([8, 784]);
    expect(new sg.nn.GlobalAvgPool2d().outputShape([8, 16, 7, 7])).toEqual([8, 16]);
  });

  it('layers have no parameters and reject bad arguments', () => {
    expect(new sg.nn.MaxPool2d(2).parameters()).toEqual([]);
    expect(() => new sg.nn.MaxPool2d(2, { padding: 2 })).toThrow('MaxPool2d: padding [2,2] must be at most half the kernel 2x2');
    expect(() => new sg.nn.AvgPool2d(-1)).toThrow(/^AvgPool2d: kernel size must be a positive integer/);
    expect(() => new sg.nn.MaxPool2d(3).outputShape([1, 1, 2, 2])).toThrow('MaxPool2d: kernel 3x3 is larger than the padded input 2x2 (input [1,1,2,2], padding [0,0])');
    expect(() => new sg.nn.GlobalAvgPool2d().outputShape([5])).toThrow(/GlobalAvgPool2d: input must be 4-D/);
    expect(() => new sg.nn.Flatten(4).outputShape([1, 2, 3])).toThrow('Flatten: startDim 4 is out of range for input [1,2,3]');
  });
});

// ---- batch norm -------------------------------------------------------------------------------

/** Per-channel mean and biased std of x [N, C, S...] in f64. */
function channelStats(values: ArrayLike<number>, N: number, C: number, S: number): { mu: number[]; sigma: number[] } {
  const mu: number[] = [], sigma: number[] = [];
  for (let c = 0; c < C; c++) {
    const v: number[] = [];
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) v.push(values[(n * C + c) * S + s]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mu.push(m);
    sigma.push(Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length));
  }
  return { mu, sigma };
}

describe('batchNorm', () => {
  it('training normalises each channel with the batch statistics, then γ â + β', () => {
    sg.manualSeed(3);
    const x = sg.randn([6, 3, 2, 2], 2, 3);
    const gamma = sg.tensor([1, 2, 0.5]);
    const beta = sg.tensor([0, -1, 3]);
    const y = sg.batchNorm(x, gamma, beta, null, null, { training: true });
    const { mu, sigma } = channelStats(x.data(), 6, 3, 4);
    const yd = y.data(), xd = x.data();
    const expected = Array.from(xd, (v, i) => {
      const c = Math.floor(i / 4) % 3;
      return [1, 2, 0.5][c] * (v - mu[c]) / Math.sqrt(sigma[c] ** 2 + 1e-5) + [0, -1, 3][c];
    });
    close(yd, expected, 1e-5);
  });

  it("running averages follow the notes for two steps: μ̄ = αμ̄ + (1-α)μ, σ̄ = ασ̄ + (1-α)σ", () => {
    for (const alpha of [0.9, 0.5]) {
      const rm = sg.zeros([2]);
      const rs = sg.ones([2]);
      const batches = [
        [1, 10, 2, 20, 3, 30, 6, 40], // [4, 2]: channel 0 = 1,2,3,6; channel 1 = 10,20,30,40
        [-1, 5, 0, 5, 4, 7, 1, -3],
      ];
      let mBar = [0, 0], sBar = [1, 1];
      for (const b of batches) {
        sg.batchNorm(sg.tensor(b, [4, 2]), null, null, rm, rs, { training: true, momentum: alpha });
        const { mu, sigma } = channelStats(b, 4, 2, 1);
        mBar = mBar.map((v, c) => alpha * v + (1 - alpha) * mu[c]);
        sBar = sBar.map((v, c) => alpha * v + (1 - alpha) * sigma[c]);
        close(rm.data(), mBar, 1e-6);
        close(rs.data(), sBar, 1e-6);
      }
    }
    // By hand, α = 0.9, step 1: μ = (3, 25), σ = (√3.5, √125) -> μ̄ = (0.3, 2.5), σ̄ = 0.9 + 0.1σ.
    const rm = sg.zeros([2]);
    const rs = sg.ones([2]);
    sg.batchNorm(sg.tensor([1, 10, 2, 20, 3, 30, 6, 40], [4, 2]), null, null, rm, rs, { training: true });
    close(rm.data(), [0.3, 2.5], 1e-6);
    close(rs.data(), [0.9 + 0.1 * Math.sqrt(3.5), 0.9 + 0.1 * Math.sqrt(125)], 1e-6);
  });

  it('evaluation normalises with μ̄ and sqrt(σ̄² + δ) and leaves the running averages alone', () => {
    const rm = sg.tensor([0.5, -1]);
    const rs = sg.tensor([2, 0.25]);
    const x = sg.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const y = sg.batchNorm(x, sg.tensor([2, 1]), sg.tensor([0, 1]), rm, rs, { eps: 1e-3 });
    const exp = Array.from(x.data(), (v, i) => {
      const c = Math.floor(i / 2) % 2;
      return [2, 1][c] * (v - [0.5, -1][c]) / Math.sqrt([2, 0.25][c] ** 2 + 1e-3) + [0, 1][c];
    });
    close(y.data(), exp, 1e-6);
    expect(Array.from(rm.data())).toEqual([0.5, -1]);
    expect(Array.from(rs.data())).toEqual([2, 0.25]);
  });
});

describe('BatchNorm1d / BatchNorm2d layers', () => {
  it('parameters γ (weight) and β (bias); running statistics are buffers in the state dict', () => {
    const bn = new sg.nn.BatchNorm2d(4);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'runningMean', 'runningStd']);
    expect(Array.from(bn.runningMean.data())).toEqual([0, 0, 0, 0]);
    expect(Array.from(bn.runningStd.data())).toEqual([1, 1, 1, 1]);
    expect(bn.gamma).toBe(bn.weight);
    const plain = new sg.nn.BatchNorm1d(3, { affine: false });
    expect(plain.parameters()).toEqual([]);
    expect(Object.keys(plain.stateDict())).toEqual(['runningMean', 'runningStd']);
  });

  it('train() uses batch statistics and updates μ̄, σ̄; eval() uses them and is a fixed affine map', () => {
    sg.manualSeed(9);
    const bn = new sg.nn.BatchNorm1d(3, { momentum: 0.5 });
    const x = sg.randn([8, 3], 4, 2);
    const y = bn.forward(x);
    const { mu, sigma } = channelStats(x.data(), 8, 3, 1);
    close(bn.runningMean.data(), mu.map((m) => 0.5 * m), 1e-5);
    close(bn.runningStd.data(), sigma.map((s) => 0.5 + 0.5 * s), 1e-5);
    // training output: each channel has mean 0 and (biased) std ≈ 1
    const ys = channelStats(y.data(), 8, 3, 1);
    close(ys.mu, [0, 0, 0], 1e-5);
    close(ys.sigma, [1, 1, 1], 1e-4);
    bn.eval();
    const before = bn.runningMean.data();
    const e1 = bn.forward(sg.tensor([[1, 2, 3]])); // batch of 1 is fine in eval
    const rm = bn.runningMean.data(), rs = bn.runningStd.data();
    close(e1.data(), [0, 1, 2].map((c) => ([1, 2, 3][c] - rm[c]) / Math.sqrt(rs[c] ** 2 + 1e-5)), 1e-5);
    expect(bn.runningMean.data()).toEqual(before);
    // a state dict round trip carries the running statistics
    const copy = new sg.nn.BatchNorm1d(3).eval();
    copy.loadStateDict(bn.stateDict());
    close(copy.forward(sg.tensor([[1, 2, 3]])).data(), e1.data(), 1e-7);
  });

  it('BatchNorm2d averages over N, H and W; BatchNorm1d accepts [N, C, L]', () => {
    sg.manualSeed(4);
    const bn = new sg.nn.BatchNorm2d(2, { momentum: 0 }); // α = 0: running = last batch
    const x = sg.randn([3, 2, 4, 5], 1, 2);
    bn.forward(x);
    const { mu, sigma } = channelStats(x.data(), 3, 2, 20);
    close(bn.runningMean.data(), mu, 1e-5);
    close(bn.runningStd.data(), sigma, 1e-5);
    expect(new sg.nn.BatchNorm1d(2).forward(sg.rand([3, 2, 5])).shape).toEqual([3, 2, 5]);
  });

  it('rejects bad inputs with the layer name', () => {
    expect(() => new sg.nn.BatchNorm2d(3).forward(sg.zeros([2, 4, 5, 5]))).toThrow('BatchNorm2d: channel mismatch: input [2,4,5,5] has 4 channels on axis 1, the layer has 3');
    expect(() => new sg.nn.BatchNorm2d(3).forward(sg.zeros([2, 3]))).toThrow('BatchNorm2d: input must be 4-D [N, C, H, W], got [2,3]');
    expect(() => new sg.nn.BatchNorm1d(3).forward(sg.zeros([2, 3, 4, 4]))).toThrow('BatchNorm1d: input must be [N, C] or [N, C, L], got [2,3,4,4]');
    expect(() => new sg.nn.BatchNorm1d(0)).toThrow('BatchNorm1d: numFeatures must be a positive integer, got 0');
    expect(() => new sg.nn.BatchNorm1d(3, { momentum: -0.1 })).toThrow('BatchNorm1d: momentum must be in [0, 1], got -0.1');
    expect(new sg.nn.BatchNorm2d(3).outputShape([5, 3, 7, 7])).toEqual([5, 3, 7, 7]);
    expect(() => new sg.nn.BatchNorm2d(3).outputShape([5, 2, 7, 7])).toThrow(/BatchNorm2d: channel mismatch/);
  });
});

// ---- layer norm -------------------------------------------------------------------------------

describe('layerNorm', () => {
  it('normalises each example over its trailing dims, then γ â + β per unit', () => {
    sg.manualSeed(12);
    const x = sg.randn([3, 2, 4], 5, 2);
    const gamma = sg.rand([2, 4], 0.5, 1.5);
    const beta = sg.rand([2, 4], -1, 1);
    for (const [g, b, cols] of [[gamma, beta, 8], [null, null, 4]] as const) {
      const y = sg.layerNorm(x, g, b);
      const xd = x.data(), yd = y.data(), gd = g?.data(), bd = b?.data();
      const exp: number[] = [];
      for (let r = 0; r < xd.length / cols; r++) {
        const v = Array.from(xd.subarray(r * cols, (r + 1) * cols));
        const m = v.reduce((s, t) => s + t, 0) / cols;
        const s2 = v.reduce((s, t) => s + (t - m) ** 2, 0) / cols;
        v.forEach((t, i) => exp.push((gd ? gd[i] : 1) * (t - m) / Math.sqrt(s2 + 1e-5) + (bd ? bd[i] : 0)));
      }
      close(yd, exp, 1e-5);
    }
  });

  it('LayerNorm layer: parameters of the normalized shape, outputShape, errors', () => {
    const ln = new sg.nn.LayerNorm([2, 3]);
    expect(ln.namedParameters().map(([n, t]) => `${n}${JSON.stringify(t.shape)}`)).toEqual(['weight[2,3]', 'bias[2,3]']);
    expect(ln.forward(sg.rand([4, 2, 3])).shape).toEqual([4, 2, 3]);
    expect(ln.outputShape([7, 2, 3])).toEqual([7, 2, 3]);
    expect(() => ln.forward(sg.rand([4, 3, 2]))).toThrow('LayerNorm: input [4,3,2] does not end in the normalized shape [2,3]');
    expect(new sg.nn.LayerNorm(5, { elementwiseAffine: false }).parameters()).toEqual([]);
    expect(() => new sg.nn.LayerNorm(0)).toThrow(/^LayerNorm: normalizedShape must be a positive integer/);
  });
});

// ---- dropout ------------------------------------------------------------------------------------

describe('dropout', () => {
  it('drops a fraction ≈ p and scales the survivors by 1/(1-p)', () => {
    const n = 100_000;
    const x = sg.full([n], 2);
    for (const p of [0.2, 0.5, 0.75]) {
      const d = sg.dropout(x, p).data();
      const kept = Math.fround(2 * Math.fround(1 / Math.fround(1 - p)));
      let zeros = 0, other = 0;
      for (const v of d) {
        if (v === 0) zeros++;
        else if (v !== kept) other++;
      }
      expect(other).toBe(0);
      expect(Math.abs(zeros / n - p)).toBeLessThan(0.01);
    }
  });

  it('the same manualSeed gives the same masks; another seed or the next call a different one', () => {
    const x = sg.rand([64, 33]);
    sg.manualSeed(5);
    const a1 = sg.dropout(x, 0.5).data();
    const a2 = sg.dropout(x, 0.5).data();
    sg.manualSeed(5);
    expect(sg.dropout(x, 0.5).data()).toEqual(a1);
    expect(sg.dropout(x, 0.5).data()).toEqual(a2);
    expect(a2).not.toEqual(a1);
    sg.manualSeed(6);
    expect(sg.dropout(x, 0.5).data()).not.toEqual(a1);
  });

  it('identity in evaluation and for p = 0; Dropout follows train()/eval()', () => {
    const x = sg.rand([4, 5]);
    expect(sg.dropout(x, 0.5, false)).toBe(x);
    expect(sg.dropout(x, 0)).toBe(x);
    const layer = new sg.nn.Dropout(0.5);
    expect(layer.forward(x)).not.toBe(x);
    layer.eval();
    expect(layer.forward(x)).toBe(x);
    expect(layer.outputShape([4, 5])).toEqual([4, 5]);
  });

  it('backward multiplies by the same mask', () => {
    const x = sg.rand([6, 7], 1, 2, { requiresGrad: true });
    const y = sg.dropout(x, 0.3);
    sg.sum(y).backward();
    const yd = y.data(), gd = x.grad!.data();
    for (let i = 0; i < yd.length; i++) expect(gd[i] === 0).toBe(yd[i] === 0);
    for (let i = 0; i < yd.length; i++) if (gd[i] !== 0) expect(gd[i]).toBe(Math.fround(1 / Math.fround(0.7)));
  });

  it('rejects p outside [0, 1)', () => {
    const x = sg.rand([3]);
    expect(() => sg.dropout(x, 1)).toThrow('dropout: p must be a number in [0, 1), got 1');
    expect(() => sg.dropout(x, -0.1)).toThrow('dropout: p must be a number in [0, 1), got -0.1');
    expect(() => sg.dropout(x, Number.NaN)).toThrow('dropout: p must be a number in [0, 1), got NaN');
    expect(() => new sg.nn.Dropout(1.5)).toThrow('Dropout: p must be a number in [0, 1), got 1.5');
  });
});

// ---- a small conv net ---------------------------------------------------------------------------

describe('conv net with pooling, batch norm and dropout', () => {
  it('trains (loss falls) and keeps live memory flat', () => {
    sg.manualSeed(21);
    const model = new sg.nn.Sequential(
      new sg.nn.Conv2d(1, 4, 3, { padding: 1, init: 'he' }), new sg.nn.BatchNorm2d(4), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Conv2d(4, 4, 3, { padding: 1 }), new sg.nn.ReLU(), new sg.nn.GlobalAvgPool2d(),
      new sg.nn.Dropout(0.1), new sg.nn.LayerNorm(4), new sg.nn.Linear(4, 2),
    );
    const x = sg.randn([8, 1, 6, 6]);
    const labels = sg.tensor([0, 1, 0, 1, 0, 1, 0, 1], { dtype: 'int32' });
    // class 1 images are brighter
    const xd = x.data();
    for (let n = 1; n < 8; n += 2) for (let i = 0; i < 36; i++) xd[n * 36 + i] += 1.5;
    const xs = sg.tensor(xd, [8, 1, 6, 6]);
    const opt = new sg.optim.Adam(model.parameters(), { lr: 0.02 });
    const step = (): number => {
      opt.zeroGrad();
      const loss = sg.crossEntropy(model.forward(xs), labels);
      loss.backward();
      opt.step();
      return loss.item();
    };
    expectFlatTraining(step, 40);
    model.eval();
    const pred = sg.argmax(sg.noGrad(() => model.forward(xs)), 1).data();
    expect(Array.from(pred)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });
});
