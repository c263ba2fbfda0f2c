// Convergence on real data (the `mnist` package's digits) and flat memory in a long loop.
import { beforeAll, describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { PIXELS, accuracy, makeMlp, splitDigits, trainMlp, type MnistSplit } from '../examples/mnist-mlp';

let data: MnistSplit;
beforeAll(() => {
  data = splitDigits(8000, 2000, 1);
});

describe('MNIST', () => {
  it('the split is seeded, disjoint and class-balanced enough', () => {
    const again = splitDigits(8000, 2000, 1);
    expect(again.testY).toEqual(data.testY);
    const other = splitDigits(8000, 2000, 2);
    expect(other.testY).not.toEqual(data.testY);
    const counts = new Array(10).fill(0);
    for (const y of data.testY) counts[y]++;
    for (const c of counts) expect(c).toBeGreaterThan(150);
  });

  it('MLP 784-128-10 reaches >= 92% held-out accuracy in 6 epochs', () => {
    const { testAccuracy, history } = trainMlp(data, { epochs: 6, seed: 1 });
    console.log(history.map((h) => `epoch ${h.epoch}: loss ${h.loss.toFixed(4)} acc ${(100 * h.testAccuracy).toFixed(2)}% ${Math.round(h.samplesPerSecond)} samples/s`).join('\n'));
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss);
    expect(testAccuracy).toBeGreaterThanOrEqual(0.92);
  });

  it('2,000 training steps keep live tensors and bytes where they were after step 100', () => {
    sg.manualSeed(3);
    const model = makeMlp();
    const opt = new sg.optim.Adam(model.parameters(), { lr: 1e-3 });
    let stepNo = 0;
    let at100: ReturnType<typeof sg.memory> | null = null;
    while (stepNo < 2000) {
      for (const b of sg.batches(data.trainX, data.trainY, PIXELS, { batchSize: 64, shuffle: true, dropLast: true })) {
        const loss = sg.crossEntropy(model.forward(b.x), b.y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        stepNo++;
        if (stepNo === 100) at100 = sg.memory();
        if (stepNo === 2000) break;
      }
    }
    const end = sg.memory();
    expect(at100).not.toBeNull();
    expect(end.tensors).toBe(at100!.tensors);
    expect(end.bytes).toBe(at100!.bytes);
    expect(accuracy(model, data.testX, data.testY)).toBeGreaterThan(0.9);
  });
});
