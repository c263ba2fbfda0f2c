// The KV cache (sg.nn.KVCache): generation that appends one token at a time to the stored keys
// and values must agree with re-running the whole prefix — same logits (to float rounding), and
// the same tokens under greedy decoding, sampling with one seed, and beam search.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { GPT, cachedStep, fullStep } from '../../examples/gpt/model';

function model(positions: 'sinusoidal' | 'learned'): GPT {
  sg.manualSeed(11);
  const m = new GPT({ vocab: 23, dModel: 16, heads: 4, layers: 2, ffDim: 32, positions, maxLen: 64 });
  return m.eval();
}

describe('KV cache', () => {
  for (const positions of ['sinusoidal', 'learned'] as const) {
    it(`gives the same logits, step by step, as the full prefix (${positions} positions)`, () => {
      const m = model(positions);
      const ids = [3, 7, 1, 1, 19, 4, 0, 22, 9];
      const full = sg.noGrad(() => m.forward(sg.tensor(new Int32Array(ids), [1, ids.length]))).data();
      const cache = new sg.nn.KVCache();
      // A prompt chunk of 3, then one token at a time (causal alignment after the cache).
      const chunks = [ids.slice(0, 3), ...ids.slice(3).map((t) => [t])];
      let at = 0;
      for (const c of chunks) {
        const got = sg.noGrad(() => m.forward(sg.tensor(new Int32Array(c), [1, c.length]), cache)).data();
        const want = full.slice(at * 23, (at + c.length) * 23);
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
        at += c.length;
      }
      expect(cache.length).toBe(ids.length);
      cache.dispose();
    });
  }

  it('generates the same tokens with and without the cache: greedy, seeded top-k sampling, beam search', () => {
    const m = model('sinusoidal');
    const prompt = [5, 2, 8];
    const cached = cachedStep(m);
    const plain = fullStep(m);
    const opts = { maxNewTokens: 20 };
    expect(sg.text.generate(cached, prompt, { ...opts, greedy: true })).toEqual(sg.text.generate(plain, prompt, { ...opts, greedy: true }));
    const a = sg.text.generate(cached, prompt, { ...opts, topK: 5, generator: new sg.RandomGenerator(3) });
    const b = sg.text.generate(plain, prompt, { ...opts, topK: 5, generator: new sg.RandomGenerator(3) });
    expect(a).toEqual(b);
    const beamsA = sg.text.beamSearch(cached, prompt, { beams: 3, maxLength: 10 });
    const beamsB = sg.text.beamSearch(plain, prompt, { beams: 3, maxLength: 10 });
    expect(beamsA.map((h) => h.tokens)).toEqual(beamsB.map((h) => h.tokens));
    cached.dispose();
  });

  it('caches cross-attention keys once and matches the full decoder on the last position', () => {
    sg.manualSeed(12);
    const dec = new sg.nn.TransformerDecoder(8, 2, { numLayers: 2, ffDim: 16, dropout: 0, norm: 'pre' }).eval();
    const memory = sg.randn([1, 5, 8]);
    const x = sg.randn([1, 6, 8]);
    const full = sg.noGrad(() => dec.forward(x, memory)).data();
    const cache = new sg.nn.KVCache();
    for (let t = 0; t < 6; t++) {
      const got = sg.noGrad(() => dec.forward(sg.slice(x, [0, t, 0], [1, 1, 8]), memory, { cache })).data();
      for (let d = 0; d < 8; d++) expect(got[d]).toBeCloseTo(full[t * 8 + d], 4);
      cache.length++;
    }
    cache.dispose();
  });
});
