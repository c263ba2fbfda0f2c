// Elementwise ops: binary arithmetic with NumPy broadcasting, unary maths and activations.
// Each op is one registry definition (src/ops/registry.ts); kernels in assembly/elementwise.ts.
import { BinOp, UnOp, kernels } from '../../bindings/index.js';
import { readAt, withInt32Arrays } from '../../bindings/memory.js';
import { ELEMENTWISE_COST, splitCall } from '../../bindings/parallel/index.js';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor.js';
import { assertFiniteNumber, assertFloat, sameShape, type TensorLike } from '../core/validate.js';
import { hostBroadcast, hostMap, hostScalar } from './host.js';
import { callOp, defineComposite, defineOp, type HostTensor, type InputSpec, type OpFn, type OpSample } from './registry.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

// ---- broadcasting ------------------------------------------------------------------------

/** Shape of the NumPy-style broadcast of a and b, or an Error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function stridesFor(shape: Shape, outShape: Shape): number[] {
  const n = outShape.length;
  const strides = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = n - shape.length + i;
    strides[axis] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** out = a op b into a fresh tensor of the broadcast shape, no graph. Picks the cheapest kernel for the pattern. */
function binaryRaw(op: BinOp, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const k = kernels();
  const out = empty(shape);
  if (sameShape(a.shape, b.shape)) {
    splitCall({ name: 'binary', args: [op, a.ptr, b.ptr, out.ptr, out.size], units: out.size, countArg: 4, moves: [[1, 1], [2, 1], [3, 1]], cost: ELEMENTWISE_COST });
    return out;
  }
  if (out.size === 0) return out;
  if (b.size === 1 && a.size === out.size) {
    k.binaryScalar(op, a.ptr, readAt('float32', b.ptr, 0), out.ptr, out.size, 0);
    return out;
  }
  if (a.size === 1 && b.size === out.size) {
    k.binaryScalar(op, b.ptr, readAt('float32', a.ptr, 0), out.ptr, out.size, 1);
    return out;
  }
  const rowCols = trailingMatch(b.shape, shape);
  if (a.size === out.size && rowCols > 0) {
    k.binaryRow(op, a.ptr, b.ptr, out.ptr, out.size / rowCols, rowCols, 0);
    return out;
  }
  const rowColsA = trailingMatch(a.shape, shape);
  if (b.size === out.size && rowColsA > 0) {
    k.binaryRow(op, b.ptr, a.ptr, out.ptr, out.size / rowColsA, rowColsA, 1);
    return out;
  }
  const colRows = leadingMatch(b.shape, shape);
  if (a.size === out.size && colRows > 0) {
    k.binaryCol(op, a.ptr, b.ptr, out.ptr, colRows, out.size / colRows, 0);
    return out;
  }
  const colRowsA = leadingMatch(a.shape, shape);
  if (b.size === out.size && colRowsA > 0) {
    k.binaryCol(op, b.ptr, a.ptr, out.ptr, colRowsA, out.size / colRowsA, 1);
    return out;
  }
  withInt32Arrays([shape, stridesFor(a.shape, shape), stridesFor(b.shape, shape)], ([sp, sa, sb]) => {
    k.binaryStrided(op, a.ptr, b.ptr, out.ptr, shape.length, sp, sa, sb);
  });
  return out;
}

// If `small` equals the trailing dims of `full` (ignoring leading 1s), returns its size, else 0.
function trailingMatch(small: Shape, fullShape: Shape): number {
  const s = stripLeadingOnes(small);
  if (s.length === 0 || s.length > fullShape.length) return 0;
  for (let i = 0; i < s.length; i++) if (s[s.length - 1 - i] !== fullShape[fullShape.length - 1 - i]) return 0;
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

// If `small` (aligned right) is the leading dims of `full` followed by 1s, returns its size, else 0.
function leadingMatch(small: Shape, fullShape: Shape): number {
  const pad = fullShape.length - small.length;
  if (pad < 0) return 0;
  const aligned = new Array<number>(pad).fill(1).concat(small);
  let k = aligned.length;
  while (k > 0 && aligned[k - 1] === 1) k--;
  if (k === 0) return 0;
  for (let i = 0; i < k; i++) if (aligned[i] !== fullShape[i]) return 0;
  let n = 1;
  for (let i = 0; i < k; i++) n *= aligned[i];
  return n;
}

function stripLeadingOnes(s: Shape): number[] {
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  return s.slice(i);
}

/** Sums g down to `shape` (the adjoint of broadcasting). Returns g itself when shapes match. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const n = g.shape.length;
  const aligned = new Array<number>(n - shape.length).fill(1).concat(shape);
  let cur = g;
  // Reduce each broadcast axis; adjacent axes are merged by the [outer, n, inner] kernel view.
  for (let axis = 0; axis < n; axis++) {
    if (aligned[axis] === 1 && cur.shape[axis] !== 1) {
      const next = sum(cur, axis, true);
      if (cur !== g) cur.dispose();
      cur = next;
    }
  }
  const out = cur.shareStorage(shape);
  if (cur !== g) cur.dispose();
  return out;
}

/** x * s into a fresh tensor (no graph): the scaling steps of backward passes. */
function scaled(x: Tensor, s: number): Tensor {
  const out = empty(x.shape);
  kernels().binaryScalar(BinOp.Mul, x.ptr, s, out.ptr, x.size, 0);
  return out;
}

// ---- binary ops ----------------------------------------------------------------------------

type BinaryGrad = (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null];

const U34: InputSpec = { shape: [3, 4] };

/** A binary op's test material: its plain-JS value per element pair, and its samples. */
interface BinaryTests {
  js: (x: number, y: number) => number;
  samples: OpSample[];
}

/**
 * A broadcasting binary op: either argument may be a number (it becomes a scalar input of the
 * node, freed with the graph). `grad` gives the gradients before they are summed back to each
 * input's shape. `tests` is undefined without test material (see OpCommon.tests).
 */
function defineBinary(name: string, op: BinOp, summary: string, grad: BinaryGrad,
  tests: BinaryTests | undefined): OpFn<[TensorLike, TensorLike], true> {
  return defineOp({
    name, family: 'elementwise', summary, inputs: ['a', 'b'], method: true,
    parse: (a: TensorLike, b: TensorLike) => {
      if (typeof a === 'number' && typeof b === 'number') throw new Error(`${name}: at least one argument must be a Tensor`);
      const temps: Tensor[] = [];
      const asTensor = (v: TensorLike): Tensor => {
        if (typeof v !== 'number') return v;
        const t = full([], v);
        temps.push(t);
        return t;
      };
      const ta = asTensor(a);
      const tb = asTensor(b);
      try {
        assertFloat(name, ta, tb);
      } catch (e) {
        for (const t of temps) t.dispose();
        throw e;
      }
      return { inputs: [ta, tb], attrs: {}, temps };
    },
    shape: ([a, b]) => broadcastShapes(name, a!, b!),
    forward: ([a, b], _attrs, shape) => binaryRaw(op, a!, b!, shape),
    backward: (g, { inputs: [a, b], out }) => {
      const [ga, gb] = grad(g, a!, b!, out);
      return [ga === null ? null : sumToShape(ga, a!.shape), gb === null ? null : sumToShape(gb, b!.shape)];
    },
    tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false && tests ? {
      reference: { js: (a: HostTensor | number, b: HostTensor | number) => hostBroadcast(hostScalar(a), hostScalar(b), tests.js) },
      samples: tests.samples,
    } : undefined,
  });
}

/** a + b (broadcasting). */
export const add = defineBinary('add', BinOp.Add, 'a + b with broadcasting', (g) => [g, g], globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
  js: (x, y) => x + y,
  samples: [
    { label: 'same shape', inputs: [U34, U34] },
    { label: 'row broadcast', inputs: [U34, { shape: [4] }] },
    { label: 'column broadcast', inputs: [U34, { shape: [3, 1] }] },
    { label: 'middle-dim broadcast', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 4] }] },
    { label: 'both broadcast', inputs: [{ shape: [3, 1] }, { shape: [1, 4] }] },
    { label: 'scalar', inputs: [{ shape: [5] }], args: [2.5] },
  ],
} : undefined);

/** a - b (broadcasting). */
export const sub = defineBinary('sub', BinOp.Sub, 'a - b with broadcasting',
  (g, _a, b) => [g, b.requiresGrad ? scaled(g, -1) : null], globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    js: (x, y) => x - y,
    samples: [
      { label: 'row broadcast', inputs: [U34, { shape: [4] }] },
      { label: 'scalar first', inputs: [{ shape: [5] }], call: (a) => callOp('sub', 1, a) },
    ],
  } : undefined);

/** a * b elementwise (broadcasting). */
export const mul = defineBinary('mul', BinOp.Mul, 'a * b elementwise with broadcasting',
  (g, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null], globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    js: (x, y) => x * y,
    samples: [
      { label: 'same shape', inputs: [U34, U34] },
      { label: 'column broadcast', inputs: [U34, { shape: [3, 1] }] },
    ],
  } : undefined);

/** a / b elementwise (broadcasting). */
export const div = defineBinary('div', BinOp.Div, 'a / b elementwise with broadcasting',
  (g, a, b, out) => {
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -out / b
      const t = div(out, b);
      gb = mul(g, t);
      kernels().binaryScalar(BinOp.Mul, gb.ptr, -1, gb.ptr, gb.size, 0);
      t.dispose();
    }
    return [a.requiresGrad ? div(g, b) : null, gb];
  }, globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    js: (x, y) => x / y,
    samples: [
      { label: 'same shape', inputs: [U34, { shape: [3, 4], lo: 0.5, hi: 2 }] },
      { label: 'row broadcast', inputs: [U34, { shape: [4], lo: 0.5, hi: 2 }] },
    ],
  } : undefined);

// ---- unary ops and activations -------------------------------------------------------------

// Elementwise passes split across threads by element ranges when large (ELEMENTWISE_COST per element).
const MOVES2: [number, number][] = [[1, 1], [2, 1]];
const MOVES3: [number, number][] = [[0, 1], [1, 1], [2, 1]];

function unaryRaw(op: UnOp, x: Tensor): Tensor {
  const out = empty(x.shape);
  splitCall({ name: 'unary', args: [op, x.ptr, out.ptr, x.size], units: x.size, countArg: 3, moves: MOVES2, cost: ELEMENTWISE_COST });
  return out;
}

/** Kernels of the form dx = f(a, g, extra...) (a is x or y, whichever the derivative needs). */
type GradKernel = 'reluBackward' | 'leakyReluBackward' | 'sigmoidBackward' | 'tanhBackward' | 'softplusBackward' | 'eluBackward' | 'clampBackward';

/** dx = f(a, g) into a fresh tensor, on the kernel `name`. */
function gradKernel(name: GradKernel, a: Tensor, g: Tensor, ...extra: number[]): Tensor {
  const dx = empty(g.shape);
  splitCall({ name, args: [a.ptr, g.ptr, dx.ptr, g.size, ...extra] as never, units: g.size, countArg: 3, moves: MOVES3, cost: ELEMENTWISE_COST });
  return dx;
}

/** ReLU's input gradient into a fresh tensor: g where the ReLU's input (or output) a is > 0, else g·0. For ops with a fused ReLU. */
export function reluGrad(a: Tensor, g: Tensor): Tensor {
  return gradKernel('reluBackward', a, g);
}

function checkFloatInput(name: string, x: Tensor): { inputs: Tensor[]; attrs: Record<string, never> } {
  assertFloat(name, x);
  return { inputs: [x], attrs: {} };
}

/** A unary op's test material: its plain-JS value per element, and how its sample input is drawn. */
interface UnaryTests {
  js: (v: number) => number;
  input?: Omit<InputSpec, 'shape'>;
}

/**
 * A unary op on the `unary` kernel; `grad(g, x, y)` is its backward. `tests` is undefined
 * without test material (see OpCommon.tests).
 */
function defineUnary(name: string, op: UnOp, summary: string, grad: (g: Tensor, x: Tensor, y: Tensor) => Tensor,
  tests: UnaryTests | undefined): OpFn<[Tensor], true> {
  return defineOp({
    name, family: 'elementwise', summary, inputs: ['x'], method: true,
    parse: (x: Tensor) => checkFloatInput(name, x),
    shape: ([x]) => x!.slice(),
    forward: ([x]) => unaryRaw(op, x!),
    backward: (g, { inputs: [x], out }) => [grad(g, x!, out)],
    tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false && tests ? {
      reference: { js: (x: HostTensor) => hostMap(x, tests.js) },
      samples: [{ label: '', inputs: [{ shape: [3, 5], ...tests.input }] }],
    } : undefined,
  });
}

export const neg = defineUnary('neg', UnOp.Neg, '-x', (g) => unaryRaw(UnOp.Neg, g), globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: (v) => -v } : undefined);

export const exp = defineUnary('exp', UnOp.Exp, 'e^x', (g, _x, y) => mul(g, y), globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: Math.exp } : undefined);

export const log = defineUnary('log', UnOp.Log, 'natural logarithm', (g, x) => div(g, x),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: Math.log, input: { lo: 0.5, hi: 2 } } : undefined);

export const sqrt = defineUnary('sqrt', UnOp.Sqrt, 'square root', (g, _x, y) => {
  const t = div(g, y);
  kernels().binaryScalar(BinOp.Mul, t.ptr, 0.5, t.ptr, t.size, 0);
  return t;
}, globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: Math.sqrt, input: { lo: 0.5, hi: 2 } } : undefined);

export const square = defineUnary('square', UnOp.Square, 'x²', (g, x) => {
  const t = mul(g, x);
  kernels().binaryScalar(BinOp.Mul, t.ptr, 2, t.ptr, t.size, 0);
  return t;
}, globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: (v) => v * v } : undefined);

// d|x|/dx = sign(x), taking 1 at 0 (a subgradient), via the leaky-ReLU backward with slope -1.
export const abs = defineUnary('abs', UnOp.Abs, '|x|',
  (g, x) => gradKernel('leakyReluBackward', x, g, -1),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: Math.abs, input: { kind: 'away' } } : undefined);

/** ReLU(x) = max(x, 0). */
export const relu = defineUnary('relu', UnOp.Relu, 'max(x, 0)',
  (g, x) => gradKernel('reluBackward', x, g),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: (v) => Math.max(v, 0), input: { kind: 'away' } } : undefined);

/** σ(x) = 1 / (1 + e^-x); σ' = σ(1 - σ) (notes §1.3.5.1). */
export const sigmoid = defineUnary('sigmoid', UnOp.Sigmoid, '1 / (1 + e^-x)',
  (g, _x, y) => gradKernel('sigmoidBackward', y, g),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: (v) => 1 / (1 + Math.exp(-v)), input: { lo: -3, hi: 3 } } : undefined);

export const tanh = defineUnary('tanh', UnOp.Tanh, 'hyperbolic tangent',
  (g, _x, y) => gradKernel('tanhBackward', y, g),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: Math.tanh, input: { lo: -2, hi: 2 } } : undefined);

/** softplus(x) = ln(1 + e^x), computed stably; its derivative is σ(x). */
export const softplus = defineUnary('softplus', UnOp.Softplus, 'ln(1 + e^x)',
  (g, x) => gradKernel('softplusBackward', x, g),
  globalThis.__SIMDGRAD_OP_TESTS__ !== false ? { js: (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))), input: { lo: -3, hi: 3 } } : undefined);

/** x for x >= 0, slope * x otherwise. */
export const leakyRelu: OpFn<[x: Tensor, slope?: number], true> = defineOp({
  name: 'leakyRelu', family: 'elementwise', summary: 'x >= 0 ? x : slope·x', inputs: ['x'], method: true,
  parse: (x: Tensor, slope = 0.01) => {
    assertFloat('leakyRelu', x);
    assertFiniteNumber('leakyRelu', 'slope', slope);
    return { inputs: [x], attrs: { slope } };
  },
  shape: ([x]) => x!.slice(),
  forward: ([x], { slope }) => {
    const y = empty(x!.shape);
    kernels().leakyRelu(x!.ptr, y.ptr, x!.size, slope);
    return y;
  },
  backward: (g, { inputs: [x], attrs: { slope } }) => [gradKernel('leakyReluBackward', x!, g, slope)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, slope = 0.01) => hostMap(x, (v) => (v >= 0 ? v : slope * v)) },
    samples: [{ label: 'slope 0.1', inputs: [{ shape: [3, 5], kind: 'away' }], args: [0.1] }],
    badInputs: [{ label: 'slope NaN', call: () => callOp('leakyRelu', full([2], 1), NaN), error: 'leakyRelu: slope must be a finite number, got NaN' }],
  } : undefined,
});

/** ELU(x) = x for x > 0, alpha·(e^x − 1) otherwise (Clevert et al.; PyTorch's nn.ELU). */
export const elu: OpFn<[x: Tensor, alpha?: number], true> = defineOp({
  name: 'elu', family: 'elementwise', summary: 'x > 0 ? x : alpha·(e^x − 1)', inputs: ['x'], method: true,
  parse: (x: Tensor, alpha = 1) => {
    assertFloat('elu', x);
    assertFiniteNumber('elu', 'alpha', alpha);
    return { inputs: [x], attrs: { alpha } };
  },
  shape: ([x]) => x!.slice(),
  forward: ([x], { alpha }) => {
    const y = empty(x!.shape);
    kernels().elu(x!.ptr, y.ptr, x!.size, alpha);
    return y;
  },
  backward: (g, { inputs: [x], attrs: { alpha } }) => [gradKernel('eluBackward', x!, g, alpha)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, alpha = 1) => hostMap(x, (v) => (v > 0 ? v : alpha * Math.expm1(v))) },
    samples: [{ label: 'alpha 0.7', inputs: [{ shape: [4, 5], kind: 'away', lo: 0.05, hi: 3 }], args: [0.7] }],
    badInputs: [{ label: 'alpha Infinity', call: () => callOp('elu', full([2], 1), Infinity), error: 'elu: alpha must be a finite number, got Infinity' }],
  } : undefined,
});

/** Clamps to [lo, hi]; the gradient passes where lo < x < hi and is 0 where clamped. */
export const clamp: OpFn<[x: Tensor, lo: number, hi: number], true> = defineOp({
  name: 'clamp', family: 'elementwise', summary: 'min(max(x, lo), hi)', inputs: ['x'], method: true,
  parse: (x: Tensor, lo: number, hi: number) => {
    assertFloat('clamp', x);
    if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi) || !(lo <= hi)) {
      throw new Error(`clamp: lo (${String(lo)}) must be a number <= hi (${String(hi)})`);
    }
    return { inputs: [x], attrs: { lo, hi } };
  },
  shape: ([x]) => x!.slice(),
  forward: ([x], { lo, hi }) => {
    const y = empty(x!.shape);
    const k = kernels();
    k.binaryScalar(BinOp.Max, x!.ptr, lo, y.ptr, x!.size, 0);
    k.binaryScalar(BinOp.Min, y.ptr, hi, y.ptr, x!.size, 0);
    return y;
  },
  backward: (g, { inputs: [x], attrs: { lo, hi } }) => [gradKernel('clampBackward', x!, g, lo, hi)],
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, lo: number, hi: number) => hostMap(x, (v) => Math.min(Math.max(v, lo), hi)) },
    samples: [{ label: '[-0.5, 0.5]', inputs: [{ shape: [4, 5], kind: 'away', lo: 0.05, hi: 1 }], args: [-0.5, 0.5], noGradcheck: 'kinks at ±0.5 may fall within the finite-difference step' },
      { label: 'values off the kinks', inputs: [{ shape: [5], kind: 'values', values: [-0.9, -0.3, 0.1, 0.4, 0.8] }], args: [-0.5, 0.5] }],
    badInputs: [{ label: 'lo > hi', call: () => callOp('clamp', full([2], 1), 1, 0), error: 'clamp: lo (1) must be a number <= hi (0)' }],
  } : undefined,
});

/**
 * PReLU with a learnable slope a (one value, or one per channel on axis 1):
 * x for x >= 0, a * x otherwise. Composed as relu(x) - a * relu(-x), so its gradient
 * (for x and a) comes from the primitives.
 */
export const prelu: OpFn<[x: Tensor, slope: Tensor], false> = defineComposite({
  name: 'prelu', family: 'elementwise', summary: 'x >= 0 ? x : a·x with a learnable slope a', inputs: ['x', 'slope'],
  fn: (x: Tensor, slope: Tensor): Tensor => {
    assertFloat('prelu', x, slope);
    let a = slope;
    if (slope.size !== 1) {
      if (x.ndim < 2 || slope.ndim !== 1 || slope.shape[0] !== x.shape[1]) {
        throw new Error(`prelu: slope ${fmt(slope.shape)} must have 1 element or one per channel (axis 1 of input ${fmt(x.shape)})`);
      }
      a = reshape(slope, [slope.shape[0], ...new Array<number>(x.ndim - 2).fill(1)]);
    }
    return sub(relu(x), mul(a, relu(neg(x))));
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    noReference: 'composed of relu, neg, mul and sub, each checked against its own reference',
    samples: [
      { label: 'shared slope', inputs: [{ shape: [3, 4], kind: 'away' }, { shape: [1], lo: 0.1, hi: 0.3 }] },
      { label: 'per channel', inputs: [{ shape: [2, 3, 4], kind: 'away' }, { shape: [3], lo: 0.1, hi: 0.3 }] },
    ],
    badInputs: [{ label: 'slope per channel of the wrong size', call: () => callOp('prelu', full([2, 3], 1), full([2], 0.1)), error: 'prelu: slope [2] must have 1 element or one per channel (axis 1 of input [2,3])' }],
  } : undefined,
});
