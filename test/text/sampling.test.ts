// Decoding strategies (notes §1.12.5.2) checked against their definitions. Every draw comes
// from a Generator with a fixed seed, so the frequency bounds below are deterministic; they
// are set at 5 standard errors so that changing the seed would not make them fail either.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index.js';
import { beamSearch, distribution, generate, greedy, logSoftmax, sample, type SamplingOptions } from '../../src/text/index.js';

const LOGITS = Float32Array.of(2, 1, 0.5, 0, -1, -3);
const DRAWS = 20_000;

function softmax(a: ArrayLike<number>, T = 1): number[] {
  const m = Math.max(...Array.from(a));
  const e = Array.from(a, (v) => Math.exp((v - m) / T));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
}

function frequencies(opts: SamplingOptions, logits: ArrayLike<number> = LOGITS, n = DRAWS): number[] {
  const counts = new Array(logits.length).fill(0);
  const generator = new sg.RandomGenerator(1234);
  for (let i = 0; i < n; i++) counts[sample(logits, { ...opts, generator })]++;
  return counts.map((c) => c / n);
}

function expectClose(freq: number[], p: number[], n = DRAWS): void {
  freq.forEach((f, i) => {
    const se = Math.sqrt((p[i] * (1 - p[i])) / n);
    expect(Math.abs(f - p[i]), `token ${i}: frequency ${f} vs probability ${p[i]}`).toBeLessThanOrEqual(5 * se + 1e-12);
  });
}

describe('sampling from logits', () => {
  it('plain sampling follows softmax(a); a tensor row works like an array', () => {
    expectClose(frequencies({}), softmax(LOGITS));
    const t = sg.tensor(LOGITS, [1, 6]);
    expect(Array.from(distribution(t))).toEqual(Array.from(distribution(LOGITS)));
    expect(greedy(t)).toBe(0);
    t.dispose();
  });

  it('temperature: softmax(a / T); T -> 0 is greedy, T -> infinity is uniform', () => {
    expectClose(frequencies({ temperature: 0.5 }), softmax(LOGITS, 0.5));
    expectClose(frequencies({ temperature: 3 }), softmax(LOGITS, 3));
    expect(frequencies({ temperature: 1e-3 })).toEqual([1, 0, 0, 0, 0, 0]);
    expect(frequencies({ temperature: 0 })).toEqual([1, 0, 0, 0, 0, 0]);
    expect(frequencies({ greedy: true })).toEqual([1, 0, 0, 0, 0, 0]);
    const uniform = new Array(6).fill(1 / 6);
    expectClose(frequencies({ temperature: 1e6 }), uniform);
    expect(Array.from(distribution(LOGITS, { temperature: Infinity }))).toEqual(uniform);
    // Masked tokens (-Infinity) stay impossible even at T = infinity.
    expect(Array.from(distribution([0, -Infinity, 5], { temperature: Infinity }))).toEqual([0.5, 0, 0.5]);
  });

  it('top-k never samples outside the k most probable tokens and renormalises over them', () => {
    for (const k of [1, 2, 3, 6, 100]) {
      const f = frequencies({ topK: k });
      const p = softmax(LOGITS).map((v, i) => (i < k ? v : 0));
      const s = p.reduce((a, b) => a + b, 0);
      f.forEach((v, i) => { if (i >= k) expect(v).toBe(0); });
      expectClose(f, p.map((v) => v / s));
    }
    // Shuffled logits: "the k best" is by value, not by position.
    const shuffled = [-1, 2, -3, 0.5, 1, 0];
    const f = frequencies({ topK: 2 }, shuffled);
    expect(f.map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0)).toEqual([1, 4]);
  });

  it("top-p's support is the smallest set of most probable tokens with cumulative probability >= p", () => {
    const p = softmax(LOGITS); // decreasing in index
    const cum = p.map((_, i) => p.slice(0, i + 1).reduce((a, b) => a + b, 0));
    for (const topP of [0.1, 0.5, cum[1], 0.8, 0.95, 0.999, 1]) {
      const size = cum.findIndex((c) => c >= topP * (1 - 1e-12)) + 1;
      const d = distribution(LOGITS, { topP });
      const support = Array.from(d, (v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
      expect(support, `p = ${topP}`).toEqual(Array.from({ length: size }, (_, i) => i));
      // Smallest: the set one token shorter does not reach p.
      if (size > 1) expect(cum[size - 2]).toBeLessThan(topP);
      const f = frequencies({ topP });
      const kept = p.map((v, i) => (i < size ? v / cum[size - 1] : 0));
      expectClose(f, kept);
      f.forEach((v, i) => { if (i >= size) expect(v).toBe(0); });
    }
  });

  it('options combine: temperature, then top-k, then top-p on what is left', () => {
    const d = distribution(LOGITS, { temperature: 2, topK: 4, topP: 0.6 });
    const q = softmax(LOGITS, 2).slice(0, 4);
    const s4 = q.reduce((a, b) => a + b, 0);
    const r = q.map((v) => v / s4);
    const size = r.findIndex((_, i) => r.slice(0, i + 1).reduce((a, b) => a + b, 0) >= 0.6) + 1;
    const sz = r.slice(0, size).reduce((a, b) => a + b, 0);
    Array.from(d).forEach((v, i) => expect(v).toBeCloseTo(i < size ? r[i] / sz : 0, 12));
  });

  it('is seeded by the one generator: the global one by default, reproducible after manualSeed', () => {
    const run = (): number[] => Array.from({ length: 50 }, () => sample(LOGITS, { temperature: 2 }));
    sg.manualSeed(7);
    const a = run();
    sg.manualSeed(7);
    expect(run()).toEqual(a);
    const g1 = new sg.RandomGenerator(3);
    const g2 = new sg.RandomGenerator(3);
    const b = Array.from({ length: 50 }, () => sample(LOGITS, { generator: g1 }));
    expect(Array.from({ length: 50 }, () => sample(LOGITS, { generator: g2 }))).toEqual(b);
  });

  it('logSoftmax is the log of the softmax', () => {
    const lp = logSoftmax(LOGITS);
    softmax(LOGITS).forEach((p, i) => expect(lp[i]).toBeCloseTo(Math.log(p), 12));
  });
});

// A toy model over tokens 0..3 with a known joint distribution: p(x1), then p(x2 | x1).
// Greedy takes 1 (p 0.5) and then at best 1/3: 0.167. The most probable sequence is 2, 1
// (0.4 x 0.9 = 0.36), which beam search with 2 beams keeps.
const P1 = [0, 0.5, 0.4, 0.1];
const P2: Record<number, number[]> = { 1: [0, 1 / 3, 1 / 3, 1 / 3], 2: [0, 0.9, 0.05, 0.05], 3: [0, 0, 0, 1] };
const toyStep = (prefixes: number[][]): number[][] => prefixes.map((seq) => {
  const gen = seq.slice(1); // after the prompt [0]
  const p = gen.length === 0 ? P1 : P2[gen[0]] ?? [1, 0, 0, 0];
  return p.map(Math.log);
});

describe('beam search', () => {
  it('finds the most probable sequence (known by enumeration) where greedy does not', () => {
    let best = { seq: [] as number[], p: -1 };
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) {
      const p = P1[a] * (P2[a]?.[b] ?? 0);
      if (p > best.p) best = { seq: [a, b], p };
    }
    expect(best.seq).toEqual([2, 1]);
    const greedySeq = generate(toyStep, [0], { maxNewTokens: 2, greedy: true });
    expect(greedySeq).toEqual([1, 1]);
    const [top] = beamSearch(toyStep, [0], { beams: 2, maxLength: 2 });
    expect(top.tokens).toEqual([2, 1]);
    expect(top.logProb).toBeCloseTo(Math.log(0.36), 12);
    // One beam is greedy search.
    expect(beamSearch(toyStep, [0], { beams: 1, maxLength: 2 })[0].tokens).toEqual([1, 1]);
  });

  it('with as many beams as sequences it ranks all of them exactly (random toy models)', () => {
    const g = new sg.RandomGenerator(99);
    for (let trial = 0; trial < 20; trial++) {
      const V = 3;
      const L = 3;
      const table = new Map<string, number[]>();
      const logits = (prefix: number[]): number[] => {
        const key = prefix.join(',');
        if (!table.has(key)) table.set(key, Array.from({ length: V }, () => 3 * g.normal()));
        return table.get(key)!;
      };
      const step = (prefixes: number[][]): number[][] => prefixes.map(logits);
      const all: { seq: number[]; lp: number }[] = [];
      const walk = (seq: number[], lp: number): void => {
        if (seq.length === L + 1) { all.push({ seq: seq.slice(1), lp }); return; }
        const l = logSoftmax(logits(seq));
        for (let t = 0; t < V; t++) walk([...seq, t], lp + l[t]);
      };
      walk([0], 0);
      all.sort((a, b) => b.lp - a.lp);
      const beams = beamSearch(step, [0], { beams: V ** L, maxLength: L });
      expect(beams.map((h) => h.tokens)).toEqual(all.map((a) => a.seq));
      beams.forEach((h, i) => expect(h.logProb).toBeCloseTo(all[i].lp, 9));
      // Fewer beams still beat or tie greedy.
      const greedyLp = all.find((a) => a.seq.join() === generate(step, [0], { maxNewTokens: L, greedy: true }).join())!.lp;
      expect(beamSearch(step, [0], { beams: 2, maxLength: L })[0].logProb).toBeGreaterThanOrEqual(greedyLp - 1e-12);
    }
  });

  it('stops hypotheses at the end token; length normalisation favours longer ones', () => {
    // Token 3 is the end. From the prompt: end at once with 0.4, or 1 (0.6) then end (1.0).
    const END = 3;
    const step = (prefixes: number[][]): number[][] => prefixes.map((seq) => {
      const n = seq.length - 1;
      const p = n === 0 ? [0, 0.6, 0, 0.4] : n === 1 ? [0, 0.5, 0, 0.5] : [0, 0, 0, 1];
      return p.map(Math.log);
    });
    const out = beamSearch(step, [0], { beams: 2, maxLength: 5, endToken: END });
    expect(out[0]).toEqual({ tokens: [END], logProb: Math.log(0.4), score: Math.log(0.4), finished: true });
    expect(out[1].tokens).toEqual([1, END]);
    expect(out[1].logProb).toBeCloseTo(Math.log(0.3), 12);
    const normed = beamSearch(step, [0], { beams: 2, maxLength: 5, endToken: END, lengthPenalty: 1 });
    // Ranked by logProb / length: a longer hypothesis now beats the single end token.
    expect(normed[0].tokens.length).toBeGreaterThan(1);
    normed.forEach((h, i) => {
      expect(h.score).toBeCloseTo(h.logProb / h.tokens.length, 12);
      if (i > 0) expect(h.score).toBeLessThanOrEqual(normed[i - 1].score);
    });
    // Cut at maxLength: not finished.
    const cut = beamSearch(step, [0], { beams: 1, maxLength: 1 });
    expect(cut[0]).toMatchObject({ tokens: [1], finished: false });
  });

  it('takes tensors from the step function ([B, V] and [B, T, V], last position)', () => {
    const step2 = (prefixes: number[][]): sg.Tensor => sg.tensor(Float32Array.from(toyStep(prefixes).flat()), [prefixes.length, 4]);
    expect(beamSearch(step2, [0], { beams: 2, maxLength: 2 })[0].tokens).toEqual([2, 1]);
    const step3 = (prefixes: number[][]): sg.Tensor => {
      const rows = toyStep(prefixes);
      const data = rows.flatMap((r) => [...r.map(() => 0), ...r]); // T = 2, the last is the real one
      return sg.tensor(Float32Array.from(data), [prefixes.length, 2, 4]);
    };
    expect(beamSearch(step3, [0], { beams: 2, maxLength: 2 })[0].tokens).toEqual([2, 1]);
  });
});

describe('generate', () => {
  it('samples token by token until the end token or maxNewTokens', () => {
    const step = (prefixes: number[][]): Float32Array => {
      const last = prefixes[0][prefixes[0].length - 1];
      return Float32Array.from([0, 1, 2, 3], (t) => (t === (last + 1) % 4 ? 0 : -Infinity));
    };
    expect(generate(step, [0], { maxNewTokens: 10, endToken: 3 })).toEqual([1, 2, 3]);
    expect(generate(step, [1], { maxNewTokens: 2 })).toEqual([2, 3]);
    expect(generate(step, [1], { maxNewTokens: 0 })).toEqual([]);
  });
});

describe('sampling: bad inputs', () => {
  it('names the function and the problem', () => {
    expect(() => sample(LOGITS, { topK: 0 })).toThrow(/sample: topK must be an integer >= 1, got 0/);
    expect(() => sample(LOGITS, { topK: 1.5 })).toThrow(/sample: topK/);
    expect(() => sample(LOGITS, { topP: 0 })).toThrow(/sample: topP must be in \(0, 1\], got 0/);
    expect(() => sample(LOGITS, { topP: 1.2 })).toThrow(/topP/);
    expect(() => distribution(LOGITS, { topP: Number.NaN })).toThrow(/distribution: topP/);
    expect(() => sample(LOGITS, { temperature: -1 })).toThrow(/sample: temperature must be a number >= 0, got -1/);
    expect(() => sample([0, Number.NaN], {})).toThrow(/sample: logits must be numbers .* got NaN at index 1/);
    expect(() => sample([-Infinity, -Infinity])).toThrow(/every logit is -Infinity/);
    expect(() => sample([])).toThrow(/sample: logits are empty/);
    expect(() => sample('abc' as never)).toThrow(/sample: logits must be a Tensor/);
    expect(() => sample(LOGITS, { generator: Math as never })).toThrow(/generator must be a Generator/);
    const m = sg.zeros([2, 3]);
    expect(() => greedy(m)).toThrow(/greedy: logits must be one row/);
    m.dispose();
    expect(() => beamSearch(toyStep, [0], { beams: 0, maxLength: 2 })).toThrow(/beamSearch: beams must be an integer >= 1, got 0/);
    expect(() => beamSearch(toyStep, [0], { beams: 2, maxLength: 0 })).toThrow(/beamSearch: maxLength/);
    expect(() => beamSearch(toyStep, [0], { beams: 2, maxLength: 2, lengthPenalty: -1 })).toThrow(/beamSearch: lengthPenalty/);
    expect(() => beamSearch(() => [[1, 2]], [0], { beams: 2, maxLength: 2 })).toThrow(/beamSearch: step returned 1 rows of logits for 2 prefix/);
    expect(() => beamSearch(42 as never, [0], { beams: 2, maxLength: 2 })).toThrow(/beamSearch: step must be a function/);
    expect(() => generate(toyStep, [0.5], { maxNewTokens: 2 })).toThrow(/generate: prompt\[0\]/);
    expect(() => generate(toyStep, [0], { maxNewTokens: 2, topK: 0 })).toThrow(/generate: topK/);
    expect(() => generate(() => [Number.NaN], [0], { maxNewTokens: 2 })).toThrow(/generate \(step's logits\): logits must be numbers/);
  });
});
