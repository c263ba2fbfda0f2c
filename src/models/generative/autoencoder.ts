// Autoencoders (notes §1.9.1–1.9.2): h = f(x), r = g(h), trained on L(x, g(f(x))) plus
// whichever regulariser is asked for — sparse Ω(h) = λ‖h‖₁, denoising L(x, g(f(x̃))) with x̃
// from a Gaussian or masking corruption C(x̃ | x), contractive λ Σᵢ ‖∇ₓhᵢ‖²_F (exact, for a
// sigmoid encoder). Noise comes from the one seeded generator (sg.manualSeed).
import { rand, randn } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { checkOptions, numberIn, oneOf, positiveInt } from '../../core/validate.js';
import { abs, add, mul, sigmoid } from '../../ops/elementwise.js';
import { contractivePenalty } from '../../ops/generative.js';
import { binaryCrossEntropyWithLogits, mseLoss } from '../../ops/loss.js';
import { mean, sum } from '../../ops/reduce.js';
import { Sequential } from '../../nn/containers.js';
import { Linear } from '../../nn/layers/linear.js';
import { ReLU, Sigmoid } from '../../nn/layers/activation.js';
import { Module, type AnyModule } from '../../nn/module.js';

/** x̃ = x + ε, ε ~ N(0, std²) elementwise. */
export function gaussianCorruption(x: Tensor, std: number): Tensor {
  numberIn('gaussianCorruption', 'std', std, 0, Infinity);
  return add(x, randn(x.shape, 0, std));
}

/** x̃ = x with each element set to 0 with probability p (masking noise, Vincent et al. 2008). */
export function maskingCorruption(x: Tensor, p: number): Tensor {
  numberIn('maskingCorruption', 'p', p, 0, 1);
  const u = rand(x.shape);
  const keep = u.data().map((v) => (v >= p ? 1 : 0));
  u.setData(keep);
  return mul(x, u);
}

export type Corruption = { kind: 'gaussian'; std: number } | { kind: 'masking'; p: number };

export interface AutoencoderOptions {
  /**
   * How r is compared with x: 'mse' (mean squared error per element), or 'bce' when the
   * decoder returns logits of Bernoulli pixels (binary cross-entropy per element).
   */
  reconstruction?: 'mse' | 'bce';
  /** λ of the sparse penalty λ‖h‖₁ (per example, averaged over the batch); default 0. */
  sparsity?: number;
  /** λ of the contractive penalty λ Σᵢ ‖∇ₓhᵢ‖² (needs a Linear + Sigmoid encoder); default 0. */
  contractive?: number;
  /** Corrupt the encoder's input while training, to reconstruct the clean x (denoising AE). */
  corruption?: Corruption;
}

export interface AutoencoderOutput {
  /** The code h = f(x). */
  code: Tensor;
  /** The reconstruction r = g(h) (logits with reconstruction 'bce'). */
  recon: Tensor;
}

export interface AutoencoderLoss extends AutoencoderOutput {
  /** What to minimise: reconstruction + penalty. */
  loss: Tensor;
  reconstruction: Tensor;
  /** The regulariser's value (0 when there is none). */
  penalty: Tensor | number;
}

/** An encoder f and a decoder g with the notes' training criteria (see AutoencoderOptions). */
export class Autoencoder extends Module<[Tensor], AutoencoderOutput> {
  readonly options: Required<Omit<AutoencoderOptions, 'corruption'>> & { corruption: Corruption | null };

  constructor(readonly encoder: AnyModule, readonly decoder: AnyModule, opts: AutoencoderOptions = {}) {
    super();
    checkOptions('Autoencoder', opts, ['reconstruction', 'sparsity', 'contractive', 'corruption']);
    const c = opts.corruption ?? null;
    if (c !== null) {
      if (c.kind === 'gaussian') numberIn('Autoencoder', 'corruption.std', c.std, 0, Infinity);
      else if (c.kind === 'masking') numberIn('Autoencoder', 'corruption.p', c.p, 0, 1);
      else throw new Error(`Autoencoder: corruption.kind must be 'gaussian' or 'masking', got ${JSON.stringify((c as { kind: unknown }).kind)}`);
    }
    this.options = {
      reconstruction: oneOf('Autoencoder', 'reconstruction', opts.reconstruction ?? 'mse', ['mse', 'bce']),
      sparsity: numberIn('Autoencoder', 'sparsity', opts.sparsity ?? 0, 0, Infinity),
      contractive: numberIn('Autoencoder', 'contractive', opts.contractive ?? 0, 0, Infinity),
      corruption: c,
    };
    if (this.options.contractive > 0) this.sigmoidEncoderWeight();
  }

  /** The encoder's W when it is Linear followed by Sigmoid (the closed form of the contractive penalty needs that). */
  private sigmoidEncoderWeight(): Tensor {
    const e = this.encoder;
    if (e instanceof Sequential && e.layers.length === 2 && e.layers[0] instanceof Linear && e.layers[1] instanceof Sigmoid) return e.layers[0].weight;
    throw new Error('Autoencoder: the contractive penalty is computed in closed form for an encoder Sequential(Linear, Sigmoid)');
  }

  forward(x: Tensor): AutoencoderOutput {
    const code = this.encoder.call(x) as Tensor;
    return { code, recon: this.decoder.call(code) as Tensor };
  }

  /** The encoder's input for x: x itself, or a corrupted copy when denoising in training mode. */
  corrupt(x: Tensor): Tensor {
    const c = this.options.corruption;
    if (c === null || !this.training) return x;
    return c.kind === 'gaussian' ? gaussianCorruption(x, c.std) : maskingCorruption(x, c.p);
  }

  /** The reconstruction error of r against the clean x (mean per element). */
  reconstructionError(recon: Tensor, x: Tensor): Tensor {
    return this.options.reconstruction === 'bce' ? binaryCrossEntropyWithLogits(recon, x) : mseLoss(recon, x);
  }

  /** L(x, g(f(x̃))) + Ω: the training criterion on a batch x [N, D]. */
  loss(x: Tensor): AutoencoderLoss {
    const { code, recon } = this.forward(this.corrupt(x));
    const reconstruction = this.reconstructionError(recon, x);
    let penalty: Tensor | number = 0;
    let loss = reconstruction;
    const { sparsity, contractive } = this.options;
    if (sparsity > 0) {
      const l1 = mul(mean(sum(abs(code), 1)), sparsity);
      penalty = l1;
      loss = add(loss, l1);
    }
    if (contractive > 0) {
      const c = mul(contractivePenalty(code, this.sigmoidEncoderWeight()), contractive);
      penalty = typeof penalty === 'number' ? c : add(penalty, c);
      loss = add(loss, c);
    }
    return { loss, reconstruction, penalty, code, recon };
  }

  /** The reconstruction as pixels/values (sigmoid of the logits with reconstruction 'bce'). */
  reconstruct(x: Tensor): Tensor {
    const { recon } = this.forward(x);
    return this.options.reconstruction === 'bce' ? sigmoid(recon) : recon;
  }
}

export interface DenseAutoencoderOptions extends AutoencoderOptions {
  /** Hidden layer widths between input and code (mirrored in the decoder); default none. */
  hidden?: readonly number[];
  /** Activation of the code layer: 'linear' (default), 'sigmoid' or 'relu'. */
  codeActivation?: 'linear' | 'sigmoid' | 'relu';
  /** Activation of the decoder's output: 'linear' (default) or 'sigmoid'. Use 'linear' with reconstruction 'bce' (logits). */
  outputActivation?: 'linear' | 'sigmoid';
}

/**
 * A fully connected autoencoder D → hidden… → code → …hidden → D (ReLU between hidden
 * layers). With no hidden layers, a linear code and a linear output it is the linear
 * undercomplete autoencoder that spans PCA's subspace.
 */
export function denseAutoencoder(inputs: number, code: number, opts: DenseAutoencoderOptions = {}): Autoencoder {
  const { hidden = [], codeActivation = 'linear', outputActivation = 'linear', ...rest } = opts;
  positiveInt('denseAutoencoder', 'inputs', inputs);
  positiveInt('denseAutoencoder', 'code', code);
  hidden.forEach((h, i) => positiveInt('denseAutoencoder', `hidden[${i}]`, h));
  oneOf('denseAutoencoder', 'codeActivation', codeActivation, ['linear', 'sigmoid', 'relu']);
  oneOf('denseAutoencoder', 'outputActivation', outputActivation, ['linear', 'sigmoid']);
  const widths = [inputs, ...hidden, code];
  const enc: AnyModule[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    enc.push(new Linear(widths[i], widths[i + 1]));
    if (i + 2 < widths.length) enc.push(new ReLU());
  }
  if (codeActivation === 'sigmoid') enc.push(new Sigmoid());
  if (codeActivation === 'relu') enc.push(new ReLU());
  const back = widths.slice().reverse();
  const dec: AnyModule[] = [];
  for (let i = 0; i + 1 < back.length; i++) {
    dec.push(new Linear(back[i], back[i + 1]));
    if (i + 2 < back.length) dec.push(new ReLU());
  }
  if (outputActivation === 'sigmoid') dec.push(new Sigmoid());
  return new Autoencoder(new Sequential(...enc), new Sequential(...dec), rest);
}

/**
 * The squared Frobenius norm of the encoder's Jacobian ‖∂h/∂x‖²_F at each row of x, averaged,
 * for a Sequential(Linear, Sigmoid) encoder (what the contractive penalty minimises; for
 * comparing encoders).
 */
export function sigmoidJacobianNorm(encoder: AnyModule, x: Tensor): number {
  if (!(encoder instanceof Sequential && encoder.layers.length === 2 && encoder.layers[0] instanceof Linear && encoder.layers[1] instanceof Sigmoid)) {
    throw new Error('sigmoidJacobianNorm: expected an encoder Sequential(Linear, Sigmoid)');
  }
  return contractivePenalty(encoder.forward(x), encoder.layers[0].weight).item();
}
