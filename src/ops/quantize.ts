// int8 inference ops (issue 12): symmetric per-output-channel weight quantisation, calibration
// statistics for activations, and Linear / Conv2d products on int8 operands with i32
// accumulation, dequantised (and biased, optionally ReLU'd) in the kernel's epilogue. Kernels in
// assembly/quantize.ts.
//
// Scales are symmetric (zero point 0): w ≈ scales[o]·q[o, k], x ≈ inScale·qx. A layer whose input
// is never negative (after a ReLU, image pixels) quantises it to [0, 127] and says so with
// `unsigned`, which lets the relaxed build use the 8-bit dot product instruction; a signed input
// uses [-127, 127]. Weights never take -128, so both paths compute the same integers.
import { kernels } from '../../bindings/index.js';
import { bytesPerElement, read, withScratch } from '../../bindings/memory.js';
import { runPlan } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, tensor, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor } from '../core/validate.js';
import { callOp, defineOp, type HostTensor, type OpFn, type OpSample } from './registry.js';
import { type Size2 } from './conv.js';
import { sparseConvAttrs, sparseConvGeometry, type SparseConvAttrs } from './sparse.js';

/** The reduction length padded to whole 16-byte int8 vectors, as the kernels store operands. */
export function paddedLength(k: number): number {
  return Math.ceil(k / 16) * 16;
}

/** A weight [out, ...] quantised per output channel: q int8 [out, Kp], scales float32 [out]. */
export class QuantizedWeight {
  constructor(
    /** Shape of the float weight. */
    readonly shape: readonly number[],
    readonly q: Tensor,
    readonly scales: Tensor,
  ) {}

  get rows(): number { return this.shape[0]; }
  get cols(): number { return this.shape.slice(1).reduce((a, b) => a * b, 1); }
  /** Bytes of the int8 form without the padding (int8 weights and f32 scales). */
  get bytes(): number { return this.rows * this.cols * bytesPerElement('int8') + this.rows * bytesPerElement('float32'); }

  /** bytes plus a float32 bias of this layer (null: none). */
  bytesWithBias(bias: Tensor | null): number { return this.bytes + (bias === null ? 0 : bias.size * bytesPerElement('float32')); }

  dispose(): void {
    this.q.dispose();
    this.scales.dispose();
  }
}

/**
 * Symmetric per-output-channel int8 quantisation of a float32 weight [out, ...]:
 * scales[o] = max|w[o, :]| / 127 (1 for an all-zero row), q = round(w / scales[o]).
 */
export function quantizeWeight(weight: Tensor): QuantizedWeight {
  assertTensor('quantizeWeight', weight, 'weight');
  assertFloat('quantizeWeight', weight);
  if (weight.ndim < 2) throw new Error(`quantizeWeight: weight must have at least 2 dimensions [out, in, ...], got ${fmt(weight.shape)}`);
  const rows = weight.shape[0];
  const cols = weight.size / Math.max(1, rows);
  const kp = paddedLength(cols);
  const k = kernels();
  const scales = empty([rows]);
  const q = empty([rows, kp], 'int8');
  k.absMaxRows(weight.ptr, rows, cols, scales.ptr);
  const s = scales.data();
  const inv = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    // an all-zero (or non-finite) row keeps q = 0 with any scale; 1 keeps the division finite
    const m = s[r] > 0 && Number.isFinite(s[r]) ? s[r] : 127;
    inv[r] = 127 / m;
    s[r] = m / 127;
  }
  scales.setData(s);
  const invT = tensor(inv);
  k.quantizeRows(weight.ptr, rows, cols, 0, invT.ptr, -127, q.ptr, kp);
  invT.dispose();
  return new QuantizedWeight(weight.shape, q, scales);
}

/** min and max of a float32 tensor (one SIMD pass): activation ranges for calibration. */
export function tensorRange(x: Tensor): { min: number; max: number } {
  assertTensor('tensorRange', x);
  assertFloat('tensorRange', x);
  return withScratch('float32', [2], ([out]) => {
    kernels().minMax(x.ptr, x.size, out);
    const [min, max] = read('float32', out, 2);
    return { min, max };
  });
}

// ---- argument checks -------------------------------------------------------------------------------

export interface QuantizedOptions {
  /** Scale of the input: x is quantised to round(x / inScale), clamped (> 0). */
  inScale: number;
  /** The input is never negative: quantise it to [0, 127] (default false: [-127, 127]). */
  unsigned?: boolean;
  /** Apply ReLU to the output, in the product's epilogue (default false). */
  relu?: boolean;
}

interface QuantAttrs {
  inScale: number;
  unsigned: boolean;
  relu: boolean;
}

function quantAttrs(op: string, opts: Partial<QuantizedOptions>): QuantAttrs {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options { inScale, ... } are required`);
  const { inScale, unsigned = false, relu = false } = opts;
  if (typeof inScale !== 'number' || !Number.isFinite(inScale) || inScale <= 0) {
    throw new Error(`${op}: inScale must be a finite number > 0, got ${String(inScale)}`);
  }
  assertBoolean(op, 'unsigned', unsigned);
  assertBoolean(op, 'relu', relu);
  return { inScale, unsigned, relu };
}

function parseQuant(op: string, x: unknown, q: unknown, scales: unknown, bias: unknown): Tensor | null {
  assertTensor(op, x, 'x');
  assertFloat(op, x);
  assertTensor(op, q, 'q');
  if (q.dtype !== 'int8' || q.ndim !== 2 || q.shape[1] % 16 !== 0) {
    throw new Error(`${op}: q must be an int8 [out, Kp] tensor with Kp a multiple of 16 (see quantizeWeight), got ${q.dtype} ${fmt(q.shape)}`);
  }
  assertTensor(op, scales, 'scales');
  assertFloat(op, scales);
  if (bias === null || bias === undefined) return null;
  assertTensor(op, bias, 'bias');
  assertFloat(op, bias);
  return bias;
}

function checkShapes(op: string, q: Shape, scales: Shape, bias: Shape | null, K: number): void {
  const [O, kp] = q;
  if (paddedLength(K) !== kp) throw new Error(`${op}: q ${fmt(q)} holds ${kp} padded inputs, but the input has ${K} features (expected ${paddedLength(K)})`);
  if (scales.length !== 1 || scales[0] !== O) throw new Error(`${op}: scales must be [${O}], got ${fmt(scales)}`);
  if (bias !== null && (bias.length !== 1 || bias[0] !== O)) throw new Error(`${op}: bias must be [${O}], got ${fmt(bias)}`);
}

/** Rows [0, M) of the int8 product, split across threads by rows. */
function productI8(M: number, N: number, kp: number, a: number, q: Tensor, scales: Tensor, bias: Tensor | null, at: QuantAttrs, c: number, transC: boolean): void {
  runPlan({
    flops: 2 * M * N * kp, items: M, ranges: { perThread: 2 },
    work: (s, m0, n) => s.call('gemmI8', [m0, m0 + n, M, N, kp, a, q.ptr, at.inScale, scales.ptr, bias === null ? 0 : bias.ptr,
      at.relu ? 1 : 0, c, transC ? 1 : 0, at.unsigned ? 1 : 0]),
  });
}

// ---- plain-JS references -----------------------------------------------------------------------------

/** Round half to even on a float32 product, as the kernels round. */
function q8(v: number, inv: number, lo: number): number {
  if (Number.isNaN(v)) return 0;
  const t = Math.min(Math.max(Math.fround(v * inv), lo), 127);
  const r = Math.round(t);
  return r - t === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The host int8 weight and scales, as quantizeWeight makes them. */
function hostQuantizeWeight(w: ArrayLike<number>, rows: number, cols: number): { q: number[]; s: number[] } {
  const q: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    if (!(m > 0)) m = 127;
    const inv = Math.fround(127 / Math.fround(m));
    s.push(Math.fround(Math.fround(m) / 127));
    for (let c = 0; c < cols; c++) q.push(q8(w[r * cols + c], inv, -127));
  }
  return { q, s };
}

/** The registry harness draws integer inputs as int32; the int8 ops take them converted. */
function int8Of(t: Tensor): Tensor {
  return tensor(Int8Array.from(t.data()), t.shape);
}

/** A sample whose call hands the op its weight input (the second) as int8. */
function int8Sample(op: string, s: OpSample): OpSample {
  const args = s.args ?? [];
  return { ...s, call: (...xs: Tensor[]) => callOp(op, xs[0], int8Of(xs[1]), ...xs.slice(2), ...args) };
}

// ---- quantizedLinear ---------------------------------------------------------------------------------

/**
 * int8 Linear: y = inScale·scales[o]·Σ_k qx[k]·q[o, k] + bias[o] for x [..., K], with
 * qx = clamp(round(x / inScale), unsigned ? 0 : -127, 127) and (q, scales) from quantizeWeight
 * (q [out, Kp], Kp = K padded to 16). Output float32 [..., out]. Inference only.
 */
export const quantizedLinear: OpFn<[x: Tensor, q: Tensor, scales: Tensor, bias: Tensor | null, opts: QuantizedOptions], false> = defineOp({
  name: 'quantizedLinear', family: 'quantize', summary: 'int8 Linear: i8·i8 → i32 products, per-channel weight scales, dequantised output',
  inputs: ['x', 'q', 'scales', 'bias?'], dtypes: ['float32', 'int8'],
  parse: (x: Tensor, q: Tensor, scales: Tensor, bias: Tensor | null, opts: QuantizedOptions) => {
    const b = parseQuant('quantizedLinear', x, q, scales, bias);
    return { inputs: [x, q, scales, b], attrs: quantAttrs('quantizedLinear', opts) };
  },
  shape: ([x, q, s, b = null]) => {
    if (x!.length < 1) throw new Error(`quantizedLinear: x must have a feature dimension, got ${fmt(x!)}`);
    checkShapes('quantizedLinear', q!, s!, b, x![x!.length - 1]);
    return [...x!.slice(0, -1), q![0]];
  },
  forward: ([x, q, s, b], at, shape) => {
    const K = x!.shape[x!.ndim - 1];
    const [O, kp] = q!.shape;
    let M = 1;
    for (let i = 0; i < x!.ndim - 1; i++) M *= x!.shape[i];
    const y = empty(shape);
    withScratch('int8', [M * kp], ([qa]) => {
      kernels().quantizeRows(x!.ptr, M, K, 1 / at.inScale, 0, at.unsigned ? 0 : -127, qa, kp);
      productI8(M, O, kp, qa, q!, s!, b, at, y.ptr, false);
    });
    return y;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, q: HostTensor, s: HostTensor, b: HostTensor | null, o: QuantizedOptions) => {
        const K = x.shape[x.shape.length - 1];
        const [O, kp] = q.shape;
        const M = K === 0 ? x.shape.slice(0, -1).reduce((a, v) => a * v, 1) : x.data.length / K;
        const inv = Math.fround(1 / o.inScale);
        const data: number[] = [];
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < O; n++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += q8(x.data[m * K + k], inv, o.unsigned === true ? 0 : -127) * q.data[n * kp + k];
            let v = acc * o.inScale * s.data[n] + (b === null ? 0 : b.data[n]);
            if (o.relu === true) v = Math.max(0, v);
            data.push(v);
          }
        }
        return { shape: [...x.shape.slice(0, -1), O], data };
      },
      tolerance: 1e-5,
    },
    samples: ((): OpSample[] => {
      // int8 weights of 5 outputs x 21 inputs (Kp 32), a spread of values including ±127.
      const wq = (o: number, kp: number, k: number): number[] => {
        const out: number[] = [];
        for (let r = 0; r < o; r++) for (let c = 0; c < kp; c++) out.push(c < k ? ((r * 37 + c * 11) % 255) - 127 : 0);
        return out;
      };
      return ([
        { label: 'signed input, 21 features, odd batch', inputs: [{ shape: [7, 21] }, { shape: [5, 32], kind: 'int', values: wq(5, 32, 21) }, { shape: [5], lo: 0.001, hi: 0.01 }, { shape: [5] }], args: [{ inScale: 1 / 127 }] },
        { label: 'unsigned input, relu, no bias', inputs: [{ shape: [4, 21], lo: 0, hi: 2 }, { shape: [5, 32], kind: 'int', values: wq(5, 32, 21) }, { shape: [5], lo: 0.001, hi: 0.01 }], args: [null, { inScale: 2 / 127, unsigned: true, relu: true }] },
        { label: 'clipped input, leading dims', inputs: [{ shape: [2, 3, 16], lo: -3, hi: 3 }, { shape: [3, 16], kind: 'int', values: wq(3, 16, 16) }, { shape: [3], lo: 0.01, hi: 0.02 }, { shape: [3] }], args: [{ inScale: 1 / 127 }] },
      ] as OpSample[]).map((x) => int8Sample('quantizedLinear', x));
    })(),
    badInputs: [
      { label: 'float q', call: () => callOp('quantizedLinear', full([2, 3], 0), full([1, 16], 0), full([1], 1), null, { inScale: 1 }), error: /^quantizedLinear: q must be an int8 \[out, Kp\] tensor/ },
      { label: 'Kp does not match', call: () => callOp('quantizedLinear', full([2, 17], 0), full([1, 16], 0, { dtype: 'int8' }), full([1], 1), null, { inScale: 1 }), error: 'quantizedLinear: q [1,16] holds 16 padded inputs, but the input has 17 features (expected 32)' },
      { label: 'bad inScale', call: () => callOp('quantizedLinear', full([2, 3], 0), full([1, 16], 0, { dtype: 'int8' }), full([1], 1), null, { inScale: 0 }), error: 'quantizedLinear: inScale must be a finite number > 0, got 0' },
      { label: 'scales size', call: () => callOp('quantizedLinear', full([2, 3], 0), full([1, 16], 0, { dtype: 'int8' }), full([2], 1), null, { inScale: 1 }), error: 'quantizedLinear: scales must be [1], got [2]' },
    ],
  } : undefined,
});

// ---- quantizedConv2d -----------------------------------------------------------------------------------

export interface QuantizedConv2dOptions extends QuantizedOptions {
  /** Kernel height and width of the float weight [F, C, kh, kw]. */
  kernelSize: Size2;
  stride?: Size2;
  padding?: Size2 | 'same' | 'valid';
}

type QConvAttrs = SparseConvAttrs & QuantAttrs;

/**
 * int8 Conv2d: conv2d(x, w, bias, { stride, padding }) with w ≈ scales[f]·q[f, :] (q [F, Kp] over
 * C·kh·kw padded to 16, from quantizeWeight) and x quantised per tensor with inScale:
 * im2col, one quantising transpose, and the int8 product written back in NCHW. Inference only.
 */
export const quantizedConv2d: OpFn<[x: Tensor, q: Tensor, scales: Tensor, bias: Tensor | null, opts: QuantizedConv2dOptions], false> = defineOp({
  name: 'quantizedConv2d', family: 'quantize', summary: 'int8 Conv2d: im2col + i8·i8 → i32 products, dequantised NCHW output',
  inputs: ['x', 'q', 'scales', 'bias?'], dtypes: ['float32', 'int8'],
  parse: (x: Tensor, q: Tensor, scales: Tensor, bias: Tensor | null, opts: QuantizedConv2dOptions) => {
    const op = 'quantizedConv2d';
    const b = parseQuant(op, x, q, scales, bias);
    const conv = sparseConvAttrs(opts, op, ['inScale', 'unsigned']);
    return { inputs: [x, q, scales, b], attrs: { ...conv, ...quantAttrs(op, opts) } as QConvAttrs };
  },
  shape: ([x, q, s, b = null], at) => {
    const op = 'quantizedConv2d';
    const g = sparseConvGeometry(x!, q![0], at, op);
    checkShapes(op, q!, s!, b, g.C * at.kernel[0] * at.kernel[1]);
    return [g.N, q![0], g.OH, g.OW];
  },
  forward: ([x, q, s, b], at, shape) => {
    const { N, C, H, W, OH, OW } = sparseConvGeometry(x!.shape, q!.shape[0], at, 'quantizedConv2d');
    const [kh, kw] = at.kernel;
    const K = C * kh * kw;
    const P = OH * OW;
    const [F, kp] = q!.shape;
    const y = empty(shape);
    const k = kernels();
    const inv = 1 / at.inScale;
    const lo = at.unsigned ? 0 : -127;
    // The product is written [P, F] and transposed by the blocked kernel: storing it straight
    // into NCHW from the kernel's tiles scattered every store across F rows and measured slower.
    withScratch('float32', [K * P, P * F], ([col, yt]) => withScratch('int8', [P * kp], ([qa]) => {
      for (let n = 0; n < N; n++) {
        k.im2col(x!.ptrAt(n * C * H * W), C, H, W, kh, kw, at.stride[0], at.stride[1], at.padding[0], at.padding[1], OH, OW, col);
        k.quantizeTranspose(col, K, P, inv, lo, qa, kp);
        productI8(P, F, kp, qa, q!, s!, b, at, yt, false);
        k.transpose2d(yt, P, F, y.ptrAt(n * F * P));
      }
    }));
    return y;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (x: HostTensor, q: HostTensor, s: HostTensor, b: HostTensor | null, o: QuantizedConv2dOptions) => {
        const at = sparseConvAttrs(o, 'quantizedConv2d', ['inScale', 'unsigned']);
        const [F, kp] = q.shape;
        const { N, C, H, W, OH, OW } = sparseConvGeometry(x.shape, F, at, 'quantizedConv2d');
        const [kh, kw] = at.kernel;
        const inv = Math.fround(1 / o.inScale);
        const lo = o.unsigned === true ? 0 : -127;
        const data: number[] = [];
        for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
            const yy = oy * at.stride[0] - at.padding[0] + i;
            const xx = ox * at.stride[1] - at.padding[1] + j;
            const v = yy < 0 || yy >= H || xx < 0 || xx >= W ? 0 : x.data[((n * C + c) * H + yy) * W + xx];
            acc += q8(v, inv, lo) * q.data[f * kp + (c * kh + i) * kw + j];
          }
          let v = acc * o.inScale * s.data[f] + (b === null ? 0 : b.data[f]);
          if (o.relu === true) v = Math.max(0, v);
          data.push(v);
        }
        return { shape: [N, F, OH, OW], data };
      },
      tolerance: 1e-5,
    },
    samples: ((): OpSample[] => {
      const wq = (f: number, kp: number, k: number): number[] => {
        const out: number[] = [];
        for (let r = 0; r < f; r++) for (let c = 0; c < kp; c++) out.push(c < k ? ((r * 53 + c * 29) % 255) - 127 : 0);
        return out;
      };
      return ([
        { label: '3x3, 2 channels, stride 2, padding 1, odd sizes', inputs: [{ shape: [2, 2, 7, 9] }, { shape: [3, 32], kind: 'int', values: wq(3, 32, 18) }, { shape: [3], lo: 0.001, hi: 0.01 }, { shape: [3] }], args: [{ kernelSize: 3, stride: 2, padding: 1, inScale: 1 / 127 }] },
        { label: "unsigned, relu, 'same', 5 filters", inputs: [{ shape: [1, 3, 6, 5], lo: 0, hi: 1 }, { shape: [5, 32], kind: 'int', values: wq(5, 32, 27) }, { shape: [5], lo: 0.001, hi: 0.01 }, { shape: [5] }], args: [{ kernelSize: 3, padding: 'same', inScale: 1 / 127, unsigned: true, relu: true }] },
        { label: '1x1, 17 output pixels', inputs: [{ shape: [1, 4, 1, 17] }, { shape: [2, 16], kind: 'int', values: wq(2, 16, 4) }, { shape: [2], lo: 0.001, hi: 0.01 }], args: [null, { kernelSize: 1, inScale: 1 / 127 }] },
      ] as OpSample[]).map((x) => int8Sample('quantizedConv2d', x));
    })(),
    badInputs: [
      { label: 'Kp does not match the window', call: () => callOp('quantizedConv2d', full([1, 2, 5, 5], 0), full([1, 16], 0, { dtype: 'int8' }), full([1], 1), null, { kernelSize: 3, inScale: 1 }), error: 'quantizedConv2d: q [1,16] holds 16 padded inputs, but the input has 18 features (expected 32)' },
      { label: 'missing options', call: () => callOp('quantizedConv2d', full([1, 2, 5, 5], 0), full([1, 32], 0, { dtype: 'int8' }), full([1], 1), null), error: /^quantizedConv2d: options/ },
    ],
  } : undefined,
});

/** @internal The host-side weight quantisation, for tests comparing against quantizeWeight. */
export const hostQuantize = hostQuantizeWeight;
