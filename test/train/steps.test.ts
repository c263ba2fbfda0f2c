// fit() with custom training steps: a GAN (two models, two optimizers, two losses per batch)
// and a VAE (a model that returns an object; a loss built from several outputs), plus the
// callback forms (object, list, every hook) and the step's context.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const { Module, Linear, Tanh, LeakyReLU, Sequential } = sg.nn;

// ---- GAN -----------------------------------------------------------------------------------

/** Real samples of N(3, 0.5²), one number each: a dataset of plain objects (Float32Array [1]). */
function gaussian(n: number, seed: number): sg.MapDataset<Float32Array> {
  const g = new sg.Generator(seed);
  const values = Array.from({ length: n }, () => Float32Array.of(3 + 0.5 * g.normal()));
  return { length: n, get: (i) => values[i] };
}

class Gan extends Module<[sg.Tensor], sg.Tensor> {
  readonly generator = new Sequential(new Linear(1, 8), new LeakyReLU(0.2), new Linear(8, 1));
  readonly discriminator = new Sequential(new Linear(1, 16), new LeakyReLU(0.2), new Linear(16, 1));
  /** Samples from noise z [n, 1]. */
  forward(z: sg.Tensor): sg.Tensor {
    return this.generator.call(z);
  }
}

const bce = (logits: sg.Tensor, label: number): sg.Tensor => sg.binaryCrossEntropyWithLogits(logits, sg.full(logits.shape, label));

describe('a GAN step: two optimizers, two losses', () => {
  it('the generator learns to match the data mean; d_loss and g_loss are logged; memory stays flat', () => {
    sg.manualSeed(1);
    const gan = new Gan();
    const optimizers = {
      generator: new sg.optim.Adam(gan.generator.parameters(), { lr: 0.01, betas: [0.5, 0.999] }),
      discriminator: new sg.optim.Adam(gan.discriminator.parameters(), { lr: 0.01, betas: [0.5, 0.999] }),
    };
    const sampleMean = (): number => sg.noGrad(() => sg.scope(() => sg.mean(gan.call(sg.randn([512, 1]))).item()));
    const before = sampleMean();
    const mem: number[] = [];
    const seen: { d: number; g: number }[] = [];
    const history = sg.fit(gan, gaussian(256, 2), {
      epochs: 40, batchSize: 32, optimizers,
      trainStep: (ctx) => {
        const real = ctx.batch; // the default collate stacks the Float32Array [1] examples into [n, 1]
        const { generator, discriminator } = ctx.optimizers;
        // Discriminator: real -> 1, fake -> 0 (fakes detached: no gradient into the generator).
        const fake = sg.noGrad(() => gan.generator.call(sg.randn([ctx.size, 1])));
        const dLoss = sg.add(bce(gan.discriminator.call(real), 1), bce(gan.discriminator.call(fake), 0));
        discriminator.zeroGrad();
        dLoss.backward();
        discriminator.step();
        // Generator: make the discriminator say 1 on fresh fakes.
        const gLoss = bce(gan.discriminator.call(gan.generator.call(sg.randn([ctx.size, 1]))), 1);
        generator.zeroGrad();
        gLoss.backward();
        generator.step();
        return { loss: dLoss.item() + gLoss.item(), logs: { d_loss: dLoss, g_loss: gLoss } };
      },
      callbacks: {
        onBatchEnd: (_b, logs) => { seen.push({ d: logs.d_loss, g: logs.g_loss }); },
        onEpochEnd: () => { mem.push(sg.memory().bytes); },
      },
    });
    const after = sampleMean();
    expect(Math.abs(before - 3)).toBeGreaterThan(2);
    expect(Math.abs(after - 3)).toBeLessThan(0.5);
    expect(history.d_loss).toHaveLength(40);
    expect(history.g_loss).toHaveLength(40);
    expect(seen).toHaveLength(40 * 8);
    // At the start the discriminator wins easily (its loss falls well below log 4 ≈ 1.39); at
    // the end the game is at its equilibrium: D(x) = ½ everywhere, d_loss = log 4, g_loss = log 2.
    const d = history.d_loss as number[];
    const g = history.g_loss as number[];
    expect(Math.min(...d.slice(0, 5))).toBeLessThan(1.2);
    expect(Math.abs(d[39] - Math.log(4))).toBeLessThan(0.1);
    expect(Math.abs(g[39] - Math.log(2))).toBeLessThan(0.1);
    expect(history.lr).toEqual(new Array(40).fill(0.01));
    expect(new Set(mem.slice(2)).size).toBe(1);
  });
});

// ---- VAE -----------------------------------------------------------------------------------

type VaeOut = { recon: sg.Tensor; mu: sg.Tensor; logVar: sg.Tensor };

/** A VAE with a 1-D latent: forward returns the reconstruction and the posterior's parameters. */
class Vae extends Module<[sg.Tensor], VaeOut> {
  readonly encoder = new Sequential(new Linear(2, 16), new Tanh());
  readonly mu = new Linear(16, 1);
  readonly logVar = new Linear(16, 1);
  readonly decoder = new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 2));
  forward(x: sg.Tensor): VaeOut {
    const h = this.encoder.call(x);
    const mu = this.mu.call(h);
    const logVar = this.logVar.call(h);
    // Reparameterisation: z = μ + σ·ε; in eval mode z = μ.
    const z = this.training ? sg.add(mu, sg.mul(sg.exp(sg.mul(logVar, 0.5)), sg.randn(mu.shape))) : mu;
    return { recon: this.decoder.call(z), mu, logVar };
  }
}

/** Points (t, t²) + noise: a 1-D curve in 2-D. */
function curve(n: number, seed: number): sg.Dataset {
  const g = new sg.Generator(seed);
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = 2 * g.uniform() - 1;
    x[2 * i] = t + 0.02 * g.normal();
    x[2 * i + 1] = t * t + 0.02 * g.normal();
  }
  return new sg.Dataset(x, [2], new Float32Array(2 * n));
}

/** Reconstruction (MSE) and KL(q(z|x) ‖ N(0, 1)) = −½ mean Σ (1 + log σ² − μ² − σ²). */
function vaeLosses(out: VaeOut, x: sg.Tensor): { loss: sg.Tensor; recon: sg.Tensor; kl: sg.Tensor } {
  const recon = sg.mseLoss(out.recon, x);
  const kl = sg.mul(sg.mean(sg.sub(sg.sub(sg.add(out.logVar, 1), sg.square(out.mu)), sg.exp(out.logVar))), -0.5);
  return { loss: sg.add(recon, sg.mul(kl, 0.01)), recon, kl };
}

describe('a VAE step: the model returns an object, the loss uses several outputs', () => {
  it('reconstruction and total loss fall; KL is logged; evalStep gives val_ series; early stopping watches a step log', () => {
    sg.manualSeed(3);
    const vae = new Vae();
    const optimizer = new sg.optim.Adam(vae.parameters(), { lr: 0.01 });
    const h = sg.fit(vae, curve(512, 4), {
      epochs: 30, batchSize: 64, optimizer, validationData: curve(128, 5), clipGradNorm: 5,
      trainStep: (ctx) => {
        const x = ctx.batch.x;
        const { loss, recon, kl } = vaeLosses(ctx.model.call(x) as VaeOut, x);
        ctx.optimizer!.zeroGrad();
        loss.backward();
        ctx.clipGradients();
        ctx.optimizer!.step();
        return { loss, logs: { recon, kl } };
      },
      evalStep: (ctx) => {
        const { loss, recon, kl } = vaeLosses(ctx.model.call(ctx.batch.x) as VaeOut, ctx.batch.x);
        return { loss, logs: { recon, kl } };
      },
      earlyStopping: { monitor: 'val_recon', patience: 30 },
    });
    const loss = h.loss;
    const recon = h.recon as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] / 3);
    expect(recon[recon.length - 1]).toBeLessThan(recon[0] / 3);
    expect((h.kl as number[]).every((v) => v >= 0)).toBe(true);
    expect(h.val_recon).toHaveLength(30);
    expect((h.val_recon as number[])[29]).toBeLessThan(0.02);
    expect(h.bestEpoch).not.toBeNull();
    // evaluate() takes the same evalStep.
    const ev = sg.evaluate(vae, curve(64, 6), { evalStep: (ctx) => ({ logs: { recon: vaeLosses(ctx.model.call(ctx.batch.x) as VaeOut, ctx.batch.x).recon } }) });
    expect(Object.keys(ev)).toEqual(['recon']);
    expect(ev.recon).toBeLessThan(0.02);
    // A monitor the step never logs is reported after the first epoch.
    expect(() => sg.fit(vae, curve(16, 7), {
      epochs: 2, optimizer, trainStep: (ctx) => ({ loss: sg.mseLoss((ctx.model.call(ctx.batch.x) as VaeOut).recon, ctx.batch.x) }),
      earlyStopping: { monitor: 'elbo' },
    })).toThrow(/earlyStopping monitors 'elbo', which this run does not measure \(it measures: loss, lr\)/);
  });
});

// ---- callbacks and the step context --------------------------------------------------------

function quadrants(n: number, seed: number): sg.Dataset {
  const g = new sg.Generator(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = g.uniform() * 2 - 1;
    x[2 * i + 1] = g.uniform() * 2 - 1;
    y[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0;
  }
  return new sg.Dataset(x, [2], y);
}

describe('callbacks and the step context', () => {
  it('every hook of every callback in a list runs in order; stop() from a batch ends the epoch there', () => {
    sg.manualSeed(4);
    const model = new Sequential(new Linear(2, 4), new Tanh(), new Linear(4, 2));
    const events: string[] = [];
    const logger = (tag: string): sg.Callback => ({
      onTrainBegin: (info) => events.push(`${tag} trainBegin ${info.epochs}x${info.steps}`),
      onEpochBegin: (e) => events.push(`${tag} epochBegin ${e}`),
      onBatchBegin: (b, info) => events.push(`${tag} batchBegin ${info.epoch}.${b} ${info.size}`),
      onBatchEnd: (b, logs) => events.push(`${tag} batchEnd ${logs.epoch}.${b}`),
      onEpochEnd: (e) => events.push(`${tag} epochEnd ${e}`),
      onTrainEnd: (h) => events.push(`${tag} trainEnd ${h.epochs}`),
    });
    const stopper: sg.Callback = { onBatchEnd: (b, logs, control) => { if (logs.epoch === 2 && b === 0) control.stop(); } };
    const h = sg.fit(model, quadrants(20, 1), {
      epochs: 5, batchSize: 10, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), loss: 'crossEntropy',
      callbacks: [logger('a'), stopper, logger('b')],
    });
    expect(h.epochs).toBe(2);
    expect(h.stoppedEpoch).toBe(2);
    expect(events).toEqual([
      'a trainBegin 5x2', 'b trainBegin 5x2',
      'a epochBegin 1', 'b epochBegin 1',
      'a batchBegin 1.0 10', 'b batchBegin 1.0 10', 'a batchEnd 1.0', 'b batchEnd 1.0',
      'a batchBegin 1.1 10', 'b batchBegin 1.1 10', 'a batchEnd 1.1', 'b batchEnd 1.1',
      'a epochEnd 1', 'b epochEnd 1',
      'a epochBegin 2', 'b epochBegin 2',
      'a batchBegin 2.0 10', 'b batchBegin 2.0 10', 'a batchEnd 2.0', 'b batchEnd 2.0',
      'a epochEnd 2', 'b epochEnd 2',
      'a trainEnd 2', 'b trainEnd 2',
    ]);
    expect(() => sg.fit(model, quadrants(4, 1), { epochs: 1, optimizer: new sg.optim.SGD(model.parameters(), { lr: 0.1 }), loss: 'mse', callbacks: [3 as never] }))
      .toThrow(/callbacks must be an object .* or a list of them \(item 0 is number\)/);
  });

  it('a custom step can wrap the default one and sees epoch, batch index and step count', () => {
    sg.manualSeed(5);
    const model = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 2));
    const where: string[] = [];
    const h = sg.fit(model, quadrants(40, 2), {
      epochs: 2, batchSize: 20, optimizer: new sg.optim.Adam(model.parameters(), { lr: 0.01 }), loss: 'crossEntropy', metrics: ['accuracy'],
      trainStep: (ctx) => {
        where.push(`${ctx.epoch}/${ctx.batchIndex}/${ctx.step}`);
        const r = sg.defaultTrainStep(ctx);
        return { ...r, logs: { weightNorm: sg.sum(sg.square(model.parameters()[0])) } };
      },
    });
    expect(where).toEqual(['1/0/0', '1/1/1', '2/0/2', '2/1/3']);
    const series: sg.History = h; // the general History: any name may be looked up
    expect(Object.keys(h).filter((k) => Array.isArray(series[k]) && (series[k] as number[]).length > 0)).toEqual(['loss', 'accuracy', 'lr', 'weightNorm']);
    expect(() => sg.fit(model, quadrants(4, 1), { epochs: 1, trainStep: () => ({ loss: 1, logs: { lr: 2 } }) }))
      .toThrow(/the step log name 'lr' is reserved/);
    expect(() => sg.fit(model, quadrants(4, 1), { epochs: 1, metrics: ['accuracy'], trainStep: () => ({ loss: 1 }) }))
      .toThrow(/metrics need the step to return \{ output, target \} tensors/);
    expect(() => sg.fit(model, quadrants(4, 1), { epochs: 1, trainStep: () => ({ loss: sg.zeros([2]) }) }))
      .toThrow(/the step's loss must be a number or a one-element Tensor, got a tensor \[2\]/);
  });
});
