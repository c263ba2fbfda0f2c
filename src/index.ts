// simdgrad: deep learning for TypeScript on WebAssembly SIMD kernels.
export { init, build, type InitOptions, type Build } from '../bindings/index';
export {
  Tensor, tensor, zeros, ones, full, empty, zerosLike, arange, memory, scope, dispose,
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
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './core/gradcheck';
export { batches, type Batch, type BatchOptions } from './data/batches';
export { saveSafetensors, parseSafetensors, loadSafetensors, type LoadedTensor } from './export/safetensors';
export * as optim from './optim/index';
export {
  Dataset, DataLoader, splitTrainValTest, Standardizer,
  type DatasetOptions, type DataLoaderOptions, type LoaderBatch, type Example, type Targets, type SplitSizes, type Split, type StandardizerOptions,
} from './data/dataset';
export {
  compose, randomCrop, randomShift, gaussianNoise, randomHorizontalFlip,
  type Transform, type TransformLike, type RandomCropOptions, type GaussianNoiseOptions,
} from './data/transforms';
export * from './train/index';
export { setThreads, getThreads, threadsInfo, startThreads, type ThreadsInfo } from '../bindings/threads';
