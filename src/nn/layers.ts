// Dense layers, activations and containers.
import { leakyRelu, prelu, relu, sigmoid, softplus, tanh } from '../ops/elementwise';
import { linear } from '../ops/matmul';
import { full, zeros, type Tensor } from '../core/tensor';
import { initTensor, type Init } from './init';
import { Module, parameter } from './module';

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
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`Linear: ${n} must be a positive integer, got ${v}`);
    }
    this.weight = parameter(initTensor(opts.init ?? 'xavier', [outFeatures, inFeatures], inFeatures, outFeatures));
    this.bias = opts.bias === false ? null : parameter(zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** The layer followed by ReLU, fused into the GEMM (used by Sequential). */
  forwardRelu(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { relu: true });
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}
export class Softplus extends Module {
  forward(x: Tensor): Tensor { return softplus(x); }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
}

/** PReLU: like LeakyReLU with a learnable slope (one shared, or one per channel). */
export class PReLU extends Module {
  readonly weight: Tensor;
  constructor(numParameters = 1, initSlope = 0.25) {
    super();
    if (!Number.isInteger(numParameters) || numParameters <= 0) throw new Error(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    this.weight = parameter(full([numParameters], initSlope));
  }
  forward(x: Tensor): Tensor { return prelu(x, this.weight); }
}

/** Runs modules in order. A Linear followed by ReLU runs as one fused GEMM. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new Error(`Sequential: argument ${i} is not a Module`);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      if (layer instanceof Linear && this.layers[i + 1] instanceof ReLU) {
        h = layer.forwardRelu(h);
        i++;
      } else {
        h = layer.forward(h);
      }
    }
    return h;
  }
}

