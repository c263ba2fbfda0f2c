// simdgrad: deep learning for TypeScript on WebAssembly SIMD kernels.
export { init, build, type InitOptions, type Build } from '../bindings/index.js';
// Debug guard bytes around every block (SIMDGRAD_DEBUG_GUARDS=1 too): out-of-bounds kernel writes throw.
export { setDebugGuards, debugGuards, checkGuards } from '../bindings/index.js';
export {
  Tensor, tensor, zeros, ones, full, empty, zerosLike, arange, memory, scope, persistent, dispose,
  type DType, type TypedData, type Shape, type NestedArray, type CreateOptions, type TensorOf, type DataOf, type DTypeOf,
} from './core/tensor.js';
export { rand, randn, randint } from './core/random.js';
// RandomGenerator is the name to use; Generator (the class's own name) shadows the built-in type.
export { rng, manualSeed, Generator, Generator as RandomGenerator } from './core/random.js';
export {
  noGrad, enableGrad, isGradEnabled, backward, setDetectAnomaly, releaseGraphs, markTransient,
  type BackwardOptions,
} from './core/autograd.js';
export { keep } from './core/lifetime.js';
export { profile, type Profile, type ProfileEntry, type KernelEntry } from './core/profile.js';
export * from './ops/index.js';
export * as nn from './nn/index.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './ops/gradcheck.js';
export { batches, type Batch, type BatchOptions } from './data/index.js';
export { saveSafetensors, parseSafetensors, loadSafetensors, type LoadedTensor } from './export/safetensors.js';
export { loadTorchStateDict, type TorchLoadOptions, type TorchLoadable } from './export/torch.js';
export * as optim from './optim/index.js';
export * as text from './text/index.js';
export * as graph from './graph/index.js';
export * as energy from './models/energy/index.js';
export * as generative from './models/generative/index.js';
export * as compress from './compress/index.js';
export {
  Dataset, DataLoader, splitTrainValTest, Standardizer, collate, Subset,
  type DatasetOptions, type DataLoaderOptions, type LoaderBatch, type Example, type Targets, type SplitSizes, type Split, type StandardizerOptions,
  type MapDataset, type Collated, type CollateFn, type SizedBatch,
} from './data/index.js';
export {
  compose, randomCrop, randomShift, gaussianNoise, randomHorizontalFlip,
  type Transform, type TransformLike, type RandomCropOptions, type GaussianNoiseOptions,
} from './data/index.js';
export * from './train/index.js';
export { setThreads, getThreads, threadsInfo, startThreads, type ThreadsInfo } from '../bindings/parallel/index.js';
