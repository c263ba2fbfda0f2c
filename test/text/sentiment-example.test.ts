// The class-token encoder of examples/sentiment: masking never touches the class token or
// padding, and the untied masked-token layer trains its own table, not the embedding.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { ClassTokenEncoder, maskTokens, packRows } from '../../examples/sentiment/model';

const sp = { pad: 0, mask: 1, cls: 2 };
const T = 8;

describe('sentiment example (class-token encoder)', () => {
  it('masks only real tokens, never the class token or padding', () => {
    const rows = [[5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15, 16], [4]];
    const { ids, keyMask } = packRows(rows, T, sp);
    const original = Int32Array.from(ids);
    const m = maskTokens(ids, keyMask, T, 0.9, sp, new sg.RandomGenerator(1));
    expect(m.at.length).toBeGreaterThan(0);
    for (let k = 0; k < m.at.length; k++) {
      const i = m.at[k];
      expect(i % T).not.toBe(0);
      expect(keyMask[i]).toBe(1);
      expect(m.targets[k]).toBe(original[i]);
      expect(ids[i]).toBe(sp.mask);
    }
    for (let b = 0; b < rows.length; b++) expect(ids[b * T]).toBe(sp.cls);
  });

  it('an untied output layer has its own table; the embedding gets gradient only as input', () => {
    sg.manualSeed(2);
    const opts = { vocab: 20, dModel: 8, heads: 2, layers: 1, maxLen: T, classes: 2, dropout: 0 };
    const tied = new ClassTokenEncoder(opts);
    const untied = new ClassTokenEncoder({ ...opts, tied: false });
    expect(tied.mlmOut).toBeNull();
    expect(untied.parameters().length).toBe(tied.parameters().length + 1);
    const { ids, keyMask } = packRows([[5, 6, 7, 8]], T, sp);
    const idsT = sg.tensor(ids, [1, T]);
    const maskT = sg.tensor(keyMask, [1, T]);
    const at = sg.tensor(new Int32Array([2]), [1]);
    const logits = untied.maskedLogits(untied.forward(idsT, maskT), at);
    expect(logits.shape).toEqual([1, 20]);
    sg.backward(sg.crossEntropy(logits, sg.tensor(new Int32Array([6]), [1])));
    // Word 19 is in no input row: its embedding row gets no gradient, its output row does.
    const row = (g: sg.Tensor | null): number[] => Array.from((g!.data() as Float32Array).subarray(19 * 8, 20 * 8));
    expect(row(untied.embed.weight.grad).every((v) => v === 0)).toBe(true);
    expect(row(untied.mlmOut!.weight.grad).some((v) => v !== 0)).toBe(true);
    // Tied, the same row of the embedding is an output vector and does get a gradient.
    sg.backward(sg.crossEntropy(tied.maskedLogits(tied.forward(idsT, maskT), at), sg.tensor(new Int32Array([6]), [1])));
    expect(row(tied.embed.weight.grad).some((v) => v !== 0)).toBe(true);
  });
});
