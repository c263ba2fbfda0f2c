// Bad input gets a clear Error naming the op and the shapes.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';

describe('bad input', () => {
  it('matmul with different inner dimensions', () => {
    expect(() => sg.matmul(sg.zeros([64, 784]), sg.zeros([128, 10]))).toThrow('matmul: inner dimensions differ: [64,784] x [128,10]');
  });
  it('add with shapes that do not broadcast', () => {
    expect(() => sg.add(sg.zeros([3, 4]), sg.zeros([5]))).toThrow('add: shapes [3,4] and [5] cannot be broadcast together');
  });
  it('a loss with prediction and target of different shapes', () => {
    expect(() => sg.mseLoss(sg.zeros([4, 3]), sg.zeros([4, 2]))).toThrow('mseLoss: prediction [4,3] and target [4,2] must have the same shape');
  });
  it('float labels where class indices are needed', () => {
    expect(() => sg.crossEntropy(sg.zeros([2, 3]), sg.tensor([0, 1]))).toThrow(/crossEntropy: labels must be int32 class indices, got float32 \[2\]/);
  });
  it('a label out of range', () => {
    expect(() => sg.crossEntropy(sg.zeros([2, 3]), sg.tensor([0, 3], { dtype: 'int32' }))).toThrow('crossEntropy: label 3 at row 1 is out of range [0, 3) for logits [2,3]');
    expect(() => sg.crossEntropy(sg.zeros([2, 3]), sg.tensor([-1, 0], { dtype: 'int32' }))).toThrow(/label -1 at row 0/);
  });
  it('label count differing from the batch', () => {
    expect(() => sg.crossEntropy(sg.zeros([2, 3]), sg.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow('crossEntropy: expected logits [batch, classes] and labels [batch], got [2,3] and [3]');
  });
  it('the NaN detector names the first op producing a non-finite value', () => {
    sg.setDetectAnomaly(true);
    try {
      const x = sg.tensor([1, -1, 4], { requiresGrad: true });
      const h = sg.sub(x, 2); // finite: passes
      expect(() => sg.log(h)).toThrow('log produced 2 non-finite values (NaN or Inf) in its output [3] from inputs [3]');
      // In backward: d sqrt(x)/dx at 0 is Inf.
      const r = sg.sqrt(sg.tensor([0, 1], { requiresGrad: true }));
      expect(() => sg.sum(r).backward()).toThrow(/backward of sqrt produced 1 non-finite value/);
    } finally {
      sg.setDetectAnomaly(false);
    }
    // Off again: a NaN passes silently, as in PyTorch.
    expect(Number.isNaN(sg.log(sg.tensor([-1])).item())).toBe(true);
  });
  it('tensor creation errors', () => {
    expect(() => sg.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => sg.tensor([1, 2, 3], [2, 2])).toThrow('tensor: 3 values do not fit shape [2,2] (4 elements)');
    expect(() => sg.tensor([1.5], { dtype: 'int32' })).toThrow(/int32 tensor needs integer values/);
    expect(() => sg.zeros([2, -1])).toThrow(/invalid shape \[2,-1\]/);
    expect(() => sg.reshape(sg.zeros([2, 3]), [4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) into [4,2]');
  });
  it('linear with wrong feature count names the shapes', () => {
    const l = new sg.nn.Linear(4, 2);
    expect(() => l.forward(sg.zeros([3, 5]))).toThrow('linear: input features differ: input [3,5], weight [2,4] expects 4');
  });
  it('using a disposed tensor', () => {
    const t = sg.zeros([2]);
    t.dispose();
    expect(() => sg.add(t, 1)).toThrow(/was disposed/);
  });
  it('backward on a non-scalar without a gradient', () => {
    const x = sg.zeros([3], { requiresGrad: true });
    expect(() => sg.mul(x, 2).backward()).toThrow(/backward: root has shape \[3\]/);
  });
});
