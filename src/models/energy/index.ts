// Classic and energy-based models of the notes' §1.3.1, §1.4 and §1.8.3: the perceptron and
// its learning algorithm, Hopfield networks, restricted Boltzmann machines trained by
// contrastive divergence, and deep belief nets by greedy layer-wise pretraining.
export {
  Perceptron, sign, augment, isLinearlySeparable,
  type PerceptronUpdate, type PerceptronOrder, type PerceptronTrainOptions, type PerceptronTrainResult, type SeparabilityResult,
} from './perceptron.js';
export {
  Hopfield, toBipolar, corrupt, overlap, capacityCurve,
  type StatesLike, type RecallOptions, type RecallResult, type CapacityPoint,
} from './hopfield.js';
export { RBM, type RBMOptions, type CDOptions, type FitOptions, type RBMEpoch, type CDStep, type Sampling } from './rbm.js';
export { DBN, type DBNOptions } from './dbn.js';
