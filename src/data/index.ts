// Data: datasets (any `{ length, get(i) }`, and the tensor-backed Dataset), collate, the
// DataLoader, batches() over plain arrays, the seeded split, standardisation and augmentation.
export {
  Dataset, TensorDataset, Subset, isDataset,
  type MapDataset, type DatasetOptions, type Example, type Targets,
} from './dataset';
export { collate, type Collated, type CollateFn } from './collate';
export { DataLoader, type DataLoaderOptions, type LoaderBatch, type SizedBatch, type DefaultBatch, type ExampleOf } from './loader';
export { batches, type Batch, type BatchOptions } from './batches';
export { splitTrainValTest, type SplitSizes, type Split } from './split';
export { Standardizer, type StandardizerOptions } from './standardize';
export {
  compose, randomCrop, randomShift, gaussianNoise, randomHorizontalFlip,
  type Transform, type TransformLike, type RandomCropOptions, type GaussianNoiseOptions,
} from './transforms';
