// Transfer learning (notes §1.5.2): frozen parameters do not move under any optimizer while
// the others do, sub-modules are found and replaced by dotted name, and a pre-trained body
// with a new head fine-tunes on a new task.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

const { Linear, ReLU, Sequential, Module, freeze, unfreeze, isFrozen, trainableParameters, getModule, replaceModule } = sg.nn;

class Net extends Module {
  readonly body: sg.nn.Sequential;
  head: sg.nn.Module;
  /** Training flag of the body seen by each forward (to check eval-mode frozen parts). */
  readonly bodyModes: boolean[] = [];
  constructor(hidden: number, classes: number) {
    super();
    this.body = new Sequential(new Linear(2, hidden, { init: 'he' }), new ReLU(), new Linear(hidden, hidden, { init: 'he' }), new ReLU());
    this.head = new Linear(hidden, classes);
  }
  forward(x: sg.Tensor): sg.Tensor {
    this.bodyModes.push(this.body.training);
    return this.head.forward(this.body.forward(x));
  }
}

/** Points in [-1, 1]²; label from `label(a, b)`. */
function points(n: number, seed: number, label: (a: number, b: number) => number): sg.Dataset {
  const g = new sg.Generator(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = g.uniform() * 2 - 1;
    const b = g.uniform() * 2 - 1;
    x.set([a, b], 2 * i);
    y[i] = label(a, b);
  }
  return new sg.Dataset(x, [2], y);
}
const xor = (a: number, b: number): number => (a * b > 0 ? 1 : 0);
const quadrant = (a: number, b: number): number => (a > 0 ? 0 : 1) + (b > 0 ? 0 : 2);

const snapshot = (ts: sg.Tensor[]): number[][] => ts.map((t) => Array.from(t.data()));

function oneStep(model: sg.nn.Module, opt: sg.optim.Optimizer, x: sg.Tensor, y: sg.Tensor): void {
  const loss = sg.crossEntropy(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
}

describe('freeze / unfreeze', () => {
  const makers: [string, (p: sg.Tensor[]) => sg.optim.Optimizer][] = [
    ['SGD + momentum + weight decay', (p) => new sg.optim.SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 })],
    ['Adam', (p) => new sg.optim.Adam(p, { lr: 0.01, weightDecay: 0.1 })],
    ['AdamW', (p) => new sg.optim.AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
    ['RMSprop', (p) => new sg.optim.RMSprop(p, { lr: 0.01, weightDecay: 0.1 })],
    ['Adagrad', (p) => new sg.optim.Adagrad(p, { lr: 0.1, weightDecay: 0.1 })],
  ];
  for (const [name, make] of makers) {
    it(`frozen parameters stay bit-for-bit unchanged under ${name} while the others move`, () => {
      sg.manualSeed(1);
      const model = new Net(8, 2);
      const data = points(32, 1, xor);
      const x = data.xTensor();
      const y = data.yTensor();
      freeze(model.body);
      const frozen = model.body.parameters();
      const live = model.head.parameters();
      const f0 = snapshot(frozen);
      const l0 = snapshot(live);
      // The optimizer gets every parameter: it must skip the frozen ones.
      const opt = make(model.parameters());
      for (let i = 0; i < 5; i++) oneStep(model, opt, x, y);
      expect(snapshot(frozen)).toEqual(f0);
      for (const p of frozen) expect(p.grad).toBeNull();
      snapshot(live).forEach((v, i) => expect(v).not.toEqual(l0[i]));
      sg.releaseGraphs();
      sg.dispose(x, y);
    });
  }

  it('freeze drops an existing gradient; unfreeze makes parameters train again; single tensors and lists', () => {
    sg.manualSeed(2);
    const model = new Net(8, 2);
    const data = points(16, 2, xor);
    const x = data.xTensor();
    const y = data.yTensor();
    sg.crossEntropy(model.forward(x), y).backward();
    const w0 = model.body.layers[0].parameters()[0];
    expect(w0.grad).not.toBeNull();
    expect(freeze(model.body)).toBe(model.body);
    expect(w0.grad).toBeNull();
    expect(w0.requiresGrad).toBe(false);
    expect(isFrozen(model.body)).toBe(true);
    expect(isFrozen(model)).toBe(false);
    expect(trainableParameters(model)).toEqual(model.head.parameters());
    // A frozen parameter stays a parameter: it is still saved and loaded.
    expect(Object.keys(model.stateDict())).toContain('body.layers.0.weight');
    unfreeze(model.body.layers[2]);
    expect(trainableParameters(model)).toHaveLength(4);
    const opt = new sg.optim.SGD(model.parameters(), { lr: 0.5 });
    const l2 = snapshot(model.body.layers[2].parameters());
    const l0 = snapshot(model.body.layers[0].parameters());
    oneStep(model, opt, x, y);
    expect(snapshot(model.body.layers[0].parameters())).toEqual(l0);
    expect(snapshot(model.body.layers[2].parameters())).not.toEqual(l2);
    // A single parameter, and a list.
    const head = model.head as sg.nn.Linear;
    freeze(head.bias!);
    expect(head.bias!.requiresGrad).toBe(false);
    expect(head.weight.requiresGrad).toBe(true);
    unfreeze([head.bias!, model.body]);
    expect(trainableParameters(model)).toHaveLength(6);
    expect(() => freeze(3 as unknown as sg.Tensor)).toThrow(/freeze: expected a Module, a Tensor or a list of them, got number/);
    expect(() => freeze([model, 'x'] as unknown as sg.Tensor[])).toThrow(/freeze: item 1 is neither a Module nor a Tensor/);
    sg.releaseGraphs();
    sg.dispose(x, y);
  });
});

describe('getModule / replaceModule', () => {
  it('find and replace sub-modules by dotted name (Sequential entries and properties)', () => {
    const model = new Net(4, 2);
    expect(getModule(model, 'body.layers.2')).toBe(model.body.layers[2]);
    expect(getModule(model, 'head')).toBe(model.head);
    const newLayer = new Linear(4, 4);
    const old = replaceModule(model, 'body.layers.2', newLayer);
    expect(old).toBeInstanceOf(Linear);
    expect(model.body.layers[2]).toBe(newLayer);
    const newHead = new Linear(4, 5);
    replaceModule(model, 'head', newHead);
    expect(model.head).toBe(newHead);
    expect(model.stateDict()['head.weight'].shape).toEqual([5, 4]);
    // Sequential's Linear+ReLU fusion follows the replaced layers.
    const seq = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 2));
    replaceModule(seq, 'layers.2', new Linear(3, 7));
    const out = sg.predict(seq, sg.tensor([[1, 2]]));
    expect(out.shape).toEqual([1, 7]);
    out.dispose();
  });

  it('clear errors for wrong paths and replacements', () => {
    const model = new Net(4, 2);
    expect(() => getModule(model, 'neck')).toThrow(/'neck': Net has no sub-module 'neck' \(it has: body, head, bodyModes\)/);
    expect(() => getModule(model, 'body.layers.9')).toThrow(/index 9 is out of range \(the list has 4 entries\)/);
    expect(() => replaceModule(model, 'head.weight', new Linear(1, 1))).toThrow(/'head.weight' is not a Module, so it cannot be replaced/);
    expect(() => replaceModule(model, 'head', {} as sg.nn.Module)).toThrow(/the replacement for 'head' must be a Module/);
    expect(() => getModule(model, '')).toThrow(/path must be a non-empty dotted name/);
  });
});

describe('fine-tuning (notes §1.5.2)', () => {
  it('pre-train, replace the head, freeze the body, fine-tune a new task: body unchanged, new task learned', () => {
    sg.manualSeed(3);
    // Task A: XOR of the signs (2 classes).
    const model = new Net(32, 2);
    const a = points(600, 4, xor);
    const ha = sg.fit(model, a, { epochs: 25, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', batchSize: 32, metrics: ['accuracy'] });
    expect(ha.accuracy[ha.accuracy.length - 1]).toBeGreaterThan(0.9);

    // Task B: which quadrant (4 classes), from little data. New random head, frozen body.
    replaceModule(model, 'head', new Linear(32, 4));
    freeze(model.body);
    model.body.eval(); // feature reuse: a frozen part kept in eval mode stays there during fit
    const body0 = snapshot(model.body.parameters());
    const b = sg.splitTrainValTest(points(400, 5, quadrant), { train: 0.75, val: 0.25 }, 6);
    const optimizer = new sg.optim.Adam(trainableParameters(model), { lr: 0.02 });
    const mem: number[] = [];
    model.bodyModes.length = 0;
    const hb = sg.fit(model, b.train, {
      epochs: 30, optimizer, loss: 'crossEntropy', batchSize: 20, validationData: b.val, metrics: ['accuracy'],
      callbacks: { onEpochEnd: () => { mem.push(sg.memory().bytes); } },
    });
    expect(snapshot(model.body.parameters())).toEqual(body0);
    expect(hb.val_accuracy[hb.val_accuracy.length - 1]).toBeGreaterThan(0.85);
    expect(model.bodyModes.every((m) => m === false)).toBe(true);
    // The frozen body's activations are not part of any graph; fit still frees them every step.
    expect(new Set(mem.slice(1)).size).toBe(1);

    // Fine-tune everything at a small learning rate afterwards: the body moves now.
    unfreeze(model.body);
    model.body.train();
    sg.fit(model, b.train, { epochs: 2, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', batchSize: 20 });
    expect(snapshot(model.body.parameters())).not.toEqual(body0);
  });
});
