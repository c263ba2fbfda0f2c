// THE table of differentiable ops: every op that records a graph node (and every composed
// op and layer) is listed here with inputs, and test/gradcheck.test.ts checks each one by
// finite differences. test/gradcheck.test.ts also fails if src/ops records an op that is
// missing from this table, so a new op is checked by being listed.
import * as sg from '../src/index';
import { Generator } from '../src/core/random';
import type { Tensor } from '../src/index';

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

export interface OpCase {
  /** The op name recorded in the graph (several cases may share one). */
  op: string;
  label: string;
  make: () => { fn: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
}

export const opTable: OpCase[] = [
  { op: 'add', label: 'same shape', make: () => ({ fn: sg.add, inputs: [uni([3, 4]), uni([3, 4])] }) },
  { op: 'add', label: 'row broadcast', make: () => ({ fn: sg.add, inputs: [uni([3, 4]), uni([4])] }) },
  { op: 'add', label: 'column broadcast', make: () => ({ fn: sg.add, inputs: [uni([3, 4]), uni([3, 1])] }) },
  { op: 'add', label: 'middle-dim broadcast', make: () => ({ fn: sg.add, inputs: [uni([2, 3, 4]), uni([2, 1, 4])] }) },
  { op: 'add', label: 'both broadcast', make: () => ({ fn: sg.add, inputs: [uni([3, 1]), uni([1, 4])] }) },
  { op: 'add', label: 'scalar', make: () => ({ fn: (a) => sg.add(a, 2.5), inputs: [uni([5])] }) },
  { op: 'sub', label: 'row broadcast', make: () => ({ fn: sg.sub, inputs: [uni([3, 4]), uni([4])] }) },
  { op: 'sub', label: 'scalar first', make: () => ({ fn: (a) => sg.sub(1, a), inputs: [uni([5])] }) },
  { op: 'mul', label: 'same shape', make: () => ({ fn: sg.mul, inputs: [uni([3, 4]), uni([3, 4])] }) },
  { op: 'mul', label: 'column broadcast', make: () => ({ fn: sg.mul, inputs: [uni([3, 4]), uni([3, 1])] }) },
  { op: 'div', label: 'same shape', make: () => ({ fn: sg.div, inputs: [uni([3, 4]), uni([3, 4], 0.5, 2)] }) },
  { op: 'div', label: 'row broadcast', make: () => ({ fn: sg.div, inputs: [uni([3, 4]), uni([4], 0.5, 2)] }) },
  { op: 'neg', label: '', make: () => ({ fn: sg.neg, inputs: [uni([7])] }) },
  { op: 'exp', label: '', make: () => ({ fn: sg.exp, inputs: [uni([7])] }) },
  { op: 'log', label: '', make: () => ({ fn: sg.log, inputs: [uni([7], 0.5, 2)] }) },
  { op: 'sqrt', label: '', make: () => ({ fn: sg.sqrt, inputs: [uni([7], 0.5, 2)] }) },
  { op: 'square', label: '', make: () => ({ fn: sg.square, inputs: [uni([7])] }) },
  { op: 'abs', label: '', make: () => ({ fn: sg.abs, inputs: [away([7])] }) },
  { op: 'relu', label: '', make: () => ({ fn: sg.relu, inputs: [away([3, 5])] }) },
  { op: 'sigmoid', label: '', make: () => ({ fn: sg.sigmoid, inputs: [uni([3, 5], -3, 3)] }) },
  { op: 'tanh', label: '', make: () => ({ fn: sg.tanh, inputs: [uni([3, 5], -2, 2)] }) },
  { op: 'softplus', label: '', make: () => ({ fn: sg.softplus, inputs: [uni([3, 5], -3, 3)] }) },
  { op: 'leakyRelu', label: '', make: () => ({ fn: (x) => sg.leakyRelu(x, 0.1), inputs: [away([3, 5])] }) },
  { op: 'clamp', label: '', make: () => ({ fn: (x) => sg.clamp(x, -0.5, 0.5), inputs: [sg.tensor([-0.9, -0.3, 0.1, 0.4, 0.8], { requiresGrad: true })] }) },
  { op: 'prelu (composed)', label: 'shared slope', make: () => ({ fn: sg.prelu, inputs: [away([3, 4]), uni([1], 0.1, 0.3)] }) },
  { op: 'prelu (composed)', label: 'per channel', make: () => ({ fn: sg.prelu, inputs: [away([2, 3, 4]), uni([3], 0.1, 0.3)] }) },
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
      const m = new sg.nn.Sequential(new sg.nn.Linear(4, 6, { init: 'he' }), new sg.nn.ReLU(), new sg.nn.Linear(6, 2), new sg.nn.Tanh());
      return { fn: (x) => m.forward(x), inputs: [uni([3, 4]), ...m.parameters()] };
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
];
