// The training toolkit: fit/evaluate/predict, learning-rate schedules, gradient clipping,
// metrics and model checkpoints.
export {
  fit, evaluate, predict,
  type FitOptions, type FitCallbacks, type History, type EpochLogs, type EarlyStoppingOptions,
  type EvaluateOptions, type LossFn, type LossLike,
} from './fit';
export {
  LinearLR, PowerLR, ExponentialLR, StepLR, CosineAnnealingLR, type LRSchedule, type ScheduleLike,
} from './schedules';
export { clipGradNorm, clipGradValue } from './clip';
export { accuracy, topKAccuracy, confusionMatrix, binaryAccuracy, type Metric, type MetricLike } from './metrics';
export { saveModel, loadModel } from './checkpoint';
