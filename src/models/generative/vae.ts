// Variational autoencoder (notes §1.9.3): q_x(h) = N(μ_x, diag σ_x²) from the encoder, the
// reparameterisation h = μ + σ ⊙ ζ with ζ ~ N(0, I) drawn from the one seeded generator, and
// the loss E_q[−log p(x | h)] + KL(q_x ‖ N(0, I)) with the KL in closed form, one sample of h
// per example. (The notes' §1.9.3 writes the shift and scale of ζ the other way round; σ
// scales ζ and μ shifts it, as Kingma & Welling have it.)
import { randn } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { checkOptions, numberIn, oneOf, positiveInt } from '../../core/validate.js';
import { add, exp, mul, sigmoid, square, sub } from '../../ops/elementwise.js';
import { gaussianKl } from '../../ops/generative.js';
import { binaryCrossEntropyWithLogits } from '../../ops/loss.js';
import { mean, sum } from '../../ops/reduce.js';
import { Sequential } from '../../nn/containers.js';
import { Linear } from '../../nn/layers/linear.js';
import { ReLU } from '../../nn/layers/activation.js';
import { Module, type AnyModule } from '../../nn/module.js';

export interface VaeOptions {
  /**
   * p(x | h): 'bernoulli' (the decoder returns logits; −log p is the binary cross-entropy
   * summed over pixels — for x in [0, 1]) or 'gaussian' (the decoder returns the mean g(h);
   * −log p is ‖x − g(h)‖²/(2c) up to a constant, the notes' form). Default 'bernoulli'.
   */
  likelihood?: 'bernoulli' | 'gaussian';
  /** c of the Gaussian N(g(h), cI) (default 1). */
  variance?: number;
}

export interface VaeOutput {
  /** The decoder's output for the sampled h: logits (bernoulli) or the mean (gaussian). */
  recon: Tensor;
  mu: Tensor;
  logVar: Tensor;
  /** The sampled code h = μ + σ ⊙ ζ. */
  h: Tensor;
}

export interface VaeLoss extends VaeOutput {
  /** −ELBO per example, averaged over the batch: reconstruction + kl. */
  loss: Tensor;
  /** E_q[−log p(x | h)] per example (one sample), batch mean. */
  reconstruction: Tensor;
  /** KL(q_x(h) ‖ N(0, I)) per example, batch mean. */
  kl: Tensor;
}

/** encoder: x → features; muHead, logVarHead: features → μ, log σ²; decoder: h → recon. */
export class Vae extends Module<[Tensor], VaeOutput> {
  readonly likelihood: 'bernoulli' | 'gaussian';
  readonly variance: number;

  constructor(
    readonly encoder: AnyModule, readonly muHead: AnyModule, readonly logVarHead: AnyModule, readonly decoder: AnyModule,
    opts: VaeOptions = {},
  ) {
    super();
    checkOptions('Vae', opts, ['likelihood', 'variance']);
    this.likelihood = oneOf('Vae', 'likelihood', opts.likelihood ?? 'bernoulli', ['bernoulli', 'gaussian']);
    this.variance = numberIn('Vae', 'variance', opts.variance ?? 1, 0, Infinity, { loOpen: true, hiOpen: true });
  }

  /** μ and log σ² of q_x(h). */
  encode(x: Tensor): { mu: Tensor; logVar: Tensor } {
    const f = this.encoder.call(x) as Tensor;
    return { mu: this.muHead.call(f) as Tensor, logVar: this.logVarHead.call(f) as Tensor };
  }

  /** h = μ + σ ⊙ ζ, ζ ~ N(0, I) from the global seeded generator; the gradient reaches μ and log σ². */
  reparameterize(mu: Tensor, logVar: Tensor): Tensor {
    return add(mu, mul(exp(mul(logVar, 0.5)), randn(mu.shape)));
  }

  forward(x: Tensor): VaeOutput {
    const { mu, logVar } = this.encode(x);
    const h = this.reparameterize(mu, logVar);
    return { recon: this.decoder.call(h) as Tensor, mu, logVar, h };
  }

  /** −log p(x | h) per example [N] for the decoder's output `recon`. */
  negLogLikelihood(recon: Tensor, x: Tensor): Tensor {
    const flat = (t: Tensor): Tensor => t.reshape([t.shape[0], -1]);
    if (this.likelihood === 'bernoulli') return sum(binaryCrossEntropyWithLogits(flat(recon), flat(x), 'none'), 1);
    return mul(sum(square(sub(flat(recon), flat(x))), 1), 1 / (2 * this.variance));
  }

  /** The negative ELBO on a batch (one sample of h per example), with its two terms. */
  loss(x: Tensor): VaeLoss {
    const out = this.forward(x);
    const reconstruction = mean(this.negLogLikelihood(out.recon, x));
    const kl = gaussianKl(out.mu, out.logVar);
    return { ...out, loss: add(reconstruction, kl), reconstruction, kl };
  }

  /**
   * The ELBO per example [N] (nats; higher is better), averaged over `samples` draws of h:
   * E_q[log p(x | h)] − KL(q_x ‖ N(0, I)).
   */
  elbo(x: Tensor, samples = 1): Tensor {
    positiveInt('Vae.elbo', 'samples', samples);
    const { mu, logVar } = this.encode(x);
    let nll: Tensor | null = null;
    for (let s = 0; s < samples; s++) {
      const term = this.negLogLikelihood(this.decoder.call(this.reparameterize(mu, logVar)) as Tensor, x);
      nll = nll === null ? term : add(nll, term);
    }
    return mul(add(mul(nll!, 1 / samples), gaussianKl(mu, logVar, 'none')), -1);
  }

  /** The decoder's mean for codes h: pixel probabilities (bernoulli) or g(h) (gaussian). */
  decode(h: Tensor): Tensor {
    const r = this.decoder.call(h) as Tensor;
    return this.likelihood === 'bernoulli' ? sigmoid(r) : r;
  }

  /** n samples from the model: h ~ N(0, I) (seeded generator) through the decoder. */
  sample(n: number, latent: number): Tensor {
    positiveInt('Vae.sample', 'n', n);
    positiveInt('Vae.sample', 'latent', latent);
    return this.decode(randn([n, latent]));
  }
}

/** Kingma & Welling's MLP VAE: D → hidden (ReLU) → μ, log σ² (latent each) → hidden (ReLU) → D. */
export function denseVae(inputs: number, latent: number, opts: VaeOptions & { hidden?: readonly number[] } = {}): Vae {
  const { hidden = [400], ...rest } = opts;
  positiveInt('denseVae', 'inputs', inputs);
  positiveInt('denseVae', 'latent', latent);
  hidden.forEach((h, i) => positiveInt('denseVae', `hidden[${i}]`, h));
  const enc: AnyModule[] = [];
  let width = inputs;
  for (const h of hidden) {
    enc.push(new Linear(width, h, { init: 'he' }), new ReLU());
    width = h;
  }
  const dec: AnyModule[] = [];
  let w = latent;
  for (const h of [...hidden].reverse()) {
    dec.push(new Linear(w, h, { init: 'he' }), new ReLU());
    w = h;
  }
  dec.push(new Linear(w, inputs));
  return new Vae(new Sequential(...enc), new Linear(width, latent), new Linear(width, latent), new Sequential(...dec), rest);
}
