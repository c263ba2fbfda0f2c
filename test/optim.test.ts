// Optimizers end to end: each minimises f(w) = sum((w - t)^2) built with the Tensor API,
// matches the plain-JS reference of the same update (test/reference/optim.ts) step by step, and rejects
// bad arguments with an Error naming the optimizer and the value.
import { describe, expect, it } from 'vitest';
import { Tensor, memory, tensor } from '../src/core/tensor';
import '../src/ops/index';
import { releaseGraphs } from '../src/core/autograd';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type Optimizer } from '../src/optim/index';
import { maxRelErr } from './helpers/wasm';
import { refAdagrad, refAdam, refRmsprop, refSgd } from './reference/optim';

const W0 = [0.5, -1.25, 2, 0.1, -0.7, 3, -2.5];
const T = [1, 0.5, -1, 0, 0.25, 2, -3];

/** One reference update of the flat vector w given gradient g; `s` holds the optimizer's state. */
type RefStep = (w: number[], g: number[], s: Record<string, number[]>, t: number) => void;

interface Case {
  name: string;
  make: (params: Tensor[]) => Optimizer;
  ref: RefStep;
  /** Steps after which the loss must be below `maxLoss`. */
  steps: number;
  maxLoss: number;
  /**
   * Coupled L2 coefficient: the minimum then is that of f(w) + l2/2 |w|^2, w* = 2t / (2 + l2),
   * which the optimizer must reach (shows weight decay is the gradient term g + wd*w).
   */
  l2?: number;
}

const zerosLike = (w: number[]): number[] => w.map(() => 0);

// The shared references (test/reference/optim.ts) with each optimizer's state kept in `s`.
function sgdRef(lr: number, mu: number, wd: number): RefStep {
  return (w, g, s) => refSgd(w, g, (s.v ??= zerosLike(w)), lr, mu, wd);
}
function adagradRef(lr: number, eps: number, wd: number): RefStep {
  return (w, g, s) => refAdagrad(w, g, (s.h ??= zerosLike(w)), lr, eps, wd);
}
function rmspropRef(lr: number, rho: number, eps: number, wd: number): RefStep {
  return (w, g, s) => refRmsprop(w, g, (s.s ??= zerosLike(w)), lr, rho, eps, wd);
}
function adamRef(lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): RefStep {
  return (w, g, s, t) => refAdam(w, g, (s.m ??= zerosLike(w)), (s.v ??= zerosLike(w)), lr, b1, b2, eps, wd, decoupled, 1 - b1 ** t, 1 - b2 ** t);
}

const CASES: Case[] = [
  { name: 'SGD', make: (p) => new SGD(p, { lr: 0.1 }), ref: sgdRef(0.1, 0, 0), steps: 60, maxLoss: 1e-8 },
  { name: 'SGD momentum 0.9', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9 }), ref: sgdRef(0.05, 0.9, 0), steps: 200, maxLoss: 1e-6 },
  { name: 'SGD momentum + weight decay', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.5, weightDecay: 0.01 }), ref: sgdRef(0.05, 0.5, 0.01), steps: 100, maxLoss: 1e-3, l2: 0.01 },
  { name: 'Adagrad', make: (p) => new Adagrad(p, { lr: 0.5 }), ref: adagradRef(0.5, 1e-10, 0), steps: 300, maxLoss: 1e-6 },
  { name: 'Adagrad + weight decay', make: (p) => new Adagrad(p, { lr: 0.5, weightDecay: 0.01 }), ref: adagradRef(0.5, 1e-10, 0.01), steps: 300, maxLoss: 1e-3, l2: 0.01 },
  { name: 'RMSprop', make: (p) => new RMSprop(p, { lr: 0.01 }), ref: rmspropRef(0.01, 0.99, 1e-8, 0), steps: 600, maxLoss: 1e-6 },
  { name: 'RMSprop rho 0.9 + weight decay', make: (p) => new RMSprop(p, { lr: 0.01, rho: 0.9, weightDecay: 0.01 }), ref: rmspropRef(0.01, 0.9, 1e-8, 0.01), steps: 600, maxLoss: 2e-3 },
  { name: 'Adam', make: (p) => new Adam(p, { lr: 0.05 }), ref: adamRef(0.05, 0.9, 0.999, 1e-8, 0, false), steps: 600, maxLoss: 1e-6 },
  { name: 'Adam + coupled L2', make: (p) => new Adam(p, { lr: 0.05, weightDecay: 0.01 }), ref: adamRef(0.05, 0.9, 0.999, 1e-8, 0.01, false), steps: 600, maxLoss: 1e-3, l2: 0.01 },
  { name: 'AdamW', make: (p) => new AdamW(p, { lr: 0.05, betas: [0.8, 0.99] }), ref: adamRef(0.05, 0.8, 0.99, 1e-8, 0.01, true), steps: 600, maxLoss: 1e-4 },
];

/** f(w) = sum((w - t)^2) through the Tensor API; returns the loss value after backward(). */
function lossAndGrad(w: Tensor, t: Tensor): number {
  const loss = w.sub(t).square().sum();
  loss.backward();
  return loss.item();
}

function quadLoss(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += (w[i] - T[i]) ** 2;
  return s;
}

describe.each(CASES)('$name', (c) => {
  it('matches a plain-JS implementation of the same update for 5 steps', () => {
    const w = tensor(W0, { requiresGrad: true });
    const t = tensor(T);
    const opt = c.make([w]);
    const refW = W0.slice();
    const refState: Record<string, number[]> = {};
    for (let step = 1; step <= 5; step++) {
      opt.zeroGrad();
      lossAndGrad(w, t);
      const g = refW.map((x, i) => 2 * (x - T[i]));
      opt.step();
      c.ref(refW, g, refState, step);
      expect(maxRelErr(w.data(), refW), `w after step ${step}`).toBeLessThan(1e-5);
    }
    opt.dispose();
  });

  it('minimises the quadratic', () => {
    const w = tensor(W0, { requiresGrad: true });
    const t = tensor(T);
    const opt = c.make([w]);
    const first = quadLoss(W0);
    for (let step = 0; step < c.steps; step++) {
      opt.zeroGrad();
      lossAndGrad(w, t);
      opt.step();
    }
    const last = quadLoss(w.data());
    expect(last).toBeLessThan(c.maxLoss);
    expect(last).toBeLessThan(first / 100);
    if (c.l2 !== undefined) {
      const l2 = c.l2;
      expect(maxRelErr(w.data(), T.map((x) => (2 * x) / (2 + l2))), 'regularised minimum').toBeLessThan(1e-4);
    }
    opt.dispose();
  });
});

describe('SGD with momentum, notes §1.3.5.3', () => {
  it('dw(t) = -eta grad E + mu dw(t-1) on E(w) = w^2, by hand', () => {
    // w(0) = 1, eta = 0.1, mu = 0.9.  grad = 2w.
    // step 1: dw = -0.1*2   + 0.9*0      = -0.2   -> w = 0.8
    // step 2: dw = -0.1*1.6 + 0.9*(-0.2) = -0.34  -> w = 0.46
    // step 3: dw = -0.1*0.92 + 0.9*(-0.34) = -0.398 -> w = 0.062
    const w = tensor([1], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    const expected = [0.8, 0.46, 0.062];
    for (const e of expected) {
      opt.zeroGrad();
      w.square().sum().backward();
      opt.step();
      expect(w.item()).toBeCloseTo(e, 6);
    }
    opt.dispose();
  });
});

describe('Optimizer behaviour', () => {
  it('skips parameters whose grad is null and updates several tensors, one kernel call each', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const b = tensor([1, -1, 0.5, 2, 0], { requiresGrad: true });
    const unused = tensor([7, 8, 9], { requiresGrad: true });
    const opt = new Adam([a, b, unused], { lr: 0.1 });
    opt.zeroGrad();
    a.square().sum().add(b.square().sum()).backward();
    expect(unused.grad).toBeNull();
    const before = memory().bytes;
    opt.step();
    expect(Array.from(unused.data())).toEqual([7, 8, 9]);
    // First Adam step moves each weight by lr against the gradient's sign.
    expect(maxRelErr(a.data(), [0.9, 1.9, 2.9, 3.9, 4.9, 5.9])).toBeLessThan(1e-6);
    expect(maxRelErr(b.data(), [0.9, -0.9, 0.4, 1.9, 0])).toBeLessThan(1e-6);
    // State was allocated for a and b only: 2 moment buffers each (rounded up to 64-byte blocks).
    const stateBytes = memory().bytes - before;
    expect(stateBytes).toBe(2 * 64 + 2 * 64);
    opt.dispose();
  });

  it('lr can be changed between steps (schedules) and lr = 0 leaves weights unchanged', () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.5 });
    opt.lr = 0;
    w.square().sum().backward();
    opt.step();
    expect(Array.from(w.data())).toEqual([1, 2, 3]);
    opt.lr = 0.25;
    opt.step(); // same gradient 2w: w - 0.25 * 2w = w / 2
    expect(Array.from(w.data())).toEqual([0.5, 1, 1.5]);
    expect(() => { opt.lr = -0.1; }).toThrow('SGD: lr must be a finite number >= 0, got -0.1');
    expect(opt.lr).toBe(0.25);
    opt.dispose();
  });

  it('zeroGrad frees gradients by default and can zero them in place', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    w.square().sum().backward();
    const g = w.grad!;
    opt.zeroGrad(false);
    expect(w.grad).toBe(g);
    expect(Array.from(g.data())).toEqual([0, 0]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    expect(g.isAlive).toBe(false);
    opt.dispose();
  });

  it('keeps live memory flat over a long loop and frees its state on dispose', () => {
    const w = tensor(W0, { requiresGrad: true });
    const t = tensor(T);
    const opt = new Adam([w], { lr: 0.01 });
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        opt.zeroGrad();
        lossAndGrad(w, t);
        opt.step();
      }
    };
    run(3);
    releaseGraphs();
    const after3 = memory();
    run(200);
    releaseGraphs();
    expect(memory().bytes).toBe(after3.bytes);
    expect(memory().tensors).toBe(after3.tensors);
    opt.zeroGrad();
    const withState = memory().bytes;
    opt.dispose();
    expect(withState - memory().bytes).toBe(2 * 64);
    expect(() => opt.step()).toThrow('Adam.step: the optimizer was disposed');
  });

  it('stateDict / loadStateDict resume training exactly', () => {
    const t = tensor(T);
    const w1 = tensor(W0, { requiresGrad: true });
    const opt1 = new Adam([w1], { lr: 0.05 });
    const train = (w: Tensor, opt: Optimizer, n: number): void => {
      for (let i = 0; i < n; i++) {
        opt.zeroGrad();
        lossAndGrad(w, t);
        opt.step();
      }
    };
    train(w1, opt1, 3);
    const saved = opt1.stateDict();
    const savedW = w1.data();
    opt1.lr = 0.02;
    train(w1, opt1, 4);

    const w2 = tensor(savedW, { requiresGrad: true });
    const opt2 = new Adam([w2], { lr: 0.9, betas: [0.5, 0.5] });
    opt2.loadStateDict(saved);
    expect(opt2.lr).toBe(0.05);
    expect((opt2 as Adam).betas).toEqual([0.9, 0.999]);
    opt2.lr = 0.02;
    train(w2, opt2, 4);
    expect(Array.from(w2.data())).toEqual(Array.from(w1.data()));

    expect(() => new SGD([w2], { lr: 1 }).loadStateDict(saved)).toThrow('SGD.loadStateDict: the state dict is from Adam, not SGD');
    const other = new Adam([tensor([1, 2], { requiresGrad: true })]);
    expect(() => other.loadStateDict(saved)).toThrow(/Adam.loadStateDict: parameter 0: expected 2 Float32Array state buffers of 2 values/);
    expect(other.lr).toBe(0.001);
    opt1.dispose();
    opt2.dispose();
    other.dispose();
  });

  it('SGD switches its velocity buffer on and off with momentum', () => {
    const w = tensor([1], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const base = memory().bytes;
    w.square().sum().backward();
    opt.step(); // w = 1 - 0.2 = 0.8, no state
    expect(memory().bytes).toBe(base);
    opt.momentum = 0.9;
    opt.step(); // fresh velocity: dw = -0.1*2 = -0.2 (grad still 2 from the first backward)
    expect(w.item()).toBeCloseTo(0.6, 6);
    expect(memory().bytes).toBe(base + 64);
    opt.step(); // dw = -0.2 + 0.9*(-0.2) = -0.38
    expect(w.item()).toBeCloseTo(0.22, 6);
    opt.dispose();
  });
});

describe('Optimizer arguments', () => {
  const p = (): Tensor => tensor([1, 2, 3], { requiresGrad: true });

  it('rejects bad learning rates and hyper-parameters, naming the optimizer and the value', () => {
    expect(() => new SGD([p()], { lr: -1 })).toThrow('SGD: lr must be a finite number >= 0, got -1');
    expect(() => new SGD([p()], { lr: NaN })).toThrow('SGD: lr must be a finite number >= 0, got NaN');
    expect(() => new SGD([p()], undefined as never)).toThrow(/SGD: options with a learning rate are required/);
    expect(() => new SGD([p()], { lr: 0.1, momentum: 1 })).toThrow('SGD: momentum must be in [0, 1), got 1');
    expect(() => new SGD([p()], { lr: 0.1, weightDecay: -0.5 })).toThrow('SGD: weightDecay must be a finite number >= 0, got -0.5');
    expect(() => new Adagrad([p()], { lr: -0.01 })).toThrow('Adagrad: lr must be a finite number >= 0, got -0.01');
    expect(() => new Adagrad([p()], { eps: 0 })).toThrow('Adagrad: eps must be a finite number > 0, got 0');
    expect(() => new RMSprop([p()], { alpha: 1.5 })).toThrow('RMSprop: alpha must be in [0, 1), got 1.5');
    expect(() => new RMSprop([p()], { alpha: 0.9, rho: 0.9 })).toThrow(/RMSprop: give alpha or rho/);
    expect(() => new Adam([p()], { betas: [1, 0.999] })).toThrow('Adam: betas[0] must be in [0, 1), got 1');
    expect(() => new Adam([p()], { betas: [0.9, -0.1] })).toThrow('Adam: betas[1] must be in [0, 1), got -0.1');
    expect(() => new Adam([p()], { betas: [0.9] as never })).toThrow('Adam: betas must be a pair [beta1, beta2], got an array of 1');
    expect(() => new AdamW([p()], { lr: -3 })).toThrow('AdamW: lr must be a finite number >= 0, got -3');
    expect(() => new AdamW([p()], { decoupled: false } as never)).toThrow(/AdamW: decoupled weight decay is what AdamW is/);
    expect(() => new Adam([p()], { weight_decay: 0.1 } as never)).toThrow("Adam: unknown option 'weight_decay'");
  });

  it('rejects empty and invalid parameter lists', () => {
    expect(() => new Adam([])).toThrow('Adam: the parameter list is empty');
    expect(() => new SGD(null as never, { lr: 0.1 })).toThrow('SGD: params must be an array (or iterable) of tensors, got null');
    expect(() => new SGD([p(), 3 as never], { lr: 0.1 })).toThrow('SGD: parameter 1 is not a Tensor (got number)');
    const ints = tensor([1, 2, 3], { dtype: 'int32' });
    expect(() => new RMSprop([ints])).toThrow('RMSprop: parameter 0 [3] is int32; optimizers update float32 tensors only');
    const q = p();
    expect(() => new Adagrad([q, q])).toThrow('Adagrad: parameter 1 [3] appears more than once in the parameter list');
    const nonLeaf = q.mul(2);
    expect(() => new Adam([nonLeaf])).toThrow(/Adam: parameter 0 \[3\] is the output of an op/);
    const gone = p();
    gone.dispose();
    expect(() => new SGD([gone], { lr: 0.1 })).toThrow('SGD: parameter 0 [3] was disposed');
  });

  it('accepts any iterable of tensors (e.g. a generator of module parameters)', () => {
    const a = p(), b = p();
    function* gen(): Generator<Tensor> { yield a; yield b; }
    const opt = new SGD(gen(), { lr: 0.1 });
    expect(opt.params).toEqual([a, b]);
    opt.dispose();
  });
});
