// Embedding: repeated indices accumulate their gradients, the padding row gets none (and
// starts at zero in nn.Embedding), bad indices are errors naming the op and the shapes.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const ids = (v: number[][] | number[]): sg.Tensor => sg.tensor(v, { dtype: 'int32' });

describe('embedding', () => {
  it('accumulates the gradients of repeated indices and gives the padding row none', () => {
    const w = sg.tensor([[1, 2], [3, 4], [5, 6], [7, 8]], { requiresGrad: true });
    const y = sg.embedding(ids([[2, 0, 2], [1, 2, 0]]), w, 0);
    expect(y.toArray()).toEqual([[[5, 6], [1, 2], [5, 6]], [[3, 4], [5, 6], [1, 2]]]);
    const proj = sg.tensor([[[1, 10], [100, 1000], [2, 20]], [[3, 30], [4, 40], [5, 50]]]);
    sg.sum(sg.mul(y, proj)).backward();
    // Row 2 is picked three times: 1 + 2 + 4 and 10 + 20 + 40; row 0 is the padding row.
    expect(w.grad!.toArray()).toEqual([[0, 0], [3, 30], [7, 70], [0, 0]]);
  });

  it('without paddingIdx every row gets its gradient', () => {
    const w = sg.ones([3, 5], { requiresGrad: true });
    sg.sum(sg.embedding(ids([0, 0, 0, 2]), w)).backward();
    expect(w.grad!.toArray()).toEqual([[3, 3, 3, 3, 3], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]);
  });

  it('rejects bad indices with the op name and the shapes', () => {
    const w = sg.zeros([10, 4]);
    expect(() => sg.embedding(ids([[1, 2], [10, 3]]), w)).toThrow('embedding: index 10 at position 2 of indices [2,2] is out of range for weight [10,4] (indices must be in [0, 10))');
    expect(() => sg.embedding(ids([-3]), w)).toThrow('embedding: index -3 at position 0 of indices [1] is out of range for weight [10,4]');
    expect(() => sg.embedding(sg.tensor([1.5]), w)).toThrow("embedding: indices must be int32, got float32 [1] (use tensor(values, { dtype: 'int32' }))");
    expect(() => sg.embedding(sg.zeros([2], { dtype: 'int8' }), w)).toThrow('embedding: indices must be int32, got int8 [2]');
  });
});

describe('nn.Embedding', () => {
  it('starts the padding row at zero, keeps it there through training, and looks rows up', () => {
    sg.manualSeed(1);
    const emb = new sg.nn.Embedding(6, 3, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(5);
    const w = emb.weight.toArray() as number[][];
    expect(w[5]).toEqual([0, 0, 0]);
    expect(w.slice(0, 5).flat().some((v) => v !== 0)).toBe(true);
    const opt = new sg.optim.SGD(emb.parameters(), { lr: 0.5 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      sg.sum(sg.square(emb.forward(ids([[5, 1], [5, 5]])))).backward();
      opt.step();
    }
    expect((emb.weight.toArray() as number[][])[5]).toEqual([0, 0, 0]);
    expect(Object.keys(emb.stateDict())).toEqual(['weight']);
    const y = emb.forward(ids([[1, 5]]));
    expect(y.shape).toEqual([1, 2, 3]);
  });
  it('checks its arguments', () => {
    expect(() => new sg.nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow('Embedding: paddingIdx must be an integer in [-4, 4), got 4');
    expect(() => new sg.nn.Embedding(0, 2)).toThrow('Embedding: num must be a positive integer, got 0');
  });
});
