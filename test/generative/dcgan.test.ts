// DCGAN blocks (notes §1.10.2.4) and the GAN costs: shapes, where batch norm goes, the
// initialisation, the costs against their formulas, and WGAN clipping.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const { dcganGenerator, dcganDiscriminator, dcganInit, Gan, discriminatorLoss, minimaxGeneratorLoss, nonSaturatingGeneratorLoss, criticLoss, wganGeneratorLoss, clipWeights } = sg.generative;

describe('DCGAN blocks', () => {
  it('G maps z to [N, 1, 28, 28] in [−1, 1], D maps images to one logit; BN except G output and D input', () => {
    sg.manualSeed(1);
    const G = dcganGenerator({ latent: 16, width: 8 });
    const D = dcganDiscriminator({ width: 8 });
    const img = G.forward(sg.randn([3, 16]));
    expect(img.shape).toEqual([3, 1, 28, 28]);
    expect(Math.max(...Array.from(img.data(), Math.abs))).toBeLessThanOrEqual(1);
    expect(D.forward(img).shape).toEqual([3, 1]);
    const names = (m: sg.nn.Sequential): string[] => m.layers.map((l) => l.constructor.name);
    const g = names(G), d = names(D);
    expect(g.slice(-2)).toEqual(['ConvTranspose2d', 'Tanh']);                  // no BN on G's output layer
    expect(d.slice(0, 2)).toEqual(['Conv2d', 'LeakyReLU']);                     // no BN on D's input layer
    expect(g.filter((n) => n.startsWith('BatchNorm')).length).toBe(2);
    expect(d.filter((n) => n.startsWith('BatchNorm')).length).toBe(1);
    expect(names(dcganDiscriminator({ width: 8, wasserstein: true })).some((n) => n.startsWith('BatchNorm'))).toBe(false);
  });

  it('dcganInit draws conv/linear weights from N(0, 0.02²) and batch-norm scales around 1, biases stay 0', () => {
    sg.manualSeed(2);
    const gan = new Gan(dcganGenerator({ latent: 16, width: 8 }), dcganDiscriminator({ width: 8 }), 16);
    dcganInit(gan);
    for (const [name, p] of gan.namedParameters()) {
      const v = Array.from(p.data());
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      if (name.endsWith('bias')) expect(v.every((x) => x === 0), name).toBe(true);
      else if (p.ndim === 1) expect(Math.abs(mean - 1), name).toBeLessThan(0.02);   // batch-norm γ
      else if (v.length > 200) expect(Math.abs(std - 0.02), name).toBeLessThan(0.004);
    }
  });
});

describe('GAN costs', () => {
  const logits = [1.5, -0.3, 0.2];
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  const mean = (f: (v: number) => number): number => logits.reduce((a, v) => a + f(v), 0) / logits.length;

  it('match the notes’ formulas on D = σ(logit)', () => {
    const real = sg.tensor([[2], [0.5], [-1]]);
    const fake = sg.tensor(logits.map((v) => [v]));
    const realMean = [2, 0.5, -1].reduce((a, v) => a + Math.log(sig(v)), 0) / 3;
    expect(discriminatorLoss(real, fake).item()).toBeCloseTo(-0.5 * realMean - 0.5 * mean((v) => Math.log(1 - sig(v))), 5);
    expect(minimaxGeneratorLoss(fake).item()).toBeCloseTo(0.5 * mean((v) => Math.log(1 - sig(v))), 5);
    expect(nonSaturatingGeneratorLoss(fake).item()).toBeCloseTo(-0.5 * mean((v) => Math.log(sig(v))), 5);
    expect(criticLoss(real, fake).item()).toBeCloseTo(mean((v) => v) - (2 + 0.5 - 1) / 3, 5);
    expect(wganGeneratorLoss(fake).item()).toBeCloseTo(-mean((v) => v), 5);
  });

  it('the non-saturating cost keeps a strong gradient where D rejects the samples; the minimax one vanishes', () => {
    const rejected = sg.tensor([[-8]], { requiresGrad: true });
    minimaxGeneratorLoss(rejected).backward();
    const gMinimax = Math.abs(rejected.grad!.item());
    rejected.grad = null;
    nonSaturatingGeneratorLoss(rejected).backward();
    const gNonSat = Math.abs(rejected.grad!.item());
    expect(gMinimax).toBeLessThan(1e-3);
    expect(gNonSat).toBeGreaterThan(0.49);
  });

  it('clipWeights puts every critic parameter into [−c, c]', () => {
    sg.manualSeed(3);
    const critic = sg.generative.mlp([2, 8, 1]);
    clipWeights(critic, 0.05);
    for (const p of critic.parameters()) for (const v of p.data()) expect(Math.abs(v)).toBeLessThanOrEqual(0.05 + 1e-7);
  });
});
