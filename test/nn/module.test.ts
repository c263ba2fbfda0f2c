// The Module API every model family builds on: typed multi-output forward, call() with forward
// hooks, the one member walk (properties, arrays, Maps, ModuleList, ModuleDict) behind
// parameters/buffers/state dicts/train-eval/lookup, and Sequential's fusion protocol.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { writeElements } from '../../src/ops/inplace';

const { Module, Linear, ReLU, Tanh, Sequential, ModuleList, ModuleDict, BatchNorm1d, getModule, replaceModule, parameter, buffer } = sg.nn;

/** An LSTM-like cell: (x, h) -> [h', c'] (a tuple output). */
class TwoState extends Module<[sg.Tensor, sg.Tensor], [sg.Tensor, sg.Tensor]> {
  readonly ih = new Linear(3, 4);
  readonly hh = new Linear(4, 4, { bias: false });
  forward(x: sg.Tensor, h: sg.Tensor): [sg.Tensor, sg.Tensor] {
    const c = sg.add(this.ih.call(x), this.hh.call(h));
    return [sg.tanh(c), c];
  }
}

/** A VAE-like encoder returning an object. */
class Encoder extends Module<[sg.Tensor], { mu: sg.Tensor; logVar: sg.Tensor }> {
  readonly mu = new Linear(4, 2);
  readonly logVar = new Linear(4, 2);
  forward(x: sg.Tensor): { mu: sg.Tensor; logVar: sg.Tensor } {
    return { mu: this.mu.call(x), logVar: this.logVar.call(x) };
  }
}

describe('typed modules with several inputs and outputs', () => {
  it('a tuple output and an object output, called through call()', () => {
    sg.manualSeed(1);
    const cell = new TwoState();
    const [h, c] = cell.call(sg.randn([2, 3]), sg.zeros([2, 4]));
    expect(h.shape).toEqual([2, 4]);
    expect(c.shape).toEqual([2, 4]);
    const enc = new Encoder();
    const { mu, logVar } = enc.call(sg.randn([5, 4]));
    expect(mu.shape).toEqual([5, 2]);
    expect(logVar.shape).toEqual([5, 2]);
    expect(enc.namedParameters().map(([n]) => n)).toEqual(['mu.weight', 'mu.bias', 'logVar.weight', 'logVar.bias']);
  });
});

describe('forward hooks', () => {
  it('pre-hooks may replace inputs, hooks may replace or observe outputs; handles remove them', () => {
    const lin = new Linear(2, 2);
    lin.weight.setData([1, 0, 0, 1]);
    const seen: number[][] = [];
    const observe = lin.registerForwardHook((_m, _inputs, out) => { seen.push(Array.from(out.data())); });
    const double = lin.registerForwardPreHook((_m, [x]) => [sg.mul(x, 2)]);
    const x = sg.tensor([[1, 2]]);
    expect(Array.from(lin.call(x).data())).toEqual([2, 4]);
    expect(seen).toEqual([[2, 4]]);
    // forward() itself runs no hooks.
    expect(Array.from(lin.forward(x).data())).toEqual([1, 2]);
    expect(seen).toHaveLength(1);
    const mask = lin.registerForwardHook((_m, _i, out) => sg.mul(out, sg.tensor([1, 0])));
    expect(Array.from(lin.call(x).data())).toEqual([2, 0]);
    double.remove();
    double.remove(); // idempotent
    mask.remove();
    expect(Array.from(lin.call(x).data())).toEqual([1, 2]);
    observe.remove();
    expect(sg.nn.hasHooks(lin)).toBe(false);
    expect(() => lin.registerForwardHook(3 as never)).toThrow(/registerForwardHook: expected a function, got number/);
  });

  it('containers call their layers through call(), so hooks inside a Sequential run', () => {
    const inner = new Tanh();
    const seq = new Sequential(new Linear(3, 3), inner);
    let calls = 0;
    inner.registerForwardHook(() => { calls++; });
    seq.call(sg.randn([2, 3]));
    sg.predict(seq, sg.randn([4, 3])).dispose();
    expect(calls).toBe(2);
  });
});

describe('Sequential fusion (fuseNext)', () => {
  /** The op that made the second layer's input: the fused GEMM, or a separate relu. */
  const firstOp = (out: sg.Tensor): string => {
    const node = out.node!.inputs[0].node!;
    return node.op === 'linear+relu' || (node.op === 'linear' && node.attrs.relu === true) ? 'linear+relu' : node.op;
  };

  it('Linear + ReLU runs as one fused GEMM, the same numbers as unfused', () => {
    sg.manualSeed(2);
    const seq = new Sequential(new Linear(4, 5), new ReLU(), new Linear(5, 2));
    const x = sg.randn([3, 4]);
    const out = seq.forward(x);
    expect(out.node!.op).toBe('linear');
    expect(firstOp(out)).toBe('linear+relu');
    const a = seq.layers[0] as sg.nn.Linear;
    const b = seq.layers[2] as sg.nn.Linear;
    const ref = b.forward(sg.relu(a.forward(x)));
    expect(Array.from(out.data())).toEqual(Array.from(ref.data()));
    // The fused module is not a member: parameters and names are those of the layers.
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
  });

  it('Conv2d + ReLU runs as one fused convolution: the same values and gradients as unfused, one node fewer', () => {
    sg.manualSeed(3);
    const conv = new sg.nn.Conv2d(3, 4, 3, { padding: 1 });
    const seq = new Sequential(conv, new ReLU(), new sg.nn.MaxPool2d(2));
    const x = sg.randn([2, 3, 6, 6], 0, 1, { requiresGrad: true });
    const out = seq.forward(x);
    const convNode = out.node!.inputs[0].node!;
    expect(convNode.op).toBe('conv2d');
    expect(convNode.attrs.relu).toBe(true);
    const gy = sg.randn(out.shape);
    out.backward({ gradient: gy });
    const fused = [out.data(), x.grad!.data(), conv.weight.grad!.data(), conv.bias!.grad!.data()];
    for (const p of [x, conv.weight, conv.bias!]) p.grad = null;
    const ref = sg.maxPool2d(sg.relu(conv.forward(x)), 2);
    ref.backward({ gradient: gy });
    const unfused = [ref.data(), x.grad!.data(), conv.weight.grad!.data(), conv.bias!.grad!.data()];
    expect(unfused[0].some((v) => v === 0) && fused[1].some((v) => v !== 0)).toBe(true);
    for (let i = 0; i < 4; i++) expect(Array.from(fused[i])).toEqual(Array.from(unfused[i]));
  });

  it('BatchNorm2d + ReLU runs as one fused batch norm, in training and evaluation: the same values, gradients and running averages as unfused', () => {
    for (const training of [true, false]) {
      sg.manualSeed(4);
      const bn = new sg.nn.BatchNorm2d(3);
      const seq = new Sequential(bn, new ReLU(), new sg.nn.MaxPool2d(2));
      // Settled running averages and a non-trivial γ, β, so evaluation zeroes some outputs too.
      const settle = (): void => {
        writeElements(bn.runningMean, 0, [0.1, -0.2, 0.3]);
        writeElements(bn.runningStd, 0, [0.9, 1.1, 1.3]);
      };
      settle();
      writeElements(bn.weight!, 0, [1.2, 0.7, -0.9]);
      writeElements(bn.bias!, 0, [0.1, -0.3, 0.2]);
      if (!training) seq.eval();
      const x = sg.randn([4, 3, 6, 6], 0, 1, { requiresGrad: true });
      const out = seq.forward(x);
      const node = out.node!.inputs[0].node!;
      expect(node.op).toBe('batchNorm');
      expect(node.attrs.relu).toBe(true);
      const gy = sg.randn(out.shape);
      out.backward({ gradient: gy });
      const fused = [out.data(), x.grad!.data(), bn.weight!.grad!.data(), bn.bias!.grad!.data(), bn.runningMean.data(), bn.runningStd.data()];
      for (const p of [x, bn.weight!, bn.bias!]) p.grad = null;
      settle();
      const relu = sg.relu(bn.forward(x));
      const ref = sg.maxPool2d(relu, 2);
      ref.backward({ gradient: gy });
      const unfused = [ref.data(), x.grad!.data(), bn.weight!.grad!.data(), bn.bias!.grad!.data(), bn.runningMean.data(), bn.runningStd.data()];
      // The ReLU zeroes part of the batch norm's output.
      const zeroed = relu.data().filter((v) => v === 0).length;
      expect(zeroed).toBeGreaterThan(relu.size / 5);
      for (let i = 0; i < fused.length; i++) expect(Array.from(fused[i]), `${training ? 'training' : 'eval'}, value ${i}`).toEqual(Array.from(unfused[i]));
    }
  });

  it('a hook on either layer disables the fusion (the hook sees the layer alone), removing it enables it again', () => {
    const seq = new Sequential(new Linear(4, 5), new ReLU(), new Linear(5, 2));
    const x = sg.randn([3, 4]);
    let pre: number[] = [];
    const h = seq.layers[0].registerForwardHook((_m, _i, out) => { pre = Array.from(out.data()); });
    const out = seq.forward(x);
    expect(firstOp(out)).toBe('relu');
    expect(pre.some((v) => v < 0)).toBe(true); // before the ReLU
    h.remove();
    expect(firstOp(seq.forward(x))).toBe('linear+relu');
  });

  it('any module can fuse with its successor; replaced layers are picked up', () => {
    class Scale extends Module {
      constructor(readonly k: number) { super(); }
      forward(x: sg.Tensor): sg.Tensor { return sg.mul(x, this.k); }
      override fuseNext(next: sg.nn.AnyModule): sg.nn.AnyModule | null {
        return next instanceof Scale ? new Scale(this.k * next.k) : null;
      }
    }
    const seq = new Sequential(new Scale(2), new Scale(3), new Tanh());
    const x = sg.tensor([[0.1]], { requiresGrad: true }); // so that the ops are recorded
    const out = seq.forward(x);
    expect(out.node!.inputs[0].node!.op).toBe('mul'); // one mul, not two
    expect(out.node!.inputs[0].node!.inputs[0]).toBe(x);
    expect(out.item()).toBeCloseTo(Math.tanh(0.6), 6);
    replaceModule(seq, 'layers.1', new Tanh());
    expect(seq.forward(x).item()).toBeCloseTo(Math.tanh(Math.tanh(0.2)), 6);
  });
});

describe('the member walk', () => {
  class Holder extends Module {
    readonly heads = new Map<string, sg.nn.Module>([['cls', new Linear(2, 3)], ['reg', new Linear(2, 1)]]);
    readonly blocks = [new Linear(2, 2), new BatchNorm1d(2)];
    readonly stats = buffer(sg.zeros([2]));
    readonly scale = parameter(sg.ones([1]));
    cache: sg.Tensor | null = sg.zeros([1]); // a plain tensor: kept by fit, not a parameter
    readonly list = new ModuleList([new Linear(2, 2), new Tanh()]);
    readonly dict = new ModuleDict({ enc: new Linear(2, 4), dec: new Linear(4, 2) });
    forward(x: sg.Tensor): sg.Tensor { return x; }
  }

  it('finds parameters, buffers and modules in properties, arrays, Maps and containers, with one set of names', () => {
    const m = new Holder();
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'heads.cls.weight', 'heads.cls.bias', 'heads.reg.weight', 'heads.reg.bias',
      'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias',
      'scale',
      'list.0.weight', 'list.0.bias',
      'dict.enc.weight', 'dict.enc.bias', 'dict.dec.weight', 'dict.dec.bias',
    ]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['blocks.1.runningMean', 'blocks.1.runningStd', 'stats']);
    expect(m.namedModules().map(([n]) => n)).toEqual([
      '', 'heads.cls', 'heads.reg', 'blocks.0', 'blocks.1', 'list', 'list.0', 'list.1', 'dict', 'dict.enc', 'dict.dec',
    ]);
    expect(m.namedTensors().map(([n]) => n)).toContain('cache');
    expect(Object.keys(m.stateDict())).toContain('heads.reg.bias');
    expect(Object.keys(m.stateDict())).not.toContain('cache');
    m.eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    // Lookup and replacement use the same names.
    for (const [name, mod] of m.namedModules().slice(1)) expect(getModule(m, name)).toBe(mod);
    const fresh = new Linear(2, 5);
    replaceModule(m, 'heads.cls', fresh);
    expect(m.heads.get('cls')).toBe(fresh);
    replaceModule(m, 'list.1', new ReLU());
    expect(m.list.at(1)).toBeInstanceOf(ReLU);
    replaceModule(m, 'dict.dec', new Linear(4, 3));
    expect(m.dict.get('dec').parameters()[0].shape).toEqual([3, 4]);
    expect(() => getModule(m, 'heads.box')).toThrow(/'heads.box': the map has no entry 'box' \(it has: cls, reg\)/);
    expect(() => getModule(m, 'list.5')).toThrow(/'list.5': ModuleList has no sub-module '5' \(it has: 0, 1\)/);
    expect(() => getModule(m, 'dict.mid')).toThrow(/ModuleDict has no sub-module 'mid' \(it has: enc, dec\)/);
  });

  it('a module shared by two parents is listed once (tied weights train once)', () => {
    const shared = new Linear(2, 2);
    class Tied extends Module {
      readonly a = shared;
      readonly b = new Sequential(shared, new Tanh());
      forward(x: sg.Tensor): sg.Tensor { return this.b.call(this.a.call(x)); }
    }
    const t = new Tied();
    expect(t.parameters()).toHaveLength(2);
    expect(() => new sg.optim.SGD(t.parameters(), { lr: 0.1 })).not.toThrow();
  });

  it('ModuleList and ModuleDict: building, errors, no forward', () => {
    const list = new ModuleList<sg.nn.Linear>().append(new Linear(1, 1)).extend([new Linear(1, 2)]);
    expect(list.length).toBe(2);
    expect(list.at(-1).outFeatures).toBe(2);
    expect([...list].map((l) => l.outFeatures)).toEqual([1, 2]);
    expect(() => list.at(2)).toThrow(/index 2 is out of range \(the list has 2 entries\)/);
    expect(() => list.append({} as sg.nn.Linear)).toThrow(/ModuleList.append: expected a Module/);
    expect(() => list.call()).toThrow(/ModuleList: a container has no forward/);
    const dict = new ModuleDict([['a', new Tanh()]]);
    expect(dict.has('a')).toBe(true);
    expect([...dict.keys()]).toEqual(['a']);
    expect(() => dict.set('a.b', new Tanh())).toThrow(/a name must be a non-empty string without '.'/);
    expect(() => dict.get('z')).toThrow(/no module 'z' \(it has: a\)/);
  });
});

describe('state dicts', () => {
  it('load through the memory API: values, int32 buffers, all-or-nothing on a mismatch', () => {
    class WithCount extends Module {
      readonly lin = new Linear(2, 2);
      readonly count = buffer(sg.zeros([1], { dtype: 'int32' }));
      forward(x: sg.Tensor): sg.Tensor { return this.lin.call(x); }
    }
    const a = new WithCount();
    a.count.setData([7]);
    const b = new WithCount();
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.count.data())).toEqual([7]);
    expect(Array.from(b.lin.weight.data())).toEqual(Array.from(a.lin.weight.data()));
    const before = Array.from(b.lin.weight.data());
    const bad = { ...a.stateDict(), 'lin.bias': { shape: [3], data: [1, 2, 3] } };
    expect(() => b.loadStateDict(bad)).toThrow(/lin.bias: expected \[2\], got \[3\]/);
    expect(Array.from(b.lin.weight.data())).toEqual(before);
  });
});
