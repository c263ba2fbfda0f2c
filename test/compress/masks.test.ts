import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const { compress, nn } = sg;

function mlp(): sg.nn.Sequential {
  sg.manualSeed(3);
  return new nn.Sequential(new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 3));
}

describe('pruning masks', () => {
  it('prune zeroes the weight and stores the mask as a buffer in the state dict', () => {
    const m = mlp();
    const lin = m.layers[0] as sg.nn.Linear;
    const mask = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    compress.prune(lin, 'weight', mask);
    const w = lin.weight.data();
    mask.forEach((v, i) => { if (v === 0) expect(w[i]).toBe(0); else expect(w[i]).not.toBe(0); });
    expect(Object.keys(m.stateDict())).toContain('layers.0.weight_mask');
    expect(compress.sparsityStats(m).layers[0].sparsity).toBeCloseTo(8 / 24);
    // Intersecting: a later prune never revives an entry.
    compress.prune(lin, 'weight', new Array(24).fill(1));
    expect(lin.weight.data()[0]).toBe(0);
  });

  it('masked weights stay zero through optimizer steps, with momentum and Adam', () => {
    for (const make of [(p: sg.Tensor[]) => new sg.optim.SGD(p, { lr: 0.1, momentum: 0.9 }), (p: sg.Tensor[]) => new sg.optim.Adam(p, { lr: 0.05 })]) {
      const m = mlp();
      compress.magnitudePrune(m, 0.5, { scope: 'layer' });
      const opt = make(m.parameters());
      compress.maskOptimizer(opt, m);
      const x = sg.randn([8, 4]);
      const y = sg.tensor([0, 1, 2, 0, 1, 2, 0, 1], [8], { dtype: 'int32' });
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        sg.crossEntropy(m.forward(x), y).backward();
        opt.step();
      }
      for (const { param, mask } of compress.maskedParameters(m)) {
        const w = param.data();
        const k = mask.data();
        for (let i = 0; i < w.length; i++) if (k[i] === 0) expect(w[i]).toBe(0);
        expect(compress.sparsityStats(m).sparsity).toBeGreaterThanOrEqual(0.5);
      }
      opt.dispose();
    }
  });

  it('global magnitude pruning removes the smallest weights over all layers', () => {
    const m = mlp();
    const all = m.parameters().filter((p) => p.shape.length === 2).flatMap((p) => Array.from(p.data(), Math.abs)).sort((a, b) => a - b);
    compress.magnitudePrune(m, 0.25);
    const st = compress.sparsityStats(m);
    expect(st.zeros).toBe(Math.round(0.25 * 42));
    const thr = all[st.zeros - 1];
    for (const p of m.parameters().filter((q) => q.shape.length === 2)) for (const v of p.data()) expect(v === 0 || Math.abs(v) >= thr).toBe(true);
  });

  it('masks survive save and load', () => {
    const m = mlp();
    compress.magnitudePrune(m, 0.6, { scope: 'layer' });
    const bytes = sg.saveModel(m);
    const fresh = mlp();
    expect(() => sg.loadModel(fresh, bytes)).toThrow(/unexpected layers.0.weight_mask/);
    compress.loadPrunedModel(fresh, bytes);
    const a = compress.maskedParameters(m);
    const b = compress.maskedParameters(fresh);
    expect(b.map((e) => `${e.path}.${e.name}`)).toEqual(a.map((e) => `${e.path}.${e.name}`));
    a.forEach((e, i) => {
      expect(Array.from(b[i].mask.data())).toEqual(Array.from(e.mask.data()));
      expect(Array.from(b[i].param.data())).toEqual(Array.from(e.param.data()));
    });
  });

  it('a masked Linear passes gradcheck (the mask is a constant factor on the weight)', () => {
    const w = sg.tensor(Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) / 5 - 0.4), [3, 4], { requiresGrad: true });
    const mask = sg.tensor([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0], [3, 4]);
    const x = sg.tensor(Array.from({ length: 8 }, (_, i) => Math.sin(i + 1)), [2, 4], { requiresGrad: true });
    const r = sg.gradcheck((xx, ww) => sg.linear(xx, sg.mul(ww, mask), null), [x, w]);
    expect(r.ok, r.worst).toBe(true);
  });

  it('a masked Conv2d passes gradcheck too', () => {
    const w = sg.tensor(Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => ((i * 5) % 7) / 7 - 0.45), [2, 2, 3, 3], { requiresGrad: true });
    const mask = sg.tensor(Array.from({ length: 36 }, (_, i) => (i % 3 === 1 ? 0 : 1)), [2, 2, 3, 3]);
    const x = sg.tensor(Array.from({ length: 2 * 2 * 4 * 4 }, (_, i) => Math.cos(i + 0.5)), [2, 2, 4, 4], { requiresGrad: true });
    const r = sg.gradcheck((xx, ww) => sg.conv2d(xx, sg.mul(ww, mask), null, { padding: 1 }), [x, w]);
    expect(r.ok, r.worst).toBe(true);
  });
});
