// Activation layers: ReLU, Sigmoid, Tanh, Softplus, LeakyReLU and PReLU (learnable slope).
import { elu, leakyRelu, prelu, relu, sigmoid, softplus, tanh } from '../../ops/elementwise.js';
import { full, type Tensor } from '../../core/tensor.js';
import { positiveInt } from '../../core/validate.js';
import { Module, parameter } from '../module.js';

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

/** ELU: x for x > 0, alpha·(e^x − 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return elu(x, this.alpha); }
}

/** PReLU: like LeakyReLU with a learnable slope (one shared, or one per channel). */
export class PReLU extends Module {
  readonly weight: Tensor;
  constructor(numParameters = 1, initSlope = 0.25) {
    super();
    positiveInt('PReLU', 'numParameters', numParameters);
    this.weight = parameter(full([numParameters], initSlope));
  }
  forward(x: Tensor): Tensor { return prelu(x, this.weight); }
}
