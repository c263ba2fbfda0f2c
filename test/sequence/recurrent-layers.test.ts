// nn.RNN, nn.LSTM and nn.GRU as a PyTorch user meets them:
//   - a state dict in PyTorch's names, layout and gate order (i, f, g, o; r, z, n), made by
//     hand here, loads as is, and the layer's outputs, h_n and c_n equal a plain-JS
//     implementation of PyTorch's equations (stacked, bidirectional, packed variable lengths);
//   - padded steps change neither the state nor any gradient;
//   - bad inputs are errors naming the layer and the shapes;
//   - truncated BPTT (state carried with detach) keeps memory flat over 2,000 windows.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { randomF32 } from '../helpers/wasm';

type Kind = 'rnn' | 'lstm' | 'gru';
const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };
type Dict = Record<string, { shape: number[]; data: Float32Array }>;

/** A PyTorch-style state dict of seeded values in [-0.6, 0.6). */
function torchStateDict(kind: Kind, D: number, H: number, layers: number, dirs: number, seed: number): Dict {
  const G = GATES[kind];
  const out: Dict = {};
  let s = seed;
  const vals = (n: number): Float32Array => randomF32(n, s++).map((v) => 0.6 * v);
  for (let l = 0; l < layers; l++) {
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const inF = l === 0 ? D : H * dirs;
      out[`weight_ih${sfx}`] = { shape: [G * H, inF], data: vals(G * H * inF) };
      out[`weight_hh${sfx}`] = { shape: [G * H, H], data: vals(G * H * H) };
      out[`bias_ih${sfx}`] = { shape: [G * H], data: vals(G * H) };
      out[`bias_hh${sfx}`] = { shape: [G * H], data: vals(G * H) };
    }
  }
  return out;
}

const sigm = (v: number): number => 1 / (1 + Math.exp(-v));

/** W·v + b for W [rows, cols] (row-major), rows r0..r0+n. */
function affine(W: Float32Array, cols: number, b: Float32Array, v: number[], r0: number, n: number): number[] {
  const out: number[] = [];
  for (let r = r0; r < r0 + n; r++) {
    let s = b[r];
    for (let c = 0; c < cols; c++) s += W[r * cols + c] * v[c];
    out.push(s);
  }
  return out;
}

/**
 * PyTorch's nn.RNN/LSTM/GRU(batch_first=True) on a packed batch, written from its documented
 * equations: per layer and direction, each sequence runs over its own length (the reverse
 * direction from its last real step); outputs past the length are 0.
 */
function torchReference(kind: Kind, dict: Dict, x: number[][][], lengths: number[], H: number, layers: number, dirs: number,
  h0?: number[][][], c0?: number[][][]): { output: number[][][]; h: number[][][]; c: number[][][] } {
  const N = x.length;
  const T = x[0].length;
  let input = x;
  const hN: number[][][] = [];
  const cN: number[][][] = [];
  for (let l = 0; l < layers; l++) {
    const outs: number[][][][] = [];
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const Wi = dict[`weight_ih${sfx}`];
      const Wh = dict[`weight_hh${sfx}`];
      const bi = dict[`bias_ih${sfx}`].data;
      const bh = dict[`bias_hh${sfx}`].data;
      const inF = Wi.shape[1];
      const k = l * dirs + d;
      const out = Array.from({ length: N }, () => Array.from({ length: T }, () => new Array<number>(H).fill(0)));
      const hs: number[][] = [];
      const cs: number[][] = [];
      for (let n = 0; n < N; n++) {
        let h = h0 ? h0[k][n].slice() : new Array<number>(H).fill(0);
        let c = c0 ? c0[k][n].slice() : new Array<number>(H).fill(0);
        const steps = Array.from({ length: lengths[n] }, (_, i) => (d === 1 ? lengths[n] - 1 - i : i));
        for (const t of steps) {
          const xt = input[n][t];
          const gi = (g: number): number[] => affine(Wi.data, inF, bi, xt, g * H, H);
          const gh = (g: number): number[] => affine(Wh.data, H, bh, h, g * H, H);
          if (kind === 'rnn') {
            const a = gi(0), b = gh(0);
            h = a.map((v, j) => Math.tanh(v + b[j]));
          } else if (kind === 'lstm') {
            const [ai, af, ag, ao] = [0, 1, 2, 3].map(gi);
            const [bi2, bf, bg, bo] = [0, 1, 2, 3].map(gh);
            c = c.map((cv, j) => sigm(af[j] + bf[j]) * cv + sigm(ai[j] + bi2[j]) * Math.tanh(ag[j] + bg[j]));
            h = c.map((cv, j) => sigm(ao[j] + bo[j]) * Math.tanh(cv));
          } else {
            const [xr, xz, xn] = [0, 1, 2].map(gi);
            const [hr, hz, hn] = [0, 1, 2].map(gh);
            const r = xr.map((v, j) => sigm(v + hr[j]));
            const z = xz.map((v, j) => sigm(v + hz[j]));
            const nn = xn.map((v, j) => Math.tanh(v + r[j] * hn[j]));
            h = nn.map((v, j) => (1 - z[j]) * v + z[j] * h[j]);
          }
          out[n][t] = h.slice();
        }
        hs.push(h);
        cs.push(c);
      }
      outs.push(out);
      hN.push(hs);
      cN.push(cs);
    }
    input = outs[0].map((seq, n) => seq.map((v, t) => (dirs === 1 ? v : [...v, ...outs[1][n][t]])));
  }
  return { output: input, h: hN, c: cN };
}

function nested(t: sg.Tensor): number[][][] {
  return t.toArray() as number[][][];
}

function expectNear(got: number[][][], want: number[][][], what: string): void {
  const g = got.flat(2);
  const w = want.flat(2);
  expect(g.length, `${what}: size`).toBe(w.length);
  for (let i = 0; i < g.length; i++) if (!(Math.abs(g[i] - w[i]) < 2e-5)) expect.fail(`${what}: element ${i}: ${g[i]} vs ${w[i]}`);
}

function makeLayer(kind: Kind, D: number, H: number, opts: sg.nn.RecurrentLayerOptions): sg.nn.RNN | sg.nn.LSTM | sg.nn.GRU {
  if (kind === 'rnn') return new sg.nn.RNN(D, H, opts);
  if (kind === 'lstm') return new sg.nn.LSTM(D, H, opts);
  return new sg.nn.GRU(D, H, opts);
}

describe('PyTorch state dicts load by name and give PyTorch\'s outputs', () => {
  const N = 3, T = 5, D = 4, H = 5;
  for (const kind of ['rnn', 'lstm', 'gru'] as Kind[]) {
    for (const [layers, bidi] of [[1, false], [2, true], [3, false]] as [number, boolean][]) {
      it(`${kind}, ${layers} layer${layers > 1 ? 's' : ''}${bidi ? ', bidirectional' : ''}, lengths [5, 2, 4], initial state`, () => {
        const dirs = bidi ? 2 : 1;
        const layer = makeLayer(kind, D, H, { numLayers: layers, bidirectional: bidi });
        const dict = torchStateDict(kind, D, H, layers, dirs, 11);
        expect(Object.keys(layer.stateDict())).toEqual(Object.keys(dict));
        layer.loadStateDict(dict);
        const xv = Array.from(randomF32(N * T * D, 5));
        const x = sg.tensor(xv, [N, T, D]);
        const h0v = Array.from(randomF32(layers * dirs * N * H, 6), (v) => 0.5 * v);
        const c0v = Array.from(randomF32(layers * dirs * N * H, 7), (v) => 0.5 * v);
        const h0 = sg.tensor(h0v, [layers * dirs, N, H]);
        const c0 = kind === 'lstm' ? sg.tensor(c0v, [layers * dirs, N, H]) : null;
        const lengths = [5, 2, 4];
        const r = layer.forward(x, { h0, c0, lengths });
        const want = torchReference(kind, dict, nested(x), lengths, H, layers, dirs, nested(h0), c0 === null ? undefined : nested(c0));
        expectNear(nested(r.output), want.output, 'output');
        expectNear(nested(r.h), want.h, 'h_n');
        if (kind === 'lstm') expectNear(nested(r.c!), want.c, 'c_n');
        else expect(r.c).toBeNull();
        // last: the top layer's final states side by side.
        const top = want.h.slice(want.h.length - dirs);
        const last = top[0].map((row, n) => (dirs === 1 ? row : [...row, ...top[1][n]]));
        expectNear([r.last.toArray() as number[][]], [last], 'last');
      });
    }
  }
});

describe('padding', () => {
  for (const kind of ['rnn', 'lstm', 'gru'] as Kind[]) {
    it(`${kind}: padded steps change neither the state nor the gradients`, () => {
      sg.manualSeed(3);
      const layer = makeLayer(kind, 3, 4, { numLayers: 2, bidirectional: true });
      const xv = randomF32(2 * 6 * 3, 9);
      // Sequence 1 has 3 real steps; its padding holds garbage that must not matter.
      const run = (garbage: number): { out: number[]; grads: number[][] } => {
        const vals = Float32Array.from(xv);
        for (let t = 3; t < 6; t++) for (let j = 0; j < 3; j++) vals[(6 + t) * 3 + j] = garbage;
        const x = sg.tensor(vals, [2, 6, 3], { requiresGrad: true });
        layer.zeroGrad();
        const r = layer.forward(x, { lengths: [6, 3] });
        const loss = sg.add(sg.sum(sg.square(r.output)), sg.sum(r.h));
        loss.backward();
        const gx = Array.from(x.grad!.data());
        return { out: Array.from(r.output.data()), grads: [gx, ...layer.parameters().map((p) => Array.from(p.grad!.data()))] };
      };
      const a = run(0);
      const b = run(50);
      expect(b.out).toEqual(a.out);
      b.grads.forEach((g, i) => expect(g).toEqual(a.grads[i]));
      // ... and x's gradient is 0 at the padded steps.
      for (let t = 3; t < 6; t++) for (let j = 0; j < 3; j++) expect(a.grads[0][(6 + t) * 3 + j]).toBe(0);
      // The padded batch gives what the short sequence gives on its own.
      const short = sg.tensor(Array.from(xv.subarray(18, 18 + 9)), [1, 3, 3]);
      const alone = sg.noGrad(() => layer.forward(short));
      const both = sg.noGrad(() => layer.forward(sg.tensor(xv, [2, 6, 3]), { lengths: [6, 3] }));
      const hAlone = alone.h.data();
      const hBoth = both.h.data();
      for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) expect(hBoth[(k * 2 + 1) * 4 + j]).toBeCloseTo(hAlone[k * 4 + j], 5);
    });
  }
  it('a mask with padding in the middle skips those steps', () => {
    sg.manualSeed(4);
    const layer = new sg.nn.LSTM(2, 3);
    const xv = randomF32(5 * 2, 12);
    const full = sg.noGrad(() => layer.forward(sg.tensor(xv, [1, 5, 2]), { mask: sg.tensor([[1, 0, 1, 0, 1]]) }));
    const keep = [0, 2, 4].flatMap((t) => [xv[t * 2], xv[t * 2 + 1]]);
    const squeezed = sg.noGrad(() => layer.forward(sg.tensor(keep, [1, 3, 2])));
    const a = full.h.data();
    const b = squeezed.h.data();
    for (let j = 0; j < 3; j++) expect(a[j]).toBeCloseTo(b[j], 5);
    const out = full.output.data();
    for (const t of [1, 3]) for (let j = 0; j < 3; j++) expect(out[t * 3 + j]).toBe(0);
  });
});

describe('bad inputs', () => {
  const lstm = new sg.nn.LSTM(4, 3, { numLayers: 2 });
  const x = sg.zeros([2, 5, 4]);
  const cases: [string, () => unknown, string][] = [
    ['x of rank 2', () => lstm.forward(sg.zeros([5, 4])), 'LSTM: x must be [N, T, 4] (batch first), got [5,4]'],
    ['D mismatch', () => lstm.forward(sg.zeros([2, 5, 3])), 'LSTM: x must be [N, T, 4] (batch first), got [2,5,3]'],
    ['int32 x', () => lstm.forward(sg.zeros([2, 5, 4], { dtype: 'int32' })), 'LSTM: expected float32 tensors, got int32 [2,5,4]'],
    ['length too long', () => lstm.forward(x, { lengths: [5, 6] }), 'LSTM: lengths[1] = 6 is out of range for x [2,5,4] (0..5)'],
    ['negative length', () => lstm.forward(x, { lengths: [-1, 2] }), 'LSTM: lengths[0] = -1 is out of range for x [2,5,4] (0..5)'],
    ['too few lengths', () => lstm.forward(x, { lengths: [3] }), 'LSTM: 1 lengths for a batch of 2 (x [2,5,4])'],
    ['float lengths tensor', () => lstm.forward(x, { lengths: sg.tensor([1, 2]) }), 'LSTM: lengths must be numbers or an int32 tensor [N], got float32 [2]'],
    ['lengths and mask', () => lstm.forward(x, { lengths: [1, 2], mask: sg.ones([2, 5]) }), 'LSTM: pass lengths or mask, not both'],
    ['mask of the wrong shape', () => lstm.forward(x, { mask: sg.ones([2, 4]) }), 'LSTM: mask must be [2, 5] for x [2,5,4], got [2,4]'],
    ['h0 without the layer axis', () => lstm.forward(x, { h0: sg.zeros([2, 3]) }), 'LSTM: h0 must be [2, 2, 3] (numLayers·directions, N, H), got [2,3]'],
    ['c0 for a GRU', () => new sg.nn.GRU(4, 3).forward(x, { c0: sg.zeros([1, 2, 3]) }), 'GRU: c0 is for LSTM only'],
    ['unknown state key', () => lstm.forward(x, { h: sg.zeros([2, 2, 3]) } as never), "LSTM: unknown option 'h'"],
    ['bad nonlinearity', () => new sg.nn.RNN(4, 3, { nonlinearity: 'sigmoid' as never }), "RNN: nonlinearity must be 'tanh', 'relu', got 'sigmoid'"],
    ['numLayers 0', () => new sg.nn.GRU(4, 3, { numLayers: 0 }), 'GRU: numLayers must be a positive integer, got 0'],
  ];
  for (const [label, call, error] of cases) it(label, () => expect(call).toThrow(error));
  it('the ops name themselves on a D mismatch', () => {
    expect(() => sg.lstm(sg.zeros([2, 5, 3]), sg.zeros([12, 4]), sg.zeros([12, 3]))).toThrow('lstm: wIh must be [12, 3] for x [2,5,3] and hidden size 3, got [12,4]');
  });
});

describe('truncated BPTT', () => {
  it('carries the state between windows with detach; memory stays flat over 2,000 windows', () => {
    sg.manualSeed(5);
    const N = 4, T = 5, D = 3, H = 8;
    const lstm = new sg.nn.LSTM(D, H, { numLayers: 2 });
    const head = new sg.nn.Linear(H, D);
    const params = [...lstm.parameters(), ...head.parameters()];
    const opt = new sg.optim.SGD(params, { lr: 0.05 });
    // A periodic signal: predict the next step of a sine wave.
    const series = (w: number): Float32Array => Float32Array.from({ length: N * (T + 1) * D }, (_, i) => {
      const n = Math.floor(i / ((T + 1) * D));
      const t = Math.floor(i / D) % (T + 1);
      return Math.sin(0.3 * (w * T + t) + n + (i % D));
    });
    let state: { h: sg.Tensor; c: sg.Tensor } | null = null;
    const sizes: { tensors: number; bytes: number }[] = [];
    let first = 0;
    let lastLoss = 0;
    for (let w = 0; w < 2000; w++) {
      const s = series(w);
      const xs: number[] = [];
      const ys: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < D; j++) {
            xs.push(s[(n * (T + 1) + t) * D + j]);
            ys.push(s[(n * (T + 1) + t + 1) * D + j]);
          }
        }
      }
      const x = sg.tensor(xs, [N, T, D]);
      const y = sg.tensor(ys, [N, T, D]);
      const r = lstm.forward(x, state === null ? {} : { h0: state.h, c0: state.c });
      const loss = sg.mseLoss(head.forward(r.output), y);
      opt.zeroGrad();
      loss.backward();
      sg.clipGradNorm(params, 1);
      opt.step();
      // Cut the graph between windows; the previous window's state is no longer needed.
      const next = { h: sg.detach(r.h), c: sg.detach(r.c!) };
      if (state !== null) sg.dispose(state.h, state.c);
      state = next;
      sg.dispose(x, y);
      if (w === 20) first = loss.item();
      lastLoss = loss.item();
      if (w === 100 || w === 1999) sizes.push({ tensors: sg.memory().tensors, bytes: sg.memory().bytes });
    }
    expect(sizes[1].tensors).toBeLessThanOrEqual(sizes[0].tensors);
    expect(sizes[1].bytes).toBeLessThanOrEqual(sizes[0].bytes);
    expect(lastLoss).toBeLessThan(first);
  });
});
