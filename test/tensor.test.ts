// Tensor creation, reading back, shape ops, broadcasting and the graph's memory rules.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

describe('tensors', () => {
  it('creation and reading back', () => {
    expect(sg.tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(sg.tensor(5).shape).toEqual([]);
    expect(sg.tensor(5).item()).toBe(5);
    expect(sg.zeros([2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(Array.from(sg.ones([3]).data())).toEqual([1, 1, 1]);
    expect(Array.from(sg.arange(5).data())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(sg.arange(1, 2, 0.25).data())).toEqual([1, 1.25, 1.5, 1.75]);
    const i = sg.tensor(new Int32Array([1, 2, 3]));
    expect(i.dtype).toBe('int32');
    expect(Array.from(sg.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]).data())).toEqual([1, 2, 3, 4]);
  });

  it('random tensors follow the seed', () => {
    sg.manualSeed(42);
    const a = Array.from(sg.randn([100]).data());
    sg.manualSeed(42);
    const b = Array.from(sg.randn([100]).data());
    expect(a).toEqual(b);
    const u = Array.from(sg.rand([10000], -2, 3).data());
    const mean = u.reduce((s, v) => s + v, 0) / u.length;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(mean).toBeCloseTo(0.5, 1);
    const n = Array.from(sg.randn([20000], 1, 2).data());
    const m = n.reduce((s, v) => s + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, v) => s + (v - m) ** 2, 0) / n.length);
    expect(m).toBeCloseTo(1, 1);
    expect(sd).toBeCloseTo(2, 1);
  });

  it('shape ops', () => {
    const x = sg.arange(6).reshape([2, 3]);
    expect(x.transpose().toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(sg.slice(x, [0, 1], [2, 2]).toArray()).toEqual([[1, 2], [4, 5]]);
    expect(sg.concat([x, x], 0).shape).toEqual([4, 3]);
    expect(sg.concat([x, sg.zeros([2, 1])], 1).toArray()).toEqual([[0, 1, 2, 0], [3, 4, 5, 0]]);
    const y = sg.arange(24).reshape([2, 3, 4]);
    const p = y.permute([2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    const yd = y.data();
    const pd = p.data();
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) expect(pd[c * 6 + a * 3 + b]).toBe(yd[a * 12 + b * 4 + c]);
  });

  it('broadcasting elementwise ops against a plain reference', () => {
    const a = sg.arange(24).reshape([2, 3, 4]);
    const cases: [number[], string][] = [[[4], 'row'], [[3, 1], 'col'], [[2, 1, 4], 'middle'], [[1], 'scalar'], [[2, 3, 1], 'last']];
    for (const [shape] of cases) {
      const n = shape.reduce((x, y) => x * y, 1);
      const b = sg.arange(1, n + 1).reshape(shape);
      const out = sg.div(sg.sub(a, b), b).data();
      const ad = a.data();
      const bd = b.data();
      const bs = [2, 3, 4].map((_, i) => {
        const k = i - (3 - shape.length);
        return k < 0 ? 1 : shape[k];
      });
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
        const bi = (bs[0] === 1 ? 0 : i) * bs[1] * bs[2] + (bs[1] === 1 ? 0 : j) * bs[2] + (bs[2] === 1 ? 0 : k);
        const want = (ad[i * 12 + j * 4 + k] - bd[bi]) / bd[bi];
        expect(out[i * 12 + j * 4 + k]).toBeCloseTo(want, 5);
      }
    }
    // Scalar on the left (reverse kernels).
    expect(Array.from(sg.sub(10, sg.tensor([1, 2])).data())).toEqual([9, 8]);
    expect(Array.from(sg.div(1, sg.tensor([2, 4])).data())).toEqual([0.5, 0.25]);
  });

  it('reductions and argmax', () => {
    const x = sg.tensor([[1, 5, 3], [7, 2, 7]]);
    expect(sg.sum(x).item()).toBe(25);
    expect(Array.from(sg.sum(x, 0).data())).toEqual([8, 7, 10]);
    expect(Array.from(sg.mean(x, 1).data())).toEqual([3, 16 / 3].map(Math.fround));
    expect(Array.from(sg.max(x, 1).data())).toEqual([5, 7]);
    expect(Array.from(sg.argmax(x, 1).data())).toEqual([1, 0]);
    expect(sg.argmax(x).item()).toBe(3);
    expect(sg.sum(x, 1, true).shape).toEqual([2, 1]);
  });

  it('gradients accumulate across backward calls until cleared', () => {
    const w = sg.tensor([1, 2], { requiresGrad: true });
    sg.sum(sg.mul(w, 3)).backward();
    sg.sum(sg.mul(w, 3)).backward();
    expect(Array.from(w.grad!.data())).toEqual([6, 6]);
  });

  it('noGrad and detach cut the graph', () => {
    const w = sg.tensor([1, 2], { requiresGrad: true });
    const y = sg.noGrad(() => sg.mul(w, 2));
    expect(y.requiresGrad).toBe(false);
    const d = sg.mul(w, 2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(Array.from(d.data())).toEqual([2, 4]);
  });

  it('intermediates stay readable after backward and are released by the next one', () => {
    const w = sg.tensor([1, 2], { requiresGrad: true });
    const h = sg.mul(w, 2);
    const loss = sg.sum(h);
    loss.backward();
    expect(Array.from(h.data())).toEqual([2, 4]);
    sg.sum(sg.mul(w, 1)).backward();
    expect(() => h.data()).toThrow(/released by a later backward/);
    expect(loss.item()).toBe(6); // the loss value stays readable
  });

  it('outputs of a frozen prefix are freed with the graph that used them; reused ones are kept', () => {
    const frozen = sg.tensor([[1, 0], [0, 1]]); // no requiresGrad: a frozen layer
    const w = sg.tensor([[0.5], [0.25]], { requiresGrad: true });
    const stepOnce = (x: sg.Tensor): void => {
      const h = sg.relu(sg.matmul(x, frozen)); // computed without gradient
      sg.sum(sg.matmul(h, w)).backward();
      w.grad!.dispose();
      w.grad = null;
    };
    const batch = (): sg.Tensor => sg.markTransient(sg.tensor([[1, 2], [3, 4]]));
    stepOnce(batch());
    stepOnce(batch());
    const before = sg.memory();
    for (let i = 0; i < 20; i++) stepOnce(batch());
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);

    // Features computed once (grad mode on, no gradient needed) and reused by every step stay alive.
    const features = sg.relu(sg.matmul(sg.tensor([[1, -2], [3, 4]]), frozen));
    for (let i = 0; i < 3; i++) {
      sg.sum(sg.matmul(features, w)).backward();
    }
    expect(Array.from(features.data())).toEqual([1, 0, 3, 4]);
  });

  it('scope disposes what it does not return; dispose frees memory', () => {
    const before = sg.memory();
    const kept = sg.scope(() => {
      const a = sg.ones([100]);
      const b = sg.mul(a, 2);
      return sg.add(b, 1);
    });
    expect(sg.memory().tensors).toBe(before.tensors + 1);
    kept.dispose();
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
  });
});
