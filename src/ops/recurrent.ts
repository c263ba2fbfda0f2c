// Recurrent ops over a whole sequence, one layer and one direction each, with BPTT written
// next to the forward: `rnn` (Elman, notes §1.6.1), `lstm` (§1.6.2.1) and `gru` (PyTorch's
// formulation), and the single-step cells built on them.
//
// Work per call: the input projection of all N·T rows is one GEMM (biases fused); each step
// is one GEMM for the recurrent projection, accumulated in place into that step's rows of the
// projection, then one fused kernel (assembly/sequence.ts) for the gates, the cell update and
// the mask. The backward runs one fused kernel and one GEMM (dh += dG·W_hh) per step, then the
// input gradient, both weight gradients and the bias gradients as single GEMMs/reductions
// over all steps. For that, the state each step read is kept in a dense [N, T, H] buffer in
// the same (n, t) row order as the gate gradients.
//
// One output per op: the packed [N, T + k, H] tensor holding the outputs of every step
// (rows 0..T-1), then the final h (row T) and, for the LSTM, the final c (row T + 1). The
// layers slice it; the slices' gradients flow back into the packed gradient.
//
// Padding mask [N, T] (1 = real step, 0 = padding): a padded step keeps the state, outputs 0
// and, in the backward, passes the state's gradient through and gives the weights nothing.
// With padding at the end of each row (lengths), the final state is the one after the last
// real step and the reverse direction starts at it, as with PyTorch's packed sequences.
import { BinOp, kernels } from '../../bindings/index.js';
import { bytesPerElement, withInt32Arrays } from '../../bindings/memory.js';
import { empty, fmt, full, zeros, type Shape, type Tensor } from '../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions, oneOf } from '../core/validate.js';
import { gemmCall, gemmRaw } from './matmul.js';
import { callOp, defineComposite, defineOp, type HostTensor, type InputSpec, type OpFn, type OpSample } from './registry.js';
import { reshape, slice } from './shape.js';

type Kind = 'rnn' | 'lstm' | 'gru';

const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };

export interface RecurrentOptions {
  /** Run from the last step to the first (the backward direction of a bidirectional layer). */
  reverse?: boolean;
}

export interface RnnOptions extends RecurrentOptions {
  /** g of a = g(W_ax x + b_a + W_aa a_prev): 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

interface Attrs {
  reverse: boolean;
  relu: boolean;
}

type Opt = Tensor | null | undefined;

// Declared inputs per kind; the same order is the order of the public arguments.
const INPUTS: Record<Kind, readonly string[]> = {
  rnn: ['x', 'wIh', 'wHh', 'bIh?', 'bHh?', 'h0?', 'mask?'],
  lstm: ['x', 'wIh', 'wHh', 'bIh?', 'bHh?', 'h0?', 'c0?', 'mask?'],
  gru: ['x', 'wIh', 'wHh', 'bIh?', 'bHh?', 'h0?', 'mask?'],
};

interface Named {
  x: Tensor; wIh: Tensor; wHh: Tensor; bIh: Tensor | null; bHh: Tensor | null;
  h0: Tensor | null; c0: Tensor | null; mask: Tensor | null;
}

function named(kind: Kind, inputs: readonly (Tensor | null)[]): Named {
  const [x, wIh, wHh, bIh, bHh, h0] = inputs;
  const c0 = kind === 'lstm' ? inputs[6] : null;
  const mask = inputs[kind === 'lstm' ? 7 : 6];
  return { x: x!, wIh: wIh!, wHh: wHh!, bIh, bHh, h0, c0, mask };
}

function parseRecurrent(kind: Kind, tensors: Opt[], opts: RnnOptions | undefined): { inputs: (Tensor | null)[]; attrs: Attrs } {
  const names = INPUTS[kind];
  const inputs = tensors.map((t, i) => {
    const name = names[i].replace('?', '');
    if (!names[i].endsWith('?') || (t !== null && t !== undefined)) {
      assertTensor(kind, t, name);
      if (t.dtype !== 'float32') throw new Error(`${kind}: ${name} must be float32, got ${t.dtype} ${fmt(t.shape)}`);
      return t;
    }
    return null;
  });
  const o = checkOptions(kind, opts, kind === 'rnn' ? ['reverse', 'nonlinearity'] : ['reverse']);
  const reverse = o.reverse ?? false;
  assertBoolean(kind, 'reverse', reverse);
  const relu = kind === 'rnn' && oneOf(kind, 'nonlinearity', o.nonlinearity ?? 'tanh', ['tanh', 'relu']) === 'relu';
  return { inputs, attrs: { reverse, relu } };
}

function recurrentShape(kind: Kind, shapes: readonly (Shape | null)[]): number[] {
  const G = GATES[kind];
  const n = named(kind, shapes.map((s) => s as unknown as Tensor | null));
  const [x, wIh, wHh] = [n.x as unknown as Shape, n.wIh as unknown as Shape, n.wHh as unknown as Shape];
  const opt = (t: Tensor | null): Shape | null => t as unknown as Shape | null;
  if (x.length !== 3) throw new Error(`${kind}: x must be [N, T, D] (batch first), got ${fmt(x)}`);
  const [N, T, D] = x;
  if (T < 1) throw new Error(`${kind}: x ${fmt(x)} has no time steps`);
  if (wHh.length !== 2 || wHh[0] !== G * wHh[1]) {
    throw new Error(`${kind}: wHh must be [${G === 1 ? '' : `${G}·`}H, H], got ${fmt(wHh)}`);
  }
  const H = wHh[1];
  if (wIh.length !== 2 || wIh[0] !== G * H || wIh[1] !== D) {
    throw new Error(`${kind}: wIh must be [${G * H}, ${D}] for x ${fmt(x)} and hidden size ${H}, got ${fmt(wIh)}`);
  }
  const expect = (s: Shape | null, what: string, want: number[]): void => {
    if (s !== null && (s.length !== want.length || s.some((d, i) => d !== want[i]))) {
      throw new Error(`${kind}: ${what} must be ${fmt(want)} for x ${fmt(x)} and hidden size ${H}, got ${fmt(s)}`);
    }
  };
  expect(opt(n.bIh), 'bIh', [G * H]);
  expect(opt(n.bHh), 'bHh', [G * H]);
  expect(opt(n.h0), 'h0', [N, H]);
  expect(opt(n.c0), 'c0', [N, H]);
  expect(opt(n.mask), 'mask', [N, T]);
  return [N, T + (kind === 'lstm' ? 2 : 1), H];
}

function checkMask(kind: Kind, mask: Tensor): void {
  const v = mask.data();
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0 && v[i] !== 1) throw new Error(`${kind}: mask ${fmt(mask.shape)} must hold 0 (padding) or 1 (a real step), got ${v[i]} at position ${i}`);
  }
}

/** dst rows (offset, row stride) = src [N, H], or 0 for no src. */
function putRows(src: Tensor | null, dst: Tensor, offset: number, stride: number, N: number, H: number): void {
  const s = src ?? zeros([N, H]);
  withInt32Arrays([[N, H], [H, 1], [stride, 1]], ([sp, ss, ds]) => {
    kernels().copyStrided(s.ptr, dst.ptrAt(offset), 2, sp, ss, ds, bytesPerElement('float32'));
  });
  if (s !== src) s.dispose();
}

/** A dense [N, H] copy of the rows of src at (offset, row stride). */
function takeRows(src: Tensor, offset: number, stride: number, N: number, H: number): Tensor {
  const out = empty([N, H]);
  withInt32Arrays([[N, H], [stride, 1], [H, 1]], ([sp, ss, ds]) => {
    kernels().copyStrided(src.ptrAt(offset), out.ptr, 2, sp, ss, ds, bytesPerElement('float32'));
  });
  return out;
}

function columnSum(g: Tensor, rows: number, cols: number): Tensor {
  const out = empty([cols]);
  kernels().reduceSum(g.ptr, out.ptr, 1, rows, cols, 1);
  return out;
}

function recurrentForward(kind: Kind, inputs: readonly (Tensor | null)[], { reverse, relu }: Attrs, outShape: number[]) {
  const { x, wIh, wHh, bIh, bHh, h0, c0, mask } = named(kind, inputs);
  if (mask !== null) checkMask(kind, mask);
  const k = kernels();
  const [N, T, D] = x.shape;
  const H = wHh.shape[1];
  const GH = GATES[kind] * H;
  const TH = T * H;
  const TG = T * GH;
  const OS = outShape[1] * H;
  // The input projection of every step at once; for the GRU, b_hh belongs to the recurrent
  // projection (its n part is gated by r), elsewhere both biases fold into this GEMM.
  let bias = bIh ?? (kind === 'gru' ? null : bHh);
  let sumBias: Tensor | null = null;
  if (kind !== 'gru' && bIh !== null && bHh !== null) {
    sumBias = empty([GH]);
    k.binary(BinOp.Add, bIh.ptr, bHh.ptr, sumBias.ptr, GH);
    bias = sumBias;
  }
  const g = gemmRaw(x, false, wIh, true, N * T, GH, D, empty([N, T, GH]), bias);
  sumBias?.dispose();
  const gh = kind === 'gru' ? empty([N, T, GH]) : null;
  const hPrev = empty([N, T, H]);
  const cPrev = kind === 'lstm' ? empty([N, T, H]) : null;
  const out = empty(outShape);
  const first = reverse ? T - 1 : 0;
  putRows(h0, hPrev, first * H, TH, N, H);
  if (cPrev !== null) putRows(c0, cPrev, first * H, TH, N, H);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const next = reverse ? t - 1 : t + 1;
    const last = s === T - 1;
    const hp = hPrev.ptrAt(t * H);
    const ho = last ? out.ptrAt(T * H) : hPrev.ptrAt(next * H);
    const hos = last ? OS : TH;
    const y = out.ptrAt(t * H);
    const mp = mask === null ? 0 : mask.ptrAt(t);
    const gt = g.ptrAt(t * GH);
    if (gh !== null) {
      const ght = gh.ptrAt(t * GH);
      gemmCall(false, true, N, GH, H, hp, TH, wHh.ptr, H, 0, ght, TG, bHh === null ? 0 : bHh.ptr);
      k.gruForward(gt, TG, ght, TG, hp, TH, mp, T, ho, hos, y, OS, N, H);
      continue;
    }
    // A zero initial state adds nothing: the first step's GEMM is skipped.
    if (s > 0 || h0 !== null) gemmCall(false, true, N, GH, H, hp, TH, wHh.ptr, H, 1, gt, TG);
    if (cPrev !== null) {
      const co = last ? out.ptrAt((T + 1) * H) : cPrev.ptrAt(next * H);
      k.lstmForward(gt, TG, cPrev.ptrAt(t * H), TH, hp, TH, mp, T, co, last ? OS : TH, ho, hos, y, OS, N, H);
    } else {
      k.rnnForward(gt, TG, hp, TH, mp, T, ho, hos, y, OS, N, H, relu ? 1 : 0);
    }
  }
  const saved = [g, hPrev];
  if (cPrev !== null) saved.push(cPrev);
  if (gh !== null) saved.push(gh);
  return { out, saved };
}

function recurrentBackward(kind: Kind, gOut: Tensor, inputs: readonly (Tensor | null)[], { reverse, relu }: Attrs,
  out: Tensor, saved: readonly Tensor[]): (Tensor | null)[] {
  const { x, wIh, wHh, bIh, bHh, h0, c0, mask } = named(kind, inputs);
  const k = kernels();
  const [N, T, D] = x.shape;
  const H = wHh.shape[1];
  const GH = GATES[kind] * H;
  const TH = T * H;
  const TG = T * GH;
  const OS = out.shape[1] * H;
  const [g, hPrev] = saved;
  const cPrev = kind === 'lstm' ? saved[2] : null;
  const gh = kind === 'gru' ? saved[2] : null;
  const dh = takeRows(gOut, T * H, OS, N, H);
  const dc = cPrev !== null ? takeRows(gOut, (T + 1) * H, OS, N, H) : null;
  const dG = empty([N, T, GH]);
  const dGh = gh !== null ? empty([N, T, GH]) : null;
  const dRec = dGh ?? dG;
  const needH0 = h0 !== null && h0.requiresGrad;
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const next = reverse ? t - 1 : t + 1;
    const dy = gOut.ptrAt(t * H);
    const mp = mask === null ? 0 : mask.ptrAt(t);
    const off = t * GH;
    if (kind === 'lstm') {
      const last = s === T - 1;
      const cn = last ? out.ptrAt((T + 1) * H) : cPrev!.ptrAt(next * H);
      k.lstmBackward(g.ptrAt(off), TG, cPrev!.ptrAt(t * H), TH, cn, last ? OS : TH, dy, OS, mp, T, dh.ptr, dc!.ptr, dG.ptrAt(off), TG, N, H);
    } else if (kind === 'gru') {
      k.gruBackward(g.ptrAt(off), TG, gh!.ptrAt(off), TG, hPrev.ptrAt(t * H), TH, dy, OS, mp, T, dh.ptr, dG.ptrAt(off), TG, dGh!.ptrAt(off), TG, N, H);
    } else {
      k.rnnBackward(g.ptrAt(off), TG, dy, OS, mp, T, dh.ptr, dG.ptrAt(off), TG, N, H, relu ? 1 : 0);
    }
    // The recurrent term of the previous state's gradient; not needed before the first step
    // unless h0 wants it.
    if (s > 0 || needH0) gemmCall(false, false, N, H, GH, dRec.ptrAt(off), TG, wHh.ptr, H, 1, dh.ptr, H);
  }
  const rows = N * T;
  const dx = x.requiresGrad ? gemmRaw(dG, false, wIh, false, rows, D, GH, empty(x.shape)) : null;
  const dWih = wIh.requiresGrad ? gemmRaw(dG, true, x, false, GH, D, rows, empty(wIh.shape)) : null;
  const dWhh = wHh.requiresGrad ? gemmRaw(dRec, true, hPrev, false, GH, H, rows, empty(wHh.shape)) : null;
  const dbIh = bIh !== null && bIh.requiresGrad ? columnSum(dG, rows, GH) : null;
  const dbHh = bHh !== null && bHh.requiresGrad ? columnSum(dRec, rows, GH) : null;
  dGh?.dispose();
  dG.dispose();
  const dh0 = needH0 ? dh : null;
  if (dh0 === null) dh.dispose();
  const dc0 = c0 !== null && c0.requiresGrad ? dc : null;
  if (dc !== null && dc0 === null) dc.dispose();
  const grads: (Tensor | null)[] = [dx, dWih, dWhh, dbIh, dbHh, dh0];
  if (kind === 'lstm') grads.push(dc0);
  grads.push(null);
  return grads;
}

// ---- plain-JS references (the equations, in float64) -----------------------------------------

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** The packed output of `kind` over x, computed step by step from the equations. */
function hostRecurrent(kind: Kind, ins: (HostTensor | null | undefined)[], opts: RnnOptions = {}): HostTensor {
  const padded = INPUTS[kind].map((_, i) => (ins[i] ?? null) as unknown as Tensor | null);
  const n = named(kind, padded) as unknown as Record<string, HostTensor | null>;
  const x = n.x!;
  const [N, T, D] = x.shape;
  const H = n.wHh!.shape[1];
  const W = n.wIh!.data;
  const U = n.wHh!.data;
  const bi = (r: number): number => (n.bIh === null ? 0 : n.bIh.data[r]);
  const bh = (r: number): number => (n.bHh === null ? 0 : n.bHh.data[r]);
  const rowsOut = T + (kind === 'lstm' ? 2 : 1);
  const out = new Array<number>(N * rowsOut * H).fill(0);
  const act = opts.nonlinearity === 'relu' ? (v: number): number => Math.max(v, 0) : Math.tanh;
  for (let b = 0; b < N; b++) {
    let h = Array.from({ length: H }, (_, j) => (n.h0 === null ? 0 : n.h0.data[b * H + j]));
    let c = Array.from({ length: H }, (_, j) => (n.c0 === null ? 0 : n.c0.data[b * H + j]));
    for (let s = 0; s < T; s++) {
      const t = opts.reverse === true ? T - 1 - s : s;
      if (n.mask !== null && n.mask.data[b * T + t] === 0) continue;
      const wx = (r: number): number => {
        let v = bi(r);
        for (let d = 0; d < D; d++) v += W[r * D + d] * x.data[(b * T + t) * D + d];
        return v;
      };
      const uh = (r: number): number => {
        let v = bh(r);
        for (let j = 0; j < H; j++) v += U[r * H + j] * h[j];
        return v;
      };
      const hn = new Array<number>(H);
      const cn = new Array<number>(H);
      for (let j = 0; j < H; j++) {
        if (kind === 'rnn') {
          hn[j] = act(wx(j) + uh(j));
        } else if (kind === 'lstm') {
          const i = sig(wx(j) + uh(j));
          const f = sig(wx(H + j) + uh(H + j));
          const cc = Math.tanh(wx(2 * H + j) + uh(2 * H + j));
          const o = sig(wx(3 * H + j) + uh(3 * H + j));
          cn[j] = f * c[j] + i * cc;
          hn[j] = o * Math.tanh(cn[j]);
        } else {
          const r = sig(wx(j) + uh(j));
          const z = sig(wx(H + j) + uh(H + j));
          const nn = Math.tanh(wx(2 * H + j) + r * uh(2 * H + j));
          hn[j] = (1 - z) * nn + z * h[j];
        }
      }
      h = hn;
      if (kind === 'lstm') c = cn;
      for (let j = 0; j < H; j++) out[(b * rowsOut + t) * H + j] = h[j];
    }
    for (let j = 0; j < H; j++) {
      out[(b * rowsOut + T) * H + j] = h[j];
      if (kind === 'lstm') out[(b * rowsOut + T + 1) * H + j] = c[j];
    }
  }
  return { shape: [N, rowsOut, H], data: out };
}

// ---- test material shared by the three ops ----------------------------------------------------

/** Samples of `kind` with hidden size H: weights only; every input with a mask, reversed; relu. */
function recurrentSamples(kind: Kind): OpSample[] {
  const G = GATES[kind];
  const H = 3;
  const D = 4;
  const w = (rows: number, cols: number): InputSpec => ({ shape: [rows, cols], lo: -0.7, hi: 0.7 });
  // Batch 0 has all 4 steps, batch 1 the first 2 (lengths [4, 2]), batch 2 one in the middle.
  const mask: InputSpec = { shape: [3, 4], kind: 'values', values: [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0], grad: false };
  const state: InputSpec = { shape: [3, H], lo: -0.8, hi: 0.8 };
  const all = [{ shape: [3, 4, D] }, w(G * H, D), w(G * H, H), { shape: [G * H] }, { shape: [G * H] }, state,
    ...(kind === 'lstm' ? [state] : []), mask];
  const samples: OpSample[] = [
    { label: 'weights only, 3 steps', inputs: [{ shape: [2, 3, D] }, w(G * H, D), w(G * H, H)] },
    { label: 'biases, initial state, padding mask', inputs: all },
    { label: 'reverse with mask', inputs: all, args: [{ reverse: true }] },
    { label: 'H = 5 (SIMD tail), one step', inputs: [{ shape: [2, 1, 2] }, w(G * 5, 2), w(G * 5, 5), { shape: [G * 5] }] },
  ];
  if (kind === 'rnn') {
    samples.push({
      // Positive inputs and weights keep every pre-activation away from the kink at 0.
      label: 'relu', inputs: [{ shape: [2, 3, 2], lo: 0.3, hi: 1 }, { shape: [H, 2], lo: 0.2, hi: 0.8 }, { shape: [H, H], lo: 0.1, hi: 0.5 }],
      args: [null, null, null, null, { nonlinearity: 'relu' }],
    });
  }
  return samples;
}

function recurrentBadInputs(kind: Kind) {
  const G = GATES[kind];
  // The arguments are made when a case runs, not at import: importing makes no tensors.
  const call = (args: () => unknown[]) => (): unknown => callOp(kind, ...args());
  const x = (): Tensor => full([2, 3, 4], 0);
  const wi = (): Tensor => full([G * 5, 4], 0);
  const wh = (): Tensor => full([G * 5, 5], 0);
  const rest = kind === 'lstm' ? [null, null, null, null] : [null, null, null];
  return [
    { label: 'x not 3-D', call: call(() => [full([3, 4], 0), wi(), wh()]), error: `${kind}: x must be [N, T, D] (batch first), got [3,4]` },
    { label: 'no time steps', call: call(() => [full([2, 0, 4], 0), wi(), wh()]), error: `${kind}: x [2,0,4] has no time steps` },
    { label: 'input size differs from wIh', call: call(() => [full([2, 3, 6], 0), wi(), wh()]), error: `${kind}: wIh must be [${G * 5}, 6] for x [2,3,6] and hidden size 5, got [${G * 5},4]` },
    { label: 'wHh not [G·H, H]', call: call(() => [x(), wi(), full([G * 5, 4], 0)]), error: `${kind}: wHh must be [${G === 1 ? '' : `${G}·`}H, H], got [${G * 5},4]` },
    { label: 'h0 of the wrong batch', call: call(() => [x(), wi(), wh(), null, null, full([3, 5], 0)]), error: `${kind}: h0 must be [2,5] for x [2,3,4] and hidden size 5, got [3,5]` },
    { label: 'mask of the wrong length', call: call(() => [x(), wi(), wh(), ...rest, full([2, 4], 1)]), error: `${kind}: mask must be [2,3] for x [2,3,4] and hidden size 5, got [2,4]` },
    { label: 'mask not 0/1', call: call(() => [x(), wi(), wh(), ...rest, full([2, 3], 0.5)]), error: `${kind}: mask [2,3] must hold 0 (padding) or 1 (a real step), got 0.5 at position 0` },
    { label: 'unknown option', call: call(() => [x(), wi(), wh(), ...rest, null, { revers: true }]), error: `${kind}: unknown option 'revers'` },
  ];
}

// ---- the ops --------------------------------------------------------------------------------

function spec(kind: Kind) {
  return {
    family: 'recurrent' as const, inputs: INPUTS[kind],
    shape: (shapes: readonly (Shape | null)[]) => recurrentShape(kind, shapes),
    forward: (inputs: readonly (Tensor | null)[], attrs: Attrs, outShape: number[]) => recurrentForward(kind, inputs, attrs, outShape),
    backward: (g: Tensor, ctx: { inputs: readonly (Tensor | null)[]; attrs: Attrs; out: Tensor; saved: readonly Tensor[] }) =>
      recurrentBackward(kind, g, ctx.inputs, ctx.attrs, ctx.out, ctx.saved),
  };
}

/**
 * Elman RNN over a batch-first sequence x [N, T, D]: a_t = g(W_ih x_t + b_ih + W_hh a_{t-1} + b_hh),
 * a_0 = h0 or 0, g = tanh or relu (notes §1.6.1). wIh [H, D], wHh [H, H], biases [H] (PyTorch's
 * weight_ih_l0 ...). Returns the packed [N, T + 1, H]: every step's output, then the final state.
 */
export const rnn: OpFn<[x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, mask?: Opt, opts?: RnnOptions], false> = defineOp({
  name: 'rnn', summary: 'Elman RNN over [N, T, D] (packed [N, T+1, H]: outputs, final h)', ...spec('rnn'),
  parse: (x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, mask?: Opt, opts?: RnnOptions) =>
    parseRecurrent('rnn', [x, wIh, wHh, bIh, bHh, h0, mask], opts),
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (...a: (HostTensor | null | RnnOptions)[]) => hostRecurrent('rnn', a.slice(0, 7) as HostTensor[], a[7] as RnnOptions), tolerance: 1e-4 },
    samples: recurrentSamples('rnn'),
    badInputs: recurrentBadInputs('rnn'),
  } : undefined,
});

/**
 * LSTM over a batch-first sequence x [N, T, D] (notes §1.6.2.1): with the gates on [h_{t-1}, x_t]
 * in PyTorch's order i, f, g (= C̃), o, C_t = f·C_{t-1} + i·C̃ and h_t = o·tanh(C_t). wIh [4H, D],
 * wHh [4H, H], biases [4H]. Returns the packed [N, T + 2, H]: outputs, final h, final c.
 */
export const lstm: OpFn<[x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, c0?: Opt, mask?: Opt, opts?: RecurrentOptions], false> = defineOp({
  name: 'lstm', summary: 'LSTM over [N, T, D] (packed [N, T+2, H]: outputs, final h, final c)', ...spec('lstm'),
  parse: (x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, c0?: Opt, mask?: Opt, opts?: RecurrentOptions) =>
    parseRecurrent('lstm', [x, wIh, wHh, bIh, bHh, h0, c0, mask], opts),
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (...a: (HostTensor | null | RecurrentOptions)[]) => hostRecurrent('lstm', a.slice(0, 8) as HostTensor[], a[8] as RecurrentOptions), tolerance: 1e-4 },
    samples: recurrentSamples('lstm'),
    badInputs: recurrentBadInputs('lstm'),
  } : undefined,
});

/**
 * GRU over a batch-first sequence x [N, T, D], PyTorch's formulation: r = σ(W_ir x + b_ir + W_hr h + b_hr),
 * z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
 * h' = (1 − z)·n + z·h. wIh [3H, D], wHh [3H, H] (rows r, z, n). Returns [N, T + 1, H].
 */
export const gru: OpFn<[x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, mask?: Opt, opts?: RecurrentOptions], false> = defineOp({
  name: 'gru', summary: 'GRU over [N, T, D] (packed [N, T+1, H]: outputs, final h)', ...spec('gru'),
  parse: (x: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, h0?: Opt, mask?: Opt, opts?: RecurrentOptions) =>
    parseRecurrent('gru', [x, wIh, wHh, bIh, bHh, h0, mask], opts),
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (...a: (HostTensor | null | RecurrentOptions)[]) => hostRecurrent('gru', a.slice(0, 7) as HostTensor[], a[7] as RecurrentOptions), tolerance: 1e-4 },
    samples: recurrentSamples('gru'),
    badInputs: recurrentBadInputs('gru'),
  } : undefined,
});

// ---- single steps --------------------------------------------------------------------------------

/** Runs fn, re-labelling errors of the sequence op it calls with the cell's name. */
function asCell<T>(cell: string, kind: Kind, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${kind}:`)) throw new Error(`${cell}:${e.message.slice(kind.length + 1)}`);
    throw e;
  }
}

function checkCellInputs(cell: string, x: unknown, h: unknown, rest: [string, unknown][]): void {
  assertTensor(cell, x, 'x');
  assertTensor(cell, h, 'h');
  for (const [name, t] of rest) if (!name.endsWith('?') || (t !== null && t !== undefined)) assertTensor(cell, t, name.replace('?', ''));
  const all = [x, h, ...rest.map(([, t]) => t)].filter((t): t is Tensor => t !== null && t !== undefined);
  assertFloat(cell, ...all);
  if (x.ndim !== 2) throw new Error(`${cell}: x must be [N, D], got ${fmt(x.shape)}`);
  const wHh = rest.find(([name]) => name === 'wHh')![1] as Tensor;
  const H = wHh.ndim === 2 ? wHh.shape[1] : -1;
  const states: [string, Tensor][] = [['h', h], ...rest.filter(([name]) => name === 'c') as [string, Tensor][]];
  for (const [name, t] of states) {
    if (H >= 0 && (t.ndim !== 2 || t.shape[0] !== x.shape[0] || t.shape[1] !== H)) {
      throw new Error(`${cell}: ${name} must be [${x.shape[0]}, ${H}] for x ${fmt(x.shape)} and wHh ${fmt(wHh.shape)}, got ${fmt(t.shape)}`);
    }
  }
}

function hostCell(kind: Kind, x: HostTensor, rest: (HostTensor | null | undefined)[], h: HostTensor, c: HostTensor | null, opts?: RnnOptions): HostTensor {
  const [N, D] = x.shape;
  const seq = { shape: [N, 1, D], data: x.data };
  const [wIh, wHh, bIh, bHh] = rest;
  const ins = kind === 'lstm' ? [seq, wIh, wHh, bIh, bHh, h, c, null] : [seq, wIh, wHh, bIh, bHh, h, null];
  const packed = hostRecurrent(kind, ins, opts);
  const H = packed.shape[2];
  const rows = kind === 'lstm' ? 2 : 1;
  const data: number[] = [];
  for (let b = 0; b < N; b++) for (let r = 0; r < rows; r++) for (let j = 0; j < H; j++) data.push(packed.data[(b * packed.shape[1] + 1 + r) * H + j]);
  return { shape: kind === 'lstm' ? [N, 2, H] : [N, H], data };
}

function cellSamples(kind: Kind): OpSample[] {
  const G = GATES[kind];
  const st: InputSpec = { shape: [2, 3], lo: -0.8, hi: 0.8 };
  const states = kind === 'lstm' ? [st, st] : [st];
  return [
    { label: 'one step', inputs: [{ shape: [2, 4] }, ...states, { shape: [G * 3, 4] }, { shape: [G * 3, 3] }] },
    { label: 'with biases', inputs: [{ shape: [2, 4] }, ...states, { shape: [G * 3, 4] }, { shape: [G * 3, 3] }, { shape: [G * 3] }, { shape: [G * 3] }] },
  ];
}

/**
 * One LSTM step: x [N, D], state h, c [N, H] → [N, 2, H] holding the new h (row 0) and c (row 1).
 * Weights as for `lstm`.
 */
export const lstmCell: OpFn<[x: Tensor, h: Tensor, c: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt], false> = defineComposite({
  name: 'lstmCell', family: 'recurrent', summary: 'one LSTM step: [N, 2, H] holding the new h and c',
  inputs: ['x', 'h', 'c', 'wIh', 'wHh', 'bIh?', 'bHh?'],
  fn: (x: Tensor, h: Tensor, c: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt): Tensor => {
    checkCellInputs('lstmCell', x, h, [['c', c], ['wIh', wIh], ['wHh', wHh], ['bIh?', bIh], ['bHh?', bHh]]);
    return asCell('lstmCell', 'lstm', () => {
      const [N, D] = x.shape;
      const packed = callOp('lstm', reshape(x, [N, 1, D]), wIh, wHh, bIh ?? null, bHh ?? null, h, c);
      return slice(packed, [0, 1, 0], [N, 2, -1]);
    });
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, h: HostTensor, c: HostTensor, ...w: HostTensor[]) => hostCell('lstm', x, w, h, c), tolerance: 1e-4 },
    samples: cellSamples('lstm'),
    badInputs: [
      { label: 'x not 2-D', call: () => callOp('lstmCell', full([2, 1, 4], 0), full([2, 3], 0), full([2, 3], 0), full([12, 4], 0), full([12, 3], 0)), error: 'lstmCell: x must be [N, D], got [2,1,4]' },
      { label: 'c of the wrong size', call: () => callOp('lstmCell', full([2, 4], 0), full([2, 3], 0), full([2, 2], 0), full([12, 4], 0), full([12, 3], 0)), error: 'lstmCell: c must be [2, 3] for x [2,4] and wHh [12,3], got [2,2]' },
    ],
  } : undefined,
});

/** One GRU step: x [N, D], h [N, H] → the new h [N, H]. Weights as for `gru`. */
export const gruCell: OpFn<[x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt], false> = defineComposite({
  name: 'gruCell', family: 'recurrent', summary: 'one GRU step: the new h [N, H]',
  inputs: ['x', 'h', 'wIh', 'wHh', 'bIh?', 'bHh?'],
  fn: (x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt): Tensor => {
    checkCellInputs('gruCell', x, h, [['wIh', wIh], ['wHh', wHh], ['bIh?', bIh], ['bHh?', bHh]]);
    return asCell('gruCell', 'gru', () => {
      const [N, D] = x.shape;
      const packed = callOp('gru', reshape(x, [N, 1, D]), wIh, wHh, bIh ?? null, bHh ?? null, h);
      return reshape(slice(packed, [0, 1, 0], [N, 1, -1]), [N, -1]);
    });
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, h: HostTensor, ...w: HostTensor[]) => hostCell('gru', x, w, h, null), tolerance: 1e-4 },
    samples: cellSamples('gru'),
    badInputs: [
      { label: 'input size differs', call: () => callOp('gruCell', full([2, 5], 0), full([2, 3], 0), full([9, 4], 0), full([9, 3], 0)), error: 'gruCell: wIh must be [9, 5] for x [2,1,5] and hidden size 3, got [9,4]' },
    ],
  } : undefined,
});

/** One Elman step: x [N, D], h [N, H] → g(W_ih x + b_ih + W_hh h + b_hh) [N, H]. */
export const rnnCell: OpFn<[x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, opts?: RnnOptions], false> = defineComposite({
  name: 'rnnCell', family: 'recurrent', summary: 'one Elman RNN step: the new h [N, H]',
  inputs: ['x', 'h', 'wIh', 'wHh', 'bIh?', 'bHh?'],
  fn: (x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Opt, bHh?: Opt, opts?: RnnOptions): Tensor => {
    checkCellInputs('rnnCell', x, h, [['wIh', wIh], ['wHh', wHh], ['bIh?', bIh], ['bHh?', bHh]]);
    return asCell('rnnCell', 'rnn', () => {
      const [N, D] = x.shape;
      const packed = callOp('rnn', reshape(x, [N, 1, D]), wIh, wHh, bIh ?? null, bHh ?? null, h, null, opts);
      return reshape(slice(packed, [0, 1, 0], [N, 1, -1]), [N, -1]);
    });
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor, h: HostTensor, ...w: HostTensor[]) => hostCell('rnn', x, w, h, null), tolerance: 1e-4 },
    samples: cellSamples('rnn'),
    badInputs: [
      { label: 'h of the wrong size', call: () => callOp('rnnCell', full([2, 4], 0), full([2, 2], 0), full([3, 4], 0), full([3, 3], 0)), error: 'rnnCell: h must be [2, 3] for x [2,4] and wHh [3,3], got [2,2]' },
    ],
  } : undefined,
});
