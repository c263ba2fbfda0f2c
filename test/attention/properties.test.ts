// Properties of attention from the notes (§1.12.2–§1.12.4): the fused op against its
// composition from matmul and softmax, permutation equivariance without positions, causality,
// the two relative-position properties of the sinusoidal encoding, and the masking contract.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  expect(worst).toBeLessThan(tol);
};

/** [B, T, H·D] -> [B, H, T, D] for the composed reference. */
const heads = (x: sg.Tensor, H: number): sg.Tensor => sg.permute(sg.reshape(x, [x.shape[0], x.shape[1], H, -1]), [0, 2, 1, 3]);

describe('scaledDotProductAttention', () => {
  it('equals Softmax[QKᵀ/√D_k + M]V composed of matmul (transB, 4-D batch) and softmax, values and gradients', () => {
    sg.manualSeed(3);
    const [B, T, H, D] = [2, 5, 2, 3];
    const q = sg.randn([B, T, H * D], 0, 1, { requiresGrad: true });
    const k = sg.randn([B, T, H * D], 0, 1, { requiresGrad: true });
    const v = sg.randn([B, T, H * D], 0, 1, { requiresGrad: true });
    const keyMask = sg.tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [B, T]);
    const fused = sg.scaledDotProductAttention(q, k, v, { heads: H, causal: true, keyMask });
    // M: −∞ above the diagonal and at padded keys, 0 elsewhere.
    const m: number[] = [];
    for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m.push(j > i || keyMask.data()[b * T + j] === 0 ? -Infinity : 0);
    const M = sg.tensor(m, [B, 1, T, T]);
    const s = sg.add(sg.mul(sg.matmul(heads(q, H), heads(k, H), { transB: true }), 1 / Math.sqrt(D)), M);
    const composed = sg.reshape(sg.permute(sg.matmul(sg.softmax(s, 3), heads(v, H)), [0, 2, 1, 3]), [B, T, H * D]);
    close(fused.data(), composed.data());
    const w = sg.randn([B, T, H * D]);
    sg.sum(sg.mul(fused, w)).backward();
    const g1 = [q, k, v].map((t) => t.grad!.data());
    for (const t of [q, k, v]) t.grad = null;
    sg.sum(sg.mul(composed, w)).backward();
    [q, k, v].forEach((t, i) => close(g1[i], t.grad!.data(), 1e-4));
  });

  it('gives blocked keys weight exactly 0, rows summing to 1, and a fully masked query the zero vector', () => {
    sg.manualSeed(4);
    const q = sg.randn([2, 3, 4]);
    const k = sg.randn([2, 3, 4]);
    const keyMask = sg.tensor([1, 0, 1, 0, 0, 0], [2, 3]);
    const p = sg.attentionWeights(q, k, { keyMask, causal: true }).data();
    // Batch 0: query 0 sees key 0 only; query 1 keys 0 (1 is padded); query 2 keys 0 and 2.
    expect([p[0], p[1], p[2]]).toEqual([1, 0, 0]);
    expect([p[4], p[5]]).toEqual([0, 0]);
    expect(p[7]).toBe(0);
    expect(p[6] + p[8]).toBeCloseTo(1, 6);
    // Batch 1: every key padded.
    expect(Array.from(p.slice(9))).toEqual(new Array(9).fill(0));
    const y = sg.scaledDotProductAttention(q, k, sg.randn([2, 3, 2]), { keyMask }).data();
    expect(Array.from(y.slice(6))).toEqual(new Array(6).fill(0));
  });
});

describe('notes §1.12.4: permutation equivariance without positional encoding', () => {
  it('a transformer layer maps PX to P·f(X)', () => {
    sg.manualSeed(5);
    const layer = new sg.nn.TransformerEncoderLayer(8, 2, { ffDim: 16, dropout: 0 });
    const T = 6;
    const x = sg.randn([1, T, 8]);
    const perm = [3, 0, 5, 1, 4, 2];
    const permute = (t: sg.Tensor): Float32Array => {
      const d = t.data() as Float32Array;
      const out = new Float32Array(d.length);
      perm.forEach((src, i) => out.set(d.subarray(src * 8, src * 8 + 8), i * 8));
      return out;
    };
    const fx = sg.noGrad(() => layer.forward(x));
    const fpx = sg.noGrad(() => layer.forward(sg.tensor(permute(x), [1, T, 8])));
    close(fpx.data(), permute(fx));
  });

  it('the sinusoidal encoding breaks it', () => {
    sg.manualSeed(6);
    const layer = new sg.nn.TransformerEncoderLayer(8, 2, { ffDim: 16, dropout: 0 });
    const pos = new sg.nn.SinusoidalPositionalEncoding(8);
    const x = sg.randn([1, 2, 8]);
    const swapped = sg.tensor([...x.data().slice(8), ...x.data().slice(0, 8)], [1, 2, 8]);
    const a = sg.noGrad(() => layer.forward(pos.forward(x))).data();
    const b = sg.noGrad(() => layer.forward(pos.forward(swapped))).data();
    const diff = Math.max(...Array.from(a.slice(0, 8), (v, i) => Math.abs(v - b[8 + i])));
    expect(diff).toBeGreaterThan(1e-3);
  });
});

describe('causal mask', () => {
  it('output i does not change when inputs after i change (stack of 2 layers)', () => {
    sg.manualSeed(7);
    const enc = new sg.nn.TransformerEncoder(8, 2, { numLayers: 2, ffDim: 16, dropout: 0, norm: 'pre' });
    const T = 7;
    const x = sg.randn([2, T, 8]);
    const base = sg.noGrad(() => enc.forward(x, { causal: true })).data();
    for (const i of [0, 3, 5]) {
      const v = x.data().slice();
      for (let b = 0; b < 2; b++) for (let t = i + 1; t < T; t++) for (let d = 0; d < 8; d++) v[(b * T + t) * 8 + d] += 3 * Math.sin(t + d + b);
      const out = sg.noGrad(() => enc.forward(sg.tensor(v, [2, T, 8]), { causal: true })).data();
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < T; t++) {
          const a = base.slice((b * T + t) * 8, (b * T + t + 1) * 8);
          const c = out.slice((b * T + t) * 8, (b * T + t + 1) * 8);
          if (t <= i) close(c, a, 1e-6);
          else expect(Math.max(...Array.from(a, (u, j) => Math.abs(u - c[j])))).toBeGreaterThan(1e-4);
        }
      }
    }
  });
});

describe('notes §1.12.4.3: sinusoidal encoding', () => {
  const D = 16;
  const N = 40;
  const table = sg.nn.sinusoidalEncoding(N, D).data();
  const r = Array.from({ length: N }, (_, n) => Array.from(table.slice(n * D, (n + 1) * D)));
  function dot(a: number[], b: number[]): number {
    return a.reduce((s, v, i) => s + v * b[i], 0);
  }

  it('r_n = [sin(w_1 n), cos(w_1 n), …] with w_i = 1/10000^{2i/D}, bounded and distinct', () => {
    expect(r[3][0]).toBeCloseTo(Math.sin(3 / Math.pow(10000, 2 / D)), 6);
    expect(r[3][D - 1]).toBeCloseTo(Math.cos(3 / 10000), 6);
    for (const row of r) for (const v of row) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    for (let n = 1; n < N; n++) expect(Math.max(...r[n].map((v, i) => Math.abs(v - r[n - 1][i])))).toBeGreaterThan(1e-4);
  });

  it('r_n·r_m depends only on n − m', () => {
    for (const delta of [0, 1, 5, 17]) {
      const ref = dot(r[0], r[delta]);
      for (let n = 1; n + delta < N; n += 3) expect(dot(r[n], r[n + delta])).toBeCloseTo(ref, 4);
    }
  });

  it('r_{n+k} = M_k r_n with one matrix M_k for every n (a rotation per frequency)', () => {
    for (const k of [1, 4, 9]) {
      // M_k from the angle-addition formulas: per pair (sin, cos) of frequency w, [[cos wk, sin wk], [−sin wk, cos wk]].
      const M = Array.from({ length: D }, () => new Array<number>(D).fill(0));
      for (let i = 1; i <= D / 2; i++) {
        const w = Math.pow(10000, (-2 * i) / D);
        const [s, c] = [2 * i - 2, 2 * i - 1];
        M[s][s] = Math.cos(w * k); M[s][c] = Math.sin(w * k);
        M[c][s] = -Math.sin(w * k); M[c][c] = Math.cos(w * k);
      }
      for (let n = 0; n + k < N; n += 2) {
        const mr = M.map((row) => dot(row, r[n]));
        close(mr, r[n + k], 1e-5);
      }
    }
  });
});
