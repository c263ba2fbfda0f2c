// Datasets, the DataLoader, the seeded split (notes §1.1.1.6), the standardizer (notes
// §1.3.5.4, training statistics only) and image augmentation.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { gatherRowsInto } from '../src/ops/inplace';

/** n examples of `shape`, example i filled with i*1000 + position, labels i % classes. */
function indexed(n: number, shape: number[], classes = 3): sg.Dataset {
  const f = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) x[i * f + j] = i * 1000 + j;
  const y = new Int32Array(n).map((_, i) => i % classes);
  return new sg.Dataset(x, shape, y);
}

/** Example ids (value / 1000 of the first feature) of a batch. */
function ids(b: sg.LoaderBatch): number[] {
  const d = b.x.data();
  const f = b.x.size / b.size;
  return Array.from({ length: b.size }, (_, i) => Math.round(d[i * f] / 1000));
}

describe('Dataset', () => {
  it('holds examples of a shape, gets them and takes subsets', () => {
    const ds = indexed(5, [2, 3]);
    expect(ds.length).toBe(5);
    expect(ds.featureSize).toBe(6);
    expect(ds.targetShape).toEqual([]);
    expect(ds.hasLabels).toBe(true);
    const e = ds.get(2);
    expect(Array.from(e.x)).toEqual([2000, 2001, 2002, 2003, 2004, 2005]);
    expect(Array.from(e.y)).toEqual([2]);
    e.x[0] = -1; // a copy
    expect(ds.features[12]).toBe(2000);
    const sub = ds.subset([4, 0, 4]);
    expect(sub.length).toBe(3);
    expect(Array.from(sub.targets)).toEqual([1, 0, 1]);
    expect(sub.get(0).x[0]).toBe(4000);
    expect(sub.exampleShape).toEqual([2, 3]);
  });

  it('float targets of several values per example', () => {
    const ds = new sg.Dataset(new Float32Array(8), [2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(ds.targetShape).toEqual([2]);
    expect(Array.from(ds.get(3).y)).toEqual([7, 8]);
    const t = ds.yTensor();
    expect(t.shape).toEqual([4, 2]);
    t.dispose();
  });

  it('fromTensors and back', () => {
    const x = sg.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = sg.tensor([0, 1, 0], { dtype: 'int32' });
    const ds = sg.Dataset.fromTensors(x, y);
    expect(ds.length).toBe(3);
    const x2 = ds.xTensor();
    expect(x2.toArray()).toEqual(x.toArray());
    sg.dispose(x, y, x2);
  });

  it('rejects inconsistent data with clear messages', () => {
    expect(() => new sg.Dataset(new Float32Array(7), [2, 3], new Int32Array(1))).toThrow(/7 feature values are not a whole number of examples of shape \[2,3\]/);
    expect(() => new sg.Dataset(new Float32Array(12), [2, 3], new Int32Array(3))).toThrow(/2 examples but 3 target values, not a whole number per example/);
    expect(() => new sg.Dataset([1, 2] as unknown as Float32Array, [1], new Int32Array(2))).toThrow(/Float32Array/);
    expect(() => indexed(3, [2]).get(3)).toThrow(/index 3 is out of range for a dataset of 3 examples/);
  });
});

describe('DataLoader', () => {
  it('yields [B, ...exampleShape] batches covering the data in order; dropLast', () => {
    const ds = indexed(10, [1, 2, 2]);
    const loader = new sg.DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const got: number[] = [];
    const sizes: number[] = [];
    for (const b of loader) {
      expect(b.x.shape).toEqual([b.size, 1, 2, 2]);
      expect(b.y.shape).toEqual([b.size]);
      expect(b.y.dtype).toBe('int32');
      got.push(...ids(b));
      sizes.push(b.size);
      expect(Array.from(b.y.data())).toEqual(ids(b).map((i) => i % 3));
      sg.dispose(b.x, b.y);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sizes).toEqual([4, 4, 2]);
    const dl = new sg.DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dl.length).toBe(2);
    expect([...dl].map((b) => { sg.dispose(b.x, b.y); return b.size; })).toEqual([4, 4]);
  });

  it('reshuffles every epoch, each epoch a permutation, reproducible from the seed', () => {
    const ds = indexed(20, [3]);
    const epochs = (seed: number): number[][] => {
      const loader = new sg.DataLoader(ds, { batchSize: 6, shuffle: true, generator: new sg.Generator(seed) });
      const out: number[][] = [];
      for (let e = 0; e < 3; e++) {
        const order: number[] = [];
        for (const b of loader) {
          order.push(...ids(b));
          sg.dispose(b.x, b.y);
        }
        out.push(order);
      }
      return out;
    };
    const a = epochs(7);
    for (const order of a) expect([...order].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(a[0]).not.toEqual(a[1]);
    expect(a[1]).not.toEqual(a[2]);
    expect(epochs(7)).toEqual(a);
    expect(epochs(8)[0]).not.toEqual(a[0]);
  });

  it('uses the global generator by default (manualSeed reproduces it)', () => {
    const ds = indexed(12, [2]);
    const first = (): number[] => {
      const b = new sg.DataLoader(ds, { batchSize: 12, shuffle: true })[Symbol.iterator]().next().value as sg.LoaderBatch;
      const r = ids(b);
      sg.dispose(b.x, b.y);
      return r;
    };
    sg.manualSeed(3);
    const a = first();
    sg.manualSeed(3);
    expect(first()).toEqual(a);
  });

  it('disposing the batches keeps memory flat; the batches are transient for a graph', () => {
    const ds = indexed(64, [8]);
    const loader = new sg.DataLoader(ds, { batchSize: 16, shuffle: true });
    const before = sg.memory();
    for (let e = 0; e < 3; e++) for (const b of loader) sg.dispose(b.x, b.y);
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
    // In a training step the graph owns the batch: released by the next backward().
    const w = sg.tensor(new Float32Array(8).fill(0.1), [8, 1], { requiresGrad: true });
    for (let e = 0; e < 2; e++) {
      for (const b of loader) {
        w.grad?.dispose();
        w.grad = null;
        b.y.dispose(); // not used by this graph, so not owned by it
        sg.sum(sg.matmul(b.x, w)).backward();
      }
    }
    sg.releaseGraphs();
    w.dispose();
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
  });

  it('rejects bad options', () => {
    const ds = indexed(4, [2]);
    expect(() => new sg.DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new sg.DataLoader({} as sg.Dataset)).toThrow(/expected a Dataset/);
    expect(() => new sg.DataLoader(ds, { transform: 3 as unknown as sg.Transform })).toThrow(/transform must be a function/);
  });
});

describe('datasets held in tensors (Dataset.fromTensors: batches gathered in wasm memory)', () => {
  /** Batches of a loader over ds as plain values (x bits, y values), disposing them. */
  const epochsOf = (ds: sg.Dataset, opts: Omit<sg.DataLoaderOptions, 'collate'>, epochs = 2): { x: Int32Array; y: number[]; size: number }[] => {
    const loader = new sg.DataLoader(ds, opts);
    const out: { x: Int32Array; y: number[]; size: number }[] = [];
    for (let e = 0; e < epochs; e++) {
      for (const b of loader) {
        const xd = b.x.data() as Float32Array;
        out.push({ x: new Int32Array(xd.buffer, xd.byteOffset, xd.length), y: Array.from(b.y.data()), size: b.size });
        expect(b.x.shape).toEqual([b.size, ...ds.exampleShape]);
        expect(b.y.shape).toEqual([b.size, ...ds.targetShape]);
        expect(b.y.dtype).toBe(ds.hasLabels ? 'int32' : 'float32');
        sg.dispose(b.x, b.y);
      }
    }
    return out;
  };

  it('yields the batches of the same data in typed arrays, bit for bit (labels, multi-value targets, partial batch)', () => {
    const xs = new Float32Array(37 * 15).map((_, i) => Math.sin(i) * 100);
    xs[7] = Number.NaN;
    xs[8] = -0;
    const labels = new Int32Array(37).map((_, i) => (i * 5) % 7);
    const targets = new Float32Array(37 * 2).map((_, i) => i / 3);
    for (const [y, yShape] of [[labels, [37]], [targets, [37, 2]]] as const) {
      const plain = new sg.Dataset(xs, [3, 5], y);
      const x = sg.tensor(xs, [37, 3, 5]);
      const yt = sg.tensor(y, [...yShape], { dtype: y instanceof Int32Array ? 'int32' : 'float32' });
      const held = sg.Dataset.fromTensors(x, yt);
      expect(held.exampleShape).toEqual([3, 5]);
      expect(held.targetShape).toEqual(plain.targetShape);
      expect(held.hasLabels).toBe(y instanceof Int32Array);
      for (const opts of [{ batchSize: 8 }, { batchSize: 10, shuffle: true }, { batchSize: 16, shuffle: true, dropLast: true }]) {
        const want = epochsOf(plain, { ...opts, generator: new sg.Generator(11) });
        const got = epochsOf(held, { ...opts, generator: new sg.Generator(11) });
        expect(got.map((b) => b.size)).toEqual(want.map((b) => b.size));
        for (let i = 0; i < want.length; i++) {
          expect(got[i].x).toEqual(want[i].x);
          expect(got[i].y).toEqual(want[i].y);
        }
      }
      // The loader read the tensors, it did not free or change them.
      expect(x.isAlive && yt.isAlive).toBe(true);
      expect(new Int32Array((x.data() as Float32Array).buffer)).toEqual(new Int32Array(xs.slice().buffer));
      sg.dispose(x, yt);
    }
  });

  it('mixed sources, get, subset, features and a transform behave as with typed arrays', () => {
    const xs = new Float32Array(6 * 4).map((_, i) => i);
    const ys = new Int32Array([5, 4, 3, 2, 1, 0]);
    const x = sg.tensor(xs, [6, 4]);
    const y = sg.tensor(ys, { dtype: 'int32' });
    const plain = new sg.Dataset(xs, [2, 2], ys);
    for (const ds of [new sg.Dataset(x, [2, 2], ys), new sg.Dataset(xs, [2, 2], y), new sg.Dataset(x, [2, 2], y)]) {
      expect(ds.length).toBe(6);
      expect(Array.from(ds.get(4).x)).toEqual([16, 17, 18, 19]);
      expect(Array.from(ds.get(4).y)).toEqual([1]);
      expect(Array.from(ds.features)).toEqual(Array.from(xs));
      expect(Array.from(ds.targets)).toEqual(Array.from(ys));
      const sub = ds.subset([5, 0, 5]);
      // Copies: in new tensors where the source is a tensor, in typed arrays otherwise.
      expect(sub.featureSource instanceof sg.Tensor).toBe(ds.featureSource instanceof sg.Tensor);
      expect(sub.targetSource instanceof sg.Tensor).toBe(ds.targetSource instanceof sg.Tensor);
      expect(sub.featureSource).not.toBe(ds.featureSource);
      expect(Array.from(sub.get(0).x)).toEqual([20, 21, 22, 23]);
      expect(Array.from(sub.targets)).toEqual([0, 5, 0]);
      sub.dispose();
      expect(ds.xTensor().toArray()).toEqual(plain.xTensor().toArray());
      const yt = ds.yTensor();
      expect([yt.dtype, yt.toArray()]).toEqual(['int32', Array.from(ys)]);
      expect(yt).not.toBe(ds.targetSource); // a copy the caller owns
      const flip = (v: Float32Array): void => { v.reverse(); };
      const a = epochsOf(ds, { batchSize: 4, shuffle: true, transform: flip, generator: new sg.Generator(2) }, 1);
      const b = epochsOf(plain, { batchSize: 4, shuffle: true, transform: flip, generator: new sg.Generator(2) }, 1);
      expect(a).toEqual(b);
    }
    sg.dispose(x, y);
  });

  it('an op result as the source survives training steps (the dataset keeps it); training matches typed arrays', () => {
    sg.manualSeed(3);
    const flat = sg.rand([64 * 6]);
    const xs = flat.data() as Float32Array;
    const ys = new Int32Array(64).map((_, i) => (xs[i * 6] > 0.5 ? 1 : 0));
    const held = sg.Dataset.fromTensors(flat.reshape([64, 6]), sg.tensor(ys, { dtype: 'int32' }));
    const losses = (ds: sg.Dataset): number[] => {
      sg.manualSeed(9);
      const model = new sg.nn.Sequential(new sg.nn.Linear(6, 8), new sg.nn.ReLU(), new sg.nn.Linear(8, 2));
      const h = sg.fit(model, ds, { epochs: 4, batchSize: 16, shuffle: true, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy' });
      return h.loss;
    };
    const want = losses(new sg.Dataset(xs, [6], ys));
    expect(losses(held)).toEqual(want); // 16 steps: the reshape result outlived the step rule's two steps
    expect(want[3]).toBeLessThan(want[0]);
    const before = sg.memory();
    epochsOf(held, { batchSize: 10, shuffle: true }, 3);
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
    sg.dispose(held.featureSource as sg.Tensor, held.targetSource as sg.Tensor, flat);
  });

  it('subsets and splits of a tensor-backed dataset stay in tensors, which dispose() frees (not the caller\'s)', () => {
    sg.manualSeed(6);
    const x = sg.randn([50, 7]);
    const y = sg.tensor(Int32Array.from({ length: 50 }, (_, i) => i % 4), { dtype: 'int32' });
    const held = sg.Dataset.fromTensors(x, y);
    const plain = new sg.Dataset(x.data() as Float32Array, [7], y.data() as Int32Array);
    const before = sg.memory();
    const split = sg.splitTrainValTest(held, { train: 0.6, val: 0.4 }, 3);
    const plainSplit = sg.splitTrainValTest(plain, { train: 0.6, val: 0.4 }, 3);
    for (const part of ['train', 'val'] as const) {
      expect(split[part].featureSource).toBeInstanceOf(sg.Tensor);
      expect(split[part].targetSource).toBeInstanceOf(sg.Tensor);
      expect(epochsOf(split[part], { batchSize: 8, shuffle: true, generator: new sg.Generator(4) }, 1))
        .toEqual(epochsOf(plainSplit[part], { batchSize: 8, shuffle: true, generator: new sg.Generator(4) }, 1));
    }
    expect(split.test.length).toBe(0);
    expect(sg.memory().tensors).toBe(before.tensors + 6); // x and y of train, val and the empty test
    split.train.dispose();
    split.val.dispose();
    split.test.dispose();
    expect(sg.memory().tensors).toBe(before.tensors);
    expect(sg.memory().bytes).toBe(before.bytes);
    expect(x.isAlive && y.isAlive).toBe(true);
    expect(() => held.subset([0, 50])).toThrow('Dataset.subset: index 50 is out of range for a dataset of 50 examples');
    expect(sg.memory().tensors).toBe(before.tensors); // the refused subset made nothing
    const empty = held.subset([]);
    expect(empty.length).toBe(0);
    empty.dispose();
    sg.dispose(x, y);
  });

  it('rejects tensors of the wrong dtype or size, and says so when a source was disposed', () => {
    const x = sg.zeros([4, 3]);
    expect(() => sg.Dataset.fromTensors(sg.zeros([4, 3], { dtype: 'int32' }), sg.zeros([4], { dtype: 'int32' }))).toThrow(/x must be float32, got int32 \[4,3\]/);
    expect(() => new sg.Dataset(x, [3], sg.zeros([4], { dtype: 'uint8' }))).toThrow(/a targets tensor must be int32 \(class labels\) or float32, got uint8 \[4\]/);
    expect(() => new sg.Dataset(sg.zeros([12], { dtype: 'int8' }), [3], new Int32Array(4))).toThrow(/a features tensor must be float32, got int8 \[12\]/);
    expect(() => new sg.Dataset(x, [5], new Int32Array(2))).toThrow(/12 feature values are not a whole number of examples of shape \[5\]/);
    expect(() => sg.Dataset.fromTensors(x, sg.zeros([3], { dtype: 'int32' }))).toThrow(/same number of rows, got \[4,3\] and \[3\]/);
    const gone = sg.zeros([2, 2]);
    gone.dispose();
    expect(() => new sg.Dataset(gone, [2], new Int32Array(2))).toThrow(/features tensor \[2,2\] was disposed/);
    const y = sg.zeros([4], { dtype: 'int32' });
    const ds = sg.Dataset.fromTensors(x, y);
    x.dispose();
    const before = sg.memory();
    expect(() => [...new sg.DataLoader(ds, { batchSize: 2 })]).toThrow(/DataLoader: the dataset's features tensor \[4,3\] was disposed; a dataset made from tensors reads them/);
    expect(sg.memory().tensors).toBe(before.tensors); // the half-made batch was freed
    y.dispose();
  });
});

describe('gatherRowsInto (the loader\'s row gather)', () => {
  it('copies the rows in order (repeats allowed) and refuses bad rows, dtypes and sizes', () => {
    const src = sg.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3]);
    const dst = sg.zeros([4, 3]);
    gatherRowsInto(dst, src, 3, new Int32Array([2, 0, 2, 1]));
    expect(dst.toArray()).toEqual([[6, 7, 8], [0, 1, 2], [6, 7, 8], [3, 4, 5]]);
    const written = Array.from(dst.data());
    const ints = sg.tensor(new Int32Array([7, 8, 9]));
    const out = sg.zeros([2], { dtype: 'int32' });
    gatherRowsInto(out, ints, 1, new Int32Array([2, 1]));
    expect(out.toArray()).toEqual([9, 8]);
    expect(() => gatherRowsInto(dst, src, 3, new Int32Array([0, 3]))).toThrow('gatherRowsInto: row 3 at position 1 is outside src [3,3] (3 rows of 3)');
    expect(() => gatherRowsInto(dst, src, 3, new Int32Array([-1]))).toThrow('gatherRowsInto: row -1 at position 0 is outside src [3,3]');
    expect(() => gatherRowsInto(dst, src, 3, new Int32Array(5))).toThrow('gatherRowsInto: elements [0, 15) are outside tensor [4,3] (12 elements)');
    expect(() => gatherRowsInto(dst, src, 4, new Int32Array(1))).toThrow('gatherRowsInto: rowSize must be a positive integer dividing src [3,3] (9 elements), got 4');
    expect(() => gatherRowsInto(out, src, 3, new Int32Array(1))).toThrow('gatherRowsInto: src and dst must both be float32 or both int32, got float32 [3,3] and int32 [2]');
    expect(Array.from(dst.data())).toEqual(written); // refused calls wrote nothing
    sg.dispose(src, dst, ints, out);
  });
});

describe('splitTrainValTest', () => {
  const ds = indexed(100, [2]);
  const idsOf = (d: sg.Dataset): number[] => Array.from({ length: d.length }, (_, i) => Math.round(d.get(i).x[0] / 1000));

  it('fractions: disjoint, covering, sized, examples match their indices', () => {
    const s = sg.splitTrainValTest(ds, { train: 0.7, val: 0.15, test: 0.15 }, 1);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([70, 15, 15]);
    const all = [...s.indices.train, ...s.indices.val, ...s.indices.test];
    expect(new Set(all).size).toBe(100);
    expect(idsOf(s.val)).toEqual(Array.from(s.indices.val));
    expect(idsOf(s.train)).toEqual(Array.from(s.indices.train));
    // Shuffled, not the first 70 in order.
    expect(Array.from(s.indices.train)).not.toEqual([...Array(70).keys()]);
  });

  it('seeded: the same seed gives the same split, another seed another', () => {
    const a = sg.splitTrainValTest(ds, { train: 0.8, val: 0.1, test: 0.1 }, 42);
    const b = sg.splitTrainValTest(ds, { train: 0.8, val: 0.1, test: 0.1 }, 42);
    const c = sg.splitTrainValTest(ds, { train: 0.8, val: 0.1, test: 0.1 }, 43);
    expect(b.indices).toEqual(a.indices);
    expect(c.indices.test).not.toEqual(a.indices.test);
    const g1 = new sg.Generator(5);
    const g2 = new sg.Generator(5);
    expect(sg.splitTrainValTest(ds, { train: 0.5 }, g1).indices).toEqual(sg.splitTrainValTest(ds, { train: 0.5 }, g2).indices);
  });

  it('counts, and fractions that leave examples out', () => {
    const s = sg.splitTrainValTest(ds, { train: 50, val: 20, test: 10 }, 0);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([50, 20, 10]);
    const f = sg.splitTrainValTest(ds, { train: 0.5, val: 0.2 }, 0);
    expect([f.train.length, f.val.length, f.test.length]).toEqual([50, 20, 0]);
    expect(new Set([...f.indices.train, ...f.indices.val]).size).toBe(70);
  });

  it('rejects impossible sizes', () => {
    expect(() => sg.splitTrainValTest(ds, { train: 90, val: 20 }, 0)).toThrow(/ask for 90 \+ 20 \+ 0 examples, the dataset has 100/);
    expect(() => sg.splitTrainValTest(ds, { train: 2.5 }, 0)).toThrow(/fractions summing to <= 1 or integer counts/);
    expect(() => sg.splitTrainValTest(ds, { train: -1 }, 0)).toThrow(/train must be a number >= 0/);
  });
});

describe('Standardizer (notes §1.3.5.4)', () => {
  it('per feature: μ and σ (1/N) by hand, x̂ = (x − μ)/σ', () => {
    const train = new sg.Dataset(new Float32Array([1, 10, 3, 20, 5, 60]), [2], new Int32Array(3));
    const s = new sg.Standardizer().fit(train);
    expect(Array.from(s.mean)).toEqual([3, 30]);
    // σ² = ((1-3)² + 0 + (5-3)²)/3 = 8/3; ((10-30)² + (20-30)² + (60-30)²)/3 = 1400/3
    expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(1400 / 3), 4);
    const t = s.transform(train);
    const col0 = [t.features[0], t.features[2], t.features[4]];
    expect(col0[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 5);
    const m = col0.reduce((a, b) => a + b) / 3;
    const v = col0.reduce((a, b) => a + (b - m) ** 2, 0) / 3;
    expect(m).toBeCloseTo(0, 6);
    expect(v).toBeCloseTo(1, 5);
  });

  it('uses the training statistics only: validation data is shifted by the training μ, σ', () => {
    sg.manualSeed(4);
    const all = new Float32Array(200 * 3).map(() => sg.rng.normal() * 2 + 5);
    const ds = new sg.Dataset(all, [3], new Int32Array(200));
    const split = sg.splitTrainValTest(ds, { train: 0.5, val: 0.5 }, 9);
    // Shift the validation set so its own statistics differ from the training set's.
    const valShifted = new sg.Dataset(split.val.features.map((v) => v + 10), [3], split.val.targets);
    const s = new sg.Standardizer().fit(split.train);
    const fittedOnTrain = Array.from(s.mean);
    const tv = s.transform(valShifted);
    expect(Array.from(s.mean)).toEqual(fittedOnTrain); // transform does not refit
    for (let i = 0; i < 12; i++) {
      const f = i % 3;
      expect(tv.features[i]).toBeCloseTo((valShifted.features[i] - s.mean[f]) / s.std[f], 5);
    }
    // The validation set is clearly not centred: its own statistics were not used.
    const meanVal = tv.features.reduce((a, b) => a + b, 0) / tv.features.length;
    expect(meanVal).toBeGreaterThan(3);
    // And the statistics are exactly those of the training rows.
    const col0 = Array.from({ length: split.train.length }, (_, i) => split.train.features[i * 3]);
    expect(s.mean[0]).toBeCloseTo(col0.reduce((a, b) => a + b) / col0.length, 5);
  });

  it('per channel on images: one μ, σ per channel over all pixels; works as a DataLoader transform', () => {
    const x = new Float32Array(2 * 2 * 2 * 2);
    // Channel 0 holds 0..7 across the two images, channel 1 holds 100 + 2*(0..7).
    for (let n = 0; n < 2; n++) for (let p = 0; p < 4; p++) {
      x[n * 8 + p] = n * 4 + p;
      x[n * 8 + 4 + p] = 100 + 2 * (n * 4 + p);
    }
    const ds = new sg.Dataset(x, [2, 2, 2], new Int32Array(2));
    const s = new sg.Standardizer().fit(ds);
    expect(Array.from(s.mean)).toEqual([3.5, 107]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5.25), 5);
    expect(s.std[1]).toBeCloseTo(2 * Math.sqrt(5.25), 5);
    const viaLoader = new sg.DataLoader(ds, { batchSize: 2, transform: s });
    const b = [...viaLoader][0];
    const direct = s.transform(ds).features;
    const got = b.x.data();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(direct[i], 6);
    sg.dispose(b.x, b.y);
  });

  it('a tensor-backed dataset gives a tensor-backed copy with the same values; its dispose() frees it', () => {
    sg.manualSeed(6);
    const xs = new Float32Array(40 * 2 * 3 * 3).map(() => sg.rng.normal() * 3 + 1);
    const ys = Int32Array.from({ length: 40 }, (_, i) => i % 4);
    const arrays = new sg.Dataset(xs, [2, 3, 3], ys);
    const xT = sg.tensor(xs, [40, 2, 3, 3]);
    const yT = sg.tensor(ys, [40], { dtype: 'int32' });
    const tensors = sg.Dataset.fromTensors(xT, yT);
    const s = new sg.Standardizer().fit(arrays);
    const before = sg.memory();
    const fromArrays = s.transform(arrays);
    const fromTensors = s.transform(tensors);
    expect(fromArrays.featureSource).toBeInstanceOf(Float32Array);
    expect(fromArrays.targets).toBe(ys);
    expect(fromTensors.featureSource).toBeInstanceOf(sg.Tensor);
    expect(fromTensors.targetSource).toBeInstanceOf(sg.Tensor);
    expect(Array.from(fromTensors.features)).toEqual(Array.from(fromArrays.features));
    expect(Array.from(fromTensors.targets)).toEqual(Array.from(ys));
    // The caller's tensors are untouched, and the copy's batches come from its own tensors.
    expect(Array.from(xT.data())).toEqual(Array.from(xs));
    const batch = [...new sg.DataLoader(fromTensors, { batchSize: 40 })][0];
    expect(Array.from(batch.x.data())).toEqual(Array.from(fromArrays.features));
    sg.dispose(batch.x, batch.y);
    fromTensors.dispose();
    expect(sg.memory().bytes).toBe(before.bytes);
    expect(Array.from(yT.data())).toEqual(Array.from(ys));
    sg.dispose(xT, yT);
  });

  it('constant features are centred, not divided by zero; errors before fit', () => {
    const ds = new sg.Dataset(new Float32Array([2, 1, 2, 3]), [2], new Int32Array(2));
    const s = new sg.Standardizer();
    expect(() => s.transform(ds)).toThrow(/call fit\(trainingData\) first/);
    const t = s.fitTransform(ds);
    expect(Array.from(t.features)).toEqual([0, -1, 0, 1]);
    expect(() => s.transform(indexed(2, [3]))).toThrow(/fitted on examples \[2\], the dataset has \[3\]/);
  });
});

describe('augmentation', () => {
  // One 1x5x5 image with a single bright pixel at (2, 2).
  const dot = (): Float32Array => {
    const x = new Float32Array(25);
    x[12] = 1;
    return x;
  };
  const where = (x: Float32Array): [number, number] => {
    const i = x.indexOf(1);
    return [Math.floor(i / 5), i % 5];
  };

  it('randomCrop with padding p shifts by up to p pixels, filling the border, every shift reached', () => {
    const t = sg.randomCrop({ padding: 2 });
    const g = new sg.Generator(1);
    const seen = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const x = dot();
      t.apply(x, [1, 5, 5], g);
      expect(x.reduce((a, b) => a + b, 0)).toBe(1);
      const [r, c] = where(x);
      expect(Math.abs(r - 2)).toBeLessThanOrEqual(2);
      expect(Math.abs(c - 2)).toBeLessThanOrEqual(2);
      seen.add(`${r},${c}`);
    }
    expect(seen.size).toBe(25);
    // A shifted ramp: values move in, the vacated side takes the fill value.
    const ramp = new Float32Array([1, 2, 3, 4]);
    const shifted = sg.randomShift(1, { fill: -1, generator: new sg.Generator(0) });
    let sawShift = false;
    for (let k = 0; k < 50 && !sawShift; k++) {
      const x = ramp.slice();
      shifted.apply(x, [1, 1, 4], new sg.Generator(k));
      if (x[0] !== 1 || x[3] !== 4) {
        sawShift = true;
        expect(x.includes(-1)).toBe(true);
      }
    }
    expect(sawShift).toBe(true);
  });

  it('horizontal flip mirrors rows (p = 1), leaves the image alone with p = 0', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const g = new sg.Generator(0);
    const y = x.slice();
    sg.randomHorizontalFlip({ p: 1 }).apply(y, [2, 2, 3], g);
    expect(Array.from(y)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
    const z = x.slice();
    sg.randomHorizontalFlip({ p: 0 }).apply(z, [2, 2, 3], g);
    expect(z).toEqual(x);
    expect(() => sg.randomHorizontalFlip({ p: 2 })).toThrow(/p must be a number in \[0, 1\]/);
    expect(() => sg.randomHorizontalFlip().apply(new Float32Array(4), [4], g)).toThrow(/expects image examples \[C, H, W\]/);
  });

  it('Gaussian noise has the requested spread', () => {
    const x = new Float32Array(20000);
    sg.gaussianNoise({ std: 0.5, mean: 1 }).apply(x, [20000], new sg.Generator(3));
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const s = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
    expect(m).toBeCloseTo(1, 1);
    expect(s).toBeCloseTo(0.5, 1);
  });

  it('a composed augmentation in a DataLoader is reproducible from the seed and differs per epoch', () => {
    const ds = indexed(8, [1, 4, 4]);
    const aug = sg.compose(sg.randomShift(1), sg.gaussianNoise({ std: 0.1 }), (x: Float32Array) => { x[0] += 0; });
    const run = (seed: number): number[][] => {
      const loader = new sg.DataLoader(ds, { batchSize: 8, shuffle: true, generator: new sg.Generator(seed), transform: aug });
      const out: number[][] = [];
      for (let e = 0; e < 2; e++) {
        for (const b of loader) {
          out.push(Array.from(b.x.data()));
          sg.dispose(b.x, b.y);
        }
      }
      return out;
    };
    const a = run(11);
    expect(run(11)).toEqual(a);
    expect(run(12)).not.toEqual(a);
    expect(a[0]).not.toEqual(a[1]);
    // The dataset itself is never modified.
    expect(ds.features[1]).toBe(1);
  });

  it('a transform with its own generator ignores the loader generator', () => {
    const ds = indexed(4, [1, 3, 3]);
    const run = (loaderSeed: number): number[] => {
      const t = sg.gaussianNoise({ std: 1, generator: new sg.Generator(99) });
      const b = [...new sg.DataLoader(ds, { batchSize: 4, generator: new sg.Generator(loaderSeed), transform: t })][0];
      const d = Array.from(b.x.data());
      sg.dispose(b.x, b.y);
      return d;
    };
    expect(run(1)).toEqual(run(2));
  });
});
