// The training toolkit: fit/evaluate/predict around overridable steps, callbacks,
// learning-rate schedules, gradient clipping, metrics and model checkpoints.
export {
  fit, evaluate, predict, type FitOptions, type EvaluateOptions, type FitData, type FitLogs, type EvaluateResult,
} from './fit.js';
export {
  defaultTrainStep, defaultEvalStep,
  type TrainStep, type EvalStep, type StepContext, type EvalContext, type StepResult, type LossFn, type LossLike,
} from './step.js';
export {
  type Callback, type FitCallbacks, type FitControl, type TrainBeginInfo, type BatchLogs, type History, type EpochLogs,
  type EarlyStoppingOptions,
} from './callbacks.js';
export {
  LinearLR, PowerLR, ExponentialLR, StepLR, CosineAnnealingLR, type LRSchedule, type ScheduleLike,
} from './schedules.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export {
  accuracy, topKAccuracy, confusionMatrix, binaryAccuracy, type Metric, type MetricLike, type MetricName, type MetricKey, type MetricKeys,
} from './metrics.js';
export { saveModel, loadModel } from './checkpoint.js';
