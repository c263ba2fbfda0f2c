// ONNX export checked end to end: each exported model runs in onnxruntime (onnxruntime-web's
// wasm backend, in Node) and must give simdgrad's outputs within 1e-5 relative.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { exportOnnx } from '../../src/export/onnx';

beforeAll(() => {
  // One thread: the test machine's cores are shared, and a worker pool buys nothing here.
  ort.env.wasm.numThreads = 1;
});

type Model = { forward(x: sg.Tensor): sg.Tensor; eval(): unknown };

function randomInput(shape: number[], seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Runs the exported model in onnxruntime and simdgrad's model on the same input; returns both. */
async function both(model: Model, shape: number[], seed = 1): Promise<{ ours: Float32Array; theirs: Float32Array; bytes: Uint8Array }> {
  const bytes = exportOnnx(model, { inputShape: shape });
  const input = randomInput(shape, seed);
  model.eval();
  const ours = sg.noGrad(() => model.forward(sg.tensor(input, shape)).data() as Float32Array).slice();
  const session = await ort.InferenceSession.create(bytes);
  try {
    const r = await session.run({ input: new ort.Tensor('float32', input, shape) });
    return { ours, theirs: r.output.data as Float32Array, bytes };
  } finally {
    await session.release();
  }
}

function expectClose(theirs: Float32Array, ours: Float32Array, rel = 1e-5): void {
  expect(theirs.length).toBe(ours.length);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(theirs[i] - ours[i]) / Math.max(1, Math.abs(ours[i])));
  expect(worst).toBeLessThanOrEqual(rel);
}

/** Gives batch-norm buffers values far from their defaults, so a wrong σ/variance conversion shows. */
function perturbBatchNorm(bn: sg.nn.BatchNorm2d, seed: number): void {
  const C = bn.numFeatures;
  const r = randomInput([4 * C], seed);
  bn.runningMean.setData(Float32Array.from({ length: C }, (_, i) => r[i] * 0.5));
  bn.runningStd.setData(Float32Array.from({ length: C }, (_, i) => 0.5 + Math.abs(r[C + i]) * 2));
  bn.weight!.setData(Float32Array.from({ length: C }, (_, i) => 1 + r[2 * C + i] * 0.3));
  bn.bias!.setData(Float32Array.from({ length: C }, (_, i) => r[3 * C + i] * 0.2));
}

describe('exportOnnx: simdgrad and onnxruntime agree', () => {
  it('an MLP (Linear, ReLU, Tanh, Softmax; fused Linear+ReLU)', async () => {
    sg.manualSeed(1);
    class Classifier extends sg.nn.Module {
      readonly body = new sg.nn.Sequential(new sg.nn.Linear(6, 16), new sg.nn.ReLU(), new sg.nn.Linear(16, 8), new sg.nn.Tanh(), new sg.nn.Linear(8, 3));
      forward(x: sg.Tensor): sg.Tensor {
        return sg.softmax(this.body.forward(x));
      }
    }
    const { ours, theirs } = await both(new Classifier(), [5, 6]);
    expectClose(theirs, ours);
  });

  it('a CNN with BatchNorm (eval), max and average pooling, Flatten and Dropout', async () => {
    sg.manualSeed(2);
    const bn = new sg.nn.BatchNorm2d(4);
    const cnn = new sg.nn.Sequential(
      new sg.nn.Conv2d(2, 4, 3, { padding: 1 }), bn, new sg.nn.ReLU(), new sg.nn.MaxPool2d(2),
      new sg.nn.Conv2d(4, 6, 3, { stride: 1, padding: 'same' }), new sg.nn.AvgPool2d(2), new sg.nn.Flatten(),
      new sg.nn.Dropout(0.5), new sg.nn.Linear(6 * 2 * 2, 5),
    );
    perturbBatchNorm(bn, 7);
    cnn.train(); // exportOnnx traces in eval mode and puts the modes back
    const { ours, theirs, bytes } = await both(cnn, [3, 2, 8, 8]);
    expectClose(theirs, ours);
    expect(bytes.length).toBeGreaterThan(4 * (2 * 4 * 9 + 4 * 6 * 9 + 24 * 5));
  });

  it('the training flags are restored after export', () => {
    const m = new sg.nn.Sequential(new sg.nn.Linear(2, 2), new sg.nn.Dropout(0.1));
    m.train();
    exportOnnx(m, { inputShape: [1, 2] });
    expect(m.training).toBe(true);
  });

  it('a pruned model (zeros in the weights) exports and agrees', async () => {
    sg.manualSeed(3);
    const l1 = new sg.nn.Linear(10, 12);
    const mlp = new sg.nn.Sequential(l1, new sg.nn.ReLU(), new sg.nn.Linear(12, 4));
    const w = l1.weight.data() as Float32Array;
    const sorted = Array.from(w, Math.abs).sort((a, b) => a - b);
    const cut = sorted[Math.floor(w.length * 0.8)];
    l1.weight.setData(w.map((v) => (Math.abs(v) < cut ? 0 : v)));
    const { ours, theirs } = await both(mlp, [4, 10]);
    expectClose(theirs, ours);
  });

  it('an LSTM classifier (last output into a Linear)', async () => {
    sg.manualSeed(4);
    class Tagger extends sg.nn.Module {
      readonly lstm = new sg.nn.LSTM(3, 5);
      readonly head = new sg.nn.Linear(5, 2);
      forward(x: sg.Tensor): sg.Tensor {
        return this.head.forward(this.lstm.forward(x).last);
      }
    }
    const m = new Tagger();
    const { ours, theirs } = await both(m, [2, 4, 3]);
    expectClose(theirs, ours);
  });

  it('GRU and tanh RNN layers (all outputs)', async () => {
    sg.manualSeed(5);
    for (const make of [() => new sg.nn.GRU(3, 4), () => new sg.nn.RNN(3, 4)]) {
      class Seq extends sg.nn.Module {
        readonly rnn = make();
        forward(x: sg.Tensor): sg.Tensor {
          return this.rnn.forward(x).output;
        }
      }
      const { ours, theirs } = await both(new Seq(), [2, 5, 3], 9);
      expectClose(theirs, ours);
    }
  });

  it('refuses an op it cannot translate, naming it', () => {
    class Odd extends sg.nn.Module {
      forward(x: sg.Tensor): sg.Tensor {
        return sg.max(x, 1);
      }
    }
    expect(() => exportOnnx(new Odd(), { inputShape: [1, 2] })).toThrow(/op 'max' has no ONNX translation/);
  });

  it('validates its options', () => {
    const m = new sg.nn.Linear(2, 2);
    expect(() => exportOnnx(m, { inputShape: [] })).toThrow(/inputShape/);
    expect(() => exportOnnx(m, { inputShape: [1, 2], opset: 9 })).toThrow(/opset must be/);
  });
});
