// simdgrad: deep learning for TypeScript on WebAssembly SIMD kernels.
export { init, build, type InitOptions, type Build } from '../bindings/index';
export {
  Tensor, tensor, zeros, ones, full, empty, zerosLike, arange, memory, scope, dispose,
  type DType, type Shape, type NestedArray, type CreateOptions,
} from './tensor';
export { rand, randn, randint } from './random';
export { rng, manualSeed, Generator } from './rng';
export {
  noGrad, enableGrad, isGradEnabled, backward, setDetectAnomaly, releaseGraphs, markTransient,
  type BackwardOptions,
} from './autograd';
export * from './ops/index';
export * as nn from './nn/index';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck';
export { batches, type Batch, type BatchOptions } from './data/batches';
export { saveSafetensors, parseSafetensors, loadSafetensors, type LoadedTensor } from './io/safetensors';
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
