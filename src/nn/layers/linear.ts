// The dense layer y = x·Wᵀ + b, and its fusion with a following ReLU.
import { linear } from '../../ops/matmul.js';
import { zeros, type Tensor } from '../../core/tensor.js';
import { positiveInt } from '../../core/validate.js';
import { initTensor, type Init } from '../init.js';
import { Module, parameter, type AnyModule } from '../module.js';
import { ReLU } from './activation.js';

export interface LinearOptions {
  bias?: boolean;
  /** Weight initialiser (default 'xavier': U[-1/√M, 1/√M], PyTorch's default range). */
  init?: Init;
}

/** y = x·Wᵀ + b with W [outFeatures, inFeatures] (PyTorch layout). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = parameter(initTensor(opts.init ?? 'xavier', [outFeatures, inFeatures], inFeatures, outFeatures));
    this.bias = opts.bias === false ? null : parameter(zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** The layer followed by ReLU, fused into the GEMM. */
  forwardRelu(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { relu: true });
  }

  /** A following ReLU runs in the GEMM's epilogue. */
  override fuseNext(next: AnyModule): AnyModule | null {
    return next instanceof ReLU ? new LinearReLU(this) : null;
  }
}

/** Linear then ReLU as one fused GEMM; reads the Linear's parameters when it runs. */
export class LinearReLU extends Module {
  constructor(readonly linear: Linear) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.linear.forwardRelu(x);
  }
}
