// Optimizers: parameter groups with their own options, one fused wasm kernel call per
// parameter tensor per step.
export {
  Optimizer, type OptimizerStateDict, type ParamState, type HyperValue, type ParamGroup, type ParamGroupSpec, type Params,
} from './optimizer';
export { SGD, type SGDOptions } from './sgd';
export { Adagrad, type AdagradOptions } from './adagrad';
export { RMSprop, type RMSpropOptions } from './rmsprop';
export { Adam, AdamW, type AdamOptions } from './adam';
