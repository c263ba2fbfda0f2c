// Parameter groups (as PyTorch: per-group options over the constructor's defaults), lr and
// lrScale under schedules, state dicts with groups (older single-group dicts still load), and
// optimizer state as ordinary tensors outside every scope, freed by dispose().
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { maxRelErr } from '../helpers/wasm';
import { refAdam, refSgd } from '../reference/optim';

const { Adam, AdamW, SGD, RMSprop } = sg.optim;

const W0 = [0.5, -1.25, 2, 0.1];
const T = [1, 0.5, -1, 0];
const p = (v = W0): sg.Tensor => sg.tensor(v, { requiresGrad: true });

/** One step's gradient of Σ (w − t)² for each tensor. */
function backward(ws: sg.Tensor[]): void {
  let loss: sg.Tensor | null = null;
  for (const w of ws) {
    const l = w.sub(sg.tensor(T)).square().sum();
    loss = loss === null ? l : loss.add(l);
  }
  loss!.backward();
}

describe('parameter groups', () => {
  it('each group follows its own options over the defaults (Adam: lr and weight decay per group)', () => {
    const a = p();
    const b = p();
    const opt = new Adam([{ params: [a], lr: 0.05 }, { params: [b], weightDecay: 0 }], { lr: 0.01, weightDecay: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay, g.betas])).toEqual([[0.05, 0.1, [0.9, 0.999]], [0.01, 0, [0.9, 0.999]]]);
    expect(opt.params).toEqual([a, b]);
    const ra = W0.slice(), rb = W0.slice();
    const sa = { m: [0, 0, 0, 0], v: [0, 0, 0, 0] }, sb = { m: [0, 0, 0, 0], v: [0, 0, 0, 0] };
    for (let t = 1; t <= 4; t++) {
      opt.zeroGrad();
      backward([a, b]);
      const ga = ra.map((x, i) => 2 * (x - T[i]));
      const gb = rb.map((x, i) => 2 * (x - T[i]));
      opt.step();
      refAdam(ra, ga, sa.m, sa.v, 0.05, 0.9, 0.999, 1e-8, 0.1, false, 1 - 0.9 ** t, 1 - 0.999 ** t);
      refAdam(rb, gb, sb.m, sb.v, 0.01, 0.9, 0.999, 1e-8, 0, false, 1 - 0.9 ** t, 1 - 0.999 ** t);
      expect(maxRelErr(a.data(), ra)).toBeLessThan(1e-5);
      expect(maxRelErr(b.data(), rb)).toBeLessThan(1e-5);
    }
    opt.dispose();
  });

  it('group values are validated when set; hyper-parameter setters set every group', () => {
    const opt = new SGD([{ params: [p()] }, { params: [p()], momentum: 0.5 }], { lr: 0.1 });
    opt.paramGroups[1].lr = 0.2;
    expect(opt.paramGroups[1].lr).toBe(0.2);
    expect(() => { opt.paramGroups[0].momentum = 1; }).toThrow('SGD: momentum must be in [0, 1), got 1');
    expect(() => { opt.paramGroups[0].lr = -1; }).toThrow('SGD: lr must be a finite number >= 0, got -1');
    opt.momentum = 0.9;
    expect(opt.paramGroups.map((g) => g.momentum)).toEqual([0.9, 0.9]);
    expect(opt.momentum).toBe(0.9);
    opt.dispose();
  });

  it('setting optimizer.lr (what schedules do) sets every group to lr × lrScale; fit schedules every group', () => {
    const body = p();
    const head = p();
    const opt = new SGD([{ params: [body], lrScale: 0.1 }, { params: [head] }], { lr: 1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 1]);
    opt.lr = 0.5;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.5]);
    // A group's own lr stays until a schedule sets it (scale 1 unless given).
    const own = new SGD([{ params: [p()], lr: 0.3 }, { params: [p()] }], { lr: 1 });
    own.lr = 0.2;
    expect(own.paramGroups.map((g) => g.lr)).toEqual([0.2, 0.2]);
    // In fit: a per-step schedule reaches both groups of one optimizer.
    sg.manualSeed(1);
    const model = new sg.nn.Sequential(new sg.nn.Linear(2, 4), new sg.nn.Tanh(), new sg.nn.Linear(4, 2));
    const [l0, , l2] = model.layers;
    const fitOpt = new SGD([{ params: l0.parameters(), lrScale: 0.5 }, { params: l2.parameters() }], { lr: 1 });
    const seen: number[][] = [];
    const x = new Float32Array(16).map((_, i) => Math.sin(i));
    const h = sg.fit(model, new sg.Dataset(x, [2], new Int32Array(8).map((_, i) => i % 2)), {
      epochs: 2, batchSize: 4, optimizer: fitOpt, loss: 'crossEntropy', schedule: (t) => 0.1 / (t + 1), scheduleEvery: 'step',
      callbacks: { onBatchEnd: () => { seen.push(fitOpt.paramGroups.map((g) => g.lr)); } },
    });
    expect(seen).toEqual([0, 1, 2, 3].map((t) => [0.05 / (t + 1), 0.1 / (t + 1)]));
    expect(h.lr[0]).toBeCloseTo(0.1 / 2, 12); // the schedule's value: group 0's lr / lrScale
    expect(h.lr[1]).toBeCloseTo(0.1 / 4, 12);
    expect(opt.lr).toBe(0.5);
    opt.dispose();
    own.dispose();
    fitOpt.dispose();
  });

  it('rejects bad groups with the optimizer and the group named', () => {
    const a = p();
    expect(() => new Adam([{ params: [a], weight_decay: 0.1 } as never, { params: [p()] }])).toThrow(/Adam: param group 0: unknown option 'weight_decay' \(known: params, lrScale, lr, betas, eps, weightDecay, decoupled\)/);
    expect(() => new Adam([{ params: [a] }, { params: [a] }])).toThrow('Adam: parameter 1 [4] appears more than once in the parameter list');
    expect(() => new SGD([{ params: [p()] }], undefined as never)).toThrow(/SGD: options with a learning rate are required/);
    expect(new SGD([{ params: [p()], lr: 0.1 }]).lr).toBe(0.1);
    expect(() => new AdamW([{ params: [p()], decoupled: false } as never])).toThrow(/AdamW: decoupled weight decay is what AdamW is/);
    expect(new RMSprop([{ params: [p()], rho: 0.5 } as never]).paramGroups[0].alpha).toBe(0.5);
    expect(() => new Adam([{ params: [] }])).toThrow('Adam: the parameter list is empty');
  });

  it('addParamGroup adds parameters later (layers unfrozen during fine-tuning)', () => {
    const a = p();
    const b = p();
    const opt = new SGD([a], { lr: 0.1, momentum: 0.9 });
    opt.addParamGroup({ params: [b], lr: 0.01 });
    expect(opt.params).toEqual([a, b]);
    const rb = W0.slice();
    const vel = [0, 0, 0, 0];
    opt.zeroGrad();
    backward([a, b]);
    const gb = rb.map((x, i) => 2 * (x - T[i]));
    opt.step();
    refSgd(rb, gb, vel, 0.01, 0.9, 0);
    expect(maxRelErr(b.data(), rb)).toBeLessThan(1e-6);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/appears more than once/);
    opt.dispose();
  });
});

describe('state dicts with groups', () => {
  it('round trip with groups; an older dict without groups loads into every group; mismatches change nothing', () => {
    const train = (opt: sg.optim.Optimizer, ws: sg.Tensor[], n: number): void => {
      for (let i = 0; i < n; i++) {
        opt.zeroGrad();
        backward(ws);
        opt.step();
      }
    };
    const a1 = p(), b1 = p();
    const o1 = new Adam([{ params: [a1], lr: 0.05 }, { params: [b1], lr: 0.02, weightDecay: 0.1 }]);
    train(o1, [a1, b1], 3);
    const saved = o1.stateDict();
    expect(saved.groups!.map((g) => [g.params, g.hyper.lr, g.hyper.weightDecay])).toEqual([[1, 0.05, 0], [1, 0.02, 0.1]]);
    expect(saved.hyper.lr).toBe(0.05);
    const a2 = p(Array.from(a1.data())), b2 = p(Array.from(b1.data()));
    train(o1, [a1, b1], 2);
    const o2 = new Adam([{ params: [a2] }, { params: [b2] }]);
    o2.loadStateDict(saved);
    expect(o2.paramGroups.map((g) => [g.lr, g.weightDecay])).toEqual([[0.05, 0], [0.02, 0.1]]);
    train(o2, [a2, b2], 2);
    expect(Array.from(a2.data())).toEqual(Array.from(a1.data()));
    expect(Array.from(b2.data())).toEqual(Array.from(b1.data()));

    // The single-group format of earlier versions: { optimizer, hyper, state }.
    const c = p();
    const old = { optimizer: 'SGD', hyper: { lr: 0.3, momentum: 0.5, weightDecay: 0 }, state: [{ step: 2, buffers: [new Float32Array([1, 2, 3, 4])] }] };
    const o3 = new SGD([c], { lr: 1 });
    o3.loadStateDict(old);
    expect([o3.lr, o3.momentum]).toEqual([0.3, 0.5]);
    expect(Array.from(o3.stateDict().state[0]!.buffers[0])).toEqual([1, 2, 3, 4]);

    const one = new Adam([p(), p()]);
    expect(() => one.loadStateDict(saved)).toThrow('Adam.loadStateDict: the state dict has 2 parameter groups, this optimizer has 1');
    expect(one.lr).toBe(0.001);
    [o1, o2, o3, one].forEach((o) => o.dispose());
  });
});

describe('optimizer state is tensors', () => {
  it('created outside every scope on the first step, counted by memory(), freed by dispose()', () => {
    const w = p();
    const opt = new Adam([w], { lr: 0.1 });
    sg.releaseGraphs();
    const before = sg.memory();
    sg.scope(() => {
      opt.zeroGrad();
      backward([w]);
      opt.step();
    });
    sg.releaseGraphs();
    const withState = sg.memory();
    // The two moment tensors (m, v) survive the scope (the gradient, made inside it, does not).
    expect(withState.tensors - before.tensors).toBe(2);
    expect(withState.bytes - before.bytes).toBe(2 * 64);
    opt.zeroGrad();
    opt.dispose();
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
  });
});
