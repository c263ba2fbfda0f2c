// Graph ops (notes §1.13.4–1.13.5): sparse × dense products over a CSR matrix with sum, mean
// or max aggregation (SpMM), and the edge-wise gather and scatter of general message passing.
// Kernels in assembly/graph.ts.
//
// Row r of the CSR matrix lists the nodes r aggregates from, so `spmm(A, X)` is AX for sum and
// D⁻¹AX for mean. Gather and scatter are SpMMs too: gathering rows x[index[e]] multiplies by a
// matrix with one entry per row, and scattering messages to nodes by its transpose. All three
// therefore share one threaded forward (disjoint row blocks) and one backward: the adjoint of
// a sum/mean product is a sum product with the transposed matrix, rebuilt per backward in
// O(nnz) so that the scatter of gradients also runs on row blocks instead of colliding writes.
// Max routes each gradient to the edge that won (its argmax), on one thread.
import { kernels } from '../../bindings/index.js';
import { readAt } from '../../bindings/memory.js';
import { runPlan, type Step } from '../../bindings/parallel/index.js';
import { arange, empty, fmt, full, tensor, zeros, type Tensor } from '../core/tensor.js';
import { assertFloat, assertTensor, nonNegativeInt, oneOf } from '../core/validate.js';
import { callOp, defineOp, type HostTensor, type OpFn, type OpSample } from './registry.js';

export type Aggregation = 'sum' | 'mean' | 'max';
const AGGREGATIONS: readonly Aggregation[] = ['sum', 'mean', 'max'];

/** A CSR matrix as the kernels take it; values null means every stored entry is 1. */
interface Csr {
  indptr: Tensor;
  indices: Tensor;
  values: Tensor | null;
  rows: number;
  cols: number;
  nnz: number;
}

const ptrOf = (t: Tensor | null): number => (t === null ? 0 : t.ptr);

// ---- shared forward / backward on a CSR matrix ---------------------------------------------

/** Row blocks over the threads; each block writes only its own rows of the output. */
function byRows(rows: number, nnz: number, F: number, call: (r0: number, r1: number, s: Step) => void): void {
  runPlan({
    flops: 2 * nnz * Math.max(1, F) + rows, items: rows, ranges: { perThread: 4 },
    work: (s, r0, n) => call(r0, r0 + n, s),
  });
}

function aggregateForward(a: Csr, x: Tensor, reduce: Aggregation): { out: Tensor; argmax: Tensor | null } {
  const F = x.shape[1];
  const out = empty([a.rows, F]);
  const [ip, ix, vp, xp] = [a.indptr.ptr, a.indices.ptr, ptrOf(a.values), x.ptr];
  if (reduce === 'max') {
    const argmax = empty([a.rows, F], 'int32');
    byRows(a.rows, a.nnz, F, (r0, r1, s) => s.call('spmmMax', [ip, ix, vp, xp, F, r0, r1, out.ptr, argmax.ptr]));
    return { out, argmax };
  }
  const mean = reduce === 'mean' ? 1 : 0;
  byRows(a.rows, a.nnz, F, (r0, r1, s) => s.call('spmmSum', [ip, ix, vp, xp, F, r0, r1, out.ptr, mean]));
  return { out, argmax: null };
}

/** Gradients of aggregate(a, x) with respect to x and to a's values (each only when asked). */
function aggregateBackward(a: Csr, x: Tensor, g: Tensor, reduce: Aggregation, argmax: Tensor | null,
  wantX: boolean, wantValues: boolean): { dx: Tensor | null; dvalues: Tensor | null } {
  const F = x.shape[1];
  const k = kernels();
  if (reduce === 'max') {
    const dx = zeros(x.shape);
    const dvalues = wantValues ? zeros([a.nnz]) : null;
    k.spmmMaxBackward(g.ptr, argmax!.ptr, a.indices.ptr, ptrOf(a.values), x.ptr, a.rows, F, dx.ptr, ptrOf(dvalues));
    if (!wantX) dx.dispose();
    return { dx: wantX ? dx : null, dvalues };
  }
  const mean = reduce === 'mean' ? 1 : 0;
  let dx: Tensor | null = null;
  if (wantX) {
    const tIndptr = empty([a.cols + 1], 'int32');
    const tIndices = empty([a.nnz], 'int32');
    const tValues = empty([a.nnz]);
    try {
      k.csrTranspose(a.indptr.ptr, a.indices.ptr, ptrOf(a.values), a.rows, a.cols, mean, tIndptr.ptr, tIndices.ptr, tValues.ptr);
      const out = empty(x.shape);
      byRows(a.cols, a.nnz, F, (r0, r1, s) => s.call('spmmSum', [tIndptr.ptr, tIndices.ptr, tValues.ptr, g.ptr, F, r0, r1, out.ptr, 0]));
      dx = out;
    } finally {
      tIndptr.dispose();
      tIndices.dispose();
      tValues.dispose();
    }
  }
  let dvalues: Tensor | null = null;
  if (wantValues) {
    const out = empty([a.nnz]);
    byRows(a.rows, a.nnz, F, (r0, r1, s) => s.call('spmmValuesGrad', [a.indptr.ptr, a.indices.ptr, g.ptr, x.ptr, F, r0, r1, out.ptr, mean]));
    dvalues = out;
  }
  return { dx, dvalues };
}

// ---- argument checks ------------------------------------------------------------------------

function assertIndexVector(op: string, t: unknown, what: string): asserts t is Tensor {
  assertTensor(op, t, what);
  if (t.dtype !== 'int32' || t.ndim !== 1) throw new Error(`${op}: ${what} must be a 1-D int32 tensor, got ${t.dtype} ${fmt(t.shape)}`);
}

function assertMatrix(op: string, x: unknown, what: string): asserts x is Tensor {
  assertTensor(op, x, what);
  assertFloat(op, x);
  if (x.ndim !== 2) throw new Error(`${op}: ${what} must be [nodes, features], got ${fmt(x.shape)}`);
}

/** Checks the CSR structure in one pass over it, naming the first broken entry. */
function checkCsr(op: string, indptr: Tensor, indices: Tensor, cols: number, range = `x with ${cols} rows`): void {
  const rows = indptr.size - 1;
  const nnz = readAt('int32', indptr.ptr, rows);
  if (nnz !== indices.size) throw new Error(`${op}: indptr ends at ${nnz} but indices has ${indices.size} entries`);
  const bad = kernels().csrCheck(indptr.ptr, rows, indices.ptr, cols);
  if (bad < 0) return;
  if (bad <= rows) throw new Error(`${op}: indptr must start at 0 and never decrease; entry ${bad} is ${readAt('int32', indptr.ptr, bad)}`);
  const e = bad - rows - 1;
  throw new Error(`${op}: index ${readAt('int32', indices.ptr, e)} at position ${e} of indices is out of range for ${range}`);
}

// ---- plain-JS references ----------------------------------------------------------------------

function hostAggregate(indptr: number[], indices: number[], values: number[] | null, x: HostTensor, reduce: Aggregation): HostTensor {
  const rows = indptr.length - 1;
  const F = x.shape[1];
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    const [e0, e1] = [indptr[r], indptr[r + 1]];
    for (let f = 0; f < F; f++) {
      const terms: number[] = [];
      for (let e = e0; e < e1; e++) terms.push((values === null ? 1 : values[e]) * x.data[indices[e] * F + f]);
      if (terms.length === 0) data.push(0);
      else if (reduce === 'max') data.push(Math.max(...terms));
      else data.push(terms.reduce((s, v) => s + v, 0) / (reduce === 'mean' ? terms.length : 1));
    }
  }
  return { shape: [rows, F], data };
}

const ints = (t: HostTensor): number[] => Array.from(t.data);

// ---- spmm -----------------------------------------------------------------------------------

// A 4-row CSR over 5 source rows: row 1 is empty, row 2 has three edges.
const SAMPLE_PTR = [0, 2, 2, 5, 6];
const SAMPLE_IDX = [1, 4, 0, 2, 3, 3];

/**
 * Aggregation over a sparse matrix (notes §1.13.5): for the CSR matrix (indptr [rows+1],
 * indices [nnz] int32, values [nnz]) and x [cols, F], out [rows, F] with
 * out[r] = AGG_{e in row r} values[e] · x[indices[e]], AGG = sum (AX), mean (D⁻¹AX over the
 * stored entries) or max (per feature, gradient to the winning edge). Rows without entries
 * give 0. Differentiable in values and x.
 */
export const spmm: OpFn<[indptr: Tensor, indices: Tensor, values: Tensor, x: Tensor, reduce?: Aggregation], false> = defineOp({
  name: 'spmm', family: 'graph', summary: 'sparse (CSR) × dense with sum, mean or max aggregation',
  inputs: ['indptr', 'indices', 'values', 'x'], dtypes: ['float32', 'int32'],
  parse: (indptr: Tensor, indices: Tensor, values: Tensor, x: Tensor, reduce: Aggregation = 'sum') => {
    assertIndexVector('spmm', indptr, 'indptr');
    assertIndexVector('spmm', indices, 'indices');
    assertTensor('spmm', values, 'values');
    assertFloat('spmm', values);
    assertMatrix('spmm', x, 'x');
    if (indptr.size < 1) throw new Error('spmm: indptr needs at least one entry (rows + 1)');
    if (values.ndim !== 1 || values.size !== indices.size) {
      throw new Error(`spmm: values must be [nnz] = [${indices.size}] like indices, got ${fmt(values.shape)}`);
    }
    return { inputs: [indptr, indices, values, x], attrs: { reduce: oneOf('spmm', 'reduce', reduce, AGGREGATIONS) } };
  },
  shape: ([indptr, , , x]) => [indptr![0] - 1, x![1]],
  forward: ([indptr, indices, values, x], { reduce }) => {
    checkCsr('spmm', indptr!, indices!, x!.shape[0]);
    const a: Csr = { indptr: indptr!, indices: indices!, values, rows: indptr!.size - 1, cols: x!.shape[0], nnz: indices!.size };
    const { out, argmax } = aggregateForward(a, x!, reduce);
    return { out, saved: argmax === null ? [] : [argmax] };
  },
  backward: (g, { inputs: [indptr, indices, values, x], attrs: { reduce }, saved }) => {
    const a: Csr = { indptr: indptr!, indices: indices!, values, rows: indptr!.size - 1, cols: x!.shape[0], nnz: indices!.size };
    const { dx, dvalues } = aggregateBackward(a, x!, g, reduce, saved[0] ?? null, x!.requiresGrad, values!.requiresGrad);
    return [null, null, dvalues, dx];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (ip: HostTensor, ix: HostTensor, v: HostTensor, x: HostTensor, reduce: Aggregation = 'sum') =>
        hostAggregate(ints(ip), ints(ix), Array.from(v.data), x, reduce),
    },
    samples: ((): OpSample[] => {
      const csr = [{ shape: [5], kind: 'int', values: SAMPLE_PTR }, { shape: [6], kind: 'int', values: SAMPLE_IDX }] as const;
      return [
        { label: 'sum', inputs: [...csr, { shape: [6] }, { shape: [5, 3] }] },
        { label: 'sum, 18 features (a 16-wide pass and a tail)', inputs: [...csr, { shape: [6] }, { shape: [5, 18] }], args: ['sum'] },
        { label: 'mean', inputs: [...csr, { shape: [6] }, { shape: [5, 6] }], args: ['mean'] },
        // Weights 1 and distinct features: no two edges of a row tie, also after a finite-difference step.
        { label: 'max', inputs: [...csr, { shape: [6], kind: 'values', values: [1, 1, 1, 1, 1, 1] }, { shape: [5, 5], kind: 'distinct' }], args: ['max'] },
      ];
    })(),
    badInputs: [
      { label: 'index out of range', call: () => callOp('spmm', tensor([0, 1, 2], { dtype: 'int32' }), tensor([0, 3], { dtype: 'int32' }), full([2], 1), full([3, 2], 0)), error: 'spmm: index 3 at position 1 of indices is out of range for x with 3 rows' },
      { label: 'indptr and indices disagree', call: () => callOp('spmm', tensor([0, 2, 1], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' }), full([2], 1), full([3, 2], 0)), error: 'spmm: indptr ends at 1 but indices has 2 entries' },
      { label: 'decreasing indptr', call: () => callOp('spmm', tensor([0, 2, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), full([3, 2], 0)), error: 'spmm: indptr must start at 0 and never decrease; entry 2 is 1' },
      { label: 'indptr not from 0', call: () => callOp('spmm', tensor([1, 2], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' }), full([2], 1), full([3, 2], 0)), error: 'spmm: indptr must start at 0 and never decrease; entry 0 is 1' },
      { label: 'values length', call: () => callOp('spmm', tensor([0, 2], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' }), full([3], 1), full([3, 2], 0)), error: 'spmm: values must be [nnz] = [2] like indices, got [3]' },
      { label: 'x not 2-D', call: () => callOp('spmm', tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), full([3], 0)), error: 'spmm: x must be [nodes, features], got [3]' },
      { label: 'float indices', call: () => callOp('spmm', full([2], 0), tensor([0], { dtype: 'int32' }), full([1], 1), full([3, 2], 0)), error: 'spmm: indptr must be a 1-D int32 tensor, got float32 [2]' },
      { label: 'unknown reduce', call: () => callOp('spmm', tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), full([3, 2], 0), 'min'), error: "spmm: reduce must be 'sum', 'mean', 'max', got 'min'" },
    ],
  } : undefined,
});

// ---- gather / scatter -------------------------------------------------------------------------

/** The matrix with one entry per row at column index[e]: gathering is a product with it. */
function gatherMatrix(index: Tensor, cols: number): Csr {
  const E = index.size;
  return { indptr: arange(0, E + 1, 1, { dtype: 'int32' }), indices: index, values: null, rows: E, cols, nnz: E };
}

/**
 * x[index[e]] for each entry of index: [E, F] from x [N, F], the source (or destination)
 * features of every edge for per-edge messages. Its gradient scatter-adds into the rows of x.
 */
export const gatherRows: OpFn<[x: Tensor, index: Tensor], false> = defineOp({
  name: 'gatherRows', family: 'graph', summary: 'rows x[index[e]] per edge (scatter-add backward)',
  inputs: ['x', 'index'], dtypes: ['float32', 'int32'],
  parse: (x: Tensor, index: Tensor) => {
    assertMatrix('gatherRows', x, 'x');
    assertIndexVector('gatherRows', index, 'index');
    return { inputs: [x, index], attrs: {} };
  },
  shape: ([x, index]) => [index![0], x![1]],
  forward: ([x, index]) => {
    const g = gatherMatrix(index!, x!.shape[0]);
    try {
      checkCsr('gatherRows', g.indptr, index!, x!.shape[0]);
    } catch (e) {
      g.indptr.dispose();
      throw e;
    }
    return { out: aggregateForward(g, x!, 'sum').out, saved: [g.indptr] };
  },
  backward: (g, { inputs: [x, index], saved: [indptr] }) => {
    const a: Csr = { indptr, indices: index!, values: null, rows: index!.size, cols: x!.shape[0], nnz: index!.size };
    return [aggregateBackward(a, x!, g, 'sum', null, true, false).dx, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, idx: HostTensor) => {
        const F = x.shape[1];
        const data: number[] = [];
        for (const i of ints(idx)) for (let f = 0; f < F; f++) data.push(x.data[i * F + f]);
        return { shape: [idx.shape[0], F], data };
      },
    },
    samples: [
      { label: 'repeated and unused rows', inputs: [{ shape: [4, 3] }, { shape: [6], kind: 'int', values: [2, 0, 2, 3, 2, 0] }] },
      { label: '17 features', inputs: [{ shape: [3, 17] }, { shape: [4], kind: 'int', values: [1, 1, 0, 2] }] },
    ],
    badInputs: [
      { label: 'index out of range', call: () => callOp('gatherRows', full([3, 2], 0), tensor([0, 3], { dtype: 'int32' })), error: 'gatherRows: index 3 at position 1 of indices is out of range for x with 3 rows' },
      { label: 'index not int32', call: () => callOp('gatherRows', full([3, 2], 0), full([2], 0)), error: 'gatherRows: index must be a 1-D int32 tensor, got float32 [2]' },
    ],
  } : undefined,
});

/**
 * Aggregates per-edge messages [E, F] into numNodes rows: out[v] = AGG over the e with
 * index[e] = v of messages[e] (sum, mean or max; nodes that receive nothing get 0) —
 * Agg({m_u, u ∈ N(v)}) of notes §1.13.4.2 for messages computed per edge, and the sum, mean
 * and max readouts of a batch of graphs (index = the graph of each node).
 */
export const scatterRows: OpFn<[messages: Tensor, index: Tensor, numNodes: number, reduce?: Aggregation], false> = defineOp({
  name: 'scatterRows', family: 'graph', summary: 'per-edge messages aggregated into nodes by index (sum, mean, max)',
  inputs: ['messages', 'index'], dtypes: ['float32', 'int32'],
  parse: (messages: Tensor, index: Tensor, numNodes: number, reduce: Aggregation = 'sum') => {
    assertMatrix('scatterRows', messages, 'messages');
    assertIndexVector('scatterRows', index, 'index');
    if (index.size !== messages.shape[0]) {
      throw new Error(`scatterRows: index has ${index.size} entries for ${messages.shape[0]} messages`);
    }
    return {
      inputs: [messages, index],
      attrs: { numNodes: nonNegativeInt('scatterRows', 'numNodes', numNodes), reduce: oneOf('scatterRows', 'reduce', reduce, AGGREGATIONS) },
    };
  },
  shape: ([m], { numNodes }) => [numNodes, m![1]],
  forward: ([m, index], { numNodes, reduce }) => {
    const E = index!.size;
    const g = gatherMatrix(index!, numNodes);
    const t: Csr = { indptr: empty([numNodes + 1], 'int32'), indices: empty([E], 'int32'), values: null, rows: numNodes, cols: E, nnz: E };
    const made = [t.indptr, t.indices];
    try {
      checkCsr('scatterRows', g.indptr, index!, numNodes, `${numNodes} nodes`);
      // The scatter matrix is the gather matrix transposed; its values are all ones.
      const ones = empty([E]);
      made.push(ones);
      kernels().csrTranspose(g.indptr.ptr, index!.ptr, 0, E, numNodes, 0, t.indptr.ptr, t.indices.ptr, ones.ptr);
      ones.dispose();
      made.pop();
    } catch (e) {
      for (const x of made) x.dispose();
      throw e;
    } finally {
      g.indptr.dispose();
    }
    const { out, argmax } = aggregateForward(t, m!, reduce);
    return { out, saved: argmax === null ? made : [...made, argmax] };
  },
  backward: (g, { inputs: [m], attrs: { numNodes, reduce }, saved }) => {
    const E = m!.shape[0];
    const t: Csr = { indptr: saved[0], indices: saved[1], values: null, rows: numNodes, cols: E, nnz: E };
    return [aggregateBackward(t, m!, g, reduce, saved[2] ?? null, true, false).dx, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (m: HostTensor, idx: HostTensor, numNodes: number, reduce: Aggregation = 'sum') => {
        const index = ints(idx);
        const indptr = [0];
        const order: number[] = [];
        for (let v = 0; v < numNodes; v++) {
          index.forEach((w, e) => { if (w === v) order.push(e); });
          indptr.push(order.length);
        }
        return hostAggregate(indptr, order, null, m, reduce);
      },
    },
    samples: [
      { label: 'sum, a node without messages', inputs: [{ shape: [5, 3] }, { shape: [5], kind: 'int', values: [2, 0, 2, 3, 0] }], args: [4] },
      { label: 'mean', inputs: [{ shape: [5, 6] }, { shape: [5], kind: 'int', values: [1, 0, 1, 1, 0] }], args: [3, 'mean'] },
      { label: 'max', inputs: [{ shape: [6, 5], kind: 'distinct' }, { shape: [6], kind: 'int', values: [0, 1, 0, 2, 1, 0] }], args: [3, 'max'] },
    ],
    badInputs: [
      { label: 'index out of range', call: () => callOp('scatterRows', full([2, 2], 0), tensor([0, 3], { dtype: 'int32' }), 3), error: 'scatterRows: index 3 at position 1 of indices is out of range for 3 nodes' },
      { label: 'index length', call: () => callOp('scatterRows', full([2, 2], 0), tensor([0], { dtype: 'int32' }), 3), error: 'scatterRows: index has 1 entries for 2 messages' },
      { label: 'numNodes', call: () => callOp('scatterRows', full([2, 2], 0), tensor([0, 1], { dtype: 'int32' }), -1), error: /^scatterRows: numNodes/ },
    ],
  } : undefined,
});
