import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const { compress, nn } = sg;

/** 96 points in 4-D, 3 classes by the sign pattern of two directions (learnable by a small MLP). */
function toyData(): { ds: sg.Dataset; x: sg.Tensor; y: sg.Tensor } {
  const g = new sg.RandomGenerator(11);
  const n = 96;
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = g.uniform() * 2 - 1;
    const a = x[i * 4] + x[i * 4 + 1];
    y[i] = a > 0.3 ? 0 : a < -0.3 ? 1 : 2;
  }
  const ds = new sg.Dataset(x, [4], y);
  return { ds, x: sg.keep(sg.tensor(x.slice(0, 32 * 4), [32, 4])), y: sg.keep(sg.tensor(y.slice(0, 32), [32], { dtype: 'int32' })) };
}

function mlp(seed = 5, act: () => sg.nn.Module = () => new nn.ReLU()): sg.nn.Sequential {
  sg.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(4, 12, { init: 'he' }), act(), new nn.Linear(12, 8, { init: 'he' }), act(), new nn.Linear(8, 3));
}

function ctxFor(d: ReturnType<typeof toyData>): sg.compress.PruneContext {
  return { data: new sg.DataLoader(d.ds, { batchSize: 16, shuffle: true }), batch: { x: d.x, y: d.y }, epochs: 2, optimizer: (p, o) => new sg.optim.Adam(p, { lr: 0.01, weightDecay: o.weightDecay }) };
}

function out(m: sg.nn.Module, x: sg.Tensor): Float32Array {
  m.eval();
  return sg.noGrad(() => m.forward(x).data() as Float32Array);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
}

describe('scores against hand-computed cases', () => {
  // One linear unit without bias, w = (0.5, −1), x = (1, 2), target 0, E = (w·x − 0)² = 2.25.
  function unit(): sg.nn.Sequential {
    const m = new nn.Sequential(new nn.Linear(2, 1, { bias: false }));
    (m.layers[0] as sg.nn.Linear).weight.setData([0.5, -1]);
    return m;
  }
  const x = () => sg.tensor([1, 2], [1, 2]);
  const t = () => sg.tensor([0], [1, 1]);

  it('SNIP: |g·w| with g = 2(w·x)x = (−3, −6)', () => {
    const m = unit();
    const s = compress.snipScores(m, x(), t(), (o, y) => sg.mseLoss(o, y));
    expect(Array.from(s.get((m.layers[0] as sg.nn.Linear).weight)!)).toEqual([1.5, 6]);
  });

  it('OBD: h_ii = 2 x_i² = (2, 8), saliency h u²/2 = (0.25, 4)', () => {
    const m = unit();
    const h = compress.exactHessianDiagonal(m, x(), t(), 'mse');
    const w = (m.layers[0] as sg.nn.Linear).weight;
    close(h.get(w)!, [2, 8], 1e-6);
    close(compress.obdSaliency(m, h).get(w)!, [0.25, 4], 1e-6);
  });

  it('OBD: the exact Hessian diagonal matches second differences of the loss (tanh MLP, cross-entropy)', () => {
    const d = toyData();
    const m = mlp(2, () => new nn.Tanh());
    const h = compress.exactHessianDiagonal(m, d.x, d.y, 'crossEntropy');
    const E = (): number => sg.noGrad(() => sg.crossEntropy(m.forward(d.x), d.y).item());
    const eps = 3e-2;
    let checked = 0;
    for (const p of m.parameters()) {
      const hp = h.get(p)!;
      const v = p.data();
      for (let i = 0; i < p.size; i += 5) {
        const at = (u: number): number => { const c = v.slice(); c[i] = u; p.setData(c); return E(); };
        const fd = (at(v[i] + eps) - 2 * at(v[i]) + at(v[i] - eps)) / (eps * eps);
        p.setData(v);
        expect(Math.abs(fd - hp[i])).toBeLessThan(5e-3 + 0.03 * Math.abs(hp[i]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('the Fisher approximation is non-negative and close to the exact diagonal in order of magnitude', () => {
    const d = toyData();
    const m = mlp(2, () => new nn.Tanh());
    const f = compress.fisherHessianDiagonal(m, d.x, d.y, (o, y) => sg.crossEntropy(o, y));
    for (const a of f.values()) for (const v of a) expect(v).toBeGreaterThanOrEqual(0);
  });
});

describe('structural operations', () => {
  it('structured pruning keeps the kept units exactly and shrinks the model (MLP and CNN)', () => {
    const d = toyData();
    const m = mlp();
    const ref = mlp();
    const entries = compress.unitLayers(ref);
    compress.maskUnits(entries[0], [1, 3, 4, 7, 8, 10]);
    compress.shrinkUnits(m, compress.unitLayers(m)[0], [0, 2, 5, 6, 9, 11]);
    expect((m.layers[0] as sg.nn.Linear).outFeatures).toBe(6);
    expect((m.layers[2] as sg.nn.Linear).inFeatures).toBe(6);
    expect(m.numParameters()).toBeLessThan(ref.numParameters());
    close(out(m, d.x), out(ref, d.x), 1e-5);

    sg.manualSeed(4);
    const cnn = () => new nn.Sequential(new nn.Conv2d(1, 5, 3, { padding: 1 }), new nn.BatchNorm2d(5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(5, 4, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 2 * 2, 3));
    sg.manualSeed(4);
    const c1 = cnn();
    sg.manualSeed(4);
    const c2 = cnn();
    const img = sg.randn([3, 1, 8, 8]);
    const bn = c1.layers[1] as sg.nn.BatchNorm2d;
    bn.runningMean.setData([0.1, -0.2, 0.3, 0, 0.05]);
    (c2.layers[1] as sg.nn.BatchNorm2d).runningMean.setData([0.1, -0.2, 0.3, 0, 0.05]);
    compress.maskUnits(compress.unitLayers(c2)[0], [1, 3]);
    compress.maskUnits(compress.unitLayers(c2)[1], [2]);
    compress.shrinkUnits(c1, compress.unitLayers(c1)[0], [0, 2, 4]);
    compress.shrinkUnits(c1, compress.unitLayers(c1)[1], [0, 1, 3]);
    expect((c1.layers[4] as sg.nn.Conv2d).inChannels).toBe(3);
    expect((c1.layers[7] as sg.nn.Linear).inFeatures).toBe(12);
    close(out(c1, img), out(c2, img), 1e-4);
  });

  it('folding: Linear–PReLU(α=1)–Linear and two unpadded stride-1 convolutions merge with the same outputs', () => {
    sg.manualSeed(9);
    const a = new nn.Linear(5, 7), b = new nn.Linear(7, 3);
    const x = sg.randn([4, 5]);
    const seq = new nn.Sequential(a, new nn.PReLU(1, 1), b);
    close(out(compress.foldLinear(a, b), x), out(seq, x), 1e-4);
    const c = new nn.Conv2d(2, 3, 3), e = new nn.Conv2d(3, 4, [2, 3]);
    const img = sg.randn([2, 2, 9, 8]);
    const folded = compress.foldConv(c, e);
    expect(folded.kernelSize).toEqual([4, 5]);
    close(out(folded, img), out(new nn.Sequential(c, e), img), 1e-4);
    expect(() => compress.foldConv(new nn.Conv2d(2, 3, 3, { padding: 1 }), e)).toThrow(/no closed form/);
  });
});

describe('distillation', () => {
  it('distillationLoss passes gradcheck with respect to the student logits', () => {
    sg.manualSeed(1);
    const s = sg.randn([4, 5]);
    s.requiresGrad = true;
    const t = sg.randn([4, 5]);
    const y = sg.tensor([0, 3, 4, 1], [4], { dtype: 'int32' });
    const r = sg.gradcheck((ss) => compress.distillationLoss(ss, t, y, { temperature: 3, alpha: 0.7 }), [s]);
    expect(r.ok, r.worst).toBe(true);
    // With α = 1 and the student equal to the teacher the KL term is 0.
    expect(sg.noGrad(() => compress.distillationLoss(t, t, y, { alpha: 1 }).item())).toBeCloseTo(0, 5);
  });
});

describe('each method runs on a tiny MLP', () => {
  const d = toyData();
  const trained = (): sg.nn.Sequential => {
    const m = mlp();
    compress.retrain(m, { ...ctxFor(d), epochs: 8 });
    return m;
  };
  const acc = (m: sg.nn.Module): number => {
    const p = out(m, d.x);
    let ok = 0;
    const y = d.y.data();
    for (let i = 0; i < 32; i++) { const r = Array.from(p.slice(i * 3, i * 3 + 3)); if (r.indexOf(Math.max(...r)) === y[i]) ok++; }
    return ok / 32;
  };
  const cases: [string, () => sg.compress.PruningMethod, boolean, number][] = [
    ['magnitude', () => compress.iterativeMagnitude({ schedule: [0.5, 0.7] }), true, 0.69],
    ['obd', () => compress.optimalBrainDamage({ schedule: [0.3, 0.5] }), true, 0.49],
    ['skeleton', () => compress.skeletonization({ fraction: 0.4, rounds: 2 }), true, 0.1],
    ['lottery', () => compress.lotteryTicket({ sparsity: 0.6, rounds: 2, rewindEpochs: 1 }), false, 0.59],
    ['snip', () => compress.snip({ sparsity: 0.5 }), false, 0.49],
    ['rigl', () => compress.rigl({ sparsity: 0.5, deltaT: 3, epochs: 10 }), false, 0.49],
    ['structured', () => compress.structuredPruning({ fraction: 0.5, rounds: 1 }), true, 0.3],
    ['folding', () => compress.layerFolding({ epochs: 3 }), true, 0.1],
  ];
  for (const [name, make, pretrained, minSparsity] of cases) {
    it(name, () => {
      const m = pretrained ? trained() : mlp();
      const before = m.numParameters();
      const r = make().prune(m, ctxFor(d));
      expect(r.sparsity).toBeGreaterThanOrEqual(minSparsity);
      expect(acc(r.model)).toBeGreaterThan(0.5);
      if (name === 'structured' || name === 'folding') expect(r.model.numParameters()).toBeLessThan(before);
      for (const { param, mask } of compress.maskedParameters(r.model)) {
        const w = param.data(), k = mask.data();
        for (let i = 0; i < w.length; i++) if (k[i] === 0) expect(w[i]).toBe(0);
      }
    });
  }
  it('distillation', () => {
    const teacher = trained();
    sg.manualSeed(8);
    const student = new nn.Sequential(new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 3));
    const r = compress.distillation({ teacher, temperature: 2, epochs: 6 }).prune(student, ctxFor(d));
    expect(r.sparsity).toBeGreaterThan(0.5);
    expect(acc(student)).toBeGreaterThan(0.5);
  });
});
