// Entry point of the wasm module: re-exports every kernel family.
export { heapBase } from './memory';
export * from './optim';
export { gemm, gemmWorkspaceBytes } from './gemm';
export * from './elementwise';
export * from './reduce';
export * from './softmax';
export * from './conv';
export * from './pool';
export * from './norm';
export * from './dropout';
