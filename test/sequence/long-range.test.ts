// Long-range memory (notes §1.6): a sequence's label is its first symbol, and 59 noise symbols
// follow it. The first step is flagged by an extra input channel, so finding it is easy; what
// is hard is keeping it through 59 steps of noise. An LSTM's gated cell learns to hold it; an
// Elman RNN of the same hidden size, trained the same way for at least as long, stays near
// chance, because the gradient from the label back to step 0 shrinks at every step (§1.6.1).
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const K = 4; // symbols and classes: chance is 1/K
const T = 60; // the symbol to recall is T − 1 = 59 steps before the read-out
const D = K + 1; // one-hot symbol + the "first step" flag
const H = 24; // hidden size of both models
const BATCH = 32;
const MAX_STEPS = 1000;
// Forget-gate bias at start. PyTorch's init puts f near σ(0) = 0.5, so a cell forgets half of
// itself per step and the gradient back to step 0 is ~0.5^59: nothing to learn from. With f
// near σ(5) ≈ 0.993 the cell starts out as a memory and training only has to learn what to
// write (Gers et al. 2000 and Jozefowicz et al. 2015 raise it for the same reason). In seeded
// trials of this task, 0 and 2 stayed at chance, 3 and 4 learned erratically or stalled, and 5
// converged within ~550 steps for each of seeds 1-3.
const FORGET_BIAS = 5;

/** N sequences [N, T, D] of random symbols, labelled by their first one. */
function task(gen: sg.RandomGenerator, N: number): { x: sg.Tensor; y: sg.Tensor } {
  const x = new Float32Array(N * T * D);
  const y = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) x[(n * T + t) * D + gen.int(K)] = 1;
    x[n * T * D + K] = 1;
    y[n] = x.subarray(n * T * D, n * T * D + K).indexOf(1);
  }
  return { x: sg.tensor(x, [N, T, D]), y: sg.tensor(y, [N], { dtype: 'int32' }) };
}

interface Run { kind: string; accuracy: number; steps: number; seconds: number }

/**
 * Trains kind + a linear read-out of its last state with Adam, on fresh batches, until the
 * running batch accuracy passes 99 % (LSTM) or for all MAX_STEPS (RNN: it gets the whole
 * budget, never less than the LSTM); then scores 1,024 unseen sequences.
 */
function run(kind: 'lstm' | 'rnn', seed: number): Run {
  sg.manualSeed(seed);
  const model = kind === 'lstm' ? new sg.nn.LSTM(D, H) : new sg.nn.RNN(D, H);
  const head = new sg.nn.Linear(H, K);
  if (model instanceof sg.nn.LSTM) {
    // Rows H..2H of the biases are f's (PyTorch's gate order i, f, g, o); b_ih + b_hh is what counts.
    const b = model.weights(0).bIh!;
    const v = Float32Array.from(b.data());
    v.fill(FORGET_BIAS, H, 2 * H);
    b.setData(v);
  }
  const params = [...model.parameters(), ...head.parameters()];
  const opt = new sg.optim.Adam(params, { lr: 3e-3 });
  const data = new sg.RandomGenerator(seed + 100);
  const start = performance.now();
  let running = 0;
  let steps = 0;
  while (steps < MAX_STEPS && !(kind === 'lstm' && running > 0.99)) {
    const { x, y } = task(data, BATCH);
    const logits = head.forward(model.forward(x).last);
    const loss = sg.crossEntropy(logits, y);
    opt.zeroGrad();
    loss.backward();
    sg.clipGradNorm(params, 1);
    opt.step();
    steps++;
    const predicted = sg.noGrad(() => logits.argmax(1)).data();
    const labels = y.data();
    running = 0.9 * running + 0.1 * predicted.filter((p, i) => p === labels[i]).length / BATCH;
    sg.dispose(x, y);
  }
  const test = task(new sg.RandomGenerator(seed + 999), 1024);
  const predicted = sg.noGrad(() => head.forward(model.forward(test.x).last).argmax(1)).data();
  const labels = test.y.data();
  const accuracy = predicted.filter((p, i) => p === labels[i]).length / labels.length;
  sg.dispose(test.x, test.y);
  return { kind, accuracy, steps, seconds: (performance.now() - start) / 1000 };
}

describe('long-range memory: recall the first of 60 symbols (notes §1.6)', () => {
  it('an LSTM reaches >= 95 % on unseen sequences; an Elman RNN of the same size stays near chance', () => {
    const lstm = run('lstm', 1);
    const rnn = run('rnn', 1);
    for (const r of [lstm, rnn]) {
      console.log(`long-range recall, T = ${T}, H = ${H}: ${r.kind} test accuracy ${(100 * r.accuracy).toFixed(1)} % ` +
        `after ${r.steps} steps of ${BATCH} (${r.seconds.toFixed(1)} s; chance ${100 / K} %)`);
    }
    expect(lstm.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(rnn.steps).toBeGreaterThanOrEqual(lstm.steps);
    expect(rnn.accuracy).toBeLessThan(0.4);
  });
});
