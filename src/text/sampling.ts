// Choosing tokens from a model's logits (notes §1.12.5.2): greedy, temperature, top-k, top-p
// (nucleus) and beam search. The model is only seen through a step function, so an LSTM that
// re-reads the prefix and a transformer with a KV cache drive the same code.
//
// All random draws come from a Generator (default: the global one of core/random.ts), so a
// manualSeed() or a Generator of one's own makes generation repeatable.
import { Tensor } from '../core/tensor.js';
import { Generator, rng as globalRng } from '../core/random.js';
import { describe } from './bpe.js';

/** One row of logits: a 1-D tensor (or [1, V]), or plain numbers. */
export type Logits = Tensor | ArrayLike<number>;

/**
 * The model: given the current prefixes (prompt + tokens so far), the logits of the next token
 * for each, as a [B, V] tensor, a [B, T, V] tensor (the last position is used) or one array per
 * prefix (a single array when there is one prefix). Returned tensors are read, not disposed.
 */
export type StepFn = (prefixes: number[][]) => Tensor | ArrayLike<number>[] | ArrayLike<number>;

export interface SamplingOptions {
  /** Always the most probable token (same as temperature 0). */
  greedy?: boolean;
  /** Softmax temperature T >= 0 (default 1): 0 is greedy, Infinity is uniform over the candidates. */
  temperature?: number;
  /** Keep only the k most probable tokens (integer >= 1). */
  topK?: number;
  /** Keep the smallest set of most probable tokens whose probability sums to >= p, p in (0, 1]. */
  topP?: number;
  /** Source of the draws (default: the global generator). */
  generator?: Generator;
}

/**
 * The distribution the options define over the vocabulary: softmax(a / T), then top-k, then
 * top-p on what is left, renormalised. Tokens with logit -Infinity have probability 0.
 */
export function distribution(logits: Logits, options: SamplingOptions = {}): Float64Array {
  return distributionOf('distribution', toRow('distribution', logits), options);
}

/** One token drawn from distribution(logits, options). */
export function sample(logits: Logits, options: SamplingOptions = {}): number {
  const p = distributionOf('sample', toRow('sample', logits), options);
  return draw(p, options.generator ?? globalRng);
}

/** The index of the largest logit (the first one on ties). */
export function greedy(logits: Logits): number {
  return argmax(toRow('greedy', logits));
}

/** log softmax of one row, in float64. */
export function logSoftmax(logits: Logits): Float64Array {
  return logSoftmaxOf(toRow('logSoftmax', logits));
}

export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to generate at most. */
  maxNewTokens: number;
  /** Stop after this token (it is included in the result). */
  endToken?: number;
}

/** Autoregressive sampling: the new tokens (not the prompt), ending at endToken or maxNewTokens. */
export function generate(step: StepFn, prompt: readonly number[], options: GenerateOptions): number[] {
  const fn = 'generate';
  checkStepAndPrompt(fn, step, prompt);
  if (options === null || typeof options !== 'object') throw new Error(`${fn}: options { maxNewTokens } are required`);
  checkCount(fn, 'maxNewTokens', options.maxNewTokens, 0);
  checkSamplingOptions(fn, options);
  if (options.endToken !== undefined) checkCount(fn, 'endToken', options.endToken, 0);
  const gen = options.generator ?? globalRng;
  const seq = prompt.slice();
  const out: number[] = [];
  for (let t = 0; t < options.maxNewTokens; t++) {
    const [row] = callStep(fn, step, [seq]);
    const token = draw(distributionOf(fn, row, options), gen);
    out.push(token);
    seq.push(token);
    if (token === options.endToken) break;
  }
  return out;
}

export interface BeamSearchOptions {
  /** Number of beams k (hypotheses kept per step). */
  beams: number;
  /** Most tokens generated per hypothesis (the end token counts). */
  maxLength: number;
  /** A hypothesis that produces this token is finished. */
  endToken?: number;
  /**
   * Length normalisation: hypotheses are ranked by logProb / length^lengthPenalty. 0 (default)
   * ranks by the joint log-probability itself; about 0.6 to 1 stops short endings from winning.
   */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** Generated tokens (without the prompt). */
  tokens: number[];
  /** Sum of the tokens' log-probabilities: log p(tokens | prompt). */
  logProb: number;
  /** The ranking score (logProb, or its length-normalised form). */
  score: number;
  /** True when it ended with endToken (false: cut at maxLength). */
  finished: boolean;
}

/**
 * Beam search for the most probable continuation: each step extends every kept hypothesis by
 * every token and keeps the k best by joint log-probability (notes §1.12.5.2). Returns up to k
 * hypotheses, best first. A hypothesis that emits endToken stops growing; the search stops when
 * no live one can still beat the k finished ones, or at maxLength.
 */
export function beamSearch(step: StepFn, prompt: readonly number[], options: BeamSearchOptions): Hypothesis[] {
  const fn = 'beamSearch';
  checkStepAndPrompt(fn, step, prompt);
  if (options === null || typeof options !== 'object') throw new Error(`${fn}: options { beams, maxLength } are required`);
  const k = options.beams;
  checkCount(fn, 'beams', k, 1);
  checkCount(fn, 'maxLength', options.maxLength, 1);
  if (options.endToken !== undefined) checkCount(fn, 'endToken', options.endToken, 0);
  const alpha = options.lengthPenalty ?? 0;
  if (!Number.isFinite(alpha) || alpha < 0) throw new Error(`${fn}: lengthPenalty must be a finite number >= 0, got ${alpha}`);
  const score = (h: { tokens: number[]; logProb: number }): number => (alpha === 0 ? h.logProb : h.logProb / Math.pow(h.tokens.length, alpha));

  let alive: { tokens: number[]; logProb: number }[] = [{ tokens: [], logProb: 0 }];
  const finished: Hypothesis[] = [];
  const byScore = (a: Hypothesis, b: Hypothesis): number => b.score - a.score;
  for (let t = 0; t < options.maxLength && alive.length > 0; t++) {
    const rows = callStep(fn, step, alive.map((h) => prompt.concat(h.tokens)));
    // Per beam, its 2k best tokens are enough: at most k of the kept candidates can be end tokens.
    const cand: { beam: number; token: number; logProb: number }[] = [];
    rows.forEach((row, b) => {
      const lp = logSoftmaxOf(row);
      for (const token of topIndices(lp, 2 * k)) {
        if (lp[token] === -Infinity) break;
        cand.push({ beam: b, token, logProb: alive[b].logProb + lp[token] });
      }
    });
    cand.sort((x, y) => y.logProb - x.logProb || x.beam - y.beam || x.token - y.token);
    const next: typeof alive = [];
    for (let r = 0; r < cand.length && next.length < k; r++) {
      const c = cand[r];
      const tokens = alive[c.beam].tokens.concat(c.token);
      if (c.token === options.endToken) {
        if (r < k) {
          const h = { tokens, logProb: c.logProb, score: 0, finished: true };
          h.score = score(h);
          finished.push(h);
        }
      } else {
        next.push({ tokens, logProb: c.logProb });
      }
    }
    alive = next;
    if (alpha === 0 && finished.length >= k && alive.length > 0) {
      finished.sort(byScore);
      // Log-probabilities only fall as a hypothesis grows: the live ones cannot catch up.
      if (alive[0].logProb <= finished[k - 1].score) break;
    }
  }
  for (const h of alive) finished.push({ tokens: h.tokens, logProb: h.logProb, score: score(h), finished: false });
  finished.sort(byScore);
  return finished.slice(0, k);
}

// ---- internals ----

function toRow(fn: string, logits: Logits): Float64Array {
  let values: ArrayLike<number>;
  if (logits instanceof Tensor) {
    const lead = logits.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (logits.ndim < 1 || lead !== 1) throw new Error(`${fn}: logits must be one row ([V] or [1, V]), got a tensor of shape [${logits.shape.join(', ')}]`);
    values = logits.data();
  } else if (logits !== null && typeof logits === 'object' && typeof (logits as ArrayLike<number>).length === 'number') {
    values = logits;
  } else {
    throw new Error(`${fn}: logits must be a Tensor, a typed array or an array of numbers, got ${describe(logits)}`);
  }
  return checkRow(fn, values);
}

function checkRow(fn: string, values: ArrayLike<number>): Float64Array {
  if (values.length === 0) throw new Error(`${fn}: logits are empty`);
  const row = new Float64Array(values.length);
  let anyFinite = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || Number.isNaN(v) || v === Infinity) throw new Error(`${fn}: logits must be numbers (finite or -Infinity), got ${String(v)} at index ${i}`);
    if (v !== -Infinity) anyFinite = true;
    row[i] = v;
  }
  if (!anyFinite) throw new Error(`${fn}: every logit is -Infinity; no token can be chosen`);
  return row;
}

function checkSamplingOptions(fn: string, o: SamplingOptions): void {
  if (o === null || typeof o !== 'object') throw new Error(`${fn}: options must be an object, got ${describe(o)}`);
  const { temperature: T, topK, topP, generator } = o;
  if (T !== undefined && (typeof T !== 'number' || Number.isNaN(T) || T < 0)) throw new Error(`${fn}: temperature must be a number >= 0, got ${String(T)}`);
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new Error(`${fn}: topK must be an integer >= 1, got ${String(topK)}`);
  if (topP !== undefined && (typeof topP !== 'number' || !(topP > 0 && topP <= 1))) throw new Error(`${fn}: topP must be in (0, 1], got ${String(topP)}`);
  if (generator !== undefined && !(generator instanceof Generator)) throw new Error(`${fn}: generator must be a Generator (e.g. new RandomGenerator(seed)), got ${describe(generator)}`);
}

function checkCount(fn: string, name: string, v: unknown, min: number): void {
  if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${fn}: ${name} must be an integer >= ${min}, got ${String(v)}`);
}

function checkStepAndPrompt(fn: string, step: unknown, prompt: unknown): void {
  if (typeof step !== 'function') throw new Error(`${fn}: step must be a function (prefixes) => logits, got ${describe(step)}`);
  if (!Array.isArray(prompt)) throw new Error(`${fn}: prompt must be an array of token ids, got ${describe(prompt)}`);
  prompt.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0) throw new Error(`${fn}: prompt[${i}] must be a token id (integer >= 0), got ${String(t)}`);
  });
}

/** Calls the model and returns one checked float64 row per prefix. */
function callStep(fn: string, step: StepFn, prefixes: number[][]): Float64Array[] {
  const B = prefixes.length;
  const out = step(prefixes);
  const rows: Float64Array[] = [];
  if (out instanceof Tensor) {
    const s = out.shape;
    if ((s.length !== 2 && s.length !== 3) || s[0] !== B) {
      throw new Error(`${fn}: step returned a tensor of shape [${s.join(', ')}]; expected [${B}, V] or [${B}, T, V] for ${B} prefix(es)`);
    }
    const V = s[s.length - 1];
    const T = s.length === 3 ? s[1] : 1;
    const data = out.data();
    for (let b = 0; b < B; b++) {
      const off = (b * T + T - 1) * V;
      rows.push(checkRow(`${fn} (row ${b} of the step's logits)`, data.subarray(off, off + V)));
    }
  } else if (out !== null && typeof out === 'object' && typeof (out as ArrayLike<unknown>).length === 'number') {
    const list = out as ArrayLike<unknown>;
    if (B === 1 && typeof list[0] === 'number') {
      rows.push(checkRow(`${fn} (step's logits)`, list as ArrayLike<number>));
    } else {
      if (list.length !== B) throw new Error(`${fn}: step returned ${list.length} rows of logits for ${B} prefix(es)`);
      for (let b = 0; b < B; b++) {
        const r = list[b];
        rows.push(r instanceof Tensor ? toRow(`${fn} (row ${b} of the step's logits)`, r) : checkRow(`${fn} (row ${b} of the step's logits)`, r as ArrayLike<number>));
      }
    }
  } else {
    throw new Error(`${fn}: step must return a Tensor or arrays of logits, got ${describe(out)}`);
  }
  const V = rows[0].length;
  if (rows.some((r) => r.length !== V)) throw new Error(`${fn}: step returned rows of different lengths`);
  return rows;
}

function argmax(row: Float64Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function logSoftmaxOf(row: Float64Array): Float64Array {
  const m = row[argmax(row)];
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  const lse = m + Math.log(s);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  return out;
}

/** Indices of the n largest values, largest first (lower index first on ties). */
function topIndices(values: Float64Array, n: number): Int32Array {
  const idx = new Int32Array(values.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.subarray(0, Math.min(n, idx.length));
}

function distributionOf(fn: string, row: Float64Array, o: SamplingOptions): Float64Array {
  checkSamplingOptions(fn, o);
  const V = row.length;
  const p = new Float64Array(V);
  const T = o.temperature ?? 1;
  if (o.greedy || T === 0) {
    p[argmax(row)] = 1;
    return p;
  }
  if (T === Infinity) {
    for (let i = 0; i < V; i++) p[i] = row[i] === -Infinity ? 0 : 1;
  } else {
    const m = row[argmax(row)];
    for (let i = 0; i < V; i++) p[i] = Math.exp((row[i] - m) / T);
  }
  normalise(p);
  if (o.topK !== undefined || o.topP !== undefined) {
    // Candidates by probability, largest first; ties keep the lower index (as greedy does).
    const order = topIndices(p, o.topK ?? V);
    let keep = order.length;
    if (o.topP !== undefined) {
      let total = 0;
      for (let r = 0; r < order.length; r++) total += p[order[r]];
      let cum = 0;
      keep = 0;
      // Relative to the mass left after top-k, with a hair of slack for rounding so p = 1 keeps
      // exactly the tokens of non-zero probability.
      while (keep < order.length && p[order[keep]] > 0) {
        cum += p[order[keep]];
        keep++;
        if (cum >= o.topP * total * (1 - 1e-12)) break;
      }
    }
    const kept = new Float64Array(V);
    for (let r = 0; r < keep; r++) kept[order[r]] = p[order[r]];
    normalise(kept);
    return kept;
  }
  return p;
}

function normalise(p: Float64Array): void {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i];
  for (let i = 0; i < p.length; i++) p[i] /= s;
}

function draw(p: Float64Array, gen: Generator): number {
  const u = gen.uniform();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    cum += p[i];
    last = i;
    if (u < cum) return i;
  }
  return last; // u fell in the rounding gap above the final sum
}
