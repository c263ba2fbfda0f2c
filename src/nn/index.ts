export {
  Module, parameter, buffer, isParameter, isBuffer, getModule, replaceModule, hasHooks,
  type AnyModule, type ForwardHook, type ForwardPreHook, type HookHandle, type MemberSlot,
} from './module';
export { Sequential, ModuleList, ModuleDict } from './containers';
export { heNormal, xavierUniform, xavierNormalizedUniform, initTensor, type Init } from './init';
export { Linear, LinearReLU, type LinearOptions } from './layers/linear';
export { ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, ELU, PReLU } from './layers/activation';
export { Conv2d, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './layers/conv';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d } from './layers/pool';
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormLayerOptions, type LayerNormOptions } from './layers/norm';
export { Dropout } from './layers/dropout';
export { Flatten } from './layers/shape';
export { freeze, unfreeze, isFrozen, trainableParameters } from './freeze';
