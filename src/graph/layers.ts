// Graph layers (notes §1.13.4–1.13.6): the general message-passing layer, GCNConv, a stack of
// GCN layers with optional skip connections, and readouts for graph-level embeddings.
//
// Every layer is permutation-equivariant by construction (§1.13.3.2): messages are one shared
// function applied to every node or edge, and aggregations are sums, means or maxima over
// unordered neighbour sets.
import { markTransient } from '../core/autograd.js';
import { dropout } from '../ops/dropout.js';
import { add, relu, tanh } from '../ops/elementwise.js';
import { gatherRows, scatterRows, type Aggregation } from '../ops/graph.js';
import { matmul } from '../ops/matmul.js';
import { zeros, full, type Tensor } from '../core/tensor.js';
import { positiveInt } from '../core/validate.js';
import { initTensor } from '../nn/init.js';
import { Linear } from '../nn/layers/linear.js';
import { Module, parameter, type AnyModule } from '../nn/module.js';
import { Graph, GraphBatch, propagate, type Adjacency } from './graph.js';

export type Activation = 'relu' | 'tanh' | 'none' | ((x: Tensor) => Tensor);

function activate(a: Activation, x: Tensor): Tensor {
  if (typeof a === 'function') return a(x);
  if (a === 'relu') return relu(x);
  if (a === 'tanh') return tanh(x);
  return x;
}

// ---- message passing -----------------------------------------------------------------------

/** A custom aggregation: per-edge messages [E, F], the receiving node of each, the node count. */
export type AggregateFn = (messages: Tensor, target: Tensor, numNodes: number) => Tensor;

export interface MessagePassingOptions {
  /**
   * MSG (§1.13.4.1), one function shared by all nodes: h_u [n, in] → m_u [n, out].
   * Default: ReLU(W h_u), a Linear(in, out) then ReLU. A Module is registered as a child
   * (its parameters train with the layer).
   */
  message?: AnyModule | ((h: Tensor) => Tensor);
  /**
   * Per-edge messages instead, from the sender's and the receiver's features (each [E, in]):
   * computed with gatherRows and aggregated with scatterRows. Parameters it uses must be
   * registered by the caller (pass them in `modules`).
   */
  edgeMessage?: (hSource: Tensor, hTarget: Tensor) => Tensor;
  /** Agg (§1.13.4.2): 'sum' (default), 'mean', 'max', or a function of the per-edge messages. */
  aggregate?: Aggregation | AggregateFn;
  /**
   * The self message m_v = B h_v added after aggregation: h_v = m_v + Agg({m_u}) (§1.13.4.2).
   * true: B is a Linear(in, out) without bias; or a Module or function of h. Default false.
   */
  selfMessage?: boolean | AnyModule | ((h: Tensor) => Tensor);
  /** σ applied to the result (default 'none'). */
  activation?: Activation;
  /** Extra modules whose parameters the layer owns (those an edgeMessage closure uses). */
  modules?: readonly AnyModule[];
}

/**
 * One message-passing layer: h_v' = σ( [m_v +] Agg({ MSG(h_u) : u ∈ N(v) }) ), with N(v) the
 * nodes v receives from (Graph's CSR rows).
 */
export class MessagePassing extends Module<[Graph, Tensor]> {
  readonly message: AnyModule | null;
  readonly self: AnyModule | null;
  readonly extra: AnyModule[];
  private readonly messageFn: ((h: Tensor) => Tensor) | null;
  private readonly selfFn: ((h: Tensor) => Tensor) | null;
  private readonly edgeMessage: ((hs: Tensor, ht: Tensor) => Tensor) | null;
  private readonly aggregate: Aggregation | AggregateFn;
  private readonly activation: Activation;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: MessagePassingOptions = {}) {
    super();
    positiveInt('MessagePassing', 'inFeatures', inFeatures);
    positiveInt('MessagePassing', 'outFeatures', outFeatures);
    // Per-edge messages replace the node-wise MSG, so no default one is made for them.
    const msg = opts.message ?? (opts.edgeMessage === undefined ? new MessageMLP(inFeatures, outFeatures) : null);
    this.message = msg instanceof Module ? msg : null;
    this.messageFn = msg === null || msg instanceof Module ? null : msg;
    this.edgeMessage = opts.edgeMessage ?? null;
    const sm = opts.selfMessage ?? false;
    const selfModule = sm === true ? new Linear(inFeatures, outFeatures, { bias: false }) : sm instanceof Module ? sm : null;
    this.self = selfModule;
    this.selfFn = typeof sm === 'function' && !(sm instanceof Module) ? sm as (h: Tensor) => Tensor : null;
    this.aggregate = opts.aggregate ?? 'sum';
    if (typeof this.aggregate === 'string' && !['sum', 'mean', 'max'].includes(this.aggregate)) {
      throw new Error(`MessagePassing: aggregate must be 'sum', 'mean', 'max' or a function, got '${this.aggregate}'`);
    }
    this.activation = opts.activation ?? 'none';
    this.extra = [...(opts.modules ?? [])];
  }

  forward(graph: Graph, h: Tensor): Tensor {
    const n = graph.numNodes;
    if (h.shape[0] !== n) throw new Error(`MessagePassing: h has ${h.shape[0]} rows for a graph of ${n} nodes`);
    let agg: Tensor;
    if (this.edgeMessage !== null || typeof this.aggregate === 'function') {
      const { src, dst } = graph.edgeTensors();
      let m: Tensor;
      if (this.edgeMessage !== null) m = this.edgeMessage(gatherRows(h, src), gatherRows(h, dst));
      else m = gatherRows(this.nodeMessages(h), src);
      agg = typeof this.aggregate === 'function' ? this.aggregate(m, dst, n) : scatterRows(m, dst, n, this.aggregate);
    } else {
      // Node-wise messages: aggregate them straight through the adjacency (one SpMM, no [E, F] buffer).
      agg = propagate(graph.adjacency(), this.nodeMessages(h), this.aggregate);
    }
    const selfMsg = this.self !== null ? (this.self.call(h) as Tensor) : this.selfFn !== null ? this.selfFn(h) : null;
    return activate(this.activation, selfMsg === null ? agg : add(selfMsg, agg));
  }

  private nodeMessages(h: Tensor): Tensor {
    if (this.message !== null) return this.message.call(h) as Tensor;
    if (this.messageFn !== null) return this.messageFn(h);
    throw new Error('MessagePassing: a custom aggregate without edgeMessage needs a message');
  }
}

/** The notes' default message m_u = ReLU(W h_u). */
export class MessageMLP extends Module {
  readonly linear: Linear;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.linear = new Linear(inFeatures, outFeatures);
  }

  forward(h: Tensor): Tensor {
    return this.linear.forwardRelu(h);
  }
}

// ---- GCN ------------------------------------------------------------------------------------

export interface GCNConvOptions {
  bias?: boolean;
  /** σ (default 'none': the layer is linear, as the last layer of a classifier). */
  activation?: Activation;
  /**
   * Skip connection (§1.13.6.3): h' = σ(ÂHW) + h, with a bias-free projection of h when the
   * widths differ. Default false.
   */
  skip?: boolean;
}

/**
 * Graph convolution (notes §1.13.5.2): H' = σ(D̃^{-1/2} Ã D̃^{-1/2} H W + b), Ã = A + I.
 * Takes a Graph (its cached GCN adjacency) or any Adjacency.
 */
export class GCNConv extends Module<[Graph | Adjacency, Tensor]> {
  /** W [in, out] as the notes write H W. */
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly projection: Linear | null;
  private readonly activation: Activation;
  private readonly skip: boolean;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: GCNConvOptions = {}) {
    super();
    positiveInt('GCNConv', 'inFeatures', inFeatures);
    positiveInt('GCNConv', 'outFeatures', outFeatures);
    this.weight = parameter(initTensor('xavier', [inFeatures, outFeatures], inFeatures, outFeatures));
    this.bias = opts.bias === false ? null : parameter(zeros([outFeatures]));
    this.activation = opts.activation ?? 'none';
    this.skip = opts.skip === true;
    this.projection = this.skip && inFeatures !== outFeatures ? new Linear(inFeatures, outFeatures, { bias: false }) : null;
  }

  forward(g: Graph | Adjacency, h: Tensor): Tensor {
    const adj = g instanceof Graph ? g.gcnAdjacency() : g;
    if (h.ndim !== 2 || h.shape[0] !== adj.numNodes || h.shape[1] !== this.inFeatures) {
      throw new Error(`GCNConv: h must be [${adj.numNodes}, ${this.inFeatures}], got [${h.shape.join(',')}]`);
    }
    // Â(HW) = (ÂH)W: aggregate over the narrower of the two widths.
    let z = this.outFeatures <= this.inFeatures
      ? propagate(adj, matmul(h, this.weight))
      : matmul(propagate(adj, h), this.weight);
    if (this.bias !== null) z = add(z, this.bias);
    z = activate(this.activation, z);
    if (!this.skip) return z;
    return add(z, this.projection === null ? h : this.projection.call(h));
  }
}

export interface GCNOptions {
  /** σ between layers (default 'relu'); the last layer is linear. */
  activation?: Activation;
  /** Dropout before every layer (default 0). */
  dropout?: number;
  /** Skip connections on the hidden layers (§1.13.6.3). */
  skip?: boolean;
}

/** A stack of GCNConv layers, sizes [in, hidden..., out]: logits per node. */
export class GCN extends Module<[Graph | Adjacency, Tensor]> {
  readonly layers: GCNConv[];
  private readonly p: number;

  constructor(sizes: readonly number[], opts: GCNOptions = {}) {
    super();
    if (sizes.length < 2) throw new Error(`GCN: sizes needs an input and an output width, got [${sizes.join(', ')}]`);
    const act = opts.activation ?? 'relu';
    this.layers = sizes.slice(1).map((out, i) => {
      const last = i === sizes.length - 2;
      return new GCNConv(sizes[i], out, { activation: last ? 'none' : act, skip: opts.skip === true && !last });
    });
    this.p = opts.dropout ?? 0;
  }

  forward(g: Graph | Adjacency, x: Tensor): Tensor {
    return this.hidden(g, x).at(-1)!;
  }

  /** The output of every layer (the last is the logits): for over-smoothing curves. */
  hidden(g: Graph | Adjacency, x: Tensor): Tensor[] {
    const outs: Tensor[] = [];
    let h = x;
    for (const layer of this.layers) {
      if (this.p > 0) h = dropout(h, this.p, this.training);
      h = layer.call(g, h);
      outs.push(h);
    }
    return outs;
  }
}

// ---- readouts --------------------------------------------------------------------------------

/**
 * Graph embeddings from node embeddings (§1.13.2.2): sum, mean or max over the nodes of each
 * graph of a batch ([numGraphs, F]), or of the whole graph ([1, F]) without a batch.
 * Permutation-invariant (§1.13.3.1).
 */
export function readout(h: Tensor, batch: GraphBatch | null = null, reduce: Aggregation = 'mean'): Tensor {
  // The index is batch data: the graph that uses it frees it at its backward().
  const index = markTransient(batch === null ? full([h.shape[0]], 0, { dtype: 'int32' }) : batch.graphIndexTensor());
  return scatterRows(h, index, batch === null ? 1 : batch.numGraphs, reduce);
}

/** readout() as a layer. */
export class Readout extends Module<[Tensor, GraphBatch | null]> {
  constructor(readonly reduce: Aggregation = 'mean') {
    super();
  }

  forward(h: Tensor, batch: GraphBatch | null = null): Tensor {
    return readout(h, batch, this.reduce);
  }
}
