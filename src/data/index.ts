// Data: datasets (any `{ length, get(i) }`, and the tensor-backed Dataset), collate, the
// DataLoader, batches() over plain arrays, the seeded split, standardisation and augmentation.
export {
  Dataset, TensorDataset, Subset, isDataset,
  type MapDataset, type DatasetOptions, type Example, type Targets,
} from './dataset.js';
export { collate, type Collated, type CollateFn } from './collate.js';
export { DataLoader, type DataLoaderOptions, type LoaderBatch, type SizedBatch, type DefaultBatch, type ExampleOf } from './loader.js';
export { batches, type Batch, type BatchOptions } from './batches.js';
export { splitTrainValTest, type SplitSizes, type Split } from './split.js';
export { Standardizer, type StandardizerOptions } from './standardize.js';
export {
  compose, randomCrop, randomShift, gaussianNoise, randomHorizontalFlip,
  type Transform, type TransformLike, type RandomCropOptions, type GaussianNoiseOptions,
} from './transforms.js';
