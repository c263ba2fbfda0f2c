// The table of layers: every nn layer is listed here with inputs (its parameters among them),
// and test/nn/layers-gradcheck.test.ts checks each by finite differences and fails if an nn
// layer class is missing. Ops are not listed here: their cases come from their registry
// definitions (test/ops/registry.test.ts).
import * as sg from '../../src/index';
import { Generator } from '../../src/core/random';
import type { Tensor } from '../../src/index';

const gen = new Generator(7);

/** Values in ±[lo, hi] (bounded away from 0, where ReLU/abs have kinks). */
export function away(shape: number[], lo = 0.1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => (gen.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * gen.uniform()));
  return sg.tensor(v, shape, { requiresGrad: true });
}
/** Values in [lo, hi). */
export function uni(shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return sg.tensor(Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform()), shape, { requiresGrad: true });
}
/** Distinct values (a shuffled ramp), so max/argmax have no ties. */
export function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = gen.permutation(n);
  return sg.tensor(Array.from(p, (i) => (i - n / 2) * 0.1), shape, { requiresGrad: true });
}
function constant(t: Tensor): Tensor {
  t.requiresGrad = false;
  return t;
}

/** A small graph for the graph layers: a triangle 0-1-2, the 4-cycle 0-1-3-2 shares edges with it, node 4 is isolated. */
function smallGraph(): sg.graph.Graph {
  return new sg.graph.Graph({ numNodes: 5, edges: [[0, 1], [1, 2], [2, 0], [1, 3], [3, 2]] });
}

/** A recurrent layer's outputs (every step, last, h and c) side by side per sequence: [N, ·]. */
function recurrentOut(r: sg.nn.RecurrentResult): Tensor {
  const n = r.output.shape[0];
  const perSeq = (t: Tensor): Tensor => sg.reshape(sg.transpose(t, 0, 1), [n, -1]);
  const parts = [sg.reshape(r.output, [n, -1]), r.last, perSeq(r.h), ...(r.c === null ? [] : [perSeq(r.c)])];
  return sg.concat(parts, 1);
}
/** Lengths for a batch of x: alternately `a` and `b` (the cases follow any batch size). */
function lengthsFor(x: Tensor, a: number, b: number): number[] {
  return Array.from({ length: x.shape[0] }, (_, i) => (i % 2 === 0 ? a : b));
}

export interface LayerCase {
  /** 'nn.<Class> (layer)' (several cases may share one). */
  op: string;
  label: string;
  make: () => { fn: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
  /** Why the first input's rows are not a free batch dimension (the graph's nodes), for the layer fuzzer. */
  fixedRows?: string;
}

export const layerTable: LayerCase[] = [
  {
    op: 'nn.Linear (layer)', label: '',
    make: () => {
      const layer = new sg.nn.Linear(5, 3);
      return { fn: (x, w, b) => sg.linear(x, w, b), inputs: [uni([4, 5]), layer.weight, layer.bias!] };
    },
  },
  {
    op: 'nn.Sequential (layer)', label: 'Linear-ReLU-Linear-Tanh',
    make: () => {
      const first = new sg.nn.Linear(4, 6, { init: 'he' });
      const m = new sg.nn.Sequential(first, new sg.nn.ReLU(), new sg.nn.Linear(6, 2), new sg.nn.Tanh());
      // Central differences are wrong at ReLU's kink: draw inputs until every pre-activation is
      // at least 0.05 away from it (the step is 0.01).
      let x = uni([3, 4]);
      for (let tries = 0; tries < 50; tries++) {
        const pre = sg.noGrad(() => first.forward(x)).data();
        if (pre.every((v) => Math.abs(v) > 0.05)) break;
        x = uni([3, 4]);
      }
      return { fn: (input) => m.forward(input), inputs: [x, ...m.parameters()] };
    },
  },
  {
    op: 'nn.Conv2d (layer)', label: '3x3 stride 2 padding 1',
    make: () => {
      const layer = new sg.nn.Conv2d(2, 3, 3, { stride: 2, padding: 1 });
      return { fn: (x) => layer.forward(x), inputs: [uni([2, 2, 5, 4]), ...layer.parameters()] };
    },
  },
  {
    op: 'nn.ConvTranspose2d (layer)', label: '4x4 stride 2 padding 1',
    make: () => {
      const layer = new sg.nn.ConvTranspose2d(3, 2, 4, { stride: 2, padding: 1 });
      return { fn: (x) => layer.forward(x), inputs: [uni([2, 3, 2, 3]), ...layer.parameters()] };
    },
  },
  {
    op: 'nn.Sequential (layer)', label: 'Conv2d-Tanh-ConvTranspose2d',
    make: () => {
      const m = new sg.nn.Sequential(new sg.nn.Conv2d(1, 3, 3, { stride: 2, padding: 1, init: 'he' }), new sg.nn.Tanh(), new sg.nn.ConvTranspose2d(3, 1, 3, { stride: 2, padding: 1, outputPadding: 1 }));
      return { fn: (x) => m.forward(x), inputs: [uni([2, 1, 6, 6]), ...m.parameters()] };
    },
  },
  // ---- pooling, normalisation, dropout ----
  { op: 'nn.MaxPool2d (layer)', label: '2x2', make: () => { const l = new sg.nn.MaxPool2d(2); return { fn: (x) => l.forward(x), inputs: [distinct([2, 3, 4, 4])] }; } },
  { op: 'nn.AvgPool2d (layer)', label: '3x3 stride 2 padding 1', make: () => { const l = new sg.nn.AvgPool2d(3, { stride: 2, padding: 1 }); return { fn: (x) => l.forward(x), inputs: [uni([2, 2, 5, 5])] }; } },
  { op: 'nn.GlobalAvgPool2d (layer)', label: '', make: () => { const l = new sg.nn.GlobalAvgPool2d(); return { fn: (x) => l.forward(x), inputs: [uni([2, 3, 2, 3])] }; } },
  { op: 'nn.Flatten (layer)', label: '', make: () => { const l = new sg.nn.Flatten(); return { fn: (x) => l.forward(x), inputs: [uni([2, 3, 2, 2])] }; } },
  { op: 'nn.Dropout (layer)', label: 'p 0.3, reseeded each call', make: () => { const l = new sg.nn.Dropout(0.3); return { fn: (x) => { sg.manualSeed(7); return l.forward(x); }, inputs: [uni([4, 6])] }; } },
  { op: 'nn.BatchNorm1d (layer)', label: 'training', make: () => { const l = new sg.nn.BatchNorm1d(4); return { fn: (x) => l.forward(x), inputs: [uni([5, 4]), ...l.parameters()] }; } },
  { op: 'nn.BatchNorm2d (layer)', label: 'training', make: () => { const l = new sg.nn.BatchNorm2d(3); return { fn: (x) => l.forward(x), inputs: [uni([2, 3, 3, 2]), ...l.parameters()] }; } },
  { op: 'nn.BatchNorm2d (layer)', label: 'eval', make: () => { const l = new sg.nn.BatchNorm2d(3).eval(); return { fn: (x) => l.forward(x), inputs: [uni([2, 3, 2, 2]), ...l.parameters()] }; } },
  { op: 'nn.LayerNorm (layer)', label: '[2,3]', make: () => { const l = new sg.nn.LayerNorm([2, 3]); return { fn: (x) => l.forward(x), inputs: [uni([4, 2, 3]), ...l.parameters()] }; } },
  {
    op: 'nn.Sequential (layer)', label: 'Conv2d-BatchNorm2d-Tanh-AvgPool2d-Flatten-Dropout-Linear',
    make: () => {
      const m = new sg.nn.Sequential(
        new sg.nn.Conv2d(1, 2, 3, { padding: 1 }), new sg.nn.BatchNorm2d(2), new sg.nn.Tanh(), new sg.nn.AvgPool2d(2),
        new sg.nn.Flatten(), new sg.nn.Dropout(0.25), new sg.nn.Linear(8, 3),
      );
      return { fn: (x) => { sg.manualSeed(11); return m.forward(x); }, inputs: [uni([3, 1, 4, 4]), ...m.parameters()] };
    },
  },
  // Appended after the older cases, so that those draw the same inputs from the generator as before.
  { op: 'nn.ReLU (layer)', label: '', make: () => { const l = new sg.nn.ReLU(); return { fn: (x) => l.forward(x), inputs: [away([3, 4])] }; } },
  { op: 'nn.Sigmoid (layer)', label: '', make: () => { const l = new sg.nn.Sigmoid(); return { fn: (x) => l.forward(x), inputs: [uni([3, 4], -3, 3)] }; } },
  { op: 'nn.Tanh (layer)', label: '', make: () => { const l = new sg.nn.Tanh(); return { fn: (x) => l.forward(x), inputs: [uni([3, 4], -2, 2)] }; } },
  { op: 'nn.Softplus (layer)', label: '', make: () => { const l = new sg.nn.Softplus(); return { fn: (x) => l.forward(x), inputs: [uni([3, 4], -3, 3)] }; } },
  { op: 'nn.LeakyReLU (layer)', label: 'slope 0.2', make: () => { const l = new sg.nn.LeakyReLU(0.2); return { fn: (x) => l.forward(x), inputs: [away([3, 4])] }; } },
  { op: 'nn.ELU (layer)', label: 'alpha 0.5', make: () => { const l = new sg.nn.ELU(0.5); return { fn: (x) => l.forward(x), inputs: [away([3, 4], 0.05, 2)] }; } },
  { op: 'nn.PReLU (layer)', label: 'per channel', make: () => { const l = new sg.nn.PReLU(3); return { fn: (x) => l.forward(x), inputs: [away([2, 3, 4]), ...l.parameters()] }; } },
  {
    op: 'nn.Conv2dReLU (layer)', label: 'Conv2d fused with ReLU, one channel cut off',
    make: () => {
      const conv = new sg.nn.Conv2d(2, 3, 3, { padding: 1 });
      // Positive inputs and weights of one sign per output channel keep every pre-activation
      // at least 0.3 from ReLU's kink (the step is 0.01); channel 1 is negative everywhere,
      // so its mask must stop all of its gradient.
      const w = away([3, 2, 3, 3], 0.2, 0.5).abs().mul(sg.tensor([1, -1, 1]).reshape([3, 1, 1, 1]));
      conv.loadStateDict({ weight: w, bias: sg.zeros([3]) });
      const l = conv.fuseNext(new sg.nn.ReLU())!;
      return { fn: (x) => l.forward(x), inputs: [uni([2, 2, 4, 5], 0.2, 1), ...l.parameters()] };
    },
  },
  { op: 'nn.LinearReLU (layer)', label: 'Linear fused with ReLU', make: () => { const l = new sg.nn.Linear(5, 3).fuseNext(new sg.nn.ReLU())!; return { fn: (x) => l.forward(x), inputs: [away([4, 5]), ...l.parameters()] }; } },
  {
    op: 'nn.BatchNormReLU (layer)', label: 'BatchNorm2d fused with ReLU, training',
    make: () => {
      // Outputs at least 0.22 from ReLU's kink (the op's own sample): the step cannot cross it.
      const bn = new sg.nn.BatchNorm2d(2);
      bn.loadStateDict({ weight: sg.tensor([1, 0.8]), bias: sg.tensor([0.3, -0.5]), runningMean: sg.zeros([2]), runningStd: sg.ones([2]) });
      const l = bn.fuseNext(new sg.nn.ReLU())!;
      return { fn: (x) => l.forward(x), inputs: [sg.tensor([-2, -1, 0.5, 3, 1, 2, -1, 1.5], [2, 2, 1, 2], { requiresGrad: true }), ...l.parameters()] };
    },
  },
  // ---- sequences: every output of a recurrent layer (all steps, final h and c) in one tensor ----
  {
    op: 'nn.Embedding (layer)', label: 'repeated indices, unused padding row',
    make: () => {
      const l = new sg.nn.Embedding(5, 4, { paddingIdx: 0 });
      const idx = sg.tensor([[1, 3, 1], [2, 4, 3]], { dtype: 'int32' });
      return { fn: () => l.forward(idx), inputs: [l.weight] };
    },
  },
  {
    op: 'nn.RNN (layer)', label: '2 layers, bidirectional, lengths [3, 1], h0',
    make: () => {
      const l = new sg.nn.RNN(2, 3, { numLayers: 2, bidirectional: true });
      return { fn: (x, h0) => recurrentOut(l.forward(x, { h0, lengths: lengthsFor(x, 3, 1) })), inputs: [uni([2, 3, 2]), uni([4, 2, 3]), ...l.parameters()] };
    },
  },
  {
    op: 'nn.LSTM (layer)', label: '2 layers, padding mask (a gap in sequence 1), h0 and c0',
    make: () => {
      const l = new sg.nn.LSTM(2, 3, { numLayers: 2 });
      // Padding in the middle of sequence 1 (a mask, not lengths).
      const maskFor = (x: Tensor): Tensor => constant(sg.tensor(lengthsFor(x, 3, 2).flatMap((n) => (n === 3 ? [1, 1, 1] : [1, 0, 1])), [x.shape[0], 3]));
      return { fn: (x, h0, c0) => recurrentOut(l.forward(x, { h0, c0, mask: maskFor(x) })), inputs: [uni([2, 3, 2]), uni([2, 2, 3]), uni([2, 2, 3]), ...l.parameters()] };
    },
  },
  {
    op: 'nn.LSTM (layer)', label: 'bidirectional, lengths [2, 3]',
    make: () => {
      const l = new sg.nn.LSTM(2, 3, { bidirectional: true });
      return { fn: (x) => recurrentOut(l.forward(x, { lengths: lengthsFor(x, 2, 3) })), inputs: [uni([2, 3, 2]), ...l.parameters()] };
    },
  },
  {
    op: 'nn.GRU (layer)', label: '2 layers, bidirectional, lengths [1, 3]',
    make: () => {
      const l = new sg.nn.GRU(2, 3, { numLayers: 2, bidirectional: true });
      return { fn: (x) => recurrentOut(l.forward(x, { lengths: lengthsFor(x, 1, 3) })), inputs: [uni([2, 3, 2]), ...l.parameters()] };
    },
  },
  // ---- attention and transformers (GELU MLPs and dropout 0: no kinks, no random masks) ----
  {
    op: 'nn.MultiheadAttention (layer)', label: 'self, 2 heads, causal',
    make: () => { const l = new sg.nn.MultiheadAttention(4, 2); return { fn: (x) => l.forward(x, null, { causal: true }), inputs: [uni([2, 3, 4]), ...l.parameters()] }; },
  },
  {
    op: 'nn.MultiheadAttention (layer)', label: 'cross, kvDim 6, key padding mask',
    make: () => {
      const l = new sg.nn.MultiheadAttention(4, 2, { kvDim: 6 });
      const keyMask = constant(sg.tensor([1, 1, 1, 1, 0, 0], [2, 3]));
      return { fn: (x, m) => l.forward(x, m, { keyMask }), inputs: [uni([2, 2, 4]), uni([2, 3, 6]), ...l.parameters()] };
    },
  },
  { op: 'nn.SinusoidalPositionalEncoding (layer)', label: 'offset 2', make: () => { const l = new sg.nn.SinusoidalPositionalEncoding(4); return { fn: (x) => l.forward(x, 2), inputs: [uni([2, 3, 4])] }; } },
  { op: 'nn.LearnedPositionalEncoding (layer)', label: 'offset 1', make: () => { const l = new sg.nn.LearnedPositionalEncoding(5, 4); return { fn: (x) => l.forward(x, 1), inputs: [uni([2, 3, 4]), ...l.parameters()] }; } },
  { op: 'nn.GELU (layer)', label: '', make: () => { const l = new sg.nn.GELU(); return { fn: (x) => l.forward(x), inputs: [uni([3, 4], -3, 3)] }; } },
  {
    op: 'nn.TransformerEncoderLayer (layer)', label: 'post-LN, GELU, key padding mask', fixedRows: 'its key padding mask is made for a batch of 2',
    make: () => {
      const l = new sg.nn.TransformerEncoderLayer(4, 2, { ffDim: 6, dropout: 0, activation: 'gelu' });
      const keyMask = constant(sg.tensor([1, 1, 1, 1, 1, 0], [2, 3]));
      return { fn: (x) => l.forward(x, { keyMask }), inputs: [uni([2, 3, 4]), ...l.parameters()] };
    },
  },
  {
    op: 'nn.TransformerEncoderLayer (layer)', label: 'pre-LN, GELU, causal',
    make: () => { const l = new sg.nn.TransformerEncoderLayer(4, 2, { ffDim: 6, dropout: 0, activation: 'gelu', norm: 'pre' }); return { fn: (x) => l.forward(x, { causal: true }), inputs: [uni([2, 3, 4]), ...l.parameters()] }; },
  },
  {
    op: 'nn.TransformerDecoderLayer (layer)', label: 'post-LN, GELU, memory padding',
    make: () => {
      const l = new sg.nn.TransformerDecoderLayer(4, 2, { ffDim: 6, dropout: 0, activation: 'gelu' });
      const memoryKeyMask = constant(sg.tensor([1, 1, 1, 1, 1, 0, 0, 0], [2, 4]));
      return { fn: (x, m) => l.forward(x, m, { memoryKeyMask }), inputs: [uni([2, 3, 4]), uni([2, 4, 4]), ...l.parameters()] };
    },
  },
  {
    op: 'nn.TransformerDecoderLayer (layer)', label: 'pre-LN, GELU',
    make: () => { const l = new sg.nn.TransformerDecoderLayer(4, 1, { ffDim: 5, dropout: 0, activation: 'gelu', norm: 'pre' }); return { fn: (x, m) => l.forward(x, m), inputs: [uni([1, 3, 4]), uni([1, 2, 4]), ...l.parameters()] }; },
  },
  {
    op: 'nn.TransformerEncoder (layer)', label: '2 pre-LN layers, final norm',
    make: () => { const l = new sg.nn.TransformerEncoder(4, 2, { numLayers: 2, ffDim: 4, dropout: 0, activation: 'gelu', norm: 'pre' }); return { fn: (x) => l.forward(x), inputs: [uni([1, 3, 4]), ...l.parameters()] }; },
  },
  {
    op: 'nn.TransformerDecoder (layer)', label: '2 post-LN layers',
    make: () => { const l = new sg.nn.TransformerDecoder(4, 2, { numLayers: 2, ffDim: 4, dropout: 0, activation: 'gelu' }); return { fn: (x, m) => l.forward(x, m), inputs: [uni([1, 2, 4]), uni([1, 3, 4]), ...l.parameters()] }; },
  },
  // ---- graph layers (sg.graph): a 5-node graph with a triangle, a 4-cycle and an isolated node ----
  {
    op: 'graph.GCNConv (layer)', label: 'tanh, with bias', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const l = new sg.graph.GCNConv(3, 4, { activation: 'tanh' });
      return { fn: (x) => l.forward(g, x), inputs: [uni([5, 3]), ...l.parameters()] };
    },
  },
  {
    op: 'graph.GCNConv (layer)', label: 'skip connection with a projection, widening (aggregate first)', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const l = new sg.graph.GCNConv(2, 5, { skip: true });
      return { fn: (x) => l.forward(g, x), inputs: [uni([5, 2]), ...l.parameters()] };
    },
  },
  {
    op: 'graph.GCN (layer)', label: '3 layers, skip connections', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const m = new sg.graph.GCN([3, 4, 4, 2], { skip: true, activation: 'tanh' });
      return { fn: (x) => m.forward(g, x), inputs: [uni([5, 3]), ...m.parameters()] };
    },
  },
  {
    op: 'graph.MessagePassing (layer)', label: 'sum, tanh(W h) messages, self message B h', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      // tanh rather than the default ReLU: no kink for a finite-difference step to cross.
      const l = new sg.graph.MessagePassing(3, 4, { message: new sg.nn.Sequential(new sg.nn.Linear(3, 4), new sg.nn.Tanh()), selfMessage: true });
      return { fn: (x) => l.forward(g, x), inputs: [away([5, 3], 0.3, 1), ...l.parameters()] };
    },
  },
  {
    op: 'graph.MessagePassing (layer)', label: 'mean, linear messages, tanh', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const l = new sg.graph.MessagePassing(3, 4, { message: new sg.nn.Linear(3, 4), aggregate: 'mean', activation: 'tanh' });
      return { fn: (x) => l.forward(g, x), inputs: [uni([5, 3]), ...l.parameters()] };
    },
  },
  {
    op: 'graph.MessagePassing (layer)', label: 'max, linear messages', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const l = new sg.graph.MessagePassing(3, 4, { message: new sg.nn.Linear(3, 4), aggregate: 'max' });
      return { fn: (x) => l.forward(g, x), inputs: [distinct([5, 3]), ...l.parameters()] };
    },
  },
  {
    op: 'graph.MessagePassing (layer)', label: 'per-edge messages [h_u, h_v]·W, custom aggregation (sum + mean)', fixedRows: 'one row per node of the graph',
    make: () => {
      const g = smallGraph();
      const w = new sg.nn.Linear(6, 4);
      const l = new sg.graph.MessagePassing(3, 4, {
        edgeMessage: (hs, ht) => w.forward(sg.concat([hs, ht], 1)), modules: [w],
        aggregate: (m, target, n) => sg.add(sg.scatterRows(m, target, n, 'sum'), sg.scatterRows(m, target, n, 'mean')),
      });
      return { fn: (x) => l.forward(g, x), inputs: [uni([5, 3]), ...l.parameters()] };
    },
  },
  // ---- generative layers (sg.generative) ----
  {
    // Twice reversed with λ·(1/λ) = 1 going back: the only composition whose gradient is its forward's derivative.
    op: 'generative.GradientReversal (layer)', label: 'reversed twice, λ 0.5 then 2',
    make: () => {
      const a = new sg.generative.GradientReversal(0.5), b = new sg.generative.GradientReversal(2);
      return { fn: (x) => b.forward(a.forward(x)), inputs: [uni([3, 4])] };
    },
  },
  {
    op: 'generative.Unflatten (layer)', label: '[2, 12] → [2, 3, 2, 2]',
    make: () => { const l = new sg.generative.Unflatten([3, 2, 2]); return { fn: (x) => l.forward(x), inputs: [uni([2, 12])] }; },
  },
  {
    op: 'generative.Autoencoder (layer)', label: 'contractive and sparse loss, sigmoid code', fixedRows: 'the case returns the scalar loss',
    make: () => {
      const ae = sg.generative.denseAutoencoder(5, 3, { codeActivation: 'sigmoid', sparsity: 0.1, contractive: 0.2 });
      return { fn: (x) => ae.loss(x).loss, inputs: [uni([4, 5]), ...ae.parameters()] };
    },
  },
  {
    // The same ζ on every evaluation: the seed is set inside, so finite differences see one function.
    op: 'generative.Vae (layer)', label: 'negative ELBO, Bernoulli decoder, fixed ζ',
    make: () => {
      const vae = sg.generative.denseVae(4, 2, { hidden: [3] });
      const x = constant(uni([3, 4], 0.05, 0.95));
      return { fn: (...ps) => { void ps; sg.manualSeed(5); return vae.loss(x).loss; }, inputs: vae.parameters() };
    },
  },
  {
    op: 'generative.Gan (layer)', label: 'generator cost', fixedRows: 'the case returns the scalar generator cost',
    make: () => {
      const tanhNet = (a: number, h: number, b: number) => new sg.nn.Sequential(new sg.nn.Linear(a, h), new sg.nn.Tanh(), new sg.nn.Linear(h, b));
      const gan = new sg.generative.Gan(tanhNet(3, 4, 2), tanhNet(2, 4, 1), 3);
      return { fn: (z) => sg.generative.nonSaturatingGeneratorLoss(gan.discriminator.forward(gan.forward(z))), inputs: [uni([4, 3]), ...gan.generator.parameters()] };
    },
  },
  {
    op: 'generative.SimClr (layer)', label: 'InfoNCE of two views through encoder and head', fixedRows: 'the second view is made for a batch of 4',
    make: () => {
      // Projections of norm ~1 or more: the normalisation's curvature grows as 1/‖z‖², and at
      // the default init's ‖z‖ ≈ 0.3 the fixed step of 1e-2 misses the last bias's gradient by 4%.
      const last = new sg.nn.Linear(6, 3);
      last.weight.setData(Array.from(last.weight.data(), (v) => 4 * v));
      const m = new sg.generative.SimClr(new sg.nn.Sequential(new sg.nn.Linear(5, 4), new sg.nn.Tanh()), new sg.nn.Sequential(new sg.nn.Linear(4, 6), new sg.nn.Tanh(), last), 0.5);
      const v2 = constant(uni([4, 5]));
      return { fn: (v1) => m.loss(v1, v2), inputs: [uni([4, 5]), ...m.parameters()] };
    },
  },
];
