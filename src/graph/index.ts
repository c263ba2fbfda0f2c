// Graph neural networks (notes §1.13): graph data, layers, node embeddings and measurements.
// The sparse ops they run on (spmm, gatherRows, scatterRows) are in src/ops/graph.ts.
export {
  Graph, GraphBatch, batchGraphs, propagate, splitNodes, stochasticBlockModel, fromGraphology,
  type GraphOptions, type EdgeList, type Adjacency, type AdjacencyOptions, type Normalization, type NodeSplit, type SplitOptions,
  type SbmOptions, type GraphologyLike,
} from './graph.js';
export {
  MessagePassing, MessageMLP, GCNConv, GCN, Readout, readout,
  type Activation, type AggregateFn, type MessagePassingOptions, type GCNConvOptions, type GCNOptions,
} from './layers.js';
export {
  randomWalks, skipGramPairs, trainNodeEmbeddings, pairFeatures, splitEdges, rocAuc,
  type WalkOptions, type NodeEmbeddingOptions, type NodeEmbeddings, type PairCombine, type EdgeSplit,
} from './embeddings.js';
export { meanPairwiseDistance, kMeans, pca2, accuracyOn, argmaxRows } from './metrics.js';
export { trainNodeClassifier, type NodeTrainingOptions, type NodeTrainingResult } from './train.js';
export type { Aggregation } from '../ops/graph.js';
