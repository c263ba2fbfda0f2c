// All ops, and the Tensor methods that forward to them (x.add(y) is add(x, y)).
import { backward, type BackwardOptions } from '../core/autograd';
import { Tensor, type Shape } from '../core/tensor';
import * as ew from './elementwise';
import * as mm from './matmul';
import * as red from './reduce';
import * as shp from './shape';
import * as sm from './softmax';
import type { TensorLike } from './util';

export * from './elementwise';
export * from './matmul';
export * from './reduce';
export * from './shape';
export * from './softmax';
export * from './loss';
export type { TensorLike } from './util';

declare module '../core/tensor' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    abs(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    softplus(): Tensor;
    clamp(lo: number, hi: number): Tensor;
    matmul(b: Tensor): Tensor;
    sum(axis?: number, keepDim?: boolean): Tensor;
    mean(axis?: number, keepDim?: boolean): Tensor;
    max(axis?: number, keepDim?: boolean): Tensor;
    argmax(axis?: number, keepDim?: boolean): Tensor;
    reshape(shape: Shape): Tensor;
    flatten(startDim?: number): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    slice(begin: readonly number[], size?: readonly number[]): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    detach(): Tensor;
    backward(opts?: BackwardOptions): void;
  }
}

const P = Tensor.prototype;
P.add = function (b) { return ew.add(this, b); };
P.sub = function (b) { return ew.sub(this, b); };
P.mul = function (b) { return ew.mul(this, b); };
P.div = function (b) { return ew.div(this, b); };
P.neg = function () { return ew.neg(this); };
P.exp = function () { return ew.exp(this); };
P.log = function () { return ew.log(this); };
P.sqrt = function () { return ew.sqrt(this); };
P.square = function () { return ew.square(this); };
P.abs = function () { return ew.abs(this); };
P.relu = function () { return ew.relu(this); };
P.sigmoid = function () { return ew.sigmoid(this); };
P.tanh = function () { return ew.tanh(this); };
P.softplus = function () { return ew.softplus(this); };
P.clamp = function (lo, hi) { return ew.clamp(this, lo, hi); };
P.matmul = function (b) { return mm.matmul(this, b); };
P.sum = function (axis, keepDim) { return red.sum(this, axis, keepDim); };
P.mean = function (axis, keepDim) { return red.mean(this, axis, keepDim); };
P.max = function (axis, keepDim) { return red.max(this, axis, keepDim); };
P.argmax = function (axis, keepDim) { return red.argmax(this, axis, keepDim); };
P.reshape = function (shape) { return shp.reshape(this, shape); };
P.flatten = function (startDim) { return shp.flatten(this, startDim); };
P.transpose = function (d0, d1) { return shp.transpose(this, d0, d1); };
P.permute = function (dims) { return shp.permute(this, dims); };
P.slice = function (b, s) { return shp.slice(this, b, s); };
P.softmax = function (axis) { return sm.softmax(this, axis); };
P.logSoftmax = function (axis) { return sm.logSoftmax(this, axis); };
P.detach = function () { return shp.detach(this); };
P.backward = function (opts) { backward(this, opts); };
export {
  conv2d, convTranspose2d, conv2dOutputShape, convTranspose2dOutputShape,
  type Conv2dOptions, type ConvTranspose2dOptions, type Size2,
} from './conv';
export {
  maxPool2d, avgPool2d, globalAvgPool2d, pool2dOutputShape, type Pool2dOptions, type AvgPool2dOptions,
} from './pool';
export { batchNorm, layerNorm, type BatchNormOptions } from './norm';
export { dropout } from './dropout';
