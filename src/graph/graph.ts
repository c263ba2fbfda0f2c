// Graph data (notes §1.13.1.1): nodes 0..n-1, edges, node features and labels, with the
// adjacency stored once as CSR and its normalised variants (§1.13.5.1–2) built from it on request.
//
// Orientation: row v of the CSR lists the nodes v receives messages from. A directed edge
// u → v is entry (v, u), so Σ_u A_vu h_u is what v aggregates; an undirected edge is both
// (u, v) and (v, u). Entries of a row are sorted by source and duplicates are merged (their
// weights added), so neighbour tests are binary searches and the structure does not depend on
// the order the edges were listed in.
import { keep } from '../core/lifetime.js';
import { Generator, rng } from '../core/random.js';
import { Tensor, persistent, tensor } from '../core/tensor.js';
import { spmm, type Aggregation } from '../ops/graph.js';

export type Normalization = 'none' | 'row' | 'symmetric';

/** Edges as [source, target] pairs, or as two parallel arrays. */
export type EdgeList = readonly (readonly [number, number])[] | { readonly src: ArrayLike<number>; readonly dst: ArrayLike<number> };

export interface GraphOptions {
  /** Number of nodes (default: one more than the largest node id in the edges). */
  numNodes?: number;
  edges: EdgeList;
  /** Undirected (default) stores each edge in both directions. */
  directed?: boolean;
  /** One weight per listed edge (default 1). */
  weights?: ArrayLike<number>;
  /**
   * Node features: rows of numbers, a flat array with `featureDim`, or a default for graphs
   * without features (§1.13.1.1): 'constant' (x_v = 1, one feature) or 'onehot' (x_v = e_v).
   * Default 'constant'.
   */
  features?: readonly (readonly number[])[] | ArrayLike<number> | 'constant' | 'onehot';
  featureDim?: number;
  /** Integer class per node (node-level tasks). */
  labels?: ArrayLike<number>;
}

/** A sparse adjacency in the form `spmm` takes (tensors owned by its graph). */
export interface Adjacency {
  readonly indptr: Tensor;
  readonly indices: Tensor;
  readonly values: Tensor;
  readonly numNodes: number;
  readonly nnz: number;
  readonly selfLoops: boolean;
  readonly normalize: Normalization;
}

export interface AdjacencyOptions {
  /** Ã = A + I (default false). */
  selfLoops?: boolean;
  /** 'none' A, 'row' D⁻¹A (mean of the neighbours), 'symmetric' D^{-1/2} A D^{-1/2}; D from the matrix used. */
  normalize?: Normalization;
}

/** CSR arrays in JS memory (host side). */
interface HostCsr {
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

function edgeArrays(edges: EdgeList): { src: ArrayLike<number>; dst: ArrayLike<number> } {
  if (Array.isArray(edges)) {
    const list = edges as readonly (readonly [number, number])[];
    return { src: list.map((e) => e[0]), dst: list.map((e) => e[1]) };
  }
  const e = edges as { src: ArrayLike<number>; dst: ArrayLike<number> };
  if (e.src === undefined || e.dst === undefined || e.src.length !== e.dst.length) {
    throw new Error('Graph: edges must be [src, dst] pairs or { src, dst } arrays of one length');
  }
  return e;
}

/** Row-sorted, duplicate-merged CSR from (row, col, weight) triples. */
function buildCsr(n: number, rows: ArrayLike<number>, cols: ArrayLike<number>, w: ArrayLike<number> | null): HostCsr {
  const m = rows.length;
  const count = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) count[rows[e] + 1]++;
  for (let r = 0; r < n; r++) count[r + 1] += count[r];
  const cursor = count.slice(0, n);
  const order = new Int32Array(m);
  for (let e = 0; e < m; e++) order[cursor[rows[e]]++] = e;
  const indptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const wts: number[] = [];
  for (let r = 0; r < n; r++) {
    const seg = Array.from(order.subarray(count[r], count[r + 1])).sort((a, b) => cols[a] - cols[b] || a - b);
    for (const e of seg) {
      const weight = w === null ? 1 : w[e];
      if (idx.length > indptr[r] && idx[idx.length - 1] === cols[e]) wts[wts.length - 1] += weight;
      else {
        idx.push(cols[e]);
        wts.push(weight);
      }
    }
    indptr[r + 1] = idx.length;
  }
  return { indptr, indices: Int32Array.from(idx), weights: Float32Array.from(wts) };
}

function checkNode(v: number, n: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`Graph: ${what} ${v} is not a node id in [0, ${n})`);
}

/** A graph with CSR adjacency, node features and optional labels. */
export class Graph {
  readonly numNodes: number;
  readonly directed: boolean;
  /** CSR of incoming entries: row v holds the sources of v's messages (see the file header). */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly weights: Float32Array;
  readonly features: Float32Array;
  readonly featureDim: number;
  readonly labels: Int32Array | null;
  private readonly cache = new Map<string, Tensor | Adjacency>();

  constructor(opts: GraphOptions) {
    const { src, dst } = edgeArrays(opts.edges);
    let n = opts.numNodes;
    if (n === undefined) {
      n = 0;
      for (let e = 0; e < src.length; e++) n = Math.max(n, src[e] + 1, dst[e] + 1);
    }
    if (!Number.isInteger(n) || n < 0) throw new Error(`Graph: numNodes must be a non-negative integer, got ${n}`);
    for (let e = 0; e < src.length; e++) {
      checkNode(src[e], n, 'edge source');
      checkNode(dst[e], n, 'edge target');
    }
    if (opts.weights !== undefined && opts.weights.length !== src.length) {
      throw new Error(`Graph: ${opts.weights.length} weights for ${src.length} edges`);
    }
    this.numNodes = n;
    this.directed = opts.directed === true;
    const w = opts.weights ?? null;
    let rows: ArrayLike<number> = dst;
    let cols: ArrayLike<number> = src;
    let ws: ArrayLike<number> | null = w;
    if (!this.directed) {
      // Both directions; a self-loop is listed once.
      const r: number[] = [];
      const c: number[] = [];
      const ww: number[] = [];
      for (let e = 0; e < src.length; e++) {
        r.push(dst[e]);
        c.push(src[e]);
        ww.push(w === null ? 1 : w[e]);
        if (src[e] !== dst[e]) {
          r.push(src[e]);
          c.push(dst[e]);
          ww.push(w === null ? 1 : w[e]);
        }
      }
      [rows, cols, ws] = [r, c, ww];
    }
    const csr = buildCsr(n, rows, cols, ws);
    this.indptr = csr.indptr;
    this.indices = csr.indices;
    this.weights = csr.weights;
    const f = Graph.featuresFrom(opts.features ?? 'constant', n, opts.featureDim);
    this.features = f.data;
    this.featureDim = f.dim;
    if (opts.labels !== undefined) {
      if (opts.labels.length !== n) throw new Error(`Graph: ${opts.labels.length} labels for ${n} nodes`);
      this.labels = Int32Array.from(opts.labels);
    } else this.labels = null;
  }

  private static featuresFrom(f: NonNullable<GraphOptions['features']>, n: number, dim?: number): { data: Float32Array; dim: number } {
    if (f === 'constant') return { data: new Float32Array(n).fill(1), dim: 1 };
    if (f === 'onehot') {
      const data = new Float32Array(n * n);
      for (let v = 0; v < n; v++) data[v * n + v] = 1;
      return { data, dim: n };
    }
    if (Array.isArray(f) && (f.length === 0 || Array.isArray(f[0]))) {
      const rowsOf = f as readonly (readonly number[])[];
      if (rowsOf.length !== n) throw new Error(`Graph: ${rowsOf.length} feature rows for ${n} nodes`);
      const d = rowsOf[0]?.length ?? 0;
      const data = new Float32Array(n * d);
      rowsOf.forEach((row, v) => {
        if (row.length !== d) throw new Error(`Graph: feature row ${v} has ${row.length} values, row 0 has ${d}`);
        data.set(row, v * d);
      });
      return { data, dim: d };
    }
    const flat = f as ArrayLike<number>;
    const d = dim ?? (n === 0 ? 0 : flat.length / n);
    if (!Number.isInteger(d) || flat.length !== n * d) throw new Error(`Graph: ${flat.length} feature values are not ${n} rows of featureDim values`);
    return { data: Float32Array.from(flat), dim: d };
  }

  /** Stored entries (an undirected edge counts twice, a self-loop once). */
  get numEntries(): number {
    return this.indices.length;
  }

  /** The nodes v receives from: N(v) (sorted). */
  neighbors(v: number): Int32Array {
    checkNode(v, this.numNodes, 'node');
    return this.indices.subarray(this.indptr[v], this.indptr[v + 1]);
  }

  degree(v: number): number {
    checkNode(v, this.numNodes, 'node');
    return this.indptr[v + 1] - this.indptr[v];
  }

  /** Whether v receives from u (for undirected graphs: whether u and v are adjacent). */
  hasEdge(u: number, v: number): boolean {
    let lo = this.indptr[v];
    let hi = this.indptr[v + 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.indices[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.indptr[v + 1] && this.indices[lo] === u;
  }

  /** Every stored entry as a message edge src → dst, in CSR order (grouped by dst). */
  edgeIndex(): { src: Int32Array; dst: Int32Array } {
    const dst = new Int32Array(this.indices.length);
    for (let v = 0; v < this.numNodes; v++) dst.fill(v, this.indptr[v], this.indptr[v + 1]);
    return { src: this.indices.slice(), dst };
  }

  private cached<T extends Tensor | Adjacency>(key: string, make: () => T): T {
    let v = this.cache.get(key) as T | undefined;
    if (v === undefined || (v instanceof Tensor && !v.isAlive)) {
      v = keep(persistent(make));
      this.cache.set(key, v);
    }
    return v;
  }

  /** Node features X [n, featureDim] (one tensor per graph, freed by dispose()). */
  x(): Tensor {
    return this.cached('x', () => tensor(this.features, [this.numNodes, this.featureDim]));
  }

  /** Labels [n] int32. */
  y(): Tensor {
    if (this.labels === null) throw new Error('Graph: this graph has no labels');
    return this.cached('y', () => tensor(this.labels!, [this.numNodes], { dtype: 'int32' }));
  }

  /** Message edges as int32 tensors (for gatherRows/scatterRows). */
  edgeTensors(): { src: Tensor; dst: Tensor } {
    const e = this.edgeIndex();
    return {
      src: this.cached('src', () => tensor(e.src, [e.src.length], { dtype: 'int32' })),
      dst: this.cached('dst', () => tensor(e.dst, [e.dst.length], { dtype: 'int32' })),
    };
  }

  /** The CSR arrays of A, Ã = A + I, and their normalisations (host side). */
  adjacencyArrays(opts: AdjacencyOptions = {}): HostCsr {
    const n = this.numNodes;
    const loops = opts.selfLoops === true;
    const norm = opts.normalize ?? 'none';
    let csr: HostCsr = { indptr: this.indptr, indices: this.indices, weights: this.weights };
    if (loops) {
      const { src, dst } = this.edgeIndex();
      const rows = Int32Array.from([...dst, ...Array.from({ length: n }, (_, v) => v)]);
      const cols = Int32Array.from([...src, ...Array.from({ length: n }, (_, v) => v)]);
      const w = Float32Array.from([...this.weights, ...new Array<number>(n).fill(1)]);
      csr = buildCsr(n, rows, cols, w);
    }
    if (norm === 'none') return csr;
    const deg = new Float64Array(n);
    for (let v = 0; v < n; v++) for (let e = csr.indptr[v]; e < csr.indptr[v + 1]; e++) deg[v] += csr.weights[e];
    const w = new Float32Array(csr.weights.length);
    for (let v = 0; v < n; v++) {
      for (let e = csr.indptr[v]; e < csr.indptr[v + 1]; e++) {
        const u = csr.indices[e];
        const d = norm === 'row' ? deg[v] : Math.sqrt(deg[v] * deg[u]);
        w[e] = d > 0 ? csr.weights[e] / d : 0;
      }
    }
    return { indptr: csr.indptr, indices: csr.indices, weights: w };
  }

  /** A, Ã = A + I, D⁻¹Ã or D̃^{-1/2} Ã D̃^{-1/2} as tensors for spmm (built once per variant). */
  adjacency(opts: AdjacencyOptions = {}): Adjacency {
    const selfLoops = opts.selfLoops === true;
    const normalize = opts.normalize ?? 'none';
    if (!['none', 'row', 'symmetric'].includes(normalize)) {
      throw new Error(`Graph: normalize must be 'none', 'row' or 'symmetric', got '${String(normalize)}'`);
    }
    const key = `adj:${selfLoops}:${normalize}`;
    const hit = this.cache.get(key) as Adjacency | undefined;
    if (hit !== undefined && hit.values.isAlive) return hit;
    const a = this.adjacencyArrays({ selfLoops, normalize });
    const adj: Adjacency = keep(persistent(() => ({
      indptr: tensor(a.indptr, [a.indptr.length], { dtype: 'int32' }),
      indices: tensor(a.indices, [a.indices.length], { dtype: 'int32' }),
      values: tensor(a.weights, [a.weights.length]),
      numNodes: this.numNodes, nnz: a.indices.length, selfLoops, normalize,
    })));
    this.cache.set(key, adj);
    return adj;
  }

  /** The GCN propagation matrix D̃^{-1/2} Ã D̃^{-1/2} (§1.13.5.2). */
  gcnAdjacency(): Adjacency {
    return this.adjacency({ selfLoops: true, normalize: 'symmetric' });
  }

  /**
   * The same graph with its nodes relabelled: new node i is old node perm[i], so features
   * become PX and the adjacency PAPᵀ (§1.13.3.1).
   */
  permute(perm: ArrayLike<number>): Graph {
    const n = this.numNodes;
    if (perm.length !== n) throw new Error(`Graph: a permutation of ${n} nodes needs ${n} entries, got ${perm.length}`);
    const inv = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      checkNode(perm[i], n, 'permutation entry');
      if (inv[perm[i]] !== -1) throw new Error(`Graph: ${perm[i]} appears twice in the permutation`);
      inv[perm[i]] = i;
    }
    const { src, dst } = this.edgeIndex();
    const d = this.featureDim;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) x.set(this.features.subarray(perm[i] * d, perm[i] * d + d), i * d);
    return new Graph({
      numNodes: n, directed: true, edges: { src: Array.from(src, (u) => inv[u]), dst: Array.from(dst, (v) => inv[v]) },
      weights: this.weights, features: x, featureDim: d,
      labels: this.labels === null ? undefined : Array.from({ length: n }, (_, i) => this.labels![perm[i]]),
    });
  }

  /** Frees the tensors this graph made (features, labels, adjacencies). */
  dispose(): void {
    for (const v of this.cache.values()) {
      if (v instanceof Tensor) v.dispose();
      else {
        const a = v as Adjacency;
        a.indptr.dispose();
        a.indices.dispose();
        a.values.dispose();
      }
    }
    this.cache.clear();
  }
}

/** AGG over each node's row of `adj` applied to h [n, F] (notes §1.13.4.2; sum, mean or max). */
export function propagate(adj: Adjacency, h: Tensor, reduce: Aggregation = 'sum'): Tensor {
  return spmm(adj.indptr, adj.indices, adj.values, h, reduce);
}

// ---- splits --------------------------------------------------------------------------------

export interface NodeSplit {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
  /** 1 where the node is in the split. */
  trainMask: Uint8Array;
  valMask: Uint8Array;
  testMask: Uint8Array;
}

export interface SplitOptions {
  /** Labelled training nodes per class (semi-supervised node classification), or... */
  trainPerClass?: number;
  /** ...a fraction of all nodes for training. */
  trainFraction?: number;
  /** Validation nodes: a count (default 0). The rest is the test set. */
  val?: number;
  generator?: Generator;
}

/** Train / validation / test node sets and masks (§1.13.6.1: held-out nodes estimate generalisation). */
export function splitNodes(graph: Graph, opts: SplitOptions = {}): NodeSplit {
  const n = graph.numNodes;
  const gen = opts.generator ?? rng;
  const order = gen.permutation(n);
  const train: number[] = [];
  if (opts.trainPerClass !== undefined) {
    if (graph.labels === null) throw new Error('splitNodes: trainPerClass needs a graph with labels');
    const taken = new Map<number, number>();
    for (const v of order) {
      const c = graph.labels[v];
      if ((taken.get(c) ?? 0) < opts.trainPerClass) {
        taken.set(c, (taken.get(c) ?? 0) + 1);
        train.push(v);
      }
    }
  } else {
    const k = Math.round((opts.trainFraction ?? 0.5) * n);
    for (let i = 0; i < k; i++) train.push(order[i]);
  }
  const inTrain = new Uint8Array(n);
  for (const v of train) inTrain[v] = 1;
  const rest = Array.from(order).filter((v) => inTrain[v] === 0);
  const nVal = Math.min(opts.val ?? 0, rest.length);
  const val = rest.slice(0, nVal);
  const test = rest.slice(nVal);
  const mask = (ids: number[]): Uint8Array => {
    const m = new Uint8Array(n);
    for (const v of ids) m[v] = 1;
    return m;
  };
  const sorted = (ids: number[]): Int32Array => Int32Array.from(ids).sort();
  return { train: sorted(train), val: sorted(val), test: sorted(test), trainMask: mask(train), valMask: mask(val), testMask: mask(test) };
}

// ---- batches of small graphs ---------------------------------------------------------------

/** Several graphs as one block-diagonal graph, with the graph of every node for readouts. */
export class GraphBatch extends Graph {
  /** graphIndex[v]: which graph node v came from. */
  readonly graphIndex: Int32Array;
  readonly numGraphs: number;
  /** First node of each graph (numGraphs + 1 entries). */
  readonly offsets: Int32Array;

  constructor(graphs: readonly Graph[]) {
    if (graphs.length === 0) throw new Error('batchGraphs: expected at least one graph');
    const d = graphs[0].featureDim;
    const offsets = new Int32Array(graphs.length + 1);
    graphs.forEach((g, i) => {
      if (g.featureDim !== d) throw new Error(`batchGraphs: graph ${i} has ${g.featureDim} features, graph 0 has ${d}`);
      offsets[i + 1] = offsets[i] + g.numNodes;
    });
    const n = offsets[graphs.length];
    const src: number[] = [];
    const dst: number[] = [];
    const w: number[] = [];
    const x = new Float32Array(n * d);
    graphs.forEach((g, i) => {
      const e = g.edgeIndex();
      for (let k = 0; k < e.src.length; k++) {
        src.push(e.src[k] + offsets[i]);
        dst.push(e.dst[k] + offsets[i]);
        w.push(g.weights[k]);
      }
      x.set(g.features, offsets[i] * d);
    });
    const labelled = graphs.every((g) => g.labels !== null);
    super({
      numNodes: n, directed: true, edges: { src, dst }, weights: w, features: x, featureDim: d,
      labels: labelled ? graphs.flatMap((g) => Array.from(g.labels!)) : undefined,
    });
    this.numGraphs = graphs.length;
    this.offsets = offsets;
    this.graphIndex = new Int32Array(n);
    for (let i = 0; i < graphs.length; i++) this.graphIndex.fill(i, offsets[i], offsets[i + 1]);
  }

  /** graphIndex as an int32 tensor (for readouts). */
  graphIndexTensor(): Tensor {
    return tensor(this.graphIndex, [this.numNodes], { dtype: 'int32' });
  }
}

/** Block-diagonal batch of small graphs (graph-level tasks, §1.13.2.2). */
export function batchGraphs(graphs: readonly Graph[]): GraphBatch {
  return new GraphBatch(graphs);
}

// ---- stochastic block model ------------------------------------------------------------------

export interface SbmOptions {
  /** Nodes per community. */
  sizes: readonly number[];
  /** Edge probability inside a community and between two. */
  pIn: number;
  pOut: number;
  /**
   * Noisy features: dim values per node, its community's mean (drawn N(0, signal²) per
   * community and dimension) plus N(0, 1) noise. Default: no features (constant).
   */
  features?: { dim: number; signal: number };
  generator?: Generator;
}

/**
 * A stochastic block model graph: planted communities as labels, each pair of nodes linked
 * independently with pIn or pOut. Pairs are visited by geometric skips, O(nodes + edges).
 */
export function stochasticBlockModel(opts: SbmOptions): Graph {
  const gen = opts.generator ?? rng;
  const { sizes, pIn, pOut } = opts;
  for (const p of [pIn, pOut]) if (!(p >= 0 && p <= 1)) throw new Error(`stochasticBlockModel: probabilities must be in [0, 1], got ${p}`);
  const start = [0];
  for (const s of sizes) start.push(start[start.length - 1] + s);
  const n = start[sizes.length];
  const src: number[] = [];
  const dst: number[] = [];
  // Number of pairs skipped before the next edge: Geometric(p).
  const skip = (p: number): number => (p >= 1 ? 0 : Math.floor(Math.log(1 - gen.uniform()) / Math.log(1 - p)));
  for (let a = 0; a < sizes.length; a++) {
    for (let b = a; b < sizes.length; b++) {
      const p = a === b ? pIn : pOut;
      if (p <= 0) continue;
      if (a === b) {
        // Pairs i < j of the block, row by row.
        const m = sizes[a];
        let i = 0;
        let j = 1 + skip(p);
        while (i < m - 1) {
          while (j >= m && i < m - 1) {
            j = j - m + i + 2;
            i++;
          }
          if (i >= m - 1) break;
          src.push(start[a] + i);
          dst.push(start[a] + j);
          j += 1 + skip(p);
        }
      } else {
        const total = sizes[a] * sizes[b];
        for (let k = skip(p); k < total; k += 1 + skip(p)) {
          src.push(start[a] + Math.floor(k / sizes[b]));
          dst.push(start[b] + (k % sizes[b]));
        }
      }
    }
  }
  const labels = new Int32Array(n);
  for (let a = 0; a < sizes.length; a++) labels.fill(a, start[a], start[a + 1]);
  let features: Float32Array | undefined;
  let featureDim: number | undefined;
  if (opts.features !== undefined) {
    const { dim, signal } = opts.features;
    const means = Array.from({ length: sizes.length }, () => Array.from({ length: dim }, () => signal * gen.normal()));
    features = new Float32Array(n * dim);
    for (let v = 0; v < n; v++) for (let k = 0; k < dim; k++) features[v * dim + k] = means[labels[v]][k] + gen.normal();
    featureDim = dim;
  }
  return new Graph({ numNodes: n, edges: { src, dst }, labels, features, featureDim });
}

// ---- graphology adapter ----------------------------------------------------------------------

/** The part of a graphology graph read here (no dependency on the package). */
export interface GraphologyLike {
  nodes(): string[];
  forEachEdge(cb: (edge: string, attributes: Record<string, unknown>, source: string, target: string) => void): void;
  getNodeAttribute(node: string, name: string): unknown;
  readonly type: string;
}

/**
 * A Graph from a graphology graph (e.g. graphology-generators' karate club): nodes in
 * graphology's order; with `labelAttribute`, node labels are the attribute's values numbered
 * in order of first appearance (`classes` lists them).
 */
export function fromGraphology(g: GraphologyLike, opts: { labelAttribute?: string; features?: GraphOptions['features'] } = {}): { graph: Graph; classes: string[]; nodes: string[] } {
  const nodes = g.nodes();
  const id = new Map(nodes.map((k, i) => [k, i]));
  const src: number[] = [];
  const dst: number[] = [];
  g.forEachEdge((_e, _a, s, t) => {
    src.push(id.get(s)!);
    dst.push(id.get(t)!);
  });
  const classes: string[] = [];
  let labels: number[] | undefined;
  if (opts.labelAttribute !== undefined) {
    labels = nodes.map((k) => {
      const c = String(g.getNodeAttribute(k, opts.labelAttribute!));
      if (!classes.includes(c)) classes.push(c);
      return classes.indexOf(c);
    });
  }
  const graph = new Graph({ numNodes: nodes.length, edges: { src, dst }, directed: g.type === 'directed', labels, features: opts.features });
  return { graph, classes, nodes };
}
