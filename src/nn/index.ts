export { Module, parameter, buffer } from './module';
export { Linear, ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, PReLU, Sequential, type LinearOptions } from './layers';
export { heNormal, xavierUniform, xavierNormalizedUniform, initTensor, type Init } from './init';
export { Conv2d, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './conv';
export { freeze, unfreeze, isFrozen, trainableParameters, getModule, replaceModule } from './freeze';
export { MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten } from './pool';
export {
  BatchNorm1d, BatchNorm2d, LayerNorm, Dropout, type BatchNormLayerOptions, type LayerNormOptions,
} from './norm';
