// Scaled dot-product attention as one op (notes §1.12.2.3, §1.12.5.2):
//   Y = Softmax[Q·Kᵀ/√D_k + M]·V
// per batch item and head. Heads are column blocks of the feature dim ([..., T, H·D_k]), read
// by the GEMM through its leading dimension, so multi-head attention needs no reshape or
// transpose copies on the way in or out.
//
// Forward, per (batch, head): one GEMM writes the scaled scores (the 1/√D_k is its alpha), one
// kernel pass (assembly/attention.ts) adds the additive mask, blocks future and padded keys
// and turns the scores into weights P in place, and one GEMM forms P·V. P is the only
// T_q×T_k matrix: it is saved for the backward, which recomputes nothing:
//   dP = dY·Vᵀ,  dS = P∘(dP − rowsum(dP∘P)),  dQ = dS·K/√D_k,  dK = dSᵀ·Q/√D_k,  dV = Pᵀ·dY.
// Blocked keys have P = 0, hence dS = 0: no gradient reaches them. A query with no key left
// (every key padded, or causal with T_q > T_k) gets a zero output and zero gradients — a
// defined result, documented, rather than the 0/0 = NaN of a plain softmax.
//
// The (batch, head) items are independent: runPlan spreads them over the threads when large.
import { kernels } from '../../bindings/index.js';
import { WORKSPACE, runPlan, type PlanArg, type Step } from '../../bindings/parallel/index.js';
import { needsGrad } from '../core/autograd.js';
import { Tensor, empty, fmt, full, sizeOf, type Shape } from '../core/tensor.js';
import { assertBoolean, assertFiniteNumber, assertFloat, assertTensor, checkOptions, positiveInt } from '../core/validate.js';
import { add, mul, square, tanh } from './elementwise.js';
import { hostMap } from './host.js';
import { callOp, defineComposite, defineOp, type HostTensor, type OpFn } from './registry.js';

export interface AttentionOptions {
  /**
   * Heads H: the last dim of q and k (H·D_k) and of v (H·D_v) are split into H column blocks,
   * head h using block h of each (default 1).
   */
  heads?: number;
  /**
   * Query i sees key j only when j <= i + (T_k − T_q): the usual lower triangle when T_q = T_k,
   * and for queries appended after a KV cache, every key up to their own position.
   */
  causal?: boolean;
  /** Key padding mask [..., T_k] with q's batch dims: 0 marks a padded key (never attended), anything else a real one. */
  keyMask?: Tensor | null;
  /** The additive mask M [T_q, T_k] of the notes (−Infinity blocks a key), shared by every batch item and head; not differentiated. */
  mask?: Tensor | null;
  /** Score scale (default 1/√D_k). */
  scale?: number;
}

interface AttentionAttrs {
  heads: number;
  causal: boolean;
  scale: number | null;
}

interface Geometry {
  /** Batch items (the product of the leading dims). */
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  Dk: number;
  Dv: number;
}

/** Checks the shapes and returns the geometry (throws the op's messages). */
function geometry(op: string, q: Shape, k: Shape, v: Shape, keyMask: Shape | null, mask: Shape | null, heads: number): Geometry {
  if (q.length < 2 || k.length < 2 || v.length < 2) {
    throw new Error(`${op}: q, k and v need at least 2 dimensions ([..., T, features]), got ${fmt(q)}, ${fmt(k)}, ${fmt(v)}`);
  }
  const lead = q.slice(0, -2);
  const same = (s: Shape): boolean => s.length === q.length && lead.every((d, i) => d === s[i]);
  if (!same(k) || !same(v)) throw new Error(`${op}: q, k and v must have the same batch dims, got ${fmt(q)}, ${fmt(k)}, ${fmt(v)}`);
  const [Tq, E] = q.slice(-2);
  const [Tk, Ek] = k.slice(-2);
  const [Tv, Ev] = v.slice(-2);
  if (Ek !== E) throw new Error(`${op}: q and k feature sizes differ: ${fmt(q)} and ${fmt(k)}`);
  if (Tv !== Tk) throw new Error(`${op}: k and v must have the same number of positions, got ${fmt(k)} and ${fmt(v)}`);
  if (E % heads !== 0 || Ev % heads !== 0) {
    throw new Error(`${op}: ${heads} heads must divide the feature sizes of q/k (${E}) and v (${Ev})`);
  }
  if (keyMask !== null && (keyMask.length !== lead.length + 1 || !lead.every((d, i) => d === keyMask[i]) || keyMask[lead.length] !== Tk)) {
    throw new Error(`${op}: keyMask must be ${fmt([...lead, Tk])} (batch dims, then keys), got ${fmt(keyMask)}`);
  }
  if (mask !== null && (mask.length !== 2 || mask[0] !== Tq || mask[1] !== Tk)) {
    throw new Error(`${op}: mask must be [${Tq},${Tk}] (queries x keys), got ${fmt(mask)}`);
  }
  return { B: sizeOf(lead), H: heads, Tq, Tk, Dk: E / heads, Dv: Ev / heads };
}

function parseAttention(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions) {
  assertFloat(op, q, k, v);
  const o = checkOptions(op, opts, ['heads', 'causal', 'keyMask', 'mask', 'scale']);
  const heads = o.heads ?? 1;
  positiveInt(op, 'heads', heads);
  const causal = o.causal ?? false;
  assertBoolean(op, 'causal', causal);
  const keyMask = o.keyMask ?? null;
  const mask = o.mask ?? null;
  if (keyMask !== null) {
    assertTensor(op, keyMask, 'keyMask');
    assertFloat(op, keyMask);
  }
  if (mask !== null) {
    assertTensor(op, mask, 'mask');
    assertFloat(op, mask);
  }
  const scale = o.scale ?? null;
  if (scale !== null) assertFiniteNumber(op, 'scale', scale);
  return { heads, causal, keyMask, mask, scale };
}

/** The scores' scale: the option, or 1/√D_k. */
function scaleOf(attrs: AttentionAttrs, g: Geometry): number {
  return attrs.scale ?? (g.Dk > 0 ? 1 / Math.sqrt(g.Dk) : 1);
}

/** Where head h of batch item b starts in a [B, T, H·D] operand (elements), and its leading dimension. */
function head(t: Tensor, b: number, h: number, T: number, D: number, H: number): [number, number] {
  return [t.ptrAt((b * T) * (H * D) + h * D), H * D];
}

/**
 * The weights P of item (b, h) into p [Tq, Tk]: scaled scores by GEMM, then the fused mask and
 * softmax kernel.
 */
function weightsInto<S extends string>(s: Step<S>, p: PlanArg, q: Tensor, k: Tensor,
  keyMask: Tensor | null, mask: Tensor | null, causal: boolean, g: Geometry, scale: number, b: number, h: number): void {
  const { H, Tq, Tk, Dk } = g;
  const [qp, ldq] = head(q, b, h, Tq, Dk, H);
  const [kp, ldk] = head(k, b, h, Tk, Dk, H);
  s.call('gemm', [0, 1, Tq, Tk, Dk, scale, qp, ldq, kp, ldk, 0, p, Tk, 0, 0, WORKSPACE]);
  s.call('attentionSoftmax', [p, Tq, Tk, causal ? 1 : 0, Tk - Tq, keyMask === null ? 0 : keyMask.ptrAt(b * Tk), mask === null ? 0 : mask.ptr]);
}

function flopsOf(g: Geometry): number {
  return 2 * g.B * g.H * g.Tq * g.Tk * (g.Dk + g.Dv);
}

/** Plain-JS attention for the reference (masks given as host tensors or null). */
function hostAttention(q: HostTensor, k: HostTensor, v: HostTensor, opts: { heads?: number; causal?: boolean; scale?: number } = {},
  keyMask: HostTensor | null = null, mask: HostTensor | null = null): HostTensor {
  const H = opts.heads ?? 1;
  const g = geometry('scaledDotProductAttention', q.shape, k.shape, v.shape, keyMask?.shape ?? null, mask?.shape ?? null, H);
  const { B, Tq, Tk, Dk, Dv } = g;
  const scale = opts.scale ?? (Dk > 0 ? 1 / Math.sqrt(Dk) : 1);
  const out = new Array<number>(B * Tq * H * Dv).fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Tq; i++) {
        const s: number[] = [];
        for (let j = 0; j < Tk; j++) {
          let dot = 0;
          for (let d = 0; d < Dk; d++) dot += q.data[(b * Tq + i) * H * Dk + h * Dk + d] * k.data[(b * Tk + j) * H * Dk + h * Dk + d];
          let x = dot * scale + (mask === null ? 0 : mask.data[i * Tk + j]);
          if ((opts.causal === true && j > i + Tk - Tq) || (keyMask !== null && keyMask.data[b * Tk + j] === 0)) x = -Infinity;
          s.push(x);
        }
        const m = Math.max(...s);
        if (m === -Infinity) continue;
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let d = 0; d < Dv; d++) {
          let y = 0;
          for (let j = 0; j < Tk; j++) y += (e[j] / z) * v.data[(b * Tk + j) * H * Dv + h * Dv + d];
          out[(b * Tq + i) * H * Dv + h * Dv + d] = y;
        }
      }
    }
  }
  return { shape: [...q.shape.slice(0, -1), H * Dv], data: out };
}

/**
 * Scaled dot-product attention Softmax[Q·Kᵀ·scale + M]·V over the last two dims, per batch item
 * and head: q [..., T_q, H·D_k], k [..., T_k, H·D_k], v [..., T_k, H·D_v] -> [..., T_q, H·D_v].
 * Masks: `causal`, `keyMask` (padding) and the additive `mask`; blocked keys get weight exactly
 * 0, and a query with no key left gets the zero vector (and no gradient).
 */
export const scaledDotProductAttention: OpFn<[q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions], false> = defineOp({
  name: 'scaledDotProductAttention', family: 'attention',
  summary: 'Softmax[Q·Kᵀ/√D_k + M]·V per batch item and head, with causal, padding and additive masks, in one op',
  inputs: ['q', 'k', 'v', 'keyMask?', 'mask?'],
  parse: (q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}) => {
    const { heads, causal, keyMask, mask, scale } = parseAttention('scaledDotProductAttention', q, k, v, opts);
    return { inputs: [q, k, v, keyMask, mask], attrs: { heads, causal, scale } as AttentionAttrs };
  },
  shape: ([q, k, v, keyMask = null, mask = null], { heads }) => {
    geometry('scaledDotProductAttention', q!, k!, v!, keyMask, mask, heads);
    return [...q!.slice(0, -1), v![v!.length - 1]];
  },
  forward: ([q, k, v, keyMask, mask], attrs, outShape) => {
    const g = geometry('scaledDotProductAttention', q!.shape, k!.shape, v!.shape, keyMask?.shape ?? null, mask?.shape ?? null, attrs.heads);
    const { B, H, Tq, Tk, Dv } = g;
    const scale = scaleOf(attrs, g);
    const y = empty(outShape);
    // With a backward to come, P is kept for it; otherwise each thread reuses one scratch block.
    const keepWeights = needsGrad(q!, k!, v!);
    const p = keepWeights ? empty([B, H, Tq, Tk]) : null;
    if (Tk === 0 || Dv === 0) kernels().fill(y.ptr, 0, y.size);
    if (Tk > 0 && Dv > 0 && Tq > 0) {
      runPlan({
        flops: flopsOf(g), items: B * H,
        scratch: { p: p === null ? Tq * Tk : 0 },
        work: (s, item) => {
          const b = Math.floor(item / H);
          const h = item % H;
          const pp = p === null ? s.scratch('p') : p.ptrAt(item * Tq * Tk);
          weightsInto(s, pp, q!, k!, keyMask, mask, attrs.causal, g, scale, b, h);
          const [vp, ldv] = head(v!, b, h, Tk, Dv, H);
          const [yp, ldy] = head(y, b, h, Tq, Dv, H);
          s.call('gemm', [0, 0, Tq, Dv, Tk, 1, pp, Tk, vp, ldv, 0, yp, ldy, 0, 0, WORKSPACE]);
        },
      });
    }
    return p === null ? y : { out: y, saved: [p] };
  },
  backward: (dy, { inputs: [q, k, v, keyMask, mask], attrs, saved: [p] }) => {
    const g = geometry('scaledDotProductAttention', q!.shape, k!.shape, v!.shape, keyMask?.shape ?? null, mask?.shape ?? null, attrs.heads);
    const { B, H, Tq, Tk, Dk, Dv } = g;
    const scale = scaleOf(attrs, g);
    const dq = empty(q!.shape);
    const dk = empty(k!.shape);
    const dv = empty(v!.shape);
    const kr = kernels();
    // Products over an empty inner dim write nothing in places: start from zeros there.
    for (const t of [dq, dk, dv]) if (Tq === 0 || Tk === 0 || Dv === 0) kr.fill(t.ptr, 0, t.size);
    if (Tq > 0 && Tk > 0 && Dv > 0) {
      runPlan({
        flops: 2 * flopsOf(g), items: B * H,
        scratch: { ds: Tq * Tk },
        work: (s, item) => {
          const b = Math.floor(item / H);
          const h = item % H;
          const pp = p.ptrAt(item * Tq * Tk);
          const ds = s.scratch('ds');
          const [qp, ldq] = head(q!, b, h, Tq, Dk, H);
          const [kp, ldk] = head(k!, b, h, Tk, Dk, H);
          const [vp, ldv] = head(v!, b, h, Tk, Dv, H);
          const [gp, ldg] = head(dy, b, h, Tq, Dv, H);
          const [dqp] = head(dq, b, h, Tq, Dk, H);
          const [dkp] = head(dk, b, h, Tk, Dk, H);
          const [dvp] = head(dv, b, h, Tk, Dv, H);
          s.call('gemm', [0, 1, Tq, Tk, Dv, 1, gp, ldg, vp, ldv, 0, ds, Tk, 0, 0, WORKSPACE]);
          s.call('softmaxBackward', [pp, ds, ds, Tq, Tk]);
          s.call('gemm', [0, 0, Tq, Dk, Tk, scale, ds, Tk, kp, ldk, 0, dqp, ldq, 0, 0, WORKSPACE]);
          s.call('gemm', [1, 0, Tk, Dk, Tq, scale, ds, Tk, qp, ldq, 0, dkp, ldk, 0, 0, WORKSPACE]);
          s.call('gemm', [1, 0, Tk, Dv, Tq, 1, pp, Tk, gp, ldg, 0, dvp, ldv, 0, 0, WORKSPACE]);
        },
      });
    }
    return [q!.requiresGrad ? dq : (dq.dispose(), null), k!.requiresGrad ? dk : (dk.dispose(), null), v!.requiresGrad ? dv : (dv.dispose(), null), null, null];
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (q: HostTensor, k: HostTensor, v: HostTensor, opts = {}) => hostAttention(q, k, v, opts) },
    samples: [
      { label: 'one head, T_q != T_k', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }, { shape: [2, 5, 3] }] },
      { label: 'no batch dims', inputs: [{ shape: [3, 4] }, { shape: [4, 4] }, { shape: [4, 2] }] },
      { label: '2 heads, causal', inputs: [{ shape: [2, 4, 6] }, { shape: [2, 4, 6] }, { shape: [2, 4, 4] }], args: [{ heads: 2, causal: true }] },
      { label: 'causal after a cache (T_q < T_k), 2 batch dims', inputs: [{ shape: [2, 1, 2, 4] }, { shape: [2, 1, 5, 4] }, { shape: [2, 1, 5, 4] }], args: [{ causal: true, heads: 2 }] },
      { label: 'custom scale', inputs: [{ shape: [1, 3, 2] }, { shape: [1, 3, 2] }, { shape: [1, 3, 2] }], args: [{ scale: 0.3 }] },
      {
        label: 'key padding mask, 2 heads (sequence 2 has 2 keys)',
        inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 4] }, { shape: [2, 4, 2] }, { shape: [2, 4], kind: 'values', values: [1, 1, 1, 1, 1, 1, 0, 0], grad: false }],
        call: (q, k, v, m) => callOp('scaledDotProductAttention', q, k, v, { heads: 2, keyMask: m }),
      },
      {
        label: 'causal + key padding mask',
        inputs: [{ shape: [2, 4, 2] }, { shape: [2, 4, 2] }, { shape: [2, 4, 3] }, { shape: [2, 4], kind: 'values', values: [1, 1, 1, 0, 1, 0, 1, 1], grad: false }],
        call: (q, k, v, m) => callOp('scaledDotProductAttention', q, k, v, { causal: true, keyMask: m }),
      },
      {
        label: 'additive mask M with -Infinity entries',
        inputs: [{ shape: [2, 3, 2] }, { shape: [2, 3, 2] }, { shape: [2, 3, 2] },
          { shape: [3, 3], kind: 'values', values: [0, -Infinity, 0.5, -1, 0, -Infinity, 0.25, 0.5, 0], grad: false }],
        call: (q, k, v, m) => callOp('scaledDotProductAttention', q, k, v, { mask: m }),
      },
      {
        label: 'a fully padded sequence: zero output and gradient',
        inputs: [{ shape: [2, 2, 2] }, { shape: [2, 3, 2] }, { shape: [2, 3, 2] }, { shape: [2, 3], kind: 'values', values: [1, 0, 1, 0, 0, 0], grad: false }],
        call: (q, k, v, m) => callOp('scaledDotProductAttention', q, k, v, { keyMask: m }),
      },
    ],
    badInputs: [
      { label: 'q and k features differ', call: () => callOp('scaledDotProductAttention', full([2, 3, 4], 0), full([2, 3, 5], 0), full([2, 3, 5], 0)), error: 'scaledDotProductAttention: q and k feature sizes differ: [2,3,4] and [2,3,5]' },
      { label: 'batch dims differ', call: () => callOp('scaledDotProductAttention', full([2, 3, 4], 0), full([3, 3, 4], 0), full([3, 3, 4], 0)), error: 'scaledDotProductAttention: q, k and v must have the same batch dims, got [2,3,4], [3,3,4], [3,3,4]' },
      { label: 'k and v lengths differ', call: () => callOp('scaledDotProductAttention', full([3, 4], 0), full([3, 4], 0), full([2, 4], 0)), error: 'scaledDotProductAttention: k and v must have the same number of positions, got [3,4] and [2,4]' },
      { label: 'heads do not divide', call: () => callOp('scaledDotProductAttention', full([3, 4], 0), full([3, 4], 0), full([3, 4], 0), { heads: 3 }), error: 'scaledDotProductAttention: 3 heads must divide the feature sizes of q/k (4) and v (4)' },
      { label: 'a vector', call: () => callOp('scaledDotProductAttention', full([4], 0), full([3, 4], 0), full([3, 4], 0)), error: 'scaledDotProductAttention: q, k and v need at least 2 dimensions ([..., T, features]), got [4], [3,4], [3,4]' },
      { label: 'keyMask of the wrong shape', call: () => callOp('scaledDotProductAttention', full([2, 3, 4], 0), full([2, 3, 4], 0), full([2, 3, 4], 0), { keyMask: full([2, 4], 1) }), error: 'scaledDotProductAttention: keyMask must be [2,3] (batch dims, then keys), got [2,4]' },
      { label: 'mask of the wrong shape', call: () => callOp('scaledDotProductAttention', full([2, 3, 4], 0), full([2, 3, 4], 0), full([2, 3, 4], 0), { mask: full([3, 2], 0) }), error: 'scaledDotProductAttention: mask must be [3,3] (queries x keys), got [3,2]' },
      { label: 'heads 0', call: () => callOp('scaledDotProductAttention', full([3, 4], 0), full([3, 4], 0), full([3, 4], 0), { heads: 0 }), error: /^scaledDotProductAttention: heads must be/ },
      { label: 'unknown option', call: () => callOp('scaledDotProductAttention', full([3, 4], 0), full([3, 4], 0), full([3, 4], 0), { dropout: 0.1 }), error: /^scaledDotProductAttention: unknown option 'dropout'/ },
    ],
  } : undefined,
});

/**
 * The attention weights P = Softmax[Q·Kᵀ·scale + M] themselves, for inspection:
 * [..., H, T_q, T_k] (rows sum to 1; 0 at blocked keys; all 0 for a query with no key). Same
 * options as scaledDotProductAttention; not differentiable.
 */
export const attentionWeights: OpFn<[q: Tensor, k: Tensor, opts?: AttentionOptions], false> = defineOp({
  name: 'attentionWeights', family: 'attention', summary: 'the weights Softmax[Q·Kᵀ/√D_k + M] of scaledDotProductAttention, [..., H, T_q, T_k]',
  inputs: ['q', 'k', 'keyMask?', 'mask?'],
  parse: (q: Tensor, k: Tensor, opts: AttentionOptions = {}) => {
    const { heads, causal, keyMask, mask, scale } = parseAttention('attentionWeights', q, k, k, opts);
    return { inputs: [q, k, keyMask, mask], attrs: { heads, causal, scale } as AttentionAttrs };
  },
  shape: ([q, k, keyMask = null, mask = null], { heads }) => {
    const g = geometry('attentionWeights', q!, k!, k!, keyMask, mask, heads);
    return [...q!.slice(0, -2), g.H, g.Tq, g.Tk];
  },
  forward: ([q, k, keyMask, mask], attrs, outShape) => {
    const g = geometry('attentionWeights', q!.shape, k!.shape, k!.shape, keyMask?.shape ?? null, mask?.shape ?? null, attrs.heads);
    const { B, H, Tq, Tk } = g;
    const p = empty(outShape);
    const scale = scaleOf(attrs, g);
    if (Tq > 0 && Tk > 0) {
      runPlan({
        flops: 2 * B * H * Tq * Tk * g.Dk, items: B * H,
        work: (s, item) => weightsInto(s, p.ptrAt(item * Tq * Tk), q!, k!, keyMask, mask, attrs.causal, g, scale, Math.floor(item / H), item % H),
      });
    }
    return p;
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: {
      js: (q: HostTensor, k: HostTensor, opts: { heads?: number; causal?: boolean; scale?: number } = {}) => {
        // Attending over an identity V of the keys gives back the weights themselves.
        const H = opts.heads ?? 1;
        const Tk = k.shape[k.shape.length - 2];
        const lead = q.shape.slice(0, -2);
        const B = sizeOf(lead);
        const eye = new Array<number>(B * Tk * H * Tk).fill(0);
        for (let b = 0; b < B; b++) for (let j = 0; j < Tk; j++) for (let h = 0; h < H; h++) eye[(b * Tk + j) * H * Tk + h * Tk + j] = 1;
        const y = hostAttention(q, k, { shape: [...lead, Tk, H * Tk], data: eye }, opts);
        const Tq = q.shape[q.shape.length - 2];
        const out = new Array<number>(B * H * Tq * Tk);
        for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) {
          out[((b * H + h) * Tq + i) * Tk + j] = y.data[(b * Tq + i) * H * Tk + h * Tk + j];
        }
        return { shape: [...lead, H, Tq, Tk], data: out };
      },
    },
    samples: [
      { label: '2 heads, causal', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }], args: [{ heads: 2, causal: true }] },
      { label: 'one head', inputs: [{ shape: [3, 2] }, { shape: [4, 2] }] },
    ],
    badInputs: [
      { label: 'q and k features differ', call: () => callOp('attentionWeights', full([3, 4], 0), full([3, 5], 0)), error: 'attentionWeights: q and k feature sizes differ: [3,4] and [3,5]' },
    ],
  } : undefined,
});

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GELU, the transformer MLP's smooth ReLU, in its tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
 * (as GPT-2 and BERT use it). Composed of elementwise ops, so its gradient comes from theirs.
 */
export const gelu: OpFn<[x: Tensor], true> = defineComposite<(x: Tensor) => Tensor, true>({
  name: 'gelu', family: 'elementwise', summary: '0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GELU, tanh form)', inputs: ['x'], method: true,
  fn: (x: Tensor): Tensor => {
    assertTensor('gelu', x);
    assertFloat('gelu', x);
    const inner = mul(add(x, mul(mul(square(x), x), 0.044715)), GELU_C);
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  },
  tests: globalThis.__SIMDGRAD_OP_TESTS__ !== false ? {
    reference: { js: (x: HostTensor) => hostMap(x, (v) => 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)))), tolerance: 1e-5 },
    samples: [{ label: '', inputs: [{ shape: [3, 4], lo: -3, hi: 3 }] }],
    badInputs: [{ label: 'not a tensor', call: () => callOp('gelu', 1), error: /^gelu: / }],
  } : undefined,
}) as unknown as OpFn<[x: Tensor], true>;
