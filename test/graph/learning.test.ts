// What graph learning must show (issue 16): semi-supervised node classification and random-walk
// embeddings on Zachary's karate club, GCN against a features-only MLP on a stochastic block
// model, the over-smoothing curve of stacked GCN layers with and without skip connections,
// link prediction from embeddings, and graph classification on block-diagonal batches.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { karate } from './karate';

const LABELLED = [0, 33]; // the instructor (Mr. Hi) and the administrator (Officer)
const unlabelled = Array.from({ length: 34 }, (_, v) => v).filter((v) => !LABELLED.includes(v));

/** Features-only baseline: the same training, the graph ignored. */
class Mlp extends sg.nn.Module<[sg.graph.Graph, sg.Tensor]> {
  readonly net: sg.nn.Sequential;
  constructor(inF: number, hidden: number, out: number) {
    super();
    this.net = new sg.nn.Sequential(new sg.nn.Dropout(0.5), new sg.nn.Linear(inF, hidden), new sg.nn.ReLU(), new sg.nn.Dropout(0.5), new sg.nn.Linear(hidden, out));
  }
  forward(_g: sg.graph.Graph, x: sg.Tensor): sg.Tensor {
    return this.net.call(x);
  }
}

describe('karate club (two labelled members)', () => {
  it('a 2-layer GCN on one-hot features recovers the factions of >= 90 % of the other 32 members', () => {
    const { graph } = karate('onehot');
    for (const seed of [1, 2, 3]) {
      sg.manualSeed(seed);
      const model = new sg.graph.GCN([34, 16, 2]);
      const r = sg.graph.trainNodeClassifier(model, graph, { train: LABELLED, evaluate: unlabelled, epochs: 100, lr: 0.01 });
      expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('two message-passing layers (sum, self message) recover them too', () => {
    const { graph } = karate('onehot');
    sg.manualSeed(4);
    class Mp extends sg.nn.Module<[sg.graph.Graph, sg.Tensor]> {
      readonly a = new sg.graph.MessagePassing(34, 16, { aggregate: 'sum', selfMessage: true, activation: 'relu' });
      readonly b = new sg.graph.MessagePassing(16, 2, { aggregate: 'sum', selfMessage: true, message: new sg.nn.Linear(16, 2) });
      forward(g: sg.graph.Graph, x: sg.Tensor): sg.Tensor { return this.b.call(g, this.a.call(g, x)); }
    }
    const r = sg.graph.trainNodeClassifier(new Mp(), graph, { train: LABELLED, evaluate: unlabelled, epochs: 100, lr: 0.01 });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('random-walk embeddings (DeepWalk and node2vec) separate the factions: k-means agrees with the clubs', () => {
    const { graph } = karate();
    for (const [p, q] of [[1, 1], [1, 0.5]]) {
      const gen = new sg.Generator(3);
      const e = sg.graph.trainNodeEmbeddings(graph, { dim: 16, walkLength: 10, walksPerNode: 20, window: 3, epochs: 5, p, q, generator: gen });
      expect(e.losses.at(-1)!).toBeLessThan(e.losses[0]);
      const cluster = sg.graph.kMeans(e.z, e.dim, 2, { generator: gen });
      // Clusters named by the two labelled members.
      expect(cluster[0]).not.toBe(cluster[33]);
      const pred = Array.from(cluster, (c) => (c === cluster[0] ? 0 : 1));
      expect(sg.graph.accuracyOn(pred, graph.labels!, unlabelled)).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('the full-softmax objective of the notes trains too', () => {
    const { graph } = karate();
    const e = sg.graph.trainNodeEmbeddings(graph, { dim: 8, walksPerNode: 10, epochs: 3, objective: 'softmax', generator: new sg.Generator(5) });
    expect(e.losses.at(-1)!).toBeLessThan(e.losses[0]);
  });
});

describe('stochastic block model, 5 communities, noisy features, 20 labels per community', () => {
  it('a 2-layer GCN clearly beats an MLP on the features alone (3,000 nodes here; 10,000 in examples/sbm)', () => {
    const gen = new sg.Generator(5);
    const g = sg.graph.stochasticBlockModel({ sizes: [600, 600, 600, 600, 600], pIn: 0.012, pOut: 0.0012, features: { dim: 16, signal: 0.35 }, generator: gen });
    const split = sg.graph.splitNodes(g, { trainPerClass: 20, generator: gen });
    sg.manualSeed(2);
    const gcn = sg.graph.trainNodeClassifier(new sg.graph.GCN([16, 32, 5], { dropout: 0.5 }), g, { train: split.train, epochs: 60, lr: 0.02 });
    sg.manualSeed(2);
    const mlp = sg.graph.trainNodeClassifier(new Mlp(16, 32, 5), g, { train: split.train, epochs: 60, lr: 0.02 });
    expect(gcn.accuracy).toBeGreaterThan(0.85);
    expect(mlp.accuracy).toBeLessThan(0.65);
    expect(gcn.accuracy - mlp.accuracy).toBeGreaterThan(0.25);
  });
});

describe('over-smoothing (§1.13.6.3)', () => {
  it('mean pairwise distance shrinks as plain GCN layers are stacked; skip connections slow it', () => {
    const g = sg.graph.stochasticBlockModel({ sizes: [200, 200, 200, 200, 200], pIn: 0.04, pOut: 0.004, features: { dim: 16, signal: 1 }, generator: new sg.Generator(5) });
    const curve = (skip: boolean): number[] => {
      sg.manualSeed(3);
      const layers = Array.from({ length: 16 }, () => new sg.graph.GCNConv(16, 16, { skip, activation: 'relu' }));
      const out = [sg.graph.meanPairwiseDistance(g.x())];
      sg.noGrad(() => {
        let h = g.x();
        for (const l of layers) {
          h = l.call(g, h);
          out.push(sg.graph.meanPairwiseDistance(h));
        }
      });
      return out;
    };
    const plain = curve(false);
    const skip = curve(true);
    // Plain: down at every depth we look at, to under a fifth by 16 layers.
    for (const k of [1, 2, 4, 8, 16]) expect(plain[k]).toBeLessThan(plain[k / 2 === 0.5 ? 0 : k / 2]);
    expect(plain[16] / plain[0]).toBeLessThan(0.2);
    // Skip connections keep the embeddings apart for longer.
    for (const k of [2, 4, 8]) expect(skip[k]).toBeGreaterThan(1.5 * plain[k]);
  });
});

describe('link prediction from embeddings (§1.13.2.2)', () => {
  it('held-out edges score above non-edges (dot product and Hadamard features)', () => {
    const gen = new sg.Generator(8);
    const g = sg.graph.stochasticBlockModel({ sizes: [100, 100, 100], pIn: 0.1, pOut: 0.005, generator: gen });
    const { train, positives, negatives } = sg.graph.splitEdges(g, 0.1, gen);
    const e = sg.graph.trainNodeEmbeddings(train, { dim: 16, walksPerNode: 10, epochs: 3, batchSize: 1024, lr: 0.05, generator: gen });
    const dot = (pairs: [number, number][]): Float32Array => sg.graph.pairFeatures(e.z, e.dim, pairs, 'dot');
    const auc = sg.graph.rocAuc(dot(positives), dot(negatives));
    // Inside a block an SBM's edges are random: knowing the planted communities is the best a
    // score can do, and it is the ceiling this is measured against.
    const same = (pairs: [number, number][]): number[] => pairs.map(([u, v]) => (g.labels![u] === g.labels![v] ? 1 : 0));
    const oracle = sg.graph.rocAuc(same(positives), same(negatives));
    expect(auc).toBeGreaterThan(0.68);
    expect(auc).toBeGreaterThan(0.85 * oracle);
    const h = sg.graph.pairFeatures(e.z, e.dim, positives.slice(0, 2), 'hadamard');
    expect(h.length).toBe(2 * e.dim);
    expect(h[0]).toBeCloseTo(e.z[positives[0][0] * e.dim] * e.z[positives[0][1] * e.dim], 6);
  });
});

describe('graph classification on block-diagonal batches', () => {
  it('GCN layers + mean readout learn whether a graph is a cycle or a path, with the DataLoader', () => {
    const gen = new sg.Generator(9);
    const make = (i: number): { graph: sg.graph.Graph; label: number } => {
      const n = 4 + gen.int(6);
      const cycle = i % 2;
      const edges: [number, number][] = Array.from({ length: n - 1 }, (_, v) => [v, v + 1]);
      if (cycle === 1) edges.push([n - 1, 0]);
      return { graph: new sg.graph.Graph({ numNodes: n, edges }), label: cycle };
    };
    const items = Array.from({ length: 64 }, (_, i) => make(i));
    const data: sg.MapDataset<{ graph: sg.graph.Graph; label: number }> = { length: items.length, get: (i) => items[i] };
    const loader = new sg.DataLoader(data, {
      batchSize: 16, shuffle: true, generator: new sg.Generator(1),
      collate: (b) => ({ batch: sg.graph.batchGraphs(b.map((x) => x.graph)), y: Int32Array.from(b, (x) => x.label) }),
    });
    sg.manualSeed(6);
    const conv1 = new sg.graph.GCNConv(1, 16, { activation: 'relu' });
    const conv2 = new sg.graph.GCNConv(16, 16, { activation: 'relu' });
    const head = new sg.nn.Linear(16, 2);
    const params = [...conv1.parameters(), ...conv2.parameters(), ...head.parameters()];
    const opt = new sg.optim.Adam(params, { lr: 0.01 });
    // Degree as the feature: a path has two ends of degree 1, a cycle none.
    const deg = (g: sg.graph.Graph): sg.Tensor => sg.tensor(Array.from({ length: g.numNodes }, (_, v) => g.degree(v)), [g.numNodes, 1]);
    const accs: number[] = [];
    for (let epoch = 0; epoch < 60; epoch++) {
      let right = 0;
      for (const { batch, y } of loader) {
        const logits = head.forward(sg.graph.readout(conv2.call(batch, conv1.call(batch, deg(batch))), batch, 'mean'));
        const loss = sg.crossEntropy(logits, sg.tensor(y, [y.length], { dtype: 'int32' }));
        opt.zeroGrad();
        sg.backward(loss);
        opt.step();
        const pred = sg.graph.argmaxRows(logits);
        right += pred.reduce((s, p, i) => s + (p === y[i] ? 1 : 0), 0);
        batch.dispose();
      }
      accs.push(right / items.length);
    }
    expect(Math.min(...accs.slice(-2))).toBeGreaterThanOrEqual(0.95);
  });
});
