// Plain-JS helpers for op references (registry `reference: { js }`): host tensors are row-major
// values with their shape. Written for clarity, not speed: the tests compare the kernels with them.
import type { HostTensor } from './registry';

export function hostSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function hostStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/** f applied to every element. */
export function hostMap(x: HostTensor, f: (v: number) => number): HostTensor {
  return { shape: x.shape, data: Array.from(x.data, f) };
}

/** f(a, b) with NumPy broadcasting. */
export function hostBroadcast(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number): HostTensor {
  const n = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array<number>(n - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array<number>(n - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
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
