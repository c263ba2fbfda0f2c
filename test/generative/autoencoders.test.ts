// Autoencoders of the notes' §1.9.1–1.9.2 on MNIST digits, each short and seeded:
// a linear undercomplete AE trained with MSE spans PCA's subspace; the sparse penalty lowers
// mean |h| at comparable reconstruction; a denoising AE restores corrupted digits better than
// a plain AE of the same size; a contractive AE's Jacobian norm is smaller than a plain one's.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { digits, minibatches, orthonormalColumns, principalAngles, symmetricEigen } from './helpers';

const { denseAutoencoder, maskingCorruption, sigmoidJacobianNorm } = sg.generative;

function train(ae: sg.generative.Autoencoder, x: Float32Array, d: number, epochs: number, lr: number, seed: number): void {
  const opt = new sg.optim.Adam(ae.parameters(), { lr });
  ae.train();
  minibatches(x, d, epochs, 50, seed, (b) => {
    const { loss } = ae.loss(b);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  });
  ae.eval();
}

describe('autoencoders on MNIST', () => {
  it('a linear undercomplete AE trained with MSE spans the PCA subspace (principal angles)', () => {
    const k = 4;
    const { x, d } = digits(1000, 11, { pool: true });
    const n = x.length / d;
    // Centre the data: PCA's subspace is that of the centred covariance, and the AE then needs no bias to match it.
    const meanRow = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) meanRow[j] += x[i * d + j] / n;
    const xc = Float32Array.from(x, (v, idx) => v - meanRow[idx % d]);
    const cov = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const row = xc.subarray(i * d, (i + 1) * d);
      for (let a = 0; a < d; a++) { const ra = row[a]; if (ra !== 0) for (let b = 0; b < d; b++) cov[a * d + b] += ra * row[b] / n; }
    }
    const { values, vectors } = symmetricEigen(cov, d);
    const pca = new Float64Array(d * k);
    for (let r = 0; r < d; r++) for (let j = 0; j < k; j++) pca[r * k + j] = vectors[r * d + j];

    sg.manualSeed(12);
    const ae = denseAutoencoder(d, k);
    // Full batch with a decaying step: minibatch noise would leave the direction of the 4th
    // component (its eigenvalue only 12% above the 5th's) wandering by several degrees.
    const all = sg.tensor(xc, [n, d]);
    const opt = new sg.optim.Adam(ae.parameters(), { lr: 1e-2 });
    const steps = 2000;
    for (let s = 0; s < steps; s++) {
      opt.lr = 1e-2 * 0.1 ** (s / steps);
      const { loss } = ae.loss(all);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    // The decoder's weight [d, k]: its columns span the reconstructions' subspace.
    const dec = (ae.decoder as sg.nn.Sequential).layers[0] as sg.nn.Linear;
    const angles = principalAngles(orthonormalColumns(dec.weight.data(), d, k), pca, d, k);
    const degrees = angles.map((a) => (a * 180) / Math.PI);
    console.log(`linear AE vs PCA (k=${k}, eigenvalues ${values.slice(0, k + 1).map((v) => v.toFixed(4)).join(', ')}): principal angles ${degrees.map((a) => a.toFixed(2)).join(', ')}°`);
    expect(Math.max(...degrees)).toBeLessThan(1);
  });

  it('the sparse penalty λ‖h‖₁ lowers mean |h| at comparable reconstruction', () => {
    const { x, d } = digits(1500, 21);
    const test = digits(500, 21, { offset: 1500 });
    const run = (lambda: number): { meanAbs: number; mse: number } => {
      sg.manualSeed(22);
      const ae = denseAutoencoder(d, 64, { codeActivation: 'relu', outputActivation: 'sigmoid', sparsity: lambda });
      train(ae, x, d, 8, 2e-3, 23);
      return sg.noGrad(() => {
        const xt = sg.tensor(test.x, [500, d]);
        const { code, recon } = ae.forward(xt);
        return { meanAbs: sg.mean(sg.abs(code)).item(), mse: sg.mseLoss(recon, xt).item() };
      });
    };
    const plain = run(0);
    const sparse = run(1e-4);
    console.log(`sparse AE: mean |h| ${plain.meanAbs.toFixed(3)} → ${sparse.meanAbs.toFixed(3)}, test MSE ${plain.mse.toFixed(4)} → ${sparse.mse.toFixed(4)}`);
    expect(sparse.meanAbs).toBeLessThan(0.5 * plain.meanAbs);
    expect(sparse.mse).toBeLessThan(1.15 * plain.mse);
  });

  it('a denoising AE reconstructs corrupted digits better than a plain AE of the same size', () => {
    const { x, d } = digits(4000, 31);
    const test = digits(500, 31, { offset: 4000 });
    const evalOn = (ae: sg.generative.Autoencoder): number => {
      sg.manualSeed(99);   // the same corruption of the test digits for both models
      return sg.noGrad(() => {
        const clean = sg.tensor(test.x, [500, d]);
        return sg.mseLoss(ae.reconstruct(maskingCorruption(clean, 0.5)), clean).item();
      });
    };
    const make = (denoising: boolean): sg.generative.Autoencoder => {
      sg.manualSeed(32);
      return denseAutoencoder(d, 64, {
        hidden: [256], codeActivation: 'relu', reconstruction: 'bce', ...(denoising ? { corruption: { kind: 'masking', p: 0.5 } as const } : {}),
      });
    };
    const plain = make(false);
    train(plain, x, d, 10, 2e-3, 33);
    const dae = make(true);
    train(dae, x, d, 10, 2e-3, 33);
    const a = evalOn(plain), b = evalOn(dae);
    console.log(`masking noise p=0.5 on test digits: reconstruction MSE plain AE ${a.toFixed(4)}, denoising AE ${b.toFixed(4)}`);
    expect(b).toBeLessThan(0.75 * a);
  });

  it("a contractive AE's encoder Jacobian norm is smaller than a plain AE's", () => {
    const { x, d } = digits(1500, 41);
    const test = digits(500, 41, { offset: 1500 });
    const run = (lambda: number): { jac: number; mse: number } => {
      sg.manualSeed(42);
      const ae = denseAutoencoder(d, 64, { codeActivation: 'sigmoid', reconstruction: 'bce', contractive: lambda });
      train(ae, x, d, 8, 2e-3, 43);
      return sg.noGrad(() => {
        const xt = sg.tensor(test.x, [500, d]);
        return { jac: sigmoidJacobianNorm(ae.encoder, xt), mse: sg.mseLoss(ae.reconstruct(xt), xt).item() };
      });
    };
    const plain = run(0);
    const cae = run(0.1);
    console.log(`contractive AE: ‖J‖²_F ${plain.jac.toFixed(3)} → ${cae.jac.toFixed(3)}, test MSE ${plain.mse.toFixed(4)} → ${cae.mse.toFixed(4)}`);
    expect(cae.jac).toBeLessThan(0.5 * plain.jac);
  });
});
