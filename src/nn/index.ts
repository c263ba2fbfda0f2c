export {
  Module, parameter, buffer, isParameter, isBuffer, getModule, replaceModule, hasHooks,
  type AnyModule, type ForwardHook, type ForwardPreHook, type HookHandle, type MemberSlot,
} from './module.js';
export { Sequential, ModuleList, ModuleDict } from './containers.js';
export { heNormal, xavierUniform, xavierNormalizedUniform, initTensor, type Init } from './init.js';
export { Linear, LinearReLU, type LinearOptions } from './layers/linear.js';
export { ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, ELU, PReLU } from './layers/activation.js';
export { Conv2d, Conv2dReLU, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './layers/conv.js';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d } from './layers/pool.js';
export { BatchNorm1d, BatchNorm2d, BatchNormReLU, LayerNorm, type BatchNormLayerOptions, type LayerNormOptions } from './layers/norm.js';
export { Dropout } from './layers/dropout.js';
export { Flatten } from './layers/shape.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export {
  RNN, LSTM, GRU, type RecurrentLayerOptions, type RNNLayerOptions, type RecurrentState, type RecurrentResult, type RecurrentWeights,
} from './layers/recurrent.js';
export { freeze, unfreeze, isFrozen, trainableParameters } from './freeze.js';
export {
  MultiheadAttention, SinusoidalPositionalEncoding, LearnedPositionalEncoding, KVCache, sinusoidalEncoding,
  type MultiheadAttentionOptions, type AttentionCallOptions,
} from './layers/attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, GELU,
  type TransformerLayerOptions, type EncoderCallOptions, type DecoderCallOptions, type StackOptions,
} from './layers/transformer.js';
