// linear's zero skipping (src/ops/matmul.ts): an input that is mostly exact zeros (MNIST
// pixels) runs the forward product and the weight gradient on the GEMM that drops all-zero
// steps. It must give the dense path's numbers bit for bit (forward, input, weight and bias
// gradients, with and without the fused ReLU, on 1 and 2 threads), fall back to the dense
// path where 0·w would be NaN (a non-finite weight or output gradient) or the input is not
// sparse, and pass the finite-difference check on the skipping path.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { tuneZeroSkip } from '../../src/ops/matmul';
import { tuneThreads } from '../../bindings/parallel/index';
import { gradcheck } from '../../src/ops/gradcheck';
import { loadAllDigits } from '../../examples/mnist-data.mjs';

const DEFAULTS = tuneZeroSkip();
const BACKOFF = tuneThreads().backoff;
afterEach(() => {
  tuneZeroSkip(DEFAULTS);
  tuneThreads({ backoff: BACKOFF });
  sg.setThreads(1);
});
afterAll(() => tuneZeroSkip(DEFAULTS));

/** Rows of MNIST digits (81% of the pixels are exactly 0). */
function digits(rows: number, from = 0): sg.Tensor {
  const { x } = loadAllDigits();
  return sg.tensor(x.slice(from * 784, (from + rows) * 784), [rows, 784]);
}

interface Pass {
  y: Float32Array;
  gx: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
}

/** One forward and backward pass of linear (x·Wᵀ + b, ReLU optional) with every gradient read back. */
function pass(x: sg.Tensor, w: sg.Tensor, b: sg.Tensor, relu: boolean, gyScale = 1): Pass {
  const leaf = (t: sg.Tensor): sg.Tensor => {
    const c = sg.tensor(t.data() as Float32Array, t.shape.slice());
    c.requiresGrad = true;
    return c;
  };
  const xs = leaf(x);
  const ws = leaf(w);
  const bs = leaf(b);
  const y = sg.linear(xs, ws, bs, { relu });
  const proj = sg.keep(sg.tensor(Array.from({ length: y.size }, (_, i) => (((i * 37) % 11) - 5) * gyScale), y.shape));
  sg.sum(sg.mul(y, proj)).backward();
  return { y: y.data() as Float32Array, gx: xs.grad!.data() as Float32Array, gw: ws.grad!.data() as Float32Array, gb: bs.grad!.data() as Float32Array };
}

function expectBitwise(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  let diff = -1;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) { diff = i; break; }
  expect(diff, diff < 0 ? what : `${what}: first difference at ${diff}: ${a[diff]} vs ${b[diff]}`).toBe(-1);
}

function expectSamePass(a: Pass, b: Pass): void {
  expectBitwise(a.y, b.y, 'output');
  expectBitwise(a.gx, b.gx, 'input gradient');
  expectBitwise(a.gw, b.gw, 'weight gradient');
  expectBitwise(a.gb, b.gb, 'bias gradient');
}

/** The kernels one forward and backward pass of linear calls (their names in sg.profile). */
function kernelsOf(x: sg.Tensor, w: sg.Tensor, b: sg.Tensor, relu: boolean): string[] {
  return sg.profile(() => { pass(x, w, b, relu); }, { runs: 1, warmup: 0 }).kernels.map((k) => k.name);
}

/**
 * The same pass on 1 thread and on 2, checked to have run parallel jobs on 2 (the back-off,
 * which a busy machine can trigger, is off so that it cannot quietly make both one thread).
 */
async function onOneAndTwoThreads(x: sg.Tensor, w: sg.Tensor, b: sg.Tensor, relu: boolean): Promise<[Pass, Pass]> {
  await sg.startThreads();
  sg.setThreads(1);
  const one = pass(x, w, b, relu);
  tuneThreads({ backoff: false });
  sg.setThreads(2);
  const jobs = tuneThreads().jobs;
  const two = pass(x, w, b, relu);
  expect(tuneThreads().jobs).toBeGreaterThan(jobs);
  return [one, two];
}

describe('linear zero skipping', () => {
  sg.manualSeed(7);
  const w = sg.keep(sg.mul(sg.randn([128, 784]), 0.05));
  const b = sg.keep(sg.mul(sg.randn([128]), 0.1));

  for (const relu of [false, true]) {
    for (const rows of [1, 5, 64, 130]) {
      it(`${rows} MNIST rows x [128, 784]${relu ? ', fused ReLU' : ''}: bitwise the dense path's (forward and every gradient)`, () => {
        const x = digits(rows, 100);
        const skipped = pass(x, w, b, relu);
        tuneZeroSkip({ enabled: false });
        const dense = pass(x, w, b, relu);
        expectSamePass(skipped, dense);
      });
    }
  }

  it('takes the skipping path on MNIST rows, and not on dense rows (the profile shows its finiteness check)', () => {
    expect(kernelsOf(digits(64), w, b, true)).toContain('countNonFinite');
    const dense = sg.keep(sg.add(digits(64), 0.01)); // no zeros left
    expect(kernelsOf(dense, w, b, true)).not.toContain('countNonFinite');
    tuneZeroSkip({ enabled: false });
    expect(kernelsOf(digits(64), w, b, true)).not.toContain('gemmZeroSteps');
  });

  it('does not skip where zeros are scattered (half the values of a ReLU output): few whole steps would go', () => {
    sg.manualSeed(11);
    const scattered = sg.keep(sg.relu(sg.randn([64, 784])));
    const names = kernelsOf(scattered, w, b, false);
    expect(names).toContain('gemmZeroSteps');
    expect(names).not.toContain('countNonFinite');
  });

  it('is bitwise the same on 2 threads as on 1', async () => {
    const [one, two] = await onOneAndTwoThreads(digits(256, 300), w, b, true);
    expectSamePass(one, two);
  });

  it('is bitwise the same on 2 threads when the GEMM splits by columns (few rows, many outputs)', async () => {
    const wide = sg.keep(sg.mul(sg.randn([512, 784]), 0.05));
    const bw = sg.keep(sg.zeros([512]));
    const x = digits(16, 40);
    const [one, two] = await onOneAndTwoThreads(x, wide, bw, false);
    expectSamePass(one, two);
    tuneZeroSkip({ enabled: false });
    expectSamePass(two, pass(x, wide, bw, false));
  });

  it('keeps memory flat over 2,000 training steps on MNIST rows (its scratch is returned)', () => {
    const { x, y } = loadAllDigits();
    sg.manualSeed(5);
    const model = new sg.nn.Sequential(new sg.nn.Linear(784, 64), new sg.nn.ReLU(), new sg.nn.Linear(64, 10));
    const opt = new sg.optim.Adam(model.parameters(), { lr: 1e-3 });
    const rows = sg.keep(sg.tensor(x.slice(0, 32 * 784), [32, 784]));
    const labels = sg.keep(sg.tensor(y.slice(0, 32), [32], { dtype: 'int32' }));
    const step = (): number => {
      const loss = sg.crossEntropy(model.forward(rows), labels);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    };
    const first = step();
    for (let i = 0; i < 20; i++) step();
    const warm = sg.memory();
    let last = first;
    for (let i = 0; i < 2000; i++) last = step();
    const end = sg.memory();
    expect(end.tensors).toBe(warm.tensors);
    expect(end.bytes).toBe(warm.bytes);
    expect(end.heapBytes).toBe(warm.heapBytes);
    expect(last).toBeLessThan(first / 4); // it trains: 32 digits memorised
  });

  it('a non-finite weight gives the dense NaNs (0·Inf = NaN), not finite numbers', () => {
    const x = digits(32, 50);
    // Weight [3, 0] multiplies a corner pixel, 0 in every digit: a skipping product would never read it.
    const inf = Float32Array.from(w.data() as Float32Array, (v, i) => (i === 3 * 784 ? Number.POSITIVE_INFINITY : v));
    const wInf = sg.keep(sg.tensor(inf, [128, 784]));
    const skippedOrNot = pass(x, wInf, b, false);
    tuneZeroSkip({ enabled: false });
    const dense = pass(x, wInf, b, false);
    expectSamePass(skippedOrNot, dense);
    const col3 = Array.from({ length: 32 }, (_, r) => skippedOrNot.y[r * 128 + 3]);
    expect(col3.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('a non-finite output gradient gives the dense weight gradient (NaN where 0·Inf)', () => {
    const x = digits(16, 10);
    const skipped = pass(x, w, b, false, Number.POSITIVE_INFINITY);
    tuneZeroSkip({ enabled: false });
    const dense = pass(x, w, b, false, Number.POSITIVE_INFINITY);
    expectBitwise(skipped.gw, dense.gw, 'weight gradient');
    expect(skipped.gw.some((v) => Number.isNaN(v))).toBe(true);
  });

  it('passes the finite-difference check on the skipping path (forced for a small layer)', () => {
    tuneZeroSkip({ minWork: 0, minSkipped: 0 });
    sg.manualSeed(3);
    const xd = sg.randn([6, 9]).data() as Float32Array;
    for (let i = 0; i < xd.length; i++) if (i % 3 !== 0) xd[i] = 0; // two thirds zeros
    const x = sg.tensor(xd, [6, 9]);
    const wt = sg.tensor(sg.mul(sg.randn([5, 9]), 0.5).data() as Float32Array, [5, 9]);
    const bt = sg.randn([5]);
    for (const t of [x, wt, bt]) t.requiresGrad = true;
    const r = gradcheck((a, ww, bb) => sg.linear(a, ww, bb), [x, wt, bt]);
    expect(r.ok, r.worst).toBe(true);
  });
});
