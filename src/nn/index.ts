export { Module, parameter, buffer } from './module';
export { Linear, ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, PReLU, Sequential, type LinearOptions } from './layers';
export { heNormal, xavierUniform, xavierNormalizedUniform, initTensor, type Init } from './init';
export { Conv2d, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './conv';
export { freeze, unfreeze, isFrozen, trainableParameters, getModule, replaceModule } from './freeze';
