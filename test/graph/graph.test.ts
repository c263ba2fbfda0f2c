// Graph data (src/graph/graph.ts): CSR built once from edge lists, the normalised adjacencies
// of notes §1.13.5.1–2 against dense matrices, splits, block-diagonal batches, the stochastic
// block model, and the sparse ops on many threads against one.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { karate } from './karate';

const { Graph } = sg.graph;

/** The adjacency as a dense matrix, from the CSR arrays. */
function dense(a: { indptr: ArrayLike<number>; indices: ArrayLike<number>; weights: ArrayLike<number> }, n: number): number[][] {
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < n; r++) for (let e = a.indptr[r]; e < a.indptr[r + 1]; e++) m[r][a.indices[e]] += a.weights[e];
  return m;
}

describe('Graph', () => {
  it('builds a sorted, duplicate-merged CSR from an undirected edge list, with default features', () => {
    const g = new Graph({ edges: [[2, 0], [0, 1], [1, 2], [0, 2], [3, 3]] });
    expect(g.numNodes).toBe(4);
    expect(Array.from(g.indptr)).toEqual([0, 2, 4, 6, 7]);
    expect(Array.from(g.indices)).toEqual([1, 2, 0, 2, 0, 1, 3]);
    // The edge 0-2 was listed twice: one entry of weight 2.
    expect(Array.from(g.weights)).toEqual([1, 2, 1, 1, 2, 1, 1]);
    expect([g.featureDim, Array.from(g.features)]).toEqual([1, [1, 1, 1, 1]]);
    expect(Array.from(g.neighbors(0))).toEqual([1, 2]);
    expect([g.hasEdge(1, 0), g.hasEdge(3, 0), g.degree(3)]).toEqual([true, false, 1]);
    expect(new Graph({ numNodes: 3, edges: [], features: 'onehot' }).features).toEqual(Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]));
  });

  it('keeps directions for a directed graph: row v lists the sources of edges into v', () => {
    const g = new Graph({ numNodes: 3, directed: true, edges: { src: [0, 0, 1], dst: [1, 2, 2] }, weights: [0.5, 2, 3] });
    expect(dense({ indptr: g.indptr, indices: g.indices, weights: g.weights }, 3)).toEqual([[0, 0, 0], [0.5, 0, 0], [2, 3, 0]]);
    expect(g.edgeIndex()).toEqual({ src: Int32Array.from([0, 0, 1]), dst: Int32Array.from([1, 2, 2]) });
  });

  it('normalises as the notes define: Ã = A + I, D⁻¹Ã rows sum to 1, D̃^{-1/2} Ã D̃^{-1/2} entries 1/√(d_u d_v)', () => {
    const { graph } = karate();
    const n = graph.numNodes;
    const A = dense({ indptr: graph.indptr, indices: graph.indices, weights: graph.weights }, n);
    const At = A.map((row, i) => row.map((v, j) => v + (i === j ? 1 : 0)));
    const d = At.map((row) => row.reduce((s, v) => s + v, 0));
    expect(dense(graph.adjacencyArrays({ selfLoops: true }), n)).toEqual(At);
    const row = dense(graph.adjacencyArrays({ selfLoops: true, normalize: 'row' }), n);
    const sym = dense(graph.adjacencyArrays({ selfLoops: true, normalize: 'symmetric' }), n);
    for (let i = 0; i < n; i++) {
      expect(row[i].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      for (let j = 0; j < n; j++) {
        expect(row[i][j]).toBeCloseTo(At[i][j] / d[i], 6);
        expect(sym[i][j]).toBeCloseTo(At[i][j] / Math.sqrt(d[i] * d[j]), 6);
      }
    }
    // The GCN propagation through spmm is the dense product with that matrix.
    const x = sg.randn([n, 3]);
    const got = sg.graph.propagate(graph.gcnAdjacency(), x).toArray() as number[][];
    const xs = x.toArray() as number[][];
    for (let i = 0; i < n; i++) for (let f = 0; f < 3; f++) {
      expect(got[i][f]).toBeCloseTo(sym[i].reduce((s, v, j) => s + v * xs[j][f], 0), 4);
    }
  });

  it('reads the karate club from graphology-generators: 34 members, 78 edges, two clubs of 17', () => {
    const { graph, classes } = karate();
    expect([graph.numNodes, graph.numEntries / 2]).toEqual([34, 78]);
    expect(classes).toEqual(['Mr. Hi', 'Officer']);
    expect([graph.labels![0], graph.labels![33], graph.labels!.reduce((s, c) => s + c, 0)]).toEqual([0, 1, 17]);
  });

  it('splits nodes into train (k per class) / val / test sets and masks', () => {
    const g = sg.graph.stochasticBlockModel({ sizes: [30, 40, 50], pIn: 0.2, pOut: 0.01, generator: new sg.Generator(1) });
    const s = sg.graph.splitNodes(g, { trainPerClass: 4, val: 20, generator: new sg.Generator(2) });
    expect(s.train.length).toBe(12);
    expect([0, 1, 2].map((c) => Array.from(s.train).filter((v) => g.labels![v] === c).length)).toEqual([4, 4, 4]);
    expect([s.val.length, s.test.length]).toEqual([20, 88]);
    const all = new Set([...s.train, ...s.val, ...s.test]);
    expect(all.size).toBe(120);
    expect(s.trainMask.reduce((a, b) => a + b, 0) + s.valMask.reduce((a, b) => a + b, 0) + s.testMask.reduce((a, b) => a + b, 0)).toBe(120);
  });

  it('samples a stochastic block model with the planted edge densities', () => {
    const sizes = [500, 500, 500];
    const g = sg.graph.stochasticBlockModel({ sizes, pIn: 0.02, pOut: 0.002, features: { dim: 4, signal: 1 }, generator: new sg.Generator(3) });
    let inside = 0;
    let across = 0;
    const { src, dst } = g.edgeIndex();
    for (let e = 0; e < src.length; e++) {
      if (src[e] === dst[e]) throw new Error('self-loop');
      if (g.labels![src[e]] === g.labels![dst[e]]) inside++;
      else across++;
    }
    // Expected undirected edges: 3·C(500,2)·0.02 = 7485 inside, 3·500²·0.002 = 1500 across (entries count twice).
    expect(inside / 2).toBeGreaterThan(7485 * 0.93);
    expect(inside / 2).toBeLessThan(7485 * 1.07);
    expect(across / 2).toBeGreaterThan(1500 * 0.88);
    expect(across / 2).toBeLessThan(1500 * 1.12);
    expect(g.featureDim).toBe(4);
  });

  it('batches graphs block-diagonally; readouts sum, mean and max over each graph', () => {
    const a = new Graph({ edges: [[0, 1]], features: [[1, 2], [3, 4]] });
    const b = new Graph({ edges: [[0, 1], [1, 2]], features: [[5, 6], [7, 8], [9, -1]] });
    const batch = sg.graph.batchGraphs([a, b]);
    expect([batch.numNodes, batch.numGraphs, Array.from(batch.graphIndex), Array.from(batch.offsets)]).toEqual([5, 2, [0, 0, 1, 1, 1], [0, 2, 5]]);
    expect(Array.from(batch.neighbors(3))).toEqual([2, 4]);
    expect(batch.hasEdge(1, 2)).toBe(false);
    const x = batch.x();
    expect(sg.graph.readout(x, batch, 'sum').toArray()).toEqual([[4, 6], [21, 13]]);
    expect(sg.graph.readout(x, batch, 'mean').toArray()).toEqual([[2, 3], [7, 13 / 3].map((v) => Math.fround(v))]);
    expect(sg.graph.readout(x, batch, 'max').toArray()).toEqual([[3, 4], [9, 8]]);
    expect(sg.graph.readout(x, null, 'max').toArray()).toEqual([[9, 8]]);
    batch.dispose();
  });

  it('refuses bad graphs with messages naming the problem', () => {
    expect(() => new Graph({ numNodes: 2, edges: [[0, 2]] })).toThrow('Graph: edge target 2 is not a node id in [0, 2)');
    expect(() => new Graph({ edges: [[0, 1]], weights: [1, 2] })).toThrow('Graph: 2 weights for 1 edges');
    expect(() => new Graph({ edges: [[0, 1]], features: [1, 2, 3] })).toThrow('Graph: 3 feature values are not 2 rows of featureDim values');
    expect(() => new Graph({ edges: [[0, 1]] }).permute([0, 0])).toThrow('Graph: 0 appears twice in the permutation');
  });
});

describe('sparse ops on threads', () => {
  it('spmm (sum, mean, max), gatherRows and scatterRows give the same results and gradients on 2 threads as on 1', async () => {
    const g = sg.graph.stochasticBlockModel({ sizes: [3000, 3000], pIn: 0.004, pOut: 0.001, generator: new sg.Generator(4) });
    const adj = g.adjacency({ selfLoops: true, normalize: 'symmetric' });
    const { src, dst } = g.edgeTensors();
    const x = sg.randn([g.numNodes, 37], 0, 1, { requiresGrad: true });
    const run = (): number[][] => {
      const outs: number[][] = [];
      for (const reduce of ['sum', 'mean', 'max'] as const) {
        const y = sg.spmm(adj.indptr, adj.indices, adj.values, x, reduce);
        sg.backward(sg.sum(sg.mul(y, y)));
        outs.push(Array.from(y.data()), Array.from(x.grad!.data()));
        x.grad!.dispose();
        x.grad = null;
      }
      const m = sg.scatterRows(sg.gatherRows(x, src), dst, g.numNodes, 'sum');
      sg.backward(sg.sum(sg.mul(m, m)));
      outs.push(Array.from(m.data()), Array.from(x.grad!.data()));
      x.grad!.dispose();
      x.grad = null;
      return outs;
    };
    const before = sg.getThreads();
    sg.setThreads(1);
    const one = run();
    sg.setThreads(2);
    await sg.startThreads();
    const two = run();
    sg.setThreads(before);
    expect(two.length).toBe(one.length);
    for (let i = 0; i < one.length; i++) expect(two[i]).toEqual(one[i]);
  });
});
