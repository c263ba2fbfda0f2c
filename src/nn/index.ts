export { Module, parameter, buffer } from './module';
export { Linear, ReLU, Sigmoid, Tanh, Softplus, LeakyReLU, PReLU, Sequential, type LinearOptions } from './layers';
export { heNormal, xavierUniform, xavierNormalizedUniform, initTensor, type Init } from './init';
