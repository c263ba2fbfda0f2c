// sg.profile: time per op (forward and backward), region and kernel of a training step; the
// parts add up to the wall time, nested frames are not counted twice, and nothing is timed
// (or wrapped) outside a profile() call.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { runtime } from '../../bindings/index';

function mlpStep(): () => void {
  sg.manualSeed(1);
  const model = new sg.nn.Sequential(new sg.nn.Linear(64, 32), new sg.nn.ReLU(), new sg.nn.Linear(32, 10));
  const opt = new sg.optim.Adam(model.parameters());
  const x = sg.randn([16, 64]);
  const y = sg.randint([16], 0, 10);
  const target = sg.rand([16, 10]);
  return () => {
    const loss = sg.mseLoss(sg.softmax(model.forward(x), 1), target).add(sg.crossEntropy(model.forward(x), y));
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
}

describe('profile', () => {
  it('splits a training step into ops, phases, regions and kernels whose times add up', () => {
    const step = mlpStep();
    const p = sg.profile(step, { runs: 5, warmup: 2 });
    const names = p.ops.map((o) => o.name);
    for (const n of ['linear', 'linear backward', 'crossEntropy', 'crossEntropy backward', 'mseLoss', 'Adam.step', 'Adam.zeroGrad', 'backward (graph walk)', '(outside)']) {
      expect(names, n).toContain(n);
    }
    const linear = p.ops.find((o) => o.name === 'linear')!;
    expect(linear.calls).toBe(4); // two layers, two forward passes per step
    expect(linear.kernelMs).toBeGreaterThan(0);
    expect(linear.kernelMs).toBeLessThanOrEqual(linear.selfMs + 1e-9);
    const kernels = p.kernels.map((k) => k.name);
    expect(kernels).toContain('gemm');
    expect(kernels).toContain('adamStep');
    // Self times are disjoint: they add up to the wall time (within the timer's resolution).
    const self = p.ops.reduce((s, o) => s + o.selfMs, 0);
    expect(Math.abs(self - p.wallMs)).toBeLessThan(0.05 * p.wallMs + 0.01);
    const kernelSum = p.kernels.reduce((s, k) => s + k.ms, 0);
    expect(kernelSum).toBeCloseTo(p.kernelMs, 6);
    expect(p.jsMs).toBeCloseTo(p.wallMs - p.kernelMs, 6);
    // A composed op's frame holds only its own glue: mseLoss is made of other ops.
    const mse = p.ops.find((o) => o.name === 'mseLoss')!;
    expect(mse.kernelMs).toBe(0);
  });

  it('leaves the kernels unwrapped outside a profile() call, also when fn throws', () => {
    const raw = runtime().kernels;
    expect(() => sg.profile(() => { sg.zeros([2]).add(sg.zeros([3])); })).toThrow(/^add: /);
    expect(runtime().kernels).toBe(raw);
    sg.profile(mlpStep());
    expect(runtime().kernels).toBe(raw);
  });

  it('rejects bad options and nesting', () => {
    expect(() => sg.profile(() => {}, { runs: 0 })).toThrow('profile: runs must be a positive integer, got 0');
    expect(() => sg.profile(() => {}, { warmup: -1 })).toThrow('profile: warmup must be a non-negative integer, got -1');
    expect(() => sg.profile(() => { sg.profile(() => {}); })).toThrow('profile: already profiling (profile() calls cannot nest)');
  });
});
