// Plain-JS helpers for op references (registry `reference: { js }`): host tensors are row-major
// values with their shape. Written for clarity, not speed: the tests compare the kernels with them.
import { sizeOf as hostSize, stridesOf as hostStrides } from '../core/tensor.js';

export { hostSize };
import type { HostTensor } from './registry.js';


/** f applied to every element. */
export function hostMap(x: HostTensor, f: (v: number) => number): HostTensor {
  return { shape: x.shape, data: Array.from(x.data, f) };
}

/** f(a, b) with NumPy broadcasting. */
export function hostBroadcast(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number): HostTensor {
  const n = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array<number>(n - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array<number>(n - b.shape.length).fill(1), ...b.shape];
  // The size that is not 1 (max() would turn a 0-sized dimension broadcast against 1 into 1).
  const shape = pa.map((d, i) => (d === 1 ? pb[i] : d));
  const sa = hostStrides(pa);
  const sb = hostStrides(pb);
  const so = hostStrides(shape);
  const out = new Array<number>(hostSize(shape));
  for (let i = 0; i < out.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < n; d++) {
      const c = Math.floor(i / so[d]) % shape[d];
      if (pa[d] !== 1) ia += c * sa[d];
      if (pb[d] !== 1) ib += c * sb[d];
    }
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data: out };
}

/** A number as a 0-d host tensor; a host tensor as it is. */
export function hostScalar(v: HostTensor | number): HostTensor {
  return typeof v === 'number' ? { shape: [], data: [v] } : v;
}

/**
 * f of the values along `axis` (all values when axis is null), for every other index;
 * keepDim keeps the reduced axis as size 1.
 */
export function hostReduce(x: HostTensor, axis: number | null | undefined, keepDim: boolean, f: (values: number[]) => number): HostTensor {
  const nd = x.shape.length;
  if (axis === null || axis === undefined) {
    return { shape: keepDim ? x.shape.map(() => 1) : [], data: [f(Array.from(x.data))] };
  }
  const ax = axis < 0 ? axis + nd : axis;
  const outer = hostSize(x.shape.slice(0, ax));
  const n = x.shape[ax];
  const inner = hostSize(x.shape.slice(ax + 1));
  const data: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const vals: number[] = [];
      for (let k = 0; k < n; k++) vals.push(x.data[(o * n + k) * inner + i]);
      data.push(f(vals));
    }
  }
  const shape = keepDim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  return { shape, data };
}

/** f applied to each row of the last axis (f returns the new row). */
export function hostRows(x: HostTensor, f: (row: number[]) => number[]): HostTensor {
  const cols = x.shape[x.shape.length - 1];
  const values = Array.from(x.data);
  const data: number[] = [];
  for (let r = 0; cols > 0 && r < values.length / cols; r++) data.push(...f(values.slice(r * cols, (r + 1) * cols)));
  return { shape: x.shape, data };
}

/** log Σ e^v, shifted by the maximum. */
export function hostLogSumExp(v: readonly number[]): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
}

/** The element of x at the multi-index idx. */
export function hostAt(x: HostTensor, idx: readonly number[]): number {
  const st = hostStrides(x.shape);
  let i = 0;
  for (let d = 0; d < idx.length; d++) i += idx[d] * st[d];
  return x.data[i];
}

/** A tensor of `shape` whose element at each multi-index is f(index). */
export function hostGenerate(shape: readonly number[], f: (idx: number[]) => number): HostTensor {
  const n = hostSize(shape);
  const st = hostStrides(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = f(shape.map((d, k) => Math.floor(i / st[k]) % d));
  return { shape: shape.slice(), data };
}
