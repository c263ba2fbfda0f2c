// Sparse inference layers for pruned models (issue 12): SparseLinear and SparseConv2d hold their
// weight in CSR form (only the surviving weights and their column numbers), and `sparsify`
// swaps them in for every Linear / Conv2d whose weight is sparse enough that the sparse product
// beats the dense GEMM. The default break-even is what bench/compress.mjs measured.
import type { Tensor } from '../core/tensor.js';
import { numberIn, checkOptions } from '../core/validate.js';
import { Module, buffer, parameter, replaceModule, type AnyModule } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { Conv2d } from '../nn/layers/conv.js';
import { ReLU } from '../nn/layers/activation.js';
import { sparseConv2d, sparseLinear, toSparse, type SparseWeight } from '../ops/sparse.js';
import { countZeros } from '../ops/sparse.js';

/**
 * Weight sparsity above which the CSR product is faster than the dense one. bench/compress.mjs
 * measured the crossing at 0.60-0.63 (Linear 64x1024x1024 and a 32->64 3x3 conv GEMM, plain
 * SIMD build, 1 thread) and 0.60-0.70 with the relaxed build, whose dense GEMM gains FMA; the
 * default takes the upper end so that a swap never slows a layer down.
 */
export const SPARSE_BREAK_EVEN = 0.7;

/**
 * The CSR tensors of a sparse layer as members: 'weight.values' (a parameter when `trainable`,
 * else a buffer), 'weight.indptr' and 'weight.indices' (buffers), so that parameters(), state
 * dicts and optimizers see them like a dense layer's weight.
 */
function* sparseMembers(w: SparseWeight): Generator<[string, Tensor]> {
  yield ['weight.values', w.values];
  yield ['weight.indptr', w.indptr];
  yield ['weight.indices', w.indices];
}
function registerSparse(w: SparseWeight, trainable: boolean): void {
  if (trainable) parameter(w.values);
  else buffer(w.values);
  buffer(w.indptr);
  buffer(w.indices);
}

/**
 * A Linear whose weight is stored in CSR form; y = x·Wᵀ + b. Its stored values are a parameter
 * (weight.values: gradients reach them, and x and the bias); the row pointers and column
 * indices are buffers. All three are in the state dict.
 */
export class SparseLinear extends Module {
  readonly weight: SparseWeight;

  constructor(weight: SparseWeight, readonly bias: Tensor | null, readonly relu = false) {
    super();
    if (weight.shape.length !== 2) throw new Error(`SparseLinear: weight must be [out, in], got [${weight.shape}]`);
    this.weight = weight;
    registerSparse(weight, true);
  }

  protected override *_members(): Generator<[string, AnyModule | Tensor]> {
    yield* super._members();
    yield* sparseMembers(this.weight);
  }

  /** From a dense Linear (its bias tensor is shared, its weight converted). */
  static fromLinear(layer: Linear): SparseLinear {
    return new SparseLinear(toSparse(layer.weight), layer.bias);
  }

  get inFeatures(): number { return this.weight.cols; }
  get outFeatures(): number { return this.weight.rows; }

  forward(x: Tensor): Tensor {
    const w = this.weight;
    return sparseLinear(x, w.indptr, w.indices, w.values, this.bias, { relu: this.relu });
  }

  /** A following ReLU is fused into the product's store. */
  override fuseNext(next: AnyModule): AnyModule | null {
    return next instanceof ReLU && !this.relu ? new SparseLinear(this.weight, this.bias, true) : null;
  }
}

/**
 * A Conv2d whose weight [F, C, kh, kw] is stored in CSR form over [F, C·kh·kw]. Inference only:
 * its CSR tensors are buffers, in the state dict.
 */
export class SparseConv2d extends Module {
  readonly weight: SparseWeight;

  constructor(weight: SparseWeight, readonly bias: Tensor | null,
    readonly stride: [number, number], readonly padding: [number, number] | 'same', readonly relu = false) {
    super();
    if (weight.shape.length !== 4) throw new Error(`SparseConv2d: weight must be [F, C, kh, kw], got [${weight.shape}]`);
    this.weight = weight;
    registerSparse(weight, false);
  }

  protected override *_members(): Generator<[string, AnyModule | Tensor]> {
    yield* super._members();
    yield* sparseMembers(this.weight);
  }

  static fromConv2d(layer: Conv2d): SparseConv2d {
    return new SparseConv2d(toSparse(layer.weight), layer.bias, layer.stride, layer.padding);
  }

  forward(x: Tensor): Tensor {
    const w = this.weight;
    const [, , kh, kw] = w.shape;
    return sparseConv2d(x, w.indptr, w.indices, w.values, this.bias, { kernelSize: [kh, kw], stride: this.stride, padding: this.padding, relu: this.relu });
  }

  override fuseNext(next: AnyModule): AnyModule | null {
    return next instanceof ReLU && !this.relu ? new SparseConv2d(this.weight, this.bias, this.stride, this.padding, true) : null;
  }
}

export interface SparsifyOptions {
  /** Replace a layer when its weight sparsity is at least this (default SPARSE_BREAK_EVEN). */
  minSparsity?: number;
}

/**
 * Replaces, in place, every Linear and Conv2d of `model` whose weight has at least
 * `minSparsity` zeros by its sparse version (the bias is shared), and returns the names of
 * the replaced layers. Sparse layers run inference (SparseLinear also trains its surviving
 * weights); keep the dense model for pruning-aware training.
 */
export function sparsify(model: AnyModule, opts: SparsifyOptions = {}): string[] {
  const op = 'sparsify';
  if (!(model instanceof Module)) throw new Error(`${op}: model must be a Module`);
  const o = checkOptions(op, opts, ['minSparsity']);
  const min = numberIn(op, 'minSparsity', o.minSparsity ?? SPARSE_BREAK_EVEN, 0, 1);
  const replaced: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === '' || !(m instanceof Linear || m instanceof Conv2d)) continue;
    const w = m.weight;
    const sparsity = w.size === 0 ? 0 : countZeros(w) / w.size;
    if (sparsity < min) continue;
    replaceModule(model, name, m instanceof Linear ? SparseLinear.fromLinear(m) : SparseConv2d.fromConv2d(m));
    replaced.push(name);
  }
  return replaced;
}
