// Measurements on node embeddings: over-smoothing (§1.13.6.3), clustering and projections for
// looking at embeddings, accuracy over a node set. Plain JS on host arrays: these run once per
// evaluation, not per step.
import { Generator, rng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';

type Rows = Tensor | { data: ArrayLike<number>; dim: number };

function host(h: Rows): { data: ArrayLike<number>; n: number; dim: number } {
  if ('dim' in h && !('ndim' in h)) return { data: h.data, n: h.data.length / h.dim, dim: h.dim };
  const t = h as Tensor;
  if (t.ndim !== 2) throw new Error(`meanPairwiseDistance: embeddings must be [nodes, dim], got [${t.shape.join(',')}]`);
  return { data: t.data() as Float32Array, n: t.shape[0], dim: t.shape[1] };
}

/**
 * Mean Euclidean distance between the embeddings of distinct nodes, relative to their mean
 * norm (so that a layer's overall scale does not count): it tends to 0 as the embeddings
 * collapse onto one value, the over-smoothing of §1.13.6.3. Over at most `maxNodes` nodes
 * drawn without replacement (default 1000).
 */
export function meanPairwiseDistance(h: Rows, opts: { maxNodes?: number; generator?: Generator; relative?: boolean } = {}): number {
  const { data, n, dim } = host(h);
  const maxNodes = opts.maxNodes ?? 1000;
  const nodes = n <= maxNodes ? Array.from({ length: n }, (_, i) => i) : Array.from((opts.generator ?? rng).permutation(n).subarray(0, maxNodes));
  let total = 0;
  let pairs = 0;
  let norms = 0;
  for (let a = 0; a < nodes.length; a++) {
    const i = nodes[a] * dim;
    let nn = 0;
    for (let k = 0; k < dim; k++) nn += data[i + k] * data[i + k];
    norms += Math.sqrt(nn);
    for (let b = a + 1; b < nodes.length; b++) {
      const j = nodes[b] * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const d = data[i + k] - data[j + k];
        s += d * d;
      }
      total += Math.sqrt(s);
      pairs++;
    }
  }
  const mpd = pairs === 0 ? 0 : total / pairs;
  if (opts.relative === false) return mpd;
  const scale = norms / Math.max(1, nodes.length);
  return scale === 0 ? 0 : mpd / scale;
}

/** k-means (Lloyd, k-means++ seeding): a cluster per row of data [n, dim]. */
export function kMeans(data: ArrayLike<number>, dim: number, k: number, opts: { iterations?: number; generator?: Generator } = {}): Int32Array {
  const gen = opts.generator ?? rng;
  const n = data.length / dim;
  const dist2 = (i: number, c: Float64Array, ci: number): number => {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const x = data[i * dim + d] - c[ci * dim + d];
      s += x * x;
    }
    return s;
  };
  const centers = new Float64Array(k * dim);
  const first = gen.int(n);
  for (let d = 0; d < dim; d++) centers[d] = data[first * dim + d];
  for (let c = 1; c < k; c++) {
    const w = Array.from({ length: n }, (_, i) => {
      let m = Infinity;
      for (let j = 0; j < c; j++) m = Math.min(m, dist2(i, centers, j));
      return m;
    });
    let r = gen.uniform() * w.reduce((a, b) => a + b, 0);
    let pick = 0;
    while (pick < n - 1 && r >= w[pick]) r -= w[pick++];
    for (let d = 0; d < dim; d++) centers[c * dim + d] = data[pick * dim + d];
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < (opts.iterations ?? 50); it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (dist2(i, centers, c) < dist2(i, centers, best)) best = c;
      if (assign[i] !== best || it === 0) changed = changed || assign[i] !== best;
      assign[i] = best;
    }
    const count = new Float64Array(k);
    const sums = new Float64Array(k * dim);
    for (let i = 0; i < n; i++) {
      count[assign[i]]++;
      for (let d = 0; d < dim; d++) sums[assign[i] * dim + d] += data[i * dim + d];
    }
    for (let c = 0; c < k; c++) if (count[c] > 0) for (let d = 0; d < dim; d++) centers[c * dim + d] = sums[c * dim + d] / count[c];
    if (!changed && it > 0) break;
  }
  return assign;
}

/** Projection of data [n, dim] onto its first two principal components ([n * 2]), for plots. */
export function pca2(data: ArrayLike<number>, dim: number): Float32Array {
  const n = data.length / dim;
  const mu = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mu[d] += data[i * dim + d] / n;
  const cov = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) {
      const xa = data[i * dim + a] - mu[a];
      for (let b = 0; b < dim; b++) cov[a * dim + b] += (xa * (data[i * dim + b] - mu[b])) / n;
    }
  }
  // Power iteration with deflation: two components are all a plot needs.
  const comps: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: dim }, (_, i) => 1 + i * 0.01);
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(dim);
      for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) w[a] += cov[a * dim + b] * v[b];
      for (const p of comps) {
        const dot = w.reduce((s, x, i) => s + x * p[i], 0);
        for (let i = 0; i < dim; i++) w[i] -= dot * p[i];
      }
      const norm = Math.hypot(...w) || 1;
      v = w.map((x) => x / norm);
    }
    comps.push(v);
  }
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (data[i * dim + d] - mu[d]) * comps[c][d];
      out[i * 2 + c] = s;
    }
  }
  return out;
}

/** Fraction of `nodes` whose prediction equals its label. */
export function accuracyOn(pred: ArrayLike<number>, labels: ArrayLike<number>, nodes: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < nodes.length; i++) if (pred[nodes[i]] === labels[nodes[i]]) ok++;
  return nodes.length === 0 ? 0 : ok / nodes.length;
}

/** Row-wise argmax of logits [n, C]. */
export function argmaxRows(logits: Tensor): Int32Array {
  const [n, c] = logits.shape;
  const d = logits.data() as Float32Array;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j] > d[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}
