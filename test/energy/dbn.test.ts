// Deep belief nets and greedy layer-wise pretraining (notes §1.4.2.5, §1.8.3).
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { comparePretraining } from '../../examples/rbm/pretraining';

describe('DBN', () => {
  it('unrolls into Linear + Sigmoid layers that compute the RBMs\' hidden probabilities', () => {
    const dbn = new sg.energy.DBN([6, 4, 3], { generator: new sg.RandomGenerator(1), initStd: 0.5 });
    const net = dbn.toSequential();
    const v = sg.tensor([[1, 0, 1, 1, 0, 0]]);
    const viaNet = net.forward(v).data();
    const viaRbms = dbn.rbms[1].hiddenProbabilities(dbn.rbms[0].hiddenProbabilities(v)).data();
    Array.from(viaNet).forEach((p, i) => expect(p).toBeCloseTo(viaRbms[i], 6));
    expect(dbn.generate(2, 10).shape).toEqual([2, 6]);
  });

  it('with 500 labelled digits, pretraining on all training digits beats random init (mean of 3 seeds)', () => {
    const r = comparePretraining({
      hidden: [200, 100], labelled: 500, test: 2000, seeds: [1, 2, 3], pretrainEpochs: 2, fineTuneEpochs: 20, log: (l) => console.log(l),
    });
    const mean = (k: 'pretrained' | 'random') => r.reduce((s, x) => s + x[k], 0) / r.length;
    console.log(`mean held-out accuracy: pretrained ${(100 * mean('pretrained')).toFixed(1)}%, random init ${(100 * mean('random')).toFixed(1)}%`);
    expect(mean('pretrained')).toBeGreaterThan(mean('random') + 0.03);
  });
});
