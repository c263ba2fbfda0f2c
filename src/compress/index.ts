// Pruning and compression (notes §1.11): masks on parameters, the pruning methods, distillation.
// The mask kernels (kernels.ts), sparse layers (sparse.ts) and int8 quantisation (quantize.ts)
// come from the kernels side of the same issue.
export {
  prune, removeMask, getMask, maskedParameters, applyMasks, maskGradients, maskOptimizer,
  prunableParameters, topKMask, magnitudePrune, scorePrune, sparsityStats, restoreMasks, loadPrunedModel,
  type MaskedParam, type PruneOptions, type MagnitudeOptions, type LayerSparsity,
} from './masks.js';
export * from './methods.js';
export { distillationLoss, type DistillationOptions } from './distill.js';
export * from './kernels.js';
export * from './sparse.js';
export * from './quantize.js';
