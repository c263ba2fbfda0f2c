// Hardening of batches() (plain arrays, tensors) and fit() (an optimizer built on another model).
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

describe('batches() with plain arrays and tensors', () => {
  it('accepts number[] images and labels', () => {
    const got = [...sg.batches([1, 2, 3, 4, 5, 6], [0, 1, 2], 2, { batchSize: 2 })];
    expect(got).toHaveLength(2);
    expect(got[0].x.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(got[0].y.dtype).toBe('int32');
    expect(got[0].y.toArray()).toEqual([0, 1]);
    const reg = [...sg.batches(new Float32Array(4), [0.5, 1.5], 2, { batchSize: 2 })];
    expect(reg[0].y.dtype).toBe('float32');
  });
  it('accepts tensors (gathered in wasm memory): the same batches as typed arrays; wrong sizes refused', () => {
    const xs = new Float32Array(10 * 3).map((_, i) => i * 0.5);
    const ys = new Int32Array(10).map((_, i) => 9 - i);
    const x = sg.tensor(xs, [10, 3]);
    const y = sg.tensor(ys, { dtype: 'int32' });
    const run = (a: Float32Array | sg.Tensor, b: Int32Array | sg.Tensor): number[][] =>
      [...sg.batches(a, b, 3, { batchSize: 4, shuffle: true, generator: new sg.Generator(5) })].map((t) => [...t.x.data(), ...t.y.data()]);
    expect(run(x, y)).toEqual(run(xs, ys));
    expect(run(x, ys)).toEqual(run(xs, ys));
    expect(() => [...sg.batches(x, y, 4, { batchSize: 2 })]).toThrow('batches: 30 values are not a whole number of 4-feature examples');
    expect(() => [...sg.batches(x, sg.zeros([9], { dtype: 'int32' }), 3, { batchSize: 2 })]).toThrow('batches: 10 examples but 9 target values (expected 10)');
    sg.dispose(x, y);
  });
  it('refuses nested arrays and non-numbers clearly', () => {
    expect(() => [...sg.batches([[1, 2], [3, 4]] as never, [0, 1], 2, { batchSize: 2 })]).toThrow(/^batches: x must be a flat array of numbers .*nested array at index 0/);
    expect(() => [...sg.batches([1, 2], ['a'] as never, 2, { batchSize: 1 })]).toThrow('batches: y must hold numbers, got string "a" at index 0');
    expect(() => [...sg.batches('abc' as never, [0], 2, { batchSize: 1 })]).toThrow('batches: x must be a Float32Array, a float32 tensor or an array of numbers, got string');
    expect(() => [...sg.batches(new Float32Array(2), null as never, 2, { batchSize: 1 })]).toThrow(/^batches: y must be .* got null/);
  });
});

describe('fit() checks the optimizer against the model', () => {
  const data = (): sg.Dataset => new sg.Dataset(new Float32Array(8).map((_, i) => i / 8), [2], new Float32Array(4), { targetShape: [1] });
  it('refuses an optimizer built on another model', () => {
    const model = new sg.nn.Linear(2, 1);
    const other = new sg.nn.Linear(2, 1);
    expect(() => sg.fit(model, data(), { epochs: 1, optimizer: new sg.optim.SGD(other.parameters(), { lr: 0.1 }), loss: 'mse' }))
      .toThrow(/^fit: the optimizer's parameters are not parameters of the model \(2 of its 2/);
    expect(() => sg.fit(model, data(), {
      epochs: 1, optimizers: { a: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), b: new sg.optim.SGD(other.parameters(), { lr: 0.1 }) },
      trainStep: () => ({ loss: 0 }),
    })).toThrow(/^fit: optimizers\.b's parameters are not parameters of the model/);
  });
  it('accepts an optimizer over a subset of the model (fine-tuning)', () => {
    const model = new sg.nn.Sequential(new sg.nn.Linear(2, 3), new sg.nn.Linear(3, 1));
    const head = model.parameters().slice(2);
    const before = model.parameters()[0].data();
    const h = sg.fit(model, data(), { epochs: 1, batchSize: 4, optimizer: new sg.optim.SGD(head, { lr: 0.1 }), loss: 'mse' });
    expect(h.loss).toHaveLength(1);
    expect(model.parameters()[0].data()).toEqual(before);
  });
});
