// Datasets of any examples (`Dataset<T>`: length + get(i)) and collate: token sequences,
// pairs, records, graphs with their own collate; the DataLoader and fit over them; batches()
// as the DataLoader path.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const { Module, Linear, Tanh, Sequential } = sg.nn;

function fromArray<T>(items: T[]): sg.MapDataset<T> {
  return { length: items.length, get: (i) => items[i] };
}

describe('collate', () => {
  it('stacks every kind of leaf: tensors, typed arrays, number arrays, numbers, tuples, objects, other values', () => {
    const before = sg.memory().tensors;
    const b = sg.collate([
      { img: sg.tensor([[1, 2]]), tokens: Int32Array.of(5, 6, 7), mask: Uint8Array.of(1, 0, 1), feat: [0.5, 1], label: 2, target: 0.25, pair: [Float32Array.of(1), 3] as [Float32Array, number], id: 'a' },
      { img: sg.tensor([[3, 4]]), tokens: Int32Array.of(8, 9, 10), mask: Uint8Array.of(0, 0, 1), feat: [2, 3], label: 0, target: 1, pair: [Float32Array.of(2), 4] as [Float32Array, number], id: 'b' },
    ]);
    expect(b.img.shape).toEqual([2, 1, 2]);
    expect(b.img.toArray()).toEqual([[[1, 2]], [[3, 4]]]);
    expect([b.tokens.dtype, b.tokens.shape]).toEqual(['int32', [2, 3]]);
    expect(Array.from(b.tokens.data())).toEqual([5, 6, 7, 8, 9, 10]);
    expect([b.mask.dtype, b.mask.shape]).toEqual(['uint8', [2, 3]]);
    expect([b.feat.dtype, b.feat.shape]).toEqual(['float32', [2, 2]]);
    expect([b.label.dtype, Array.from(b.label.data())]).toEqual(['int32', [2, 0]]);
    expect([b.target.dtype, Array.from(b.target.data())]).toEqual(['float32', [0.25, 1]]);
    expect(b.pair[0].shape).toEqual([2, 1]);
    expect(Array.from(b.pair[1].data())).toEqual([3, 4]);
    expect(b.id).toEqual(['a', 'b']);
    sg.dispose(b);
    expect(sg.memory().tensors).toBe(before + 2); // only the two example tensors remain
  });

  it('says which field disagrees, and frees what it made before the error', () => {
    const before = sg.memory();
    expect(() => sg.collate([{ a: [1, 2], t: Int32Array.of(1, 2) }, { a: [3, 4], t: Int32Array.of(1, 2, 3) }]))
      .toThrow(/collate: 't' have different lengths: example 0 has 2, example 1 3 \(pad them to one length or pass a collate function\)/);
    expect(sg.memory().bytes).toBe(before.bytes);
    expect(() => sg.collate([{ a: 1 }, { b: 1 }])).toThrow(/collate: the examples have different fields: \{a\} in example 0, \{b\} in example 1/);
    expect(() => sg.collate([[1, Int32Array.of(1)], [1, 'x']])).toThrow(/collate: '1' differ in kind: example 0 has a typed, example 1 a value/);
    expect(() => sg.collate([])).toThrow(/non-empty array/);
  });
});

describe('DataLoader over any dataset', () => {
  it('token sequences with labels: [N, T] int32 tokens, [N] int32 labels, shuffled reproducibly', () => {
    const ds = fromArray(Array.from({ length: 10 }, (_, i) => ({ tokens: Int32Array.of(i, i + 1, i + 2, i + 3), label: i % 3 })));
    const loader = new sg.DataLoader(ds, { batchSize: 4, shuffle: true, generator: new sg.Generator(1) });
    expect(loader.length).toBe(3);
    const seen: number[] = [];
    for (const b of loader) {
      expect(b.tokens.dtype).toBe('int32');
      expect(b.tokens.shape).toEqual([b.label.shape[0], 4]);
      const t = b.tokens.data();
      const l = b.label.data();
      for (let r = 0; r < b.label.shape[0]; r++) {
        seen.push(t[r * 4]);
        expect(l[r]).toBe(t[r * 4] % 3);
      }
      sg.dispose(b);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(seen).not.toEqual([...Array(10).keys()]);
    expect(() => new sg.DataLoader(ds, { transform: () => {} })).toThrow(/transform applies to a tensor-backed Dataset/);
    expect(() => new sg.DataLoader(ds, { batchsize: 3 } as never)).toThrow(/DataLoader: unknown option 'batchsize'/);
  });

  it('pairs [x, y] train with fit\'s default step; split gives Subsets of any dataset', () => {
    sg.manualSeed(2);
    const g = new sg.Generator(3);
    const pairs = fromArray(Array.from({ length: 300 }, () => {
      const a = g.uniform() * 2 - 1;
      const b = g.uniform() * 2 - 1;
      return [Float32Array.of(a, b), a * b > 0 ? 1 : 0] as [Float32Array, number];
    }));
    const split = sg.splitTrainValTest(pairs, { train: 0.8, val: 0.2 }, 4);
    expect(split.train).toBeInstanceOf(sg.Subset);
    expect(split.train.length + split.val.length).toBe(300);
    expect(split.val.get(0)).toBe(pairs.get(split.indices.val[0]));
    const model = new Sequential(new Linear(2, 16, { init: 'he' }), new sg.nn.ReLU(), new Linear(16, 2));
    const h = sg.fit(model, split.train, {
      epochs: 40, batchSize: 32, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.02 }), loss: 'crossEntropy',
      metrics: ['accuracy'], validationData: split.val,
    });
    expect(h.val_accuracy[39]).toBeGreaterThan(0.9);
    const logits = sg.predict(model, split.val);
    expect(logits.shape).toEqual([60, 2]);
    logits.dispose();
  });
});

// ---- graphs: a custom collate batches graphs of different sizes into one block graph ------

interface Graph { features: Float32Array; edges: [number, number][]; label: number }

/**
 * Random trees of 3..7 nodes with one feature each; label: whether the graph's smoothed signal
 * (each node's mean over itself and its neighbours) is positive on average.
 */
function graphs(n: number, seed: number): sg.Dataset<Graph> {
  const g = new sg.Generator(seed);
  const items: Graph[] = [];
  for (let i = 0; i < n; i++) {
    const nodes = 3 + g.int(5);
    const features = Float32Array.from({ length: nodes }, () => g.normal());
    const edges: [number, number][] = [];
    for (let v = 1; v < nodes; v++) edges.push([g.int(v), v]);
    const sum = features.slice();
    const deg = new Array<number>(nodes).fill(1);
    for (const [u, v] of edges) { sum[u] += features[v]; sum[v] += features[u]; deg[u]++; deg[v]++; }
    const smooth = sum.reduce((s, x, v) => s + x / deg[v], 0);
    items.push({ features, edges, label: smooth > 0 ? 1 : 0 });
  }
  return fromArray(items);
}

/** Block-diagonal batch: node features X [V, 1], normalised adjacency A [V, V] (self loops), mean-pool matrix P [G, V]. */
function collateGraphs(batch: Graph[]): { x: [sg.Tensor, sg.Tensor, sg.Tensor]; y: sg.Tensor } {
  const total = batch.reduce((s, g) => s + g.features.length, 0);
  const a = new Float32Array(total * total);
  const p = new Float32Array(batch.length * total);
  const x = new Float32Array(total);
  let off = 0;
  batch.forEach((g, gi) => {
    const n = g.features.length;
    x.set(g.features, off);
    const deg = new Array<number>(n).fill(1);
    for (const [u, v] of g.edges) { deg[u]++; deg[v]++; }
    const link = (u: number, v: number): void => { a[(off + u) * total + off + v] = 1 / deg[u]; };
    for (let v = 0; v < n; v++) link(v, v);
    for (const [u, v] of g.edges) { link(u, v); link(v, u); }
    for (let v = 0; v < n; v++) p[gi * total + off + v] = 1 / n;
    off += n;
  });
  return {
    x: [sg.tensor(a, [total, total]), sg.tensor(x, [total, 1]), sg.tensor(p, [batch.length, total])],
    y: sg.tensor(Int32Array.from(batch, (g) => g.label)),
  };
}

/** One graph-convolution layer and a mean-pool readout: logits [G, 2]. */
class Gcn extends Module<[sg.Tensor, sg.Tensor, sg.Tensor]> {
  readonly conv = new Linear(1, 8);
  readonly head = new Sequential(new Tanh(), new Linear(8, 2));
  forward(adj: sg.Tensor, feats: sg.Tensor, pool: sg.Tensor): sg.Tensor {
    const h = sg.matmul(adj, this.conv.call(feats));
    return this.head.call(sg.matmul(pool, h));
  }
}

describe('graphs with a custom collate', () => {
  it('a GCN trains with fit\'s default step on block-diagonal batches of graphs of different sizes', () => {
    sg.manualSeed(5);
    const model = new Gcn();
    const train = new sg.DataLoader(graphs(256, 6), { batchSize: 16, shuffle: true, collate: collateGraphs });
    const val = new sg.DataLoader(graphs(64, 7), { batchSize: 64, collate: collateGraphs });
    const mem: number[] = [];
    const h = sg.fit(model, train, {
      epochs: 25, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.02 }), loss: 'crossEntropy', metrics: ['accuracy'],
      validationData: val, callbacks: { onEpochEnd: () => { mem.push(sg.memory().tensors); } },
    });
    expect(h.val_accuracy[24]).toBeGreaterThan(0.9);
    expect(new Set(mem.slice(1)).size).toBe(1);
  });
});

describe('batches() is the DataLoader path', () => {
  it('gives the batches a DataLoader over the same arrays gives, with the same seed', () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => i);
    const y = Int32Array.from({ length: 10 }, (_, i) => i);
    const viaBatches = [...sg.batches(x, y, 3, { batchSize: 4, shuffle: true, generator: new sg.Generator(9) })];
    const viaLoader = [...new sg.DataLoader(new sg.Dataset(x, [3], y), { batchSize: 4, shuffle: true, generator: new sg.Generator(9) })];
    expect(viaBatches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(viaBatches.map((b) => Array.from(b.y.data()))).toEqual(viaLoader.map((b) => Array.from(b.y.data())));
    expect(viaBatches.map((b) => Array.from(b.x.data()))).toEqual(viaLoader.map((b) => Array.from(b.x.data())));
    // Targets of several values per example.
    const wide = [...sg.batches(x, Float32Array.from({ length: 20 }, (_, i) => i), 3, { batchSize: 10 }, 2)];
    expect(wide[0].y.shape).toEqual([10, 2]);
    sg.dispose(viaBatches, viaLoader, wide);
    expect(() => [...sg.batches(x, y, 4, { batchSize: 2 })]).toThrow(/batches: 30 values are not a whole number of 4-feature examples/);
  });
});
