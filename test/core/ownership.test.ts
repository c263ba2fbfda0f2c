// Who frees what no dispose() names (src/core/lifetime.ts): the loops of issue 9 that leaked —
// the README's prediction line, argmax for a running accuracy, batches under noGrad, plain
// inference — run 10,000 iterations with flat live tensors and bytes, and the rule's edges
// (what stays readable, for how long, and what keep() changes) are pinned down.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const ITERATIONS = 10_000;

// First in this file, before any test makes one: op definitions' test material (bad inputs,
// samples) must make its tensors when a case runs, never at import.
it('importing the library makes no tensors', () => {
  expect(sg.memory().tensors).toBe(0);
});

function tinyModel(seed: number): sg.nn.Sequential {
  sg.manualSeed(seed);
  return new sg.nn.Sequential(new sg.nn.Linear(6, 8), new sg.nn.ReLU(), new sg.nn.Linear(8, 3));
}

function data(rows: number, seed: number): { x: sg.Tensor; y: sg.Tensor; xs: Float32Array; ys: Int32Array } {
  const g = new sg.RandomGenerator(seed);
  const xs = Float32Array.from({ length: rows * 6 }, () => g.uniform() * 2 - 1);
  const ys = Int32Array.from({ length: rows }, (_, i) => (xs[i * 6] > 0 ? 1 : 0) + (xs[i * 6 + 1] > 0.5 ? 1 : 0));
  return { x: sg.tensor(xs, [rows, 6]), y: sg.tensor(ys, [rows], { dtype: 'int32' }), xs, ys };
}

/** Runs body(i) `n` times and checks live tensors and bytes are the same after as after warm-up. */
function expectFlat(n: number, body: (i: number) => void): void {
  for (let i = 0; i < 10; i++) body(i);
  const before = sg.memory();
  let peak = before.tensors;
  for (let i = 10; i < n; i++) {
    body(i);
    if (i % 500 === 0) peak = Math.max(peak, sg.memory().tensors);
  }
  const after = sg.memory();
  expect({ tensors: after.tensors, bytes: after.bytes }).toEqual({ tensors: before.tensors, bytes: before.bytes });
  expect(peak - before.tensors).toBeLessThan(50);
}

describe('memory outside the training step: 10,000 iterations stay flat without dispose()', () => {
  it("the README's prediction line, evaluated every step of a training loop", () => {
    const model = tinyModel(1);
    const { x, y } = data(32, 2);
    const test = data(200, 3);
    const opt = new sg.optim.SGD(model.parameters(), { lr: 0.05 });
    let correct = 0;
    expectFlat(ITERATIONS, () => {
      const loss = sg.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const pred = sg.noGrad(() => model.forward(test.x).argmax(1));
      const p = pred.data();
      correct = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === test.ys[i]) correct++;
    });
    expect(correct / 200).toBeGreaterThan(0.6); // it trained: the loop is a real one
  });

  it('argmax and a running accuracy on the logits of every training step', () => {
    const model = tinyModel(4);
    const { x, y, ys } = data(32, 5);
    const opt = new sg.optim.SGD(model.parameters(), { lr: 0.05 });
    let acc = 0;
    const matches = (pred: sg.Tensor, labels: ArrayLike<number>): number => {
      const p = pred.data();
      let n = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) n++;
      return n;
    };
    expectFlat(ITERATIONS, () => {
      const logits = model.forward(x);
      const loss = sg.crossEntropy(logits, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      acc = matches(logits.argmax(1), ys) / 32;
    });
    expect(acc).toBeGreaterThan(0.6);
  });

  it('iterating sg.batches for evaluation under noGrad', () => {
    const model = tinyModel(6);
    const { xs, ys } = data(64, 7);
    let batches = 0;
    let correct = 0;
    const matches = (pred: sg.Tensor, labels: sg.Tensor): number => {
      const p = pred.data();
      const l = labels.data();
      let n = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === l[i]) n++;
      return n;
    };
    expectFlat(ITERATIONS / 8, () => {
      // 8 batches a pass: 10,000 batches in all.
      for (const b of sg.batches(xs, ys, 6, { batchSize: 8 })) {
        correct += matches(sg.noGrad(() => model.forward(b.x).argmax(1)), b.y);
        batches++;
      }
    });
    expect(batches).toBe(ITERATIONS);
    expect(correct).toBeGreaterThan(0);
  });

  it('plain inference: a noGrad call per request, softmax read as numbers', () => {
    const model = tinyModel(8);
    const { x } = data(16, 9);
    let last = 0;
    expectFlat(ITERATIONS, () => {
      const probs = sg.noGrad(() => sg.softmax(model.forward(x), 1));
      last = probs.data()[0];
    });
    expect(last).toBeGreaterThan(0);
  });

  it('a forward pass outside noGrad that is never backpropagated, in a training loop', () => {
    const model = tinyModel(10);
    const { x, y } = data(16, 11);
    const opt = new sg.optim.SGD(model.parameters(), { lr: 0.05 });
    expectFlat(2_000, () => {
      const loss = sg.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      model.forward(x).data(); // a graph nobody backpropagates
    });
  });
});

describe('the step rule', () => {
  it('a noGrad result lives through the next step and is released at the second, with a message saying so', () => {
    const w = sg.tensor([1, 2, 3]);
    const a = sg.noGrad(() => sg.mul(w, 2));
    const b = sg.noGrad(() => sg.mul(w, 3)); // one boundary: a is still readable
    expect(Array.from(a.add(b).data())).toEqual([5, 10, 15]);
    sg.noGrad(() => null); // the second boundary after a
    expect(() => a.data()).toThrow(/result of mul\) was released two steps after it was made.*sg\.keep/);
    expect(() => sg.add(a, 1)).toThrow(/^add: a Tensor\(float32, \[3\]\) \(the result of mul\) was released two steps/);
    expect(Array.from(w.data())).toEqual([1, 2, 3]); // a tensor the user made is never touched
  });

  it('keep() makes a result the caller’s; a released scalar stays readable', () => {
    const w = sg.tensor([1, 2, 3]);
    const kept = sg.keep(sg.noGrad(() => sg.mul(w, 2)));
    const total = sg.noGrad(() => sg.sum(w));
    for (let i = 0; i < 5; i++) sg.noGrad(() => null);
    expect(Array.from(kept.data())).toEqual([2, 4, 6]);
    expect(total.item()).toBe(6);
    kept.dispose();
  });

  it('nothing a noGrad callback makes is released before it returns, however long it loops', () => {
    const w = sg.tensor([1, 2]);
    const collected = sg.noGrad(() => {
      const out: sg.Tensor[] = [];
      for (let i = 0; i < 50; i++) out.push(sg.noGrad(() => sg.mul(w, i))); // nested: no boundary
      return out;
    });
    expect(collected.map((t) => t.data()[1])).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
  });

  it('a graph survives one other backward() (GAN-style), and is released after two if never used', () => {
    const g = sg.tensor([0.5, -0.5], { requiresGrad: true });
    const d = sg.tensor([2, 3], { requiresGrad: true });
    const fake = sg.mul(g, 3); // the generator's output: a graph
    sg.sum(sg.mul(fake.detach(), d)).backward(); // discriminator step
    sg.sum(sg.mul(fake, d)).backward(); // generator step through the same fake
    expect(Array.from(g.grad!.data())).toEqual([6, 9]);

    const unused = sg.mul(g, 5);
    sg.sum(sg.mul(g, 1)).backward();
    expect(Array.from(unused.data())).toEqual([2.5, -2.5]);
    sg.sum(sg.mul(g, 1)).backward();
    expect(() => unused.data()).toThrow(/output of mul\) was released two backward\(\) calls after it was made: its graph was never backpropagated/);
  });

  it('gradient accumulation over several forward passes before one backward()', () => {
    const w = sg.tensor([1, 1], { requiresGrad: true });
    let total = sg.tensor(0);
    for (let i = 1; i <= 4; i++) total = sg.add(total, sg.sum(sg.mul(w, sg.tensor([i, 2 * i]))));
    total.backward();
    expect(Array.from(w.grad!.data())).toEqual([10, 20]);
  });

  it('parameters and persistent state made from op results are never released', () => {
    const p = sg.nn.parameter(sg.mul(sg.tensor([1, 2]), 3));
    const state = sg.persistent(() => sg.mul(sg.tensor([1]), 4));
    const plain = sg.mul(sg.tensor([1, 2]), 3);
    plain.requiresGrad = true; // a leaf the user turned into a trainable tensor
    for (let i = 0; i < 4; i++) {
      sg.noGrad(() => null);
      sg.sum(sg.mul(p, plain)).backward();
    }
    expect(Array.from(p.data())).toEqual([3, 6]);
    expect(Array.from(state.data())).toEqual([4]);
    expect(Array.from(plain.data())).toEqual([3, 6]);
  });
});
