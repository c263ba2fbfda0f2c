// The CNN main job on a smaller budget: real digits, fixed seed, bounded time.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { mnistImages, trainCnn } from '../examples/mnist-cnn';

describe('MNIST CNN', () => {
  it('the 8,000 / 1,000 / 1,000 split is disjoint and seeded', () => {
    const a = mnistImages(1);
    expect([a.train.length, a.val.length, a.test.length]).toEqual([8000, 1000, 1000]);
    const b = mnistImages(1);
    expect(b.test.targets).toEqual(a.test.targets);
    expect(mnistImages(2).test.targets).not.toEqual(a.test.targets);
  });

  it('LeNet-style CNN reaches >= 96% test accuracy in 3 epochs, memory flat across epochs', () => {
    const data = mnistImages(1);
    const seen: number[] = [];
    const r = trainCnn(data, { epochs: 3, seed: 1, onEpochEnd: () => seen.push(sg.memory().tensors) });
    console.log(`CNN: val ${r.history.val_accuracy.map((v) => (100 * v).toFixed(2)).join(' ')}; test ${(100 * r.testAccuracy).toFixed(2)}%`);
    expect(seen[2]).toBe(seen[1]);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.96);
  });
});
