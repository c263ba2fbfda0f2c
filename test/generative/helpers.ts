// Shared by the generative tests: seeded MNIST subsets, a minibatch loop and small dense
// linear algebra in plain JS (symmetric eigendecomposition by Jacobi rotations, Gram–Schmidt,
// principal angles) to check learned subspaces against PCA independently of the library.
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../../examples/mnist-data.mjs';

let cache: { x: Float32Array; y: Int32Array } | null = null;

/** n digits drawn without replacement by a seeded permutation, optionally 2×2-average-pooled to 14×14. */
export function digits(n: number, seed: number, opts: { pool?: boolean; offset?: number } = {}): { x: Float32Array; y: Int32Array; d: number } {
  cache ??= loadAllDigits();
  const perm = new sg.RandomGenerator(seed).permutation(cache.y.length);
  const off = opts.offset ?? 0;
  const d = opts.pool ? 196 : PIXELS;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = perm[off + i];
    y[i] = cache.y[src];
    const img = cache.x.subarray(src * PIXELS, (src + 1) * PIXELS);
    if (!opts.pool) x.set(img, i * d);
    else for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) {
      x[i * d + r * 14 + c] = (img[2 * r * 28 + 2 * c] + img[2 * r * 28 + 2 * c + 1] + img[(2 * r + 1) * 28 + 2 * c] + img[(2 * r + 1) * 28 + 2 * c + 1]) / 4;
    }
  }
  return { x, y, d };
}

/** Runs `step(batch)` (forward + backward + update) over shuffled minibatches of the rows of x. */
export function minibatches(x: Float32Array, d: number, epochs: number, batchSize: number, seed: number, step: (batch: sg.Tensor) => void): void {
  const n = x.length / d;
  const gen = new sg.RandomGenerator(seed);
  for (let e = 0; e < epochs; e++) {
    const p = gen.permutation(n);
    for (let s = 0; s + batchSize <= n; s += batchSize) {
      const b = new Float32Array(batchSize * d);
      for (let i = 0; i < batchSize; i++) b.set(x.subarray(p[s + i] * d, (p[s + i] + 1) * d), i * d);
      step(sg.tensor(b, [batchSize, d]));
    }
  }
}

/** Eigenvalues (descending) and eigenvectors (columns of an n×n row-major array) of a symmetric matrix, by cyclic Jacobi. */
export function symmetricEigen(a: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq; A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk; A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq; V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => { for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src]; });
  return { values: order.map((i) => A[i * n + i]), vectors };
}

/** Orthonormal basis (columns, d×k row-major) of the span of the k columns of m, by modified Gram–Schmidt. */
export function orthonormalColumns(m: ArrayLike<number>, d: number, k: number): Float64Array {
  const q = Float64Array.from(m as ArrayLike<number>);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += q[r * k + i] * q[r * k + j];
      for (let r = 0; r < d; r++) q[r * k + j] -= dot * q[r * k + i];
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += q[r * k + j] ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < d; r++) q[r * k + j] /= norm;
  }
  return q;
}

/** Principal angles (radians, ascending) between the column spans of two orthonormal d×k bases: acos of the singular values of AᵀB. */
export function principalAngles(a: Float64Array, b: Float64Array, d: number, k: number): number[] {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let r = 0; r < d; r++) s += a[r * k + i] * b[r * k + j];
    m[i * k + j] = s;
  }
  const mtm = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let r = 0; r < k; r++) s += m[r * k + i] * m[r * k + j];
    mtm[i * k + j] = s;
  }
  return symmetricEigen(mtm, k).values.map((v) => Math.acos(Math.min(1, Math.sqrt(Math.max(0, v)))));
}
