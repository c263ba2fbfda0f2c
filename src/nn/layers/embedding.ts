// A lookup table of learned vectors, one per token id.
import { embedding } from '../../ops/embedding.js';
import { randn } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { checkOptions, positiveInt } from '../../core/validate.js';
import { Module, parameter } from '../module.js';

export interface EmbeddingOptions {
  /**
   * A row (negative: from the end) that marks padding: initialised to zero and never given a
   * gradient, so it stays whatever it is set to (PyTorch's padding_idx).
   */
  paddingIdx?: number | null;
}

/**
 * Rows of a [num, dim] table at int32 indices: [...] → [..., dim]. Initialised N(0, 1) as in
 * PyTorch; the state dict's `weight` is PyTorch's `weight`.
 */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;

  constructor(readonly num: number, readonly dim: number, opts: EmbeddingOptions = {}) {
    super();
    positiveInt('Embedding', 'num', num);
    positiveInt('Embedding', 'dim', dim);
    const p = checkOptions('Embedding', opts, ['paddingIdx']).paddingIdx ?? null;
    if (p !== null && (!Number.isInteger(p) || p < -num || p >= num)) {
      throw new Error(`Embedding: paddingIdx must be an integer in [-${num}, ${num}), got ${String(p)}`);
    }
    this.paddingIdx = p === null ? null : p < 0 ? p + num : p;
    const w = randn([num, dim]);
    if (this.paddingIdx !== null) {
      const values = w.data();
      values.fill(0, this.paddingIdx * dim, (this.paddingIdx + 1) * dim);
      w.setData(values);
    }
    this.weight = parameter(w);
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, this.paddingIdx);
  }
}
