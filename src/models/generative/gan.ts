// Generative adversarial networks (notes §1.10): the discriminator's cross-entropy cost, the
// minimax and non-saturating generator costs, k discriminator steps per generator step;
// DCGAN generator and discriminator blocks (§1.10.2.4); the Wasserstein critic's costs with
// weight clipping and n_critic (§1.10.3). Discriminators return logits (D = σ(logit)), so the
// costs use the stable log-sigmoid forms.
import { randn } from '../../core/random.js';
import { full, type Tensor } from '../../core/tensor.js';
import { checkOptions, numberIn, positiveInt } from '../../core/validate.js';
import { add, mul, sub } from '../../ops/elementwise.js';
import { clampInPlace, copyInto } from '../../ops/inplace.js';
import { binaryCrossEntropyWithLogits } from '../../ops/loss.js';
import { mean } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { noGrad } from '../../core/autograd.js';
import { Sequential } from '../../nn/containers.js';
import { Linear } from '../../nn/layers/linear.js';
import { LeakyReLU, ReLU, Tanh } from '../../nn/layers/activation.js';
import { Conv2d, ConvTranspose2d } from '../../nn/layers/conv.js';
import { BatchNorm1d, BatchNorm2d } from '../../nn/layers/norm.js';
import { Flatten } from '../../nn/layers/shape.js';
import { Module, type AnyModule } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { StepContext } from '../../train/step.js';

const bce = (logits: Tensor, label: number): Tensor => binaryCrossEntropyWithLogits(logits, full(logits.shape, label));

/** L_D = −½ E_x[log D(x)] − ½ E_z[log(1 − D(G(z)))], from D's logits on real and generated batches. */
export function discriminatorLoss(realLogits: Tensor, fakeLogits: Tensor): Tensor {
  return mul(add(bce(realLogits, 1), bce(fakeLogits, 0)), 0.5);
}

/**
 * The zero-sum generator cost L_G = −L_D; only its second term depends on G:
 * ½ E_z[log(1 − D(G(z)))]. Its gradient vanishes when D rejects the samples confidently.
 */
export function minimaxGeneratorLoss(fakeLogits: Tensor): Tensor {
  return mul(bce(fakeLogits, 0), -0.5);
}

/**
 * The non-saturating generator cost −½ E_z[log D(G(z))] (Goodfellow 2016; the notes' §1.10.2.2
 * prints it without the minus sign, which would make G help D): G maximises the probability
 * that D is mistaken, with a strong gradient where D rejects its samples.
 */
export function nonSaturatingGeneratorLoss(fakeLogits: Tensor): Tensor {
  return mul(bce(fakeLogits, 1), 0.5);
}

/** The WGAN critic's cost −(E_x[D(x)] − E_z[D(G(z))]): minimising it maximises the estimate of W. */
export function criticLoss(realScores: Tensor, fakeScores: Tensor): Tensor {
  return sub(mean(fakeScores), mean(realScores));
}

/** The WGAN generator's cost L_G = −E_z[D(G(z))]. */
export function wganGeneratorLoss(fakeScores: Tensor): Tensor {
  return mul(mean(fakeScores), -1);
}

/** Clips every parameter into [−c, c] in place (the WGAN critic's Lipschitz constraint, after each update). */
export function clipWeights(params: Iterable<Tensor> | AnyModule, c: number): void {
  numberIn('clipWeights', 'c', c, 0, Infinity, { loOpen: true, hiOpen: true });
  const list = params instanceof Module ? params.parameters() : params;
  for (const p of list) clampInPlace(p, -c, c);
}

/** A generator G and a discriminator (or critic) D held together, so that fit() trains both. */
export class Gan extends Module<[Tensor], Tensor> {
  constructor(readonly generator: AnyModule, readonly discriminator: AnyModule, readonly latent: number) {
    super();
    positiveInt('Gan', 'latent', latent);
  }

  /** G(z). */
  forward(z: Tensor): Tensor {
    return this.generator.call(z) as Tensor;
  }

  /** z ~ N(0, I) [n, latent] from the global seeded generator. */
  noise(n: number): Tensor {
    return randn([n, this.latent]);
  }

  /** n samples G(z) in evaluation mode (batch-norm running statistics), no graph. */
  sample(n: number, z: Tensor = this.noise(n)): Tensor {
    const was = this.generator.training;
    this.generator.eval();
    try {
      return noGrad(() => this.generator.call(z) as Tensor);
    } finally {
      this.generator.train(was);
    }
  }
}

export interface GanStepOptions {
  /** 'nonSaturating' (default) or 'minimax' generator cost (GAN); ignored with wasserstein. */
  generatorLoss?: 'nonSaturating' | 'minimax';
  /** Discriminator (critic) steps per generator step: k (default 1; n_critic = 5 is WGAN's). */
  k?: number;
  /** Wasserstein GAN: linear critic scores, the WGAN costs and clipping to [−clip, clip]. */
  wasserstein?: boolean;
  /** c of the critic's weight clipping (default 0.01; WGAN only). */
  clip?: number;
  /** Names of fit's optimizers for G and D (default 'g' and 'd'). */
  optimizers?: { g: string; d: string };
  /** The real examples of a batch (default: the batch itself, or its x for { x, y } and [x, y]). */
  real?: (batch: unknown) => Tensor;
}

function realOf(batch: unknown): Tensor {
  if (Array.isArray(batch)) return batch[0] as Tensor;
  if (batch !== null && typeof batch === 'object' && 'x' in batch) return (batch as { x: Tensor }).x;
  return batch as Tensor;
}

/**
 * A fit() training step for a Gan: one discriminator (critic) update on every batch, and one
 * generator update after every k of them, so D takes k steps per G step (notes §1.10.2.2;
 * n_critic for WGAN). Logs d_loss and g_loss (the last generator cost, until the next one).
 */
export function ganTrainStep(opts: GanStepOptions = {}): (ctx: StepContext<unknown>) => { loss: number; logs: { d_loss: number; g_loss: number } } {
  checkOptions('ganTrainStep', opts, ['generatorLoss', 'k', 'wasserstein', 'clip', 'optimizers', 'real']);
  const k = positiveInt('ganTrainStep', 'k', opts.k ?? 1);
  const wasserstein = opts.wasserstein ?? false;
  const clip = numberIn('ganTrainStep', 'clip', opts.clip ?? 0.01, 0, Infinity, { loOpen: true, hiOpen: true });
  const gLossOf = wasserstein ? wganGeneratorLoss : opts.generatorLoss === 'minimax' ? minimaxGeneratorLoss : nonSaturatingGeneratorLoss;
  const names = opts.optimizers ?? { g: 'g', d: 'd' };
  const real = opts.real ?? realOf;
  let lastG = NaN;
  return (ctx) => {
    const gan = ctx.model;
    if (!(gan instanceof Gan)) throw new Error('ganTrainStep: the model must be a generative.Gan');
    const gOpt: Optimizer | undefined = ctx.optimizers[names.g];
    const dOpt: Optimizer | undefined = ctx.optimizers[names.d];
    if (gOpt === undefined || dOpt === undefined) throw new Error(`ganTrainStep: fit needs optimizers { ${names.g}, ${names.d} }`);
    const x = real(ctx.batch);
    const n = x.shape[0];
    const fake = noGrad(() => gan.generator.call(gan.noise(n)) as Tensor);
    const dReal = gan.discriminator.call(x) as Tensor;
    const dFake = gan.discriminator.call(fake) as Tensor;
    const dLoss = wasserstein ? criticLoss(dReal, dFake) : discriminatorLoss(dReal, dFake);
    dOpt.zeroGrad();
    dLoss.backward();
    dOpt.step();
    if (wasserstein) clipWeights(gan.discriminator, clip);
    const dValue = dLoss.item();
    if ((ctx.step + 1) % k === 0) {
      const gLoss = gLossOf(gan.discriminator.call(gan.generator.call(gan.noise(n)) as Tensor) as Tensor);
      gOpt.zeroGrad();
      gLoss.backward();
      gOpt.step();
      // D's gradients from this pass are cleared by its zeroGrad before its next step.
      lastG = gLoss.item();
    } else if (Number.isNaN(lastG)) {
      // Before the first generator step there is no cost to report; its current value keeps the epoch's mean finite.
      lastG = noGrad(() => gLossOf(gan.discriminator.call(gan.generator.call(gan.noise(n)) as Tensor) as Tensor).item());
    }
    return { loss: dValue, logs: { d_loss: dValue, g_loss: lastG } };
  };
}

export interface DcganOptions {
  /** Size of z (default 64). */
  latent?: number;
  /** Feature maps of the widest layer (default 64; the other has half). */
  width?: number;
  /** Image channels (default 1). */
  channels?: number;
}

/**
 * DCGAN generator for 28×28 images (MNIST): z → Linear → [2w, 7, 7] → BN, ReLU → transposed
 * conv (stride 2) → [w, 14, 14] → BN, ReLU → transposed conv (stride 2) → [C, 28, 28] → tanh.
 * Batch norm everywhere but the output layer; no pooling or unpooling.
 */
export function dcganGenerator(opts: DcganOptions = {}): Sequential {
  const { latent = 64, width = 64, channels = 1 } = checkOptions('dcganGenerator', opts, ['latent', 'width', 'channels']);
  positiveInt('dcganGenerator', 'latent', latent);
  positiveInt('dcganGenerator', 'width', width);
  return new Sequential(
    new Linear(latent, 2 * width * 49, { bias: false }), new BatchNorm1d(2 * width * 49), new ReLU(),
    new Unflatten([2 * width, 7, 7]),
    new ConvTranspose2d(2 * width, width, 4, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(width), new ReLU(),
    new ConvTranspose2d(width, channels, 4, { stride: 2, padding: 1 }), new Tanh(),
  );
}

/**
 * DCGAN discriminator for 28×28 images: strided conv → [w, 14, 14] → LeakyReLU(0.2) (no batch
 * norm on the input layer) → strided conv → [2w, 7, 7] → BN, LeakyReLU(0.2) → Linear → one
 * logit. With `wasserstein` the batch norm is left out too (the critic scores examples one by one).
 */
export function dcganDiscriminator(opts: DcganOptions & { wasserstein?: boolean } = {}): Sequential {
  const { width = 64, channels = 1, wasserstein = false } = checkOptions('dcganDiscriminator', opts, ['latent', 'width', 'channels', 'wasserstein']);
  positiveInt('dcganDiscriminator', 'width', width);
  return new Sequential(
    new Conv2d(channels, width, 4, { stride: 2, padding: 1 }), new LeakyReLU(0.2),
    new Conv2d(width, 2 * width, 4, { stride: 2, padding: 1, bias: wasserstein }),
    ...(wasserstein ? [] : [new BatchNorm2d(2 * width)]), new LeakyReLU(0.2),
    new Flatten(), new Linear(2 * width * 49, 1),
  );
}

/**
 * DCGAN's initialisation (Radford et al.): every Linear and (transposed) convolution weight
 * drawn from N(0, std²) (default 0.02) from the seeded generator, batch-norm scales from
 * N(1, std²); biases keep their zeros.
 */
export function dcganInit(model: AnyModule, std = 0.02): void {
  numberIn('dcganInit', 'std', std, 0, Infinity, { hiOpen: true });
  for (const [name, p] of model.namedParameters()) {
    if (!name.endsWith('weight')) continue;
    const owner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const isNorm = [...model.namedModules()].some(([n, m]) => n === owner && (m instanceof BatchNorm1d || m instanceof BatchNorm2d));
    const fresh = randn(p.shape, isNorm ? 1 : 0, std);
    copyInto(p, 0, fresh);
    fresh.dispose();
  }
}

/** [N, F] → [N, ...shape] (the generator's step from its dense layer to feature maps). */
export class Unflatten extends Module {
  readonly shape: readonly number[];
  constructor(shape: readonly number[]) {
    super();
    shape.forEach((s, i) => positiveInt('Unflatten', `shape[${i}]`, s));
    this.shape = shape.slice();
  }
  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.shape]);
  }
}

/** An MLP generator or critic for low-dimensional data (the 2-D mixture tests): ReLU hidden layers, linear output. */
export function mlp(widths: readonly number[]): Sequential {
  if (widths.length < 2) throw new Error(`mlp: need at least input and output widths, got [${widths.join(', ')}]`);
  widths.forEach((w, i) => positiveInt('mlp', `widths[${i}]`, w));
  const layers: AnyModule[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(new Linear(widths[i], widths[i + 1], { init: i + 2 < widths.length ? 'he' : 'xavier' }));
    if (i + 2 < widths.length) layers.push(new ReLU());
  }
  return new Sequential(...layers);
}
