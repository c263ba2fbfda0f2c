// Pruned-weight ops (issue 12): products with a weight stored in CSR form, for Linear and for
// convolution's im2col GEMM, and the mask-side primitives of magnitude pruning (exact top-k
// selection of |w| by a two-pass radix histogram, mask application, zero counts). Kernels in
// assembly/sparse.ts.
//
// The weight W [out, in] is the CSR operand and the SIMD dimension is the one every output row
// shares: the batch for Linear (y = (W·xᵀ)ᵀ, two cheap transposes around the product) and the
// output pixels for a convolution (y[n] = W·col(x[n]) is already in NCHW order). A pruned
// weight then costs nothing, a kept one a broadcast and one multiply-add per 4 outputs.
import { kernels } from '../../bindings/index.js';
import { bytesPerElement, fillElements, read, readAt, withScratch } from '../../bindings/memory.js';
import { runPlan } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, tensor, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions } from '../core/validate.js';
import { size2, type Size2 } from './conv.js';
import { callOp, defineOp, type HostTensor, type OpFn, type OpSample } from './registry.js';

// ---- the CSR weight ----------------------------------------------------------------------------

/**
 * A weight with its zeros dropped: W [rows, cols] (a conv weight [F, C, kh, kw] as [F, C·kh·kw])
 * in CSR form. Owns its three tensors: dispose() frees them.
 */
export class SparseWeight {
  constructor(
    /** Shape of the dense weight it came from. */
    readonly shape: readonly number[],
    readonly indptr: Tensor,
    readonly indices: Tensor,
    readonly values: Tensor,
  ) {}

  get rows(): number { return this.shape[0]; }
  get cols(): number { return this.shape.slice(1).reduce((a, b) => a * b, 1); }
  get nnz(): number { return this.values.size; }
  /** Fraction of the dense weight's entries that are zero. */
  get sparsity(): number { return this.rows * this.cols === 0 ? 0 : 1 - this.nnz / (this.rows * this.cols); }
  /** Bytes of the CSR form (f32 values, i32 indices and row pointers). */
  get bytes(): number { return this.values.size * bytesPerElement('float32') + (this.indices.size + this.indptr.size) * bytesPerElement('int32'); }

  /** The dense weight again (zeros where nothing is stored). */
  toDense(): Tensor {
    const ip = this.indptr.data();
    const ix = this.indices.data();
    const v = this.values.data();
    const out = new Float32Array(this.rows * this.cols);
    for (let r = 0; r < this.rows; r++) for (let e = ip[r]; e < ip[r + 1]; e++) out[r * this.cols + ix[e]] = v[e];
    return tensor(out, this.shape);
  }

  dispose(): void {
    this.indptr.dispose();
    this.indices.dispose();
    this.values.dispose();
  }
}

/**
 * The CSR form of a dense float32 weight [out, ...] (every non-zero entry is stored; rows are
 * the first dimension, columns everything after it flattened).
 */
export function toSparse(weight: Tensor): SparseWeight {
  assertTensor('toSparse', weight, 'weight');
  assertFloat('toSparse', weight);
  if (weight.ndim < 2) throw new Error(`toSparse: weight must have at least 2 dimensions [out, in, ...], got ${fmt(weight.shape)}`);
  const rows = weight.shape[0];
  const cols = weight.size / Math.max(1, rows);
  const k = kernels();
  const indptr = empty([rows + 1], 'int32');
  const nnz = k.denseToCsrCount(weight.ptr, rows, cols, indptr.ptr);
  const indices = empty([nnz], 'int32');
  const values = empty([nnz]);
  k.denseToCsrFill(weight.ptr, rows, cols, indptr.ptr, indices.ptr, values.ptr);
  return new SparseWeight(weight.shape, indptr, indices, values);
}

// ---- shared pieces -------------------------------------------------------------------------------

/** Rows of x [..., K] as a matrix: the product of the leading dims (not size / K, which is NaN at K = 0). */
function leadingRows(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i];
  return n;
}

/** out[r, :] = W[r]·x (+ bias, relu) for x [cols, F], row blocks split across threads. */
function csrProduct(indptr: Tensor, indices: Tensor, values: Tensor, x: number, F: number, rows: number,
  bias: Tensor | null, relu: boolean, out: number): void {
  runPlan({
    flops: 2 * values.size * Math.max(1, F) + rows, items: rows, ranges: { perThread: 4 },
    work: (s, r0, n) => s.call('csrMatmul', [indptr.ptr, indices.ptr, values.ptr, x, F, r0, r0 + n, bias === null ? 0 : bias.ptr, relu ? 1 : 0, out]),
  });
}

function assertIndexVector(op: string, t: unknown, what: string): asserts t is Tensor {
  assertTensor(op, t, what);
  if (t.dtype !== 'int32' || t.ndim !== 1) throw new Error(`${op}: ${what} must be a 1-D int32 tensor, got ${t.dtype} ${fmt(t.shape)}`);
}

/** Checks indptr/indices/values as the CSR form of a matrix with `cols` columns; errors name `op`. */
function checkCsr(op: string, indptr: Tensor, indices: Tensor, values: Tensor, cols: number): void {
  const rows = indptr.size - 1;
  const nnz = readAt('int32', indptr.ptr, rows);
  if (nnz !== indices.size) throw new Error(`${op}: indptr ends at ${nnz} but indices has ${indices.size} entries`);
  if (values.size !== indices.size) throw new Error(`${op}: values must be [nnz] = [${indices.size}] like indices, got ${fmt(values.shape)}`);
  const bad = kernels().csrCheck(indptr.ptr, rows, indices.ptr, cols);
  if (bad < 0) return;
  if (bad <= rows) throw new Error(`${op}: indptr must start at 0 and never decrease; entry ${bad} is ${readAt('int32', indptr.ptr, bad)}`);
  const e = bad - rows - 1;
  throw new Error(`${op}: column ${readAt('int32', indices.ptr, e)} at position ${e} of indices is out of range for ${cols} input features`);
}

function parseCsr(op: string, indptr: unknown, indices: unknown, values: unknown, bias: unknown): Tensor | null {
  assertIndexVector(op, indptr, 'indptr');
  assertIndexVector(op, indices, 'indices');
  assertTensor(op, values, 'values');
  assertFloat(op, values);
  if (values.ndim !== 1) throw new Error(`${op}: values must be 1-D [nnz], got ${fmt(values.shape)}`);
  if (indptr.size < 1) throw new Error(`${op}: indptr needs at least one entry (rows + 1)`);
  if (bias === null || bias === undefined) return null;
  assertTensor(op, bias, 'bias');
  assertFloat(op, bias);
  return bias;
}

function checkBias(op: string, b: Shape | null, rows: number): void {
  if (b !== null && (b.length !== 1 || b[0] !== rows)) throw new Error(`${op}: bias must be [${rows}] (one per weight row), got ${fmt(b)}`);
}

/** Dense W [rows, cols] from a host CSR, for the references. */
function hostDense(ip: HostTensor, ix: HostTensor, v: HostTensor, cols: number): number[] {
  const rows = ip.shape[0] - 1;
  const w = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) for (let e = ip.data[r]; e < ip.data[r + 1]; e++) w[r * cols + ix.data[e]] += v.data[e];
  return w;
}

// A 5 x 7 CSR with an empty row and a full one, used by the samples.
const S_PTR = [0, 2, 2, 9, 10, 13];
const S_IDX = [1, 6, 0, 1, 2, 3, 4, 5, 6, 3, 0, 2, 5];

// ---- sparseLinear --------------------------------------------------------------------------------

export interface SparseLinearOptions {
  /** Apply ReLU to the output, fused into the product's store (default false). */
  relu?: boolean;
}

interface SparseLinearAttrs {
  relu: boolean;
}

/**
 * y = x·Wᵀ + b with W [out, in] given in CSR form (indptr [out+1], indices [nnz] int32 column
 * numbers < in, values [nnz]), as `linear` computes it with the dense W; x [..., in]. The
 * product is SIMD over the batch. Differentiable in x, values and bias.
 */
export const sparseLinear: OpFn<[x: Tensor, indptr: Tensor, indices: Tensor, values: Tensor, bias?: Tensor | null, opts?: SparseLinearOptions], false> = defineOp({
  name: 'sparseLinear', family: 'sparse', summary: 'x·Wᵀ + b with W in CSR form (pruned Linear), optionally with a fused ReLU',
  inputs: ['x', 'indptr', 'indices', 'values', 'bias?'], dtypes: ['float32', 'int32'],
  parse: (x: Tensor, indptr: Tensor, indices: Tensor, values: Tensor, bias: Tensor | null = null, opts: SparseLinearOptions = {}) => {
    assertTensor('sparseLinear', x, 'x');
    assertFloat('sparseLinear', x);
    const b = parseCsr('sparseLinear', indptr, indices, values, bias);
    const relu = checkOptions('sparseLinear', opts, ['relu']).relu ?? false;
    assertBoolean('sparseLinear', 'relu', relu);
    return { inputs: [x, indptr, indices, values, b], attrs: { relu } as SparseLinearAttrs };
  },
  shape: ([x, ip, , , b = null]) => {
    if (x!.length < 1) throw new Error(`sparseLinear: x must have a feature dimension, got ${fmt(x!)}`);
    checkBias('sparseLinear', b, ip![0] - 1);
    return [...x!.slice(0, -1), ip![0] - 1];
  },
  forward: ([x, ip, ix, v, b], { relu }, shape) => {
    const K = x!.shape[x!.ndim - 1];
    const O = ip!.size - 1;
    checkCsr('sparseLinear', ip!, ix!, v!, K);
    const B = leadingRows(x!.shape);
    const y = empty(shape);
    if (K === 0) {
      // No input features: checkCsr left no stored entry, so x is never read and rows are the bias.
      withScratch('float32', [O * B], ([yt]) => {
        csrProduct(ip!, ix!, v!, 0, B, O, b, relu, yt);
        kernels().transpose2d(yt, O, B, y.ptr);
      });
      return y;
    }
    withScratch('float32', [K * B, O * B], ([xt, yt]) => {
      const k = kernels();
      k.transpose2d(x!.ptr, B, K, xt);
      csrProduct(ip!, ix!, v!, xt, B, O, b, relu, yt);
      k.transpose2d(yt, O, B, y.ptr);
    });
    return y;
  },
  backward: (g, { inputs: [x, ip, ix, v, b], attrs: { relu }, out }) => {
    const k = kernels();
    const K = x!.shape[x!.ndim - 1];
    const O = ip!.size - 1;
    const B = leadingRows(x!.shape);
    const nnz = v!.size;
    let gx: Tensor | null = null;
    let gv: Tensor | null = null;
    let gb: Tensor | null = null;
    withScratch('float32', [O * B, K * B], ([gt, xt]) => {
      // dyᵀ [O, B] (through the ReLU when fused) is the operand of every gradient
      if (relu) {
        withScratch('float32', [O * B], ([gr]) => {
          k.reluBackward(out.ptr, g.ptr, gr, O * B);
          k.transpose2d(gr, B, O, gt);
        });
      } else k.transpose2d(g.ptr, B, O, gt);
      if (x!.requiresGrad) {
        // dxᵀ = Wᵀ·dyᵀ: the transposed CSR gathers, so no two rows collide
        const gxt = empty([K * B]);
        withScratch('int32', [K + 1, nnz], ([tp, ti]) => withScratch('float32', [nnz], ([tv]) => {
          k.csrTranspose(ip!.ptr, ix!.ptr, v!.ptr, O, K, 0, tp, ti, tv);
          runPlan({
            flops: 2 * nnz * Math.max(1, B) + K, items: K, ranges: { perThread: 4 },
            work: (s, r0, n) => s.call('csrMatmul', [tp, ti, tv, gt, B, r0, r0 + n, 0, 0, gxt.ptr]),
          });
        }));
        gx = empty(x!.shape);
        k.transpose2d(gxt.ptr, K, B, gx.ptr);
        gxt.dispose();
      }
      if (v!.requiresGrad) {
        gv = empty([nnz]);
        k.transpose2d(x!.ptr, B, K, xt);
        k.spmmValuesGrad(ip!.ptr, ix!.ptr, gt, xt, B, 0, O, gv.ptr, 0);
      }
      if (b !== null && b.requiresGrad) {
        gb = empty([O]);
        k.reduceSum(gt, gb.ptr, O, B, 1, 1);
      }
    });
    return [gx, null, null, gv, gb];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, ip: HostTensor, ix: HostTensor, v: HostTensor, b: HostTensor | null = null, opts: SparseLinearOptions = {}) => {
        const K = x.shape[x.shape.length - 1];
        const O = ip.shape[0] - 1;
        const w = hostDense(ip, ix, v, K);
        const B = leadingRows(x.shape);
        const data: number[] = [];
        for (let r = 0; r < B; r++) {
          for (let o = 0; o < O; o++) {
            let s = b === null ? 0 : b.data[o];
            for (let c = 0; c < K; c++) s += x.data[r * K + c] * w[o * K + c];
            data.push(opts.relu === true ? Math.max(0, s) : s);
          }
        }
        return { shape: [...x.shape.slice(0, -1), O], data };
      },
    },
    samples: ((): OpSample[] => {
      const csr = [{ shape: [6], kind: 'int', values: S_PTR }, { shape: [13], kind: 'int', values: S_IDX }, { shape: [13] }] as const;
      return [
        { label: 'batch 3, an empty row', inputs: [{ shape: [3, 7] }, ...csr] },
        { label: 'batch 37 (32-wide pass, 4-wide and tail), bias', inputs: [{ shape: [37, 7] }, ...csr, { shape: [5] }] },
        { label: 'leading dims, bias', inputs: [{ shape: [2, 5, 7] }, ...csr, { shape: [5] }] },
        { label: 'relu', inputs: [{ shape: [4, 7], kind: 'away' }, ...csr, { shape: [5], kind: 'away', lo: 0.3, hi: 0.6 }], args: [{ relu: true }], noGradcheck: 'a ReLU kink may fall within the finite-difference step of a sum of 13 terms' },
        { label: 'no stored entries', inputs: [{ shape: [3, 4] }, { shape: [3], kind: 'int', values: [0, 0, 0] }, { shape: [0], kind: 'int', values: [] }, { shape: [0] }, { shape: [2] }] },
      ];
    })(),
    badInputs: [
      { label: 'column out of range', call: () => callOp('sparseLinear', full([2, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([3], { dtype: 'int32' }), full([1], 1)), error: 'sparseLinear: column 3 at position 0 of indices is out of range for 3 input features' },
      { label: 'indptr and indices disagree', call: () => callOp('sparseLinear', full([2, 3], 0), tensor([0, 2], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1)), error: 'sparseLinear: indptr ends at 2 but indices has 1 entries' },
      { label: 'values length', call: () => callOp('sparseLinear', full([2, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([2], 1)), error: 'sparseLinear: values must be [nnz] = [1] like indices, got [2]' },
      { label: 'bias size', call: () => callOp('sparseLinear', full([2, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), full([2], 0)), error: 'sparseLinear: bias must be [1] (one per weight row), got [2]' },
      { label: 'float indptr', call: () => callOp('sparseLinear', full([2, 3], 0), full([2], 0), tensor([0], { dtype: 'int32' }), full([1], 1)), error: 'sparseLinear: indptr must be a 1-D int32 tensor, got float32 [2]' },
      { label: 'unknown option', call: () => callOp('sparseLinear', full([2, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), null, { bias: true }), error: "sparseLinear: unknown option 'bias' (known: relu)" },
    ],
  } : undefined,
});

// ---- sparseConv2d --------------------------------------------------------------------------------

export interface SparseConv2dOptions {
  /** Kernel height and width of the dense weight [F, C, kh, kw] the CSR form came from. */
  kernelSize: Size2;
  /** Step of the window (default 1). */
  stride?: Size2;
  /** Zeros on each side (default 0); 'same' keeps H×W at stride 1 (extra row/column bottom/right). */
  padding?: Size2 | 'same' | 'valid';
  /** Apply ReLU to the output (default false). */
  relu?: boolean;
}

/** @internal Conv geometry attributes shared with the int8 convolution. */
export interface SparseConvAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  paddingEnd: [number, number];
  relu: boolean;
}

/** @internal Conv options (kernelSize required) as attributes; `extra` option keys are allowed and ignored here. */
export function sparseConvAttrs(opts: SparseConv2dOptions, op = 'sparseConv2d', extra: readonly string[] = []): SparseConvAttrs {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options { kernelSize, stride?, padding?, relu?${extra.map((e) => `, ${e}`).join('')} } are required`);
  const o = checkOptions(op, opts, ['kernelSize', 'stride', 'padding', 'relu', ...extra]);
  const kernel = size2(op, 'kernelSize', o.kernelSize, 1);
  const stride = size2(op, 'stride', o.stride ?? 1, 1);
  const relu = o.relu ?? false;
  assertBoolean(op, 'relu', relu);
  const pad = o.padding ?? 0;
  if (pad === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`${op}: padding 'same' needs stride 1, got stride [${stride}]`);
    const padding: [number, number] = [(kernel[0] - 1) >> 1, (kernel[1] - 1) >> 1];
    return { kernel, stride, padding, paddingEnd: [kernel[0] - 1 - padding[0], kernel[1] - 1 - padding[1]], relu };
  }
  const padding = pad === 'valid' ? [0, 0] as [number, number] : size2(op, 'padding', pad, 0);
  return { kernel, stride, padding, paddingEnd: [padding[0], padding[1]], relu };
}

/** @internal Image and output sizes of a convolution with `rows` filters; errors name `op`. */
export function sparseConvGeometry(x: Shape, rows: number, a: SparseConvAttrs, op = 'sparseConv2d'): { N: number; C: number; H: number; W: number; OH: number; OW: number } {
  if (x.length !== 4) throw new Error(`${op}: input must be 4-D [N, C, H, W], got ${fmt(x)}`);
  const [N, C, H, W] = x;
  const [kh, kw] = a.kernel;
  if (rows < 1) throw new Error(`${op}: the weight has no output channels`);
  const hp = H + a.padding[0] + a.paddingEnd[0];
  const wp = W + a.padding[1] + a.paddingEnd[1];
  if (H < 1 || W < 1 || hp < kh || wp < kw) throw new Error(`${op}: kernel ${kh}x${kw} does not fit the padded input ${hp}x${wp} (input ${fmt(x)})`);
  return { N, C, H, W, OH: Math.floor((hp - kh) / a.stride[0]) + 1, OW: Math.floor((wp - kw) / a.stride[1]) + 1 };
}

/**
 * conv2d with the weight [F, C, kh, kw] in CSR form over [F, C·kh·kw] (as toSparse makes it):
 * x [N, C, H, W] -> [N, F, OH, OW], y[n] = W·im2col(x[n]) + b, SIMD over the output pixels.
 * Inference only (no gradient).
 */
export const sparseConv2d: OpFn<[x: Tensor, indptr: Tensor, indices: Tensor, values: Tensor, bias: Tensor | null, opts: SparseConv2dOptions], false> = defineOp({
  name: 'sparseConv2d', family: 'sparse', summary: 'conv2d with a CSR weight (pruned Conv2d), im2col + sparse product; inference only',
  inputs: ['x', 'indptr', 'indices', 'values', 'bias?'], dtypes: ['float32', 'int32'],
  parse: (x: Tensor, indptr: Tensor, indices: Tensor, values: Tensor, bias: Tensor | null, opts: SparseConv2dOptions) => {
    assertTensor('sparseConv2d', x, 'x');
    assertFloat('sparseConv2d', x);
    const b = parseCsr('sparseConv2d', indptr, indices, values, bias);
    return { inputs: [x, indptr, indices, values, b], attrs: sparseConvAttrs(opts) };
  },
  shape: ([x, ip, , , b = null], attrs) => {
    const F = ip![0] - 1;
    const g = sparseConvGeometry(x!, F, attrs);
    checkBias('sparseConv2d', b, F);
    return [g.N, F, g.OH, g.OW];
  },
  forward: ([x, ip, ix, v, b], attrs, shape) => {
    const F = ip!.size - 1;
    const { N, C, H, W, OH, OW } = sparseConvGeometry(x!.shape, F, attrs);
    const [kh, kw] = attrs.kernel;
    const K = C * kh * kw;
    const P = OH * OW;
    checkCsr('sparseConv2d', ip!, ix!, v!, K);
    const y = empty(shape);
    const k = kernels();
    const pointwise = kh === 1 && kw === 1 && attrs.stride[0] === 1 && attrs.stride[1] === 1 && attrs.padding[0] === 0 && attrs.padding[1] === 0
      && attrs.paddingEnd[0] === 0 && attrs.paddingEnd[1] === 0;
    withScratch('float32', [pointwise ? 0 : K * P], ([col]) => {
      for (let n = 0; n < N; n++) {
        const img = x!.ptrAt(n * C * H * W);
        if (!pointwise) k.im2col(img, C, H, W, kh, kw, attrs.stride[0], attrs.stride[1], attrs.padding[0], attrs.padding[1], OH, OW, col);
        csrProduct(ip!, ix!, v!, pointwise ? img : col, P, F, b, attrs.relu, y.ptrAt(n * F * P));
      }
    });
    return y;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, ip: HostTensor, ix: HostTensor, v: HostTensor, b: HostTensor | null, opts: SparseConv2dOptions) => {
        const a = sparseConvAttrs(opts);
        const F = ip.shape[0] - 1;
        const { N, C, H, W, OH, OW } = sparseConvGeometry(x.shape, F, a);
        const [kh, kw] = a.kernel;
        const w = hostDense(ip, ix, v, C * kh * kw);
        const data: number[] = [];
        for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
          let s = b === null ? 0 : b.data[f];
          for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
            const yy = oy * a.stride[0] - a.padding[0] + i;
            const xx = ox * a.stride[1] - a.padding[1] + j;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            s += w[f * C * kh * kw + (c * kh + i) * kw + j] * x.data[((n * C + c) * H + yy) * W + xx];
          }
          data.push(a.relu ? Math.max(0, s) : s);
        }
        return { shape: [N, F, OH, OW], data };
      },
    },
    samples: ((): OpSample[] => {
      // The 7-column CSR is a 1x1 kernel over 7 channels; the 18-column one a 3x3 window over 2.
      const csr7 = [{ shape: [6], kind: 'int', values: S_PTR }, { shape: [13], kind: 'int', values: S_IDX }, { shape: [13] }] as const;
      const ptr18 = [0, 4, 4, 10];
      const idx18 = [0, 5, 9, 17, 1, 2, 3, 8, 13, 16];
      const csr18 = [{ shape: [4], kind: 'int', values: ptr18 }, { shape: [10], kind: 'int', values: idx18 }, { shape: [10] }] as const;
      return [
        { label: "3x3 'same', relu, no bias", inputs: [{ shape: [1, 2, 6, 11] }, ...csr18], args: [null, { kernelSize: 3, padding: 'same', relu: true }] },
        { label: '1x1 (pointwise), 7 channels', inputs: [{ shape: [2, 7, 3, 5] }, ...csr7, { shape: [5] }], args: [{ kernelSize: 1 }] },
        { label: '3x3, stride 2, padding 1, odd sizes', inputs: [{ shape: [2, 2, 7, 9] }, ...csr18, { shape: [3] }], args: [{ kernelSize: 3, stride: 2, padding: 1 }] },
      ];
    })(),
    badInputs: [
      { label: 'column out of range', call: () => callOp('sparseConv2d', full([1, 1, 3, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([9], { dtype: 'int32' }), full([1], 1), null, { kernelSize: 3 }), error: 'sparseConv2d: column 9 at position 0 of indices is out of range for 9 input features' },
      { label: 'kernel larger than input', call: () => callOp('sparseConv2d', full([1, 1, 2, 2], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), null, { kernelSize: 3 }), error: 'sparseConv2d: kernel 3x3 does not fit the padded input 2x2 (input [1,1,2,2])' },
      { label: 'missing options', call: () => callOp('sparseConv2d', full([1, 1, 2, 2], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), null), error: /^sparseConv2d: options/ },
      { label: 'input not 4-D', call: () => callOp('sparseConv2d', full([1, 3, 3], 0), tensor([0, 1], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }), full([1], 1), null, { kernelSize: 1 }), error: 'sparseConv2d: input must be 4-D [N, C, H, W], got [1,3,3]' },
    ],
  } : undefined,
});

// ---- selection and masks (in place; no autograd) -------------------------------------------------

const BINS = 65536;

function floatFromBits(bits: number): number {
  const b = new Uint32Array([bits]);
  return new Float32Array(b.buffer)[0];
}

function checkFloatTensors(op: string, ts: readonly Tensor[]): void {
  for (const t of ts) {
    assertTensor(op, t, 'tensor');
    assertFloat(op, t);
  }
}

/**
 * The k-th smallest |w| (k from 1) over all elements of `tensors` together, exactly, by two
 * histogram passes in wasm (no sort). k must be in [1, total elements].
 */
export function kthSmallestMagnitude(tensors: readonly Tensor[], k: number): number {
  const op = 'kthSmallestMagnitude';
  checkFloatTensors(op, tensors);
  const total = tensors.reduce((s, t) => s + t.size, 0);
  if (!Number.isInteger(k) || k < 1 || k > total) throw new Error(`${op}: k must be an integer in [1, ${total}], got ${String(k)}`);
  const kern = kernels();
  return withScratch('int32', [BINS], ([hist]) => {
    const pass = (prefix: number, rank: number): [number, number] => {
      fillElements('int32', hist, BINS, 0);
      for (const t of tensors) kern.magnitudeHistogram(t.ptr, t.size, hist, prefix);
      const h = read('int32', hist, BINS);
      let seen = 0;
      for (let i = 0; i < BINS; i++) {
        if (seen + h[i] >= rank) return [i, rank - seen];
        seen += h[i];
      }
      throw new Error(`${op}: the histogram holds ${seen} values, fewer than ${rank} (a tensor changed during the selection?)`);
    };
    const [hi, rest] = pass(-1, k);
    const [lo] = pass(hi, rest);
    return floatFromBits(((hi << 16) | lo) >>> 0);
  });
}

/** m[i] = |w[i]| > threshold ? 1 : 0 as a new float32 tensor of w's shape; also returns how many are kept. */
export function magnitudeMaskOf(w: Tensor, threshold: number): { mask: Tensor; kept: number } {
  checkFloatTensors('magnitudeMask', [w]);
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new Error(`magnitudeMask: threshold must be a number, got ${String(threshold)}`);
  const mask = empty(w.shape);
  const kept = kernels().magnitudeMask(w.ptr, w.size, threshold, mask.ptr);
  return { mask, kept };
}

/** w[i] = 0 where m[i] == 0, in place (weights after an optimizer step, or their gradients). */
export function maskInPlace(w: Tensor, m: Tensor): void {
  checkFloatTensors('applyMask', [w, m]);
  if (w.size !== m.size) throw new Error(`applyMask: mask ${fmt(m.shape)} does not match the tensor ${fmt(w.shape)}`);
  kernels().applyMask(w.ptr, m.ptr, w.size);
}

/** Number of elements equal to 0 in a float32 tensor. */
export function countZeros(t: Tensor): number {
  checkFloatTensors('countZeros', [t]);
  return kernels().countZeros(t.ptr, t.size);
}
