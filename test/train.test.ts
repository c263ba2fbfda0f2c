// The training toolkit: learning-rate schedules (notes §1.3.5.3) by hand, gradient clipping,
// metrics, fit/evaluate/predict with early stopping (notes §1.5.1.7), flat memory, and
// save -> load round trips.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

/** XOR-like 2-class problem: label 1 when x0·x1 > 0 (not linearly separable). */
function quadrants(n: number, seed: number): sg.Dataset {
  const g = new sg.Generator(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = g.uniform() * 2 - 1;
    const b = g.uniform() * 2 - 1;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a * b > 0 ? 1 : 0;
  }
  return new sg.Dataset(x, [2], y);
}

function mlp(hidden = 16, classes = 2): sg.nn.Sequential {
  return new sg.nn.Sequential(new sg.nn.Linear(2, hidden, { init: 'he' }), new sg.nn.ReLU(), new sg.nn.Linear(hidden, classes));
}

describe('learning-rate schedules: the notes\' formulas at several τ', () => {
  it('linear: (1 − τ/K)η0 + (τ/K)ηK, then fixed at ηK', () => {
    const s = new sg.LinearLR({ lr0: 0.1, lrK: 0.01, K: 10 });
    expect(s.lr(0)).toBeCloseTo(0.1, 12);
    expect(s.lr(5)).toBeCloseTo(0.5 * 0.1 + 0.5 * 0.01, 12);
    expect(s.lr(2)).toBeCloseTo(0.8 * 0.1 + 0.2 * 0.01, 12);
    expect(s.lr(10)).toBeCloseTo(0.01, 12);
    expect(s.lr(25)).toBe(0.01);
  });
  it('power law: η0 (1 + τ/s)^c', () => {
    const s = new sg.PowerLR({ lr0: 0.2, s: 4, c: -0.5 });
    expect(s.lr(0)).toBeCloseTo(0.2, 12);
    expect(s.lr(4)).toBeCloseTo(0.2 / Math.sqrt(2), 12);
    expect(s.lr(12)).toBeCloseTo(0.2 * 0.5, 12);
    expect(new sg.PowerLR({ lr0: 1, s: 1 }).lr(3)).toBeCloseTo(0.5, 12); // default c = -0.5
    expect(new sg.PowerLR({ lr0: 1, s: 2, c: -1 }).lr(6)).toBeCloseTo(0.25, 12);
  });
  it('exponential: η0 c^(τ/s)', () => {
    const s = new sg.ExponentialLR({ lr0: 0.5, c: 0.96, s: 10 });
    expect(s.lr(0)).toBeCloseTo(0.5, 12);
    expect(s.lr(10)).toBeCloseTo(0.5 * 0.96, 12);
    expect(s.lr(25)).toBeCloseTo(0.5 * Math.pow(0.96, 2.5), 12);
    expect(new sg.ExponentialLR({ lr0: 1, c: 0.5 }).lr(3)).toBeCloseTo(0.125, 12);
  });
  it('step decay: η0 γ^⌊τ/stepSize⌋', () => {
    const s = new sg.StepLR({ lr0: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6, 9].map((t) => s.lr(t))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
  });
  it('cosine annealing: ηmin + ½(η0 − ηmin)(1 + cos(πτ/T)), then ηmin', () => {
    const s = new sg.CosineAnnealingLR({ lr0: 1, lrMin: 0.1, T: 8 });
    expect(s.lr(0)).toBeCloseTo(1, 12);
    expect(s.lr(4)).toBeCloseTo(0.55, 12);
    expect(s.lr(2)).toBeCloseTo(0.1 + 0.45 * (1 + Math.SQRT1_2), 12);
    expect(s.lr(8)).toBeCloseTo(0.1, 12);
    expect(s.lr(100)).toBe(0.1);
  });
  it('reject bad parameters and τ', () => {
    expect(() => new sg.LinearLR({ lr0: 0.1, lrK: 0.01, K: 0 })).toThrow(/LinearLR: K must be a finite number > 0, got 0/);
    expect(() => new sg.PowerLR({ lr0: -1, s: 1 })).toThrow(/PowerLR: lr0 must be a finite number >= 0/);
    expect(() => new sg.ExponentialLR({ lr0: 1, c: 0.9 }).lr(-1)).toThrow(/ExponentialLR.lr: tau must be a finite number >= 0, got -1/);
  });
});

describe('gradient clipping (kernels)', () => {
  const withGrads = (grads: number[][]): sg.Tensor[] => grads.map((g) => {
    const p = sg.zeros([g.length], { requiresGrad: true });
    p.grad = sg.tensor(g);
    return p;
  });

  it('clipGradNorm scales all gradients together to the max norm and returns the norm before', () => {
    const ps = withGrads([[3, 0], [0, 4, 0]]); // global norm 5
    const n = sg.clipGradNorm(ps, 1);
    expect(n).toBeCloseTo(5, 5);
    const c = 1 / (5 + 1e-6);
    expect(Array.from(ps[0].grad!.data())).toEqual([3 * c, 0].map(Math.fround));
    expect(ps[1].grad!.data()[1]).toBeCloseTo(0.8, 6);
    // Below the limit: unchanged.
    const qs = withGrads([[0.3, 0.4]]);
    expect(sg.clipGradNorm(qs, 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(qs[0].grad!.data())).toEqual([0.3, 0.4].map(Math.fround));
    // Parameters without gradients (frozen) are skipped.
    const frozen = sg.zeros([2]);
    expect(sg.clipGradNorm([...withGrads([[6, 8]]), frozen], 100)).toBeCloseTo(10, 5);
    sg.dispose(ps, qs, frozen);
  });

  it('clipGradNorm over a long gradient matches a float64 reference', () => {
    const g = Array.from({ length: 1003 }, (_, i) => Math.sin(i) * (i % 7));
    const ps = withGrads([g]);
    const ref = Math.sqrt(g.reduce((s, v) => s + Math.fround(v) ** 2, 0));
    expect(sg.clipGradNorm(ps, 2)).toBeCloseTo(ref, 2);
    const after = Array.from(ps[0].grad!.data());
    expect(Math.sqrt(after.reduce((s, v) => s + v * v, 0))).toBeCloseTo(2, 4);
    sg.dispose(ps);
  });

  it('clipGradValue clamps every value into [−c, c]', () => {
    const ps = withGrads([[-3, -0.5, 0, 0.25, 2, 7]]);
    sg.clipGradValue(ps, 1);
    expect(Array.from(ps[0].grad!.data())).toEqual([-1, -0.5, 0, 0.25, 1, 1]);
    expect(() => sg.clipGradValue(ps, -1)).toThrow(/clipValue must be a finite number >= 0/);
    expect(() => sg.clipGradNorm(ps, 0)).toThrow(/maxNorm must be a finite number > 0, got 0/);
    sg.dispose(ps);
  });
});

describe('metrics', () => {
  const out = sg.tensor([
    [0.1, 0.7, 0.2], // pred 1
    [0.5, 0.3, 0.2], // pred 0
    [0.2, 0.3, 0.5], // pred 2
    [0.6, 0.1, 0.3], // pred 0
  ]);
  const labels = sg.tensor([1, 2, 2, 1], { dtype: 'int32' });

  it('accuracy (labels and one-hot), binary accuracy with a threshold', () => {
    expect(sg.accuracy(out, labels)).toBe(0.5);
    const onehot = sg.tensor([[0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]]);
    expect(sg.accuracy(out, onehot)).toBe(0.5);
    const probs = sg.tensor([0.9, 0.2, 0.6, 0.4]);
    const y = sg.tensor([1, 0, 0, 0]);
    expect(sg.accuracy(probs, y)).toBe(0.75);
    const logits = sg.tensor([[2], [-1], [-0.5], [0.3]]);
    expect(sg.accuracy(logits, sg.tensor([1, 0, 0, 1]), 0)).toBe(1);
    expect(() => sg.accuracy(out, sg.tensor([1, 2], { dtype: 'int32' }))).toThrow(/need the same number of rows/);
  });

  it('top-k accuracy', () => {
    // Ranks of the true class: row0 1st, row1 3rd, row2 1st, row3 3rd.
    expect(sg.topKAccuracy(out, labels, 1)).toBe(0.5);
    expect(sg.topKAccuracy(out, labels, 2)).toBe(0.5);
    expect(sg.topKAccuracy(out, labels, 3)).toBe(1);
    expect(() => sg.topKAccuracy(out, labels, 0)).toThrow(/k must be an integer >= 1/);
  });

  it('confusion matrix M[true][predicted], by hand', () => {
    expect(sg.confusionMatrix(out, labels, 3)).toEqual([
      [0, 0, 0],
      [1, 1, 0],
      [1, 0, 1],
    ]);
    const preds = sg.tensor([0, 0, 1, 2, 2], { dtype: 'int32' });
    const truth = sg.tensor([0, 1, 1, 2, 0], { dtype: 'int32' });
    expect(sg.confusionMatrix(preds, truth, 3)).toEqual([[1, 0, 1], [1, 1, 0], [0, 0, 1]]);
    expect(() => sg.confusionMatrix(preds, sg.tensor([0, 1, 1, 2, 5], { dtype: 'int32' }), 3)).toThrow(/class 5 at row 4 is out of range \[0, 3\)/);
  });
});

describe('fit, evaluate, predict', () => {
  it('a tiny MLP learns a 2-class nonlinear problem; history, metrics and val_ series', () => {
    sg.manualSeed(1);
    const split = sg.splitTrainValTest(quadrants(600, 1), { train: 0.8, val: 0.2 }, 2);
    const model = mlp();
    const optimizer = new sg.optim.Adam(model.parameters(), { lr: 0.02 });
    const h = sg.fit(model, split.train, {
      epochs: 30, optimizer, loss: 'crossEntropy', batchSize: 32, validationData: split.val, metrics: ['accuracy', 'topK:1'],
    });
    expect(h.epochs).toBe(30);
    expect(h.loss).toHaveLength(30);
    expect(h.val_accuracy).toHaveLength(30);
    expect(h['topK:1']).toEqual(h.accuracy);
    expect(h.lr.every((v) => v === 0.02)).toBe(true);
    expect(h.loss[29]).toBeLessThan(h.loss[0] / 3);
    expect(h.accuracy[29]).toBeGreaterThan(0.93);
    expect(h.val_accuracy[29]).toBeGreaterThan(0.93);
    expect(h.stoppedEpoch).toBeNull();
    expect(h.bestEpoch).not.toBeNull();
    // evaluate agrees with a hand computation over the whole set.
    const ev = sg.evaluate(model, split.val, { loss: 'crossEntropy', metrics: ['accuracy'] });
    expect(ev.accuracy).toBeCloseTo(h.val_accuracy[29], 10);
    const x = split.val.xTensor();
    const y = split.val.yTensor();
    const logits = sg.predict(model, x);
    expect(logits.shape).toEqual([120, 2]);
    expect(sg.accuracy(logits, y)).toBeCloseTo(ev.accuracy, 10);
    const ce = sg.noGrad(() => sg.crossEntropy(logits, y));
    expect(ev.loss).toBeCloseTo(ce.item(), 5);
    // Batched predict gives the same outputs; so does a Dataset.
    const batched = sg.predict(model, x, { batchSize: 7 });
    expect(Array.from(batched.data())).toEqual(Array.from(logits.data()));
    const fromDs = sg.predict(model, split.val, { batchSize: 50 });
    expect(Array.from(fromDs.data())).toEqual(Array.from(logits.data()));
    expect(model.training).toBe(true);
    sg.dispose(x, y, logits, ce, batched, fromDs);
  });

  it('flat memory across epochs (training, validation, metrics, schedule, clipping)', () => {
    sg.manualSeed(2);
    const data = quadrants(200, 3);
    const val = quadrants(50, 4);
    const model = mlp(8);
    const optimizer = new sg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const mem: ReturnType<typeof sg.memory>[] = [];
    sg.fit(model, data, {
      epochs: 6, optimizer, loss: 'crossEntropy', batchSize: 24, validationData: val, metrics: ['accuracy'],
      schedule: new sg.CosineAnnealingLR({ lr0: 0.1, T: 6 }), clipGradNorm: 1,
      callbacks: { onEpochEnd: () => { mem.push(sg.memory()); } },
    });
    for (let e = 2; e < 6; e++) {
      expect(mem[e].tensors).toBe(mem[1].tensors);
      expect(mem[e].bytes).toBe(mem[1].bytes);
    }
    // What stays is the model, its gradients and the optimizer state: no data, no graph.
    const grads = model.parameters().filter((p) => p.grad !== null).length;
    expect(grads).toBe(4);
  });

  it('early stopping stops at the right epoch of a scripted validation curve and restores the best weights', () => {
    const curve = [1.0, 0.8, 0.6, 0.65, 0.62, 0.7, 0.5, 0.4];
    const run = (restore: boolean, patience: number, minDelta = 0): { h: sg.History; weights: number[][]; final: number[] } => {
      sg.manualSeed(5);
      const model = mlp(4);
      let valCalls = 0;
      // Training uses the real loss; validation (under noGrad) reads the script.
      const loss = (o: sg.Tensor, t: sg.Tensor): sg.Tensor => (sg.isGradEnabled() ? sg.crossEntropy(o, t) : sg.tensor(curve[valCalls++]));
      const weights: number[][] = [];
      const h = sg.fit(model, quadrants(64, 6), {
        epochs: curve.length, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), loss, batchSize: 16,
        validationData: new sg.DataLoader(quadrants(20, 7), { batchSize: 20 }), earlyStopping: { monitor: 'val_loss', patience, minDelta, restoreBestWeights: restore },
        callbacks: { onEpochEnd: () => { weights.push(Array.from(model.parameters()[0].data())); } },
      });
      return { h, weights, final: Array.from(model.parameters()[0].data()) };
    };
    // Best 0.6 at epoch 3; epochs 4 and 5 do not improve: patience 2 stops after epoch 5.
    const a = run(true, 2);
    expect(a.h.val_loss).toEqual([1.0, 0.8, 0.6, 0.65, 0.62].map(Math.fround));
    expect(a.h.stoppedEpoch).toBe(5);
    expect(a.h.bestEpoch).toBe(3);
    expect(a.h.epochs).toBe(5);
    expect(a.final).toEqual(a.weights[2]);
    expect(a.weights[4]).not.toEqual(a.weights[2]);
    // Without restoring, the last weights stay.
    const b = run(false, 2);
    expect(b.h.stoppedEpoch).toBe(5);
    expect(b.final).toEqual(b.weights[4]);
    // Patience 3 stops after epoch 6 (4, 5, 6 without improvement); patience 4 survives the
    // bump and runs to the end, where 0.4 is best.
    expect(run(true, 3).h.stoppedEpoch).toBe(6);
    const c = run(true, 4);
    expect(c.h.stoppedEpoch).toBeNull();
    expect(c.h.bestEpoch).toBe(8);
    expect(c.final).toEqual(c.weights[7]);
    // Patience 0 (as 1) stops at the first epoch without improvement.
    expect(run(false, 0).h.stoppedEpoch).toBe(4);
    // minDelta 0.15: 0.8 and 0.6 count (steps of 0.2), 0.65 .. 0.5 do not, 0.4 does (0.2 below 0.6).
    const d = run(true, 5, 0.15);
    expect(d.h.bestEpoch).toBe(8);
    expect(d.h.stoppedEpoch).toBeNull();
    expect(run(true, 4, 0.15).h.stoppedEpoch).toBe(7); // 4 epochs without a 0.15 gain after epoch 3
    // minDelta 0.45: nothing improves on epoch 1 by that much within patience 2.
    const e = run(true, 2, 0.45);
    expect(e.h.bestEpoch).toBe(1);
    expect(e.h.stoppedEpoch).toBe(3);
    expect(e.final).toEqual(e.weights[0]);
  });

  it('early stopping on a maximised metric (val_accuracy style)', () => {
    sg.manualSeed(6);
    const model = mlp(4);
    const script = [0.5, 0.7, 0.69, 0.71, 0.65, 0.6];
    let i = 0;
    const score: sg.Metric = { name: 'score', batch: () => (model.training ? { sum: 0, count: 1 } : { sum: script[i++], count: 1 }) };
    const h = sg.fit(model, quadrants(32, 1), {
      epochs: 6, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', batchSize: 32,
      validationData: quadrants(10, 2), metrics: [score], earlyStopping: { monitor: 'val_score', patience: 2 },
    });
    expect(h.val_score).toEqual([0.5, 0.7, 0.69, 0.71, 0.65, 0.6]);
    expect(h.bestEpoch).toBe(4);
    expect(h.stoppedEpoch).toBeNull();
    expect(() => sg.fit(model, quadrants(8, 1), {
      epochs: 1, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', earlyStopping: { monitor: 'val_accuracy' },
    })).toThrow(/earlyStopping monitors 'val_accuracy', which this run does not measure.*pass validationData/);
  });

  it('schedules per epoch and per step set optimizer.lr; history records it', () => {
    sg.manualSeed(7);
    const model = mlp(4);
    const optimizer = new sg.optim.SGD(model.parameters(), { lr: 1 });
    const perEpoch = sg.fit(model, quadrants(40, 1), { epochs: 4, optimizer, loss: 'crossEntropy', batchSize: 10, schedule: new sg.StepLR({ lr0: 0.1, stepSize: 2, gamma: 0.5 }) });
    expect(perEpoch.lr).toEqual([0.1, 0.1, 0.05, 0.05]);
    const seen: number[] = [];
    const sched = new sg.ExponentialLR({ lr0: 0.1, c: 0.5, s: 4 });
    const perStep = sg.fit(model, quadrants(40, 1), {
      epochs: 2, optimizer, loss: 'crossEntropy', batchSize: 10, schedule: sched, scheduleEvery: 'step',
      callbacks: { onBatchEnd: (_b, logs) => { seen.push(logs.lr); } },
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((t) => sched.lr(t)));
    expect(perStep.lr).toEqual([sched.lr(3), sched.lr(7)]);
    // A plain function works too.
    const fn = sg.fit(model, quadrants(20, 1), { epochs: 2, optimizer, loss: 'crossEntropy', schedule: (t) => 0.01 * (t + 1) });
    expect(fn.lr).toEqual([0.01, 0.02]);
  });

  it('clipping inside fit bounds the gradients the optimizer sees', () => {
    sg.manualSeed(8);
    const model = mlp(8);
    const optimizer = new sg.optim.SGD(model.parameters(), { lr: 0.1 });
    const norms: number[] = [];
    const maxAbs: number[] = [];
    sg.fit(model, quadrants(64, 2), {
      epochs: 1, optimizer, loss: (o, t) => sg.mul(sg.crossEntropy(o, t), 100), batchSize: 16, clipGradValue: 0.05, clipGradNorm: 0.1,
      callbacks: {
        onBatchEnd: () => {
          let sq = 0;
          let m = 0;
          for (const p of model.parameters()) for (const v of p.grad!.data()) { sq += v * v; m = Math.max(m, Math.abs(v)); }
          norms.push(Math.sqrt(sq));
          maxAbs.push(m);
        },
      },
    });
    expect(norms).toHaveLength(4);
    for (const n of norms) expect(n).toBeLessThanOrEqual(0.1 + 1e-5);
    for (const m of maxAbs) expect(m).toBeLessThanOrEqual(0.05);
  });

  it('callbacks: control.stop(), onTrainEnd, verbose lines on a non-terminal stream', () => {
    sg.manualSeed(9);
    const model = mlp(4);
    const proc = (globalThis as { process?: { stdout?: { write: (s: string) => boolean; isTTY?: boolean } } }).process!;
    const write = proc.stdout!.write;
    const lines: string[] = [];
    proc.stdout!.write = ((s: string) => { lines.push(s); return true; }) as typeof write;
    let ended: sg.History | null = null;
    let h: sg.History;
    try {
      h = sg.fit(model, quadrants(32, 1), {
        epochs: 5, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), loss: 'crossEntropy', batchSize: 8, verbose: true, metrics: ['accuracy'],
        callbacks: {
          onEpochEnd: (epoch, logs, control) => { expect(logs.loss).toBeGreaterThan(0); if (epoch === 2) control.stop(); },
          onTrainEnd: (hist) => { ended = hist; },
        },
      });
    } finally {
      proc.stdout!.write = write;
    }
    expect(h!.epochs).toBe(2);
    expect(h!.stoppedEpoch).toBe(2);
    expect(ended).toBe(h!);
    const epochLines = lines.filter((l) => l.startsWith('Epoch '));
    expect(epochLines).toHaveLength(2);
    expect(epochLines[0]).toMatch(/^Epoch 1\/5 {2}loss \d\.\d{4} {2}accuracy \d\.\d{4} {2}lr 1\.00e-1/);
  });

  it('a progress bar on a terminal', () => {
    sg.manualSeed(9);
    const model = mlp(4);
    const out = (globalThis as { process?: { stdout?: { write: (s: string) => boolean; isTTY?: boolean } } }).process!.stdout!;
    const write = out.write;
    const tty = out.isTTY;
    const chunks: string[] = [];
    out.write = ((s: string) => { chunks.push(s); return true; }) as typeof write;
    out.isTTY = true;
    try {
      sg.fit(model, quadrants(32, 1), { epochs: 1, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), loss: 'crossEntropy', batchSize: 8, verbose: true });
    } finally {
      out.write = write;
      out.isTTY = tty;
    }
    expect(chunks.some((c) => /^\rEpoch 1\/1 \[=+\.*\] 4\/4 {2}loss/.test(c))).toBe(true);
    expect(chunks[chunks.length - 1]).toMatch(/^\r\x1b\[2KEpoch 1\/1 {2}loss .*\n$/);
  });

  it('rejects bad options with clear messages', () => {
    const model = mlp(4);
    const optimizer = new sg.optim.SGD(model.parameters(), { lr: 0.1 });
    const d = quadrants(8, 1);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer, loss: 'crossEntropy', lerningRate: 1 } as unknown as sg.FitOptions)).toThrow(/fit: unknown option 'lerningRate'/);
    expect(() => sg.fit(model, d, { epochs: 1.5, optimizer, loss: 'crossEntropy' })).toThrow(/epochs must be an integer >= 0, got 1.5/);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer: {} as sg.optim.Optimizer, loss: 'crossEntropy' })).toThrow(/optimizer must be an Optimizer/);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer, loss: 'hinge' as sg.LossLike })).toThrow(/loss must be a function.*crossEntropy/);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer, loss: 'crossEntropy', metrics: ['f1' as sg.MetricName] })).toThrow(/unknown metric "f1"/);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer, loss: (o) => o })).toThrow(/loss must return a one-element Tensor, got \[8,2\]/);
    expect(() => sg.fit(model, d, { epochs: 1, optimizer, loss: 'crossEntropy', clipGradNorm: -1 })).toThrow(/clipGradNorm must be a finite number > 0/);
    expect(() => sg.evaluate(model, [] as unknown as sg.Dataset)).toThrow(/evaluate: data must be a Dataset or a DataLoader/);
  });
});

describe('save -> load', () => {
  it('a model trained with fit, saved as safetensors and loaded into a fresh model, predicts identically', () => {
    sg.manualSeed(10);
    const data = quadrants(200, 11);
    const model = mlp(12);
    sg.fit(model, data, { epochs: 5, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', batchSize: 20 });
    const bytes = sg.saveModel(model, { task: 'quadrants' });
    sg.manualSeed(999);
    const fresh = mlp(12);
    const x = data.xTensor();
    const before = sg.predict(fresh, x);
    const meta = sg.loadModel(fresh, bytes);
    expect(meta).toEqual({ task: 'quadrants' });
    const a = sg.predict(model, x);
    const b = sg.predict(fresh, x);
    expect(Array.from(b.data())).toEqual(Array.from(a.data()));
    expect(Array.from(before.data())).not.toEqual(Array.from(a.data()));
    // The generic path works too: loadSafetensors + loadStateDict.
    const loaded = sg.loadSafetensors(bytes);
    const third = mlp(12);
    third.loadStateDict(loaded);
    const c = sg.predict(third, x);
    expect(Array.from(c.data())).toEqual(Array.from(a.data()));
    sg.dispose(x, before, a, b, c, loaded);
  });

  it('refuses a file that does not match the model and leaves the model unchanged', () => {
    sg.manualSeed(12);
    const small = mlp(8);
    const bytes = sg.saveModel(small);
    const other = mlp(12);
    const w = Array.from(other.parameters()[0].data());
    expect(() => sg.loadModel(other, bytes)).toThrow(/loadModel: the file does not match the model: layers\.0\.weight: expected \[12,2\], got \[8,2\]/);
    expect(Array.from(other.parameters()[0].data())).toEqual(w);
    const deeper = new sg.nn.Sequential(new sg.nn.Linear(2, 8), new sg.nn.ReLU(), new sg.nn.Linear(8, 8), new sg.nn.ReLU(), new sg.nn.Linear(8, 2));
    expect(() => sg.loadModel(deeper, bytes)).toThrow(/missing layers\.4\.weight/);
    // Same names and shapes but an int32 tensor: refused on dtype.
    const state = small.stateDict();
    const bad = sg.zeros([8], { dtype: 'int32' });
    const badBytes = sg.saveSafetensors({ ...state, 'layers.0.bias': bad });
    expect(() => sg.loadModel(mlp(8), badBytes)).toThrow(/layers\.0\.bias: expected float32 \[8\], got int32/);
    expect(() => sg.loadModel(small, new Uint8Array(3))).toThrow(/safetensors: file too short/);
    bad.dispose();
  });
});

describe('fit and tensors a layer keeps', () => {
  it('a tensor a layer caches during forward survives the step scope', () => {
    class Shifted extends sg.nn.Module {
      readonly lin = new sg.nn.Linear(2, 2);
      shift: sg.Tensor | null = null;
      readonly lastOut: sg.Tensor[] = [];
      forward(x: sg.Tensor): sg.Tensor {
        this.shift ??= sg.full([2], 0.5); // created lazily inside fit's first step
        const out = sg.add(this.lin.forward(x), this.shift);
        this.lastOut[0] = out;
        return out;
      }
    }
    sg.manualSeed(13);
    const m = new Shifted();
    const h = sg.fit(m, quadrants(40, 1), { epochs: 3, optimizer: new sg.optim.SGD(m.parameters(), { lr: 0.1 }), loss: 'crossEntropy', batchSize: 10 });
    expect(h.epochs).toBe(3);
    expect(m.shift!.isAlive).toBe(true);
    expect(Array.from(m.shift!.data())).toEqual([0.5, 0.5]);
  });
});
