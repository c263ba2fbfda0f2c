// Elementwise ops with broadcasting (NumPy rules) and activations: forward, backward and
// shape rules together.
import { BinOp, UnOp, f32, i32, kernels, runtime } from '../../bindings/index';
import { record } from '../core/autograd';
import { Tensor, empty, fmt, full, type Shape } from '../core/tensor';
import { assertFiniteNumber, assertFloat, sameShape, type TensorLike } from './util';
import { sum } from './reduce';

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

/** Runs a strided kernel call with small i32 arrays placed in wasm memory for it. */
export function withI32Arrays<T>(arrays: readonly (readonly number[])[], fn: (ptrs: number[]) => T): T {
  const alloc = runtime().allocator;
  const ptrs = arrays.map((a) => {
    const p = alloc.alloc(a.length * 4);
    i32().set(a, p >>> 2);
    return p;
  });
  try {
    return fn(ptrs);
  } finally {
    for (const p of ptrs) alloc.release(p);
  }
}

/** out = a op b with broadcasting, no graph. Picks the cheapest kernel for the pattern. */
function binaryRaw(opName: string, op: BinOp, a: Tensor, b: Tensor): Tensor {
  const k = kernels();
  if (sameShape(a.shape, b.shape)) {
    const out = empty(a.shape);
    k.binary(op, a.ptr, b.ptr, out.ptr, out.size);
    return out;
  }
  const shape = broadcastShapes(opName, a.shape, b.shape);
  const out = empty(shape);
  if (out.size === 0) return out;
  if (b.size === 1 && a.size === out.size) {
    k.binaryScalar(op, a.ptr, f32()[b.ptr >>> 2], out.ptr, out.size, 0);
    return out;
  }
  if (a.size === 1 && b.size === out.size) {
    k.binaryScalar(op, b.ptr, f32()[a.ptr >>> 2], out.ptr, out.size, 1);
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
  withI32Arrays([shape, stridesFor(a.shape, shape), stridesFor(b.shape, shape)], ([sp, sa, sb]) => {
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

function toTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? full([], x) : x;
}

function binaryOp(name: string, op: BinOp, a: TensorLike, b: TensorLike, backward: (g: Tensor, ta: Tensor, tb: Tensor, out: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${name}: at least one argument must be a Tensor`);
  if (typeof a === 'number') assertFiniteOrNaN(name, a);
  if (typeof b === 'number') assertFiniteOrNaN(name, b);
  const scalarA = typeof a === 'number';
  const scalarB = typeof b === 'number';
  const ta = toTensor(a);
  const tb = toTensor(b);
  assertFloat(name, ta, tb);
  const out = binaryRaw(name, op, ta, tb);
  const saved = [scalarA ? ta : null, scalarB ? tb : null].filter((t): t is Tensor => t !== null);
  return record(name, out, [ta, tb], (g) => {
    const [ga, gb] = backward(g, ta, tb, out);
    return [ga === null ? null : sumToShape(ga, ta.shape), gb === null ? null : sumToShape(gb, tb.shape)];
  }, saved);
}

function assertFiniteOrNaN(op: string, v: number): void {
  if (typeof v !== 'number') throw new Error(`${op}: expected a Tensor or a number, got ${typeof v}`);
}

/** a + b (broadcasting). */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('add', BinOp.Add, a, b, (g) => [g, g]);
}

/** a - b (broadcasting). */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('sub', BinOp.Sub, a, b, (g, _a, tb) => [g, tb.requiresGrad ? neg(g) : null]);
}

/** a * b elementwise (broadcasting). */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('mul', BinOp.Mul, a, b, (g, ta, tb) => [ta.requiresGrad ? mul(g, tb) : null, tb.requiresGrad ? mul(g, ta) : null]);
}

/** a / b elementwise (broadcasting). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('div', BinOp.Div, a, b, (g, ta, tb, out) => {
    const ga = ta.requiresGrad ? div(g, tb) : null;
    let gb: Tensor | null = null;
    if (tb.requiresGrad) {
      // d(a/b)/db = -out / b
      const t = div(out, tb);
      gb = mul(g, t);
      kernels().binaryScalar(BinOp.Mul, gb.ptr, -1, gb.ptr, gb.size, 0);
      t.dispose();
    }
    return [ga, gb];
  });
}

// ---- unary ops and activations -------------------------------------------------------------

function unaryRaw(op: UnOp, x: Tensor): Tensor {
  const out = empty(x.shape);
  kernels().unary(op, x.ptr, out.ptr, x.size);
  return out;
}

function unaryOp(name: string, op: UnOp, x: Tensor, backward: (g: Tensor, x: Tensor, y: Tensor) => Tensor): Tensor {
  assertFloat(name, x);
  const y = unaryRaw(op, x);
  return record(name, y, [x], (g) => [backward(g, x, y)]);
}

/** Elementwise kernel of the form dx = f(a, g) into a fresh tensor. */
function gradKernel(fn: (a: number, g: number, dx: number, n: number) => void, a: Tensor, g: Tensor): Tensor {
  const dx = empty(g.shape);
  fn(a.ptr, g.ptr, dx.ptr, g.size);
  return dx;
}

export function neg(x: Tensor): Tensor {
  return unaryOp('neg', UnOp.Neg, x, (g) => unaryRaw(UnOp.Neg, g));
}

export function exp(x: Tensor): Tensor {
  return unaryOp('exp', UnOp.Exp, x, (g, _x, y) => mul(g, y));
}

export function log(x: Tensor): Tensor {
  return unaryOp('log', UnOp.Log, x, (g, xx) => div(g, xx));
}

export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', UnOp.Sqrt, x, (g, _x, y) => {
    const t = div(g, y);
    kernels().binaryScalar(BinOp.Mul, t.ptr, 0.5, t.ptr, t.size, 0);
    return t;
  });
}

export function square(x: Tensor): Tensor {
  return unaryOp('square', UnOp.Square, x, (g, xx) => {
    const t = mul(g, xx);
    kernels().binaryScalar(BinOp.Mul, t.ptr, 2, t.ptr, t.size, 0);
    return t;
  });
}

export function abs(x: Tensor): Tensor {
  // d|x|/dx = sign(x), taking 1 at 0 (a subgradient), via the leaky-ReLU backward with slope -1.
  return unaryOp('abs', UnOp.Abs, x, (g, xx) => {
    const dx = empty(g.shape);
    kernels().leakyReluBackward(xx.ptr, g.ptr, dx.ptr, g.size, -1);
    return dx;
  });
}

/** ReLU(x) = max(x, 0). */
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', UnOp.Relu, x, (g, xx) => gradKernel((a, gg, d, n) => kernels().reluBackward(a, gg, d, n), xx, g));
}

/** σ(x) = 1 / (1 + e^-x); σ' = σ(1 - σ) (notes §1.3.5.1). */
export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', UnOp.Sigmoid, x, (g, _x, y) => gradKernel((a, gg, d, n) => kernels().sigmoidBackward(a, gg, d, n), y, g));
}

export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', UnOp.Tanh, x, (g, _x, y) => gradKernel((a, gg, d, n) => kernels().tanhBackward(a, gg, d, n), y, g));
}

/** softplus(x) = ln(1 + e^x), computed stably; its derivative is σ(x). */
export function softplus(x: Tensor): Tensor {
  return unaryOp('softplus', UnOp.Softplus, x, (g, xx) => gradKernel((a, gg, d, n) => kernels().softplusBackward(a, gg, d, n), xx, g));
}

/** x for x >= 0, slope * x otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  assertFloat('leakyRelu', x);
  assertFiniteNumber('leakyRelu', 'slope', slope);
  const y = empty(x.shape);
  kernels().leakyRelu(x.ptr, y.ptr, x.size, slope);
  return record('leakyRelu', y, [x], (g) => {
    const dx = empty(g.shape);
    kernels().leakyReluBackward(x.ptr, g.ptr, dx.ptr, g.size, slope);
    return [dx];
  });
}

/**
 * PReLU with a learnable slope a (one value, or one per channel on axis 1):
 * x for x >= 0, a * x otherwise. Composed as relu(x) - a * relu(-x), so its gradient
 * (for x and a) comes from the primitives.
 */
export function prelu(x: Tensor, slope: Tensor): Tensor {
  assertFloat('prelu', x, slope);
  let a = slope;
  if (slope.size !== 1) {
    if (x.ndim < 2 || slope.ndim !== 1 || slope.shape[0] !== x.shape[1]) {
      throw new Error(`prelu: slope ${fmt(slope.shape)} must have 1 element or one per channel (axis 1 of input ${fmt(x.shape)})`);
    }
    a = slope.reshape([slope.shape[0], ...new Array<number>(x.ndim - 2).fill(1)]);
  }
  const pos = relu(x);
  const negPart = relu(neg(x));
  return sub(pos, mul(a, negPart));
}

/** Clamps to [lo, hi]; the gradient passes where lo < x < hi and is 0 where clamped. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  assertFloat('clamp', x);
  if (!(lo <= hi)) throw new Error(`clamp: lo (${lo}) must be <= hi (${hi})`);
  const y = empty(x.shape);
  const k = kernels();
  k.binaryScalar(BinOp.Max, x.ptr, lo, y.ptr, x.size, 0);
  k.binaryScalar(BinOp.Min, y.ptr, hi, y.ptr, x.size, 0);
  return record('clamp', y, [x], (g) => {
    // A plain loop: clamp guards loss inputs (a batch of outputs), never a hot inner layer.
    const dx = empty(g.shape);
    const m = f32();
    const xp = x.ptr >>> 2, gp = g.ptr >>> 2, dp = dx.ptr >>> 2;
    for (let i = 0; i < g.size; i++) {
      const v = m[xp + i];
      m[dp + i] = v > lo && v < hi ? m[gp + i] : 0;
    }
    return [dx];
  });
}
