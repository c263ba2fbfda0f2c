// The training toolkit: fit/evaluate/predict around overridable steps, callbacks,
// learning-rate schedules, gradient clipping, metrics and model checkpoints.
export { fit, evaluate, predict, type FitOptions, type EvaluateOptions, type FitData } from './fit';
export {
  defaultTrainStep, defaultEvalStep,
  type TrainStep, type EvalStep, type StepContext, type EvalContext, type StepResult, type LossFn, type LossLike,
} from './step';
export {
  type Callback, type FitCallbacks, type FitControl, type TrainBeginInfo, type BatchLogs, type History, type EpochLogs,
  type EarlyStoppingOptions,
} from './callbacks';
export {
  LinearLR, PowerLR, ExponentialLR, StepLR, CosineAnnealingLR, type LRSchedule, type ScheduleLike,
} from './schedules';
export { clipGradNorm, clipGradValue } from './clip';
export { accuracy, topKAccuracy, confusionMatrix, binaryAccuracy, type Metric, type MetricLike } from './metrics';
export { saveModel, loadModel } from './checkpoint';
