// Permutation symmetries (notes §1.13.3.1) as property tests: for random graphs, features and
// permutations P, node functions are equivariant, f(PAPᵀ, PX) = P f(A, X), and graph
// functions (readouts of them) invariant, f(PAPᵀ, PX) = f(A, X).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

/** A random undirected graph of 2..12 nodes with 2-D features and a permutation of its nodes. */
const graphAndPermutation = fc.integer({ min: 2, max: 12 }).chain((n) => fc.record({
  n: fc.constant(n),
  edges: fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: 3 * n }),
  x: fc.array(fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }), { minLength: 2 * n, maxLength: 2 * n }),
  perm: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
}));

function build({ n, edges, x }: { n: number; edges: [number, number][]; x: number[] }): sg.graph.Graph {
  return new sg.graph.Graph({ numNodes: n, edges, features: x, featureDim: 2 });
}

/** Rows of m permuted: row i of the result is row perm[i] of m (P m). */
function permuteRows(m: number[][], perm: number[]): number[][] {
  return perm.map((p) => m[p]);
}

function expectClose(a: number[][], b: number[][]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) expect(Math.abs(a[i][j] - b[i][j])).toBeLessThan(1e-4);
}

describe('permutation symmetries (fast-check)', () => {
  sg.manualSeed(12);
  const gcn = new sg.graph.GCNConv(2, 3, { activation: 'relu' });
  const layers: [string, (g: sg.graph.Graph, x: sg.Tensor) => sg.Tensor][] = [
    ['GCNConv (ReLU)', (g, x) => gcn.call(g, x)],
    ['MessagePassing sum with self message', (() => { const l = new sg.graph.MessagePassing(2, 3, { selfMessage: true }); return (g: sg.graph.Graph, x: sg.Tensor) => l.call(g, x); })()],
    ['MessagePassing mean', (() => { const l = new sg.graph.MessagePassing(2, 3, { aggregate: 'mean' }); return (g: sg.graph.Graph, x: sg.Tensor) => l.call(g, x); })()],
    ['MessagePassing max', (() => { const l = new sg.graph.MessagePassing(2, 3, { aggregate: 'max' }); return (g: sg.graph.Graph, x: sg.Tensor) => l.call(g, x); })()],
    ['2-layer GCN with skip connections', (() => { const m = new sg.graph.GCN([2, 4, 3], { skip: true }); return (g: sg.graph.Graph, x: sg.Tensor) => m.call(g, x); })()],
  ];

  for (const [name, f] of layers) {
    it(`${name} is equivariant: f(PAPᵀ, PX) = P f(A, X)`, () => {
      fc.assert(fc.property(graphAndPermutation, (c) => {
        const g = build(c);
        const gp = g.permute(c.perm);
        sg.noGrad(() => {
          const y = f(g, g.x()).toArray() as number[][];
          const yp = f(gp, gp.x()).toArray() as number[][];
          expectClose(yp, permuteRows(y, c.perm));
        });
        g.dispose();
        gp.dispose();
      }), { numRuns: 60, seed: 16 });
    });
  }

  for (const reduce of ['sum', 'mean', 'max'] as const) {
    it(`the ${reduce} readout of a GCN layer is invariant: f(PAPᵀ, PX) = f(A, X)`, () => {
      fc.assert(fc.property(graphAndPermutation, (c) => {
        const g = build(c);
        const gp = g.permute(c.perm);
        sg.noGrad(() => {
          const z = sg.graph.readout(gcn.call(g, g.x()), null, reduce).toArray() as number[][];
          const zp = sg.graph.readout(gcn.call(gp, gp.x()), null, reduce).toArray() as number[][];
          expectClose(zp, z);
        });
        g.dispose();
        gp.dispose();
      }), { numRuns: 60, seed: 17 });
    });
  }

  it('an MLP on the flattened adjacency and features is neither (the notes\' counterexample)', () => {
    const g = build({ n: 4, edges: [[0, 1], [1, 2], [2, 3]], x: [1, 0, 0, 1, 1, 1, 0, 0] });
    const gp = g.permute([3, 1, 0, 2]);
    const mlp = new sg.nn.Linear(8, 4);
    const y = sg.noGrad(() => mlp.forward(sg.reshape(g.x(), [1, 8])).toArray() as number[][]);
    const yp = sg.noGrad(() => mlp.forward(sg.reshape(gp.x(), [1, 8])).toArray() as number[][]);
    expect(Math.max(...y[0].map((v, i) => Math.abs(v - yp[0][i])))).toBeGreaterThan(1e-3);
  });
});
