// Embedding lookup: rows of a weight table picked by int32 indices. The forward is a SIMD row
// gather and the backward a scatter-add (assembly/sequence.ts), which adds the rows of
// repeated indices in order, so their gradients accumulate deterministically.
import { kernels } from '../../bindings/index.js';
import { readAt } from '../../bindings/memory.js';
import { splitGatherRows } from '../../bindings/parallel/index.js';
import { empty, fmt, full, tensor, type Tensor } from '../core/tensor.js';
import { assertTensor } from '../core/validate.js';
import { callOp, defineOp, type HostTensor, type OpFn } from './registry.js';

function checkPaddingIdx(paddingIdx: unknown, num: number): number {
  if (paddingIdx === null || paddingIdx === undefined) return -1;
  if (typeof paddingIdx !== 'number' || !Number.isInteger(paddingIdx) || paddingIdx < -num || paddingIdx >= num) {
    throw new Error(`embedding: paddingIdx must be an integer in [-${num}, ${num}) for ${num} embeddings, got ${String(paddingIdx)}`);
  }
  return paddingIdx < 0 ? paddingIdx + num : paddingIdx;
}

/**
 * weight[indices]: for int32 indices of any shape [...] and weight [num, dim], the [..., dim]
 * tensor of the indexed rows. The row `paddingIdx` (negative counts from the end, as in
 * PyTorch) gets no gradient. Indices outside [0, num) are an error naming the first one.
 */
export const embedding: OpFn<[indices: Tensor, weight: Tensor, paddingIdx?: number | null], false> = defineOp({
  name: 'embedding', family: 'sparse', summary: 'rows of weight [num, dim] at int32 indices (scatter-add backward)',
  inputs: ['indices', 'weight'], dtypes: ['float32', 'int32'],
  parse: (indices: Tensor, weight: Tensor, paddingIdx: number | null = null) => {
    assertTensor('embedding', indices, 'indices');
    assertTensor('embedding', weight, 'weight');
    if (indices.dtype !== 'int32') {
      throw new Error(`embedding: indices must be int32, got ${indices.dtype} ${fmt(indices.shape)} (use tensor(values, { dtype: 'int32' }))`);
    }
    if (weight.dtype !== 'float32') throw new Error(`embedding: weight must be float32, got ${weight.dtype} ${fmt(weight.shape)}`);
    if (weight.ndim !== 2) throw new Error(`embedding: weight must be [num, dim], got ${fmt(weight.shape)}`);
    return { inputs: [indices, weight], attrs: { paddingIdx: checkPaddingIdx(paddingIdx, weight.shape[0]) } };
  },
  shape: ([idx, w]) => {
    if (w!.length !== 2) throw new Error(`embedding: weight must be [num, dim], got ${fmt(w!)}`);
    return [...idx!, w![1]];
  },
  forward: ([idx, w], _attrs, shape) => {
    const [num, dim] = w!.shape;
    const bad = kernels().indexOutOfRange(idx!.ptr, idx!.size, num);
    if (bad >= 0) {
      const v = readAt('int32', idx!.ptr, bad);
      throw new Error(`embedding: index ${v} at position ${bad} of indices ${fmt(idx!.shape)} is out of range for weight ${fmt(w!.shape)} (indices must be in [0, ${num}))`);
    }
    const out = empty(shape);
    splitGatherRows(w!.ptr, dim, idx!.ptr, idx!.size, out.ptr);
    return out;
  },
  backward: (g, { inputs: [idx, w], attrs: { paddingIdx } }) => {
    if (!w!.requiresGrad) return [null, null];
    const [num, dim] = w!.shape;
    const dw = empty(w!.shape);
    kernels().embeddingScatterAdd(g.ptr, idx!.ptr, idx!.size, dim, num, paddingIdx, dw.ptr);
    return [null, dw];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (idx: HostTensor, w: HostTensor) => {
        const dim = w.shape[1];
        const data: number[] = [];
        for (const i of Array.from(idx.data)) for (let j = 0; j < dim; j++) data.push(w.data[i * dim + j]);
        return { shape: [...idx.shape, dim], data };
      },
    },
    samples: [
      { label: 'repeated indices', inputs: [{ shape: [2, 3], kind: 'int', values: [1, 4, 1, 0, 4, 4] }, { shape: [5, 6] }] },
      { label: 'dim 5 (a SIMD tail), 1-D indices, padding row', inputs: [{ shape: [4], kind: 'int', values: [2, 0, 2, 3] }, { shape: [4, 5] }], args: [2],
        noGradcheck: 'the padding row is read by the forward but by design gets no gradient (test/sequence/embedding.test.ts checks it is zero)' },
      { label: 'wide rows, negative paddingIdx (unused row 6)', inputs: [{ shape: [3], kind: 'int', values: [5, 1, 5] }, { shape: [7, 37] }], args: [-1] },
    ],
    badInputs: [
      { label: 'index too large', call: () => callOp('embedding', tensor([0, 5, 1], { dtype: 'int32' }), full([5, 3], 0)), error: 'embedding: index 5 at position 1 of indices [3] is out of range for weight [5,3] (indices must be in [0, 5))' },
      { label: 'negative index', call: () => callOp('embedding', tensor([[0, 1], [-1, 2]], { dtype: 'int32' }), full([5, 3], 0)), error: 'embedding: index -1 at position 2 of indices [2,2] is out of range for weight [5,3]' },
      { label: 'float indices', call: () => callOp('embedding', full([3], 1), full([5, 3], 0)), error: "embedding: indices must be int32, got float32 [3] (use tensor(values, { dtype: 'int32' }))" },
      { label: 'weight not 2-D', call: () => callOp('embedding', tensor([0], { dtype: 'int32' }), full([5], 0)), error: 'embedding: weight must be [num, dim], got [5]' },
      { label: 'paddingIdx out of range', call: () => callOp('embedding', tensor([0], { dtype: 'int32' }), full([5, 3], 0), 5), error: 'embedding: paddingIdx must be an integer in [-5, 5) for 5 embeddings, got 5' },
    ],
  } : undefined,
});
