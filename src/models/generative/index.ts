// Representation learning and generative models (notes §1.8, §1.9, §1.10): autoencoders
// (undercomplete, sparse, denoising, contractive), the VAE, GANs (DCGAN blocks, WGAN), and
// contrastive learning and domain adaptation (InfoNCE, SimCLR, MoCo, gradient reversal).
// The ops they rest on (gradReverse, infoNce, gaussianKl, contractivePenalty) are in
// src/ops/generative.ts and exported at the top level.
export {
  Autoencoder, denseAutoencoder, gaussianCorruption, maskingCorruption, sigmoidJacobianNorm,
  type AutoencoderOptions, type AutoencoderOutput, type AutoencoderLoss, type Corruption, type DenseAutoencoderOptions,
} from './autoencoder.js';
export { Vae, denseVae, type VaeOptions, type VaeOutput, type VaeLoss } from './vae.js';
export {
  Gan, ganTrainStep, discriminatorLoss, minimaxGeneratorLoss, nonSaturatingGeneratorLoss, criticLoss, wganGeneratorLoss,
  clipWeights, dcganGenerator, dcganInit, dcganDiscriminator, Unflatten, mlp, type GanStepOptions, type DcganOptions,
} from './gan.js';
export { GradientReversal, SimClr, Moco, projectionHead } from './contrastive.js';
