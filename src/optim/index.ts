// Optimizers: parameter groups with their own options, one fused wasm kernel call per
// parameter tensor per step.
export {
  Optimizer, type OptimizerStateDict, type ParamState, type HyperValue, type ParamGroup, type ParamGroupSpec, type Params,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
