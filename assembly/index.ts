// Entry point of the wasm module: re-exports every kernel family.
export { heapBase } from './memory';
export * from './optim';
export { gemm, gemmWorkspaceBytes, gemmZeroSteps, transpose2d } from './gemm';
export * from './elementwise';
export * from './reduce';
export { softmax, logSoftmax, softmaxBackward, logSoftmaxBackward } from './softmax';
export { attentionSoftmax } from './attention';
export * from './loss';
export * from './shape';
export * from './conv';
export * from './pool';
export * from './norm';
export * from './dropout';
export * from './sequence';
export * from './energy';
export * from './graph';
export * from './sparse';
export * from './quantize';
