// Shallow node embeddings from random walks (notes §1.13.2.1): ENC(v) = z_v, a row of a table,
// trained so that z_vᵀ z_u is high for nodes u that co-occur with v on random walks — the
// softmax objective −log(exp(z_vᵀz_u) / Σ_w exp(z_vᵀz_w)) or its negative-sampling
// approximation — and their downstream use for link prediction (§1.13.2.2).
import { backward } from '../core/autograd.js';
import { Generator, randn, rng } from '../core/random.js';
import { scope, tensor, zeros, type Tensor } from '../core/tensor.js';
import { mul, neg, softplus } from '../ops/elementwise.js';
import { embedding } from '../ops/embedding.js';
import { crossEntropy } from '../ops/loss.js';
import { matmul } from '../ops/matmul.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape, transpose } from '../ops/shape.js';
import { Adam } from '../optim/adam.js';
import { Graph } from './graph.js';

export interface WalkOptions {
  /** Nodes per walk, the start included (default 10). */
  walkLength?: number;
  /** Walks started from every node (default 10). */
  walksPerNode?: number;
  /**
   * node2vec's return parameter: stepping back to the previous node is weighted 1/p (default 1).
   * With p = q = 1 the walk is uniform over the neighbours (weighted by edge weights).
   */
  p?: number;
  /** node2vec's in-out parameter: moving to a node not adjacent to the previous one is weighted 1/q (default 1). */
  q?: number;
  generator?: Generator;
}

/** Random walks over the graph (§1.13.2.1), walksPerNode from each node; a walk stops early at a node without neighbours. */
export function randomWalks(graph: Graph, opts: WalkOptions = {}): Int32Array[] {
  const len = opts.walkLength ?? 10;
  const per = opts.walksPerNode ?? 10;
  const p = opts.p ?? 1;
  const q = opts.q ?? 1;
  if (!(p > 0 && q > 0)) throw new Error(`randomWalks: p and q must be positive, got p = ${p}, q = ${q}`);
  const gen = opts.generator ?? rng;
  const uniform = p === 1 && q === 1;
  const walks: Int32Array[] = [];
  const bias: number[] = [];
  for (let round = 0; round < per; round++) {
    for (let start = 0; start < graph.numNodes; start++) {
      const walk = [start];
      while (walk.length < len) {
        const v = walk[walk.length - 1];
        const e0 = graph.indptr[v];
        const e1 = graph.indptr[v + 1];
        if (e1 === e0) break;
        const prev = walk.length > 1 ? walk[walk.length - 2] : -1;
        bias.length = 0;
        let total = 0;
        for (let e = e0; e < e1; e++) {
          const x = graph.indices[e];
          let b = graph.weights[e];
          // Second-order bias: by the distance of the candidate x from the previous node.
          if (!uniform && prev >= 0) b *= x === prev ? 1 / p : graph.hasEdge(x, prev) ? 1 : 1 / q;
          bias.push(b);
          total += b;
        }
        let r = gen.uniform() * total;
        let k = 0;
        while (k < bias.length - 1 && r >= bias[k]) r -= bias[k++];
        walk.push(graph.indices[e0 + k]);
      }
      walks.push(Int32Array.from(walk));
    }
  }
  return walks;
}

/** (center, context) pairs of nodes at most `window` steps apart on a walk: N_R(v) of the notes. */
export function skipGramPairs(walks: readonly Int32Array[], window: number): { center: Int32Array; context: Int32Array } {
  const c: number[] = [];
  const x: number[] = [];
  for (const w of walks) {
    for (let i = 0; i < w.length; i++) {
      for (let j = Math.max(0, i - window); j <= Math.min(w.length - 1, i + window); j++) {
        if (j === i) continue;
        c.push(w[i]);
        x.push(w[j]);
      }
    }
  }
  return { center: Int32Array.from(c), context: Int32Array.from(x) };
}

export interface NodeEmbeddingOptions extends WalkOptions {
  /** Embedding width (default 16). */
  dim?: number;
  /** Context window on the walks (default 3). */
  window?: number;
  /** 'negativeSampling' (default) or the full 'softmax' over all nodes (§1.13.2.1's loss; O(n) per pair). */
  objective?: 'negativeSampling' | 'softmax';
  /** Negative samples per pair, drawn ∝ walk frequency^0.75 (default 5). */
  negatives?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Separate context vectors z'_u (word2vec's two tables; default true) or the notes' single table. */
  contextTable?: boolean;
}

export interface NodeEmbeddings {
  /** z_v for every node, [numNodes * dim] row-major. */
  z: Float32Array;
  /** The context vectors z'_u ([numNodes * dim]; the same values as z with a single table). */
  context: Float32Array;
  dim: number;
  /** Mean loss of each epoch. */
  losses: number[];
}

/**
 * Learns ENC(v) = z_v by the skip-gram objective on random walks (DeepWalk with p = q = 1,
 * node2vec otherwise). Trained with Adam on the library's ops: embedding lookups, dot products
 * and softplus(−s) = −log σ(s) for the negative-sampling loss
 * −log σ(z_vᵀz_u) − Σ_k log σ(−z_vᵀz_{w_k}), or cross-entropy over all nodes for 'softmax'.
 */
export function trainNodeEmbeddings(graph: Graph, opts: NodeEmbeddingOptions = {}): NodeEmbeddings {
  const gen = opts.generator ?? rng;
  const n = graph.numNodes;
  const dim = opts.dim ?? 16;
  const K = opts.negatives ?? 5;
  const epochs = opts.epochs ?? 5;
  const B = opts.batchSize ?? 256;
  const softmaxObjective = opts.objective === 'softmax';
  const walks = randomWalks(graph, { ...opts, generator: gen });
  const { center, context } = skipGramPairs(walks, opts.window ?? 3);
  // Noise distribution: unigram frequency on the walks to the power 3/4, as a cumulative table.
  const freq = new Float64Array(n);
  for (const w of walks) for (const v of w) freq[v] += 1;
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let v = 0; v < n; v++) cdf[v] = acc += Math.pow(freq[v], 0.75);
  const drawNoise = (): number => {
    const r = gen.uniform() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] <= r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Separate context vectors z'_u by default: with one table (the notes' z_vᵀz_u for centre and
  // context alike) every negative sample of a node's own row pushes |z_v|² down and the table
  // collapses towards 0 under negative sampling.
  const zIn = randn([n, dim], 0, 1 / Math.sqrt(dim), { requiresGrad: true });
  const zOut = opts.contextTable !== false ? zeros([n, dim], { requiresGrad: true }) : zIn;
  const opt = new Adam(zOut === zIn ? [zIn] : [zIn, zOut], { lr: opts.lr ?? 0.025 });
  const losses: number[] = [];
  const m = center.length;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = gen.permutation(m);
      let total = 0;
      let batches = 0;
      for (let b0 = 0; b0 < m; b0 += B) {
        const size = Math.min(B, m - b0);
        const u = new Int32Array(size);
        const v = new Int32Array(size);
        for (let i = 0; i < size; i++) {
          u[i] = center[order[b0 + i]];
          v[i] = context[order[b0 + i]];
        }
        const noise = softmaxObjective ? null : Int32Array.from({ length: size * K }, drawNoise);
        const loss = scope(() => {
          const zu = embedding(tensor(u, [size], { dtype: 'int32' }), zIn);
          let l: Tensor;
          if (softmaxObjective) {
            l = crossEntropy(matmul(zu, transpose(zOut, 0, 1)), tensor(v, [size], { dtype: 'int32' }));
          } else {
            const zv = embedding(tensor(v, [size], { dtype: 'int32' }), zOut);
            const zn = embedding(tensor(noise!, [size, K], { dtype: 'int32' }), zOut);
            const pos = sum(mul(zu, zv), 1);
            const negScores = sum(mul(reshape(zu, [size, 1, dim]), zn), 2);
            l = mean(add2(softplus(neg(pos)), sum(softplus(negScores), 1)));
          }
          opt.zeroGrad();
          backward(l);
          opt.step();
          return l.item();
        });
        total += loss;
        batches++;
      }
      losses.push(total / Math.max(1, batches));
    }
    return { z: Float32Array.from(zIn.data()), context: Float32Array.from(zOut.data()), dim, losses };
  } finally {
    opt.dispose();
    zIn.dispose();
    if (zOut !== zIn) zOut.dispose();
  }
}

function add2(a: Tensor, b: Tensor): Tensor {
  return a.add(b);
}

// ---- link prediction ---------------------------------------------------------------------------

export type PairCombine = 'hadamard' | 'dot';

/**
 * Features of node pairs from their embeddings (§1.13.2.2): 'hadamard' z_u ⊙ z_v ([m, dim]) or
 * 'dot' z_uᵀ z_v ([m, 1]), for a classifier or as a direct score.
 */
export function pairFeatures(z: Float32Array, dim: number, pairs: readonly (readonly [number, number])[], combine: PairCombine = 'hadamard'): Float32Array {
  const width = combine === 'dot' ? 1 : dim;
  const out = new Float32Array(pairs.length * width);
  pairs.forEach(([u, v], i) => {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const h = z[u * dim + k] * z[v * dim + k];
      if (combine === 'dot') s += h;
      else out[i * dim + k] = h;
    }
    if (combine === 'dot') out[i] = s;
  });
  return out;
}

export interface EdgeSplit {
  /** The graph without the held-out edges (train embeddings on it). */
  train: Graph;
  /** Held-out edges (positives) and as many node pairs that are not edges (negatives). */
  positives: [number, number][];
  negatives: [number, number][];
}

/** Holds out a fraction of an undirected graph's edges for link prediction, with sampled non-edges. */
export function splitEdges(graph: Graph, fraction: number, generator: Generator = rng): EdgeSplit {
  const edges: [number, number][] = [];
  const { src, dst } = graph.edgeIndex();
  for (let e = 0; e < src.length; e++) if (src[e] < dst[e]) edges.push([src[e], dst[e]]);
  const order = generator.permutation(edges.length);
  const k = Math.round(fraction * edges.length);
  const positives = Array.from(order.subarray(0, k), (i) => edges[i]);
  const kept = Array.from(order.subarray(k), (i) => edges[i]);
  const negatives: [number, number][] = [];
  while (negatives.length < k) {
    const u = generator.int(graph.numNodes);
    const v = generator.int(graph.numNodes);
    if (u !== v && !graph.hasEdge(u, v)) negatives.push([u, v]);
  }
  const train = new Graph({ numNodes: graph.numNodes, edges: kept, features: graph.features, featureDim: graph.featureDim, labels: graph.labels ?? undefined });
  return { train, positives, negatives };
}

/** Area under the ROC curve: the probability that a random positive scores above a random negative. */
export function rocAuc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const all = [...Array.from(positive, (s) => [s, 1]), ...Array.from(negative, (s) => [s, 0])].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const avg = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSum += avg;
    i = j;
  }
  const P = positive.length;
  const N = negative.length;
  return (rankSum - (P * (P + 1)) / 2) / (P * N);
}
