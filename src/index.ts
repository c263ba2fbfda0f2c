// simdgrad: deep learning for TypeScript on WebAssembly SIMD kernels.
export { init, build, type InitOptions, type Build } from '../bindings/index';
export {
  Tensor, tensor, zeros, ones, full, empty, zerosLike, arange, memory, scope, persistent, dispose,
  type DType, type Shape, type NestedArray, type CreateOptions,
} from './core/tensor';
export { rand, randn, randint } from './core/random';
export { rng, manualSeed, Generator } from './core/random';
export {
  noGrad, enableGrad, isGradEnabled, backward, setDetectAnomaly, releaseGraphs, markTransient,
  type BackwardOptions,
} from './core/autograd';
export * from './ops/index';
export * as nn from './nn/index';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './ops/gradcheck';
export { batches, type Batch, type BatchOptions } from './data/index';
export { saveSafetensors, parseSafetensors, loadSafetensors, type LoadedTensor } from './export/safetensors';
export * as optim from './optim/index';
export {
  Dataset, DataLoader, splitTrainValTest, Standardizer, collate, Subset,
  type DatasetOptions, type DataLoaderOptions, type LoaderBatch, type Example, type Targets, type SplitSizes, type Split, type StandardizerOptions,
  type MapDataset, type Collated, type CollateFn, type SizedBatch,
} from './data/index';
export {
  compose, randomCrop, randomShift, gaussianNoise, randomHorizontalFlip,
  type Transform, type TransformLike, type RandomCropOptions, type GaussianNoiseOptions,
} from './data/index';
export * from './train/index';
export { setThreads, getThreads, threadsInfo, startThreads, type ThreadsInfo } from '../bindings/parallel/index';
