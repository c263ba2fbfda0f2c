// Property-based fuzzing of every registered op (and, lightly, of the nn layers of
// test/nn/layer-table.ts). Inputs are derived from each op's registry samples: the sample's
// shapes with dimension sizes substituted consistently (0, 1, odd and large sizes), single
// dimensions changed, ranks changed, broadcasting patterns for binary elementwise ops, wrong
// dtypes, values with zeros, denormals, huge magnitudes, NaN and ±Inf, and mutated arguments
// and option objects. For every case the op must either throw an Error whose message starts
// with its name, or return a result that agrees with its registry reference (values; and
// gradients by finite differences, or against the composed reference, on small finite cases).
// Never a wasm trap, a non-Error throw, a NaN where the maths is finite, a change to an input,
// or a write outside a block (debug guard bytes are on for the whole file).
//
// The op list is read from the registry, so ops defined later are fuzzed without a change here;
// an op without samples or without a reference (and no reason for it) fails by name.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGuards, setDebugGuards } from '../../bindings/allocator';
import * as sg from '../../src/index';
import { allOps, type HostTensor, type InputSpec, type OpDef, type OpSample } from '../../src/ops/registry';
import { layerTable } from '../nn/layer-table';

const SEED = 20251204;
// Runs per op; SIMDGRAD_FUZZ_RUNS raises it for a longer local hunt (the seed stays fixed).
const RUNS = Number(process.env.SIMDGRAD_FUZZ_RUNS ?? 64);
const LAYER_RUNS = Math.max(4, Math.round(RUNS / 4));
// Inputs above this many elements fall back to the sample's own shapes: plain-JS references
// (naive convolution loops) must stay fast enough for the whole file to run in well under a minute.
const MAX_ELEMENTS = 12_000;
const MAX_CALL_MS = 5_000;
const DIMS = [0, 1, 1, 2, 3, 5, 7, 13, 17, 33, 65, 129] as const;
const SMALL_DIMS = [0, 1, 2, 3] as const;
// Ops that update their running statistics in place by design: those inputs (the ones not
// differentiated, grad: false in the samples) may change.
const UPDATES_RUNNING_STATS = new Set(['batchNorm']);

const EDGE = [0, -0, 1e-40, -1e-40, 1.4e-45, -1.4e-45, 1e-30, -1e-30, 1, -1, 2, 0.5, 1.5];
// Huge but with products inside f32's range (1e34): an Inf - Inf = NaN from overflowing
// intermediate products is f32 arithmetic, not a bug; larger magnitudes go with the non-finite
// values, where only traps, errors and stray writes are checked.
const HUGE = [1e17, -1e17, 3e16, -5e15];
const NONFINITE = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, -1e30];

type Mode = 'spec' | 'edge' | 'huge' | 'nonfinite';
type WrongDType = 'int32' | 'int8' | 'uint8';

interface Case {
  sample: number;
  subs: [number, number][];
  poke: [number, number, number] | null;
  rank: [number, boolean, number, number] | null;
  broadcast: [number, number] | null;
  mode: Mode;
  seed: number;
  dtype: [number, WrongDType] | null;
  arg: [number, number, number] | null;
  grad: boolean;
}

// A fixed junk pool for argument positions and option values: wrong types, negative and
// fractional integers, out-of-range numbers, unknown keys.
const JUNK: readonly unknown[] = [
  undefined, null, NaN, Infinity, -Infinity, -1, -2, 0, 1, 2, 1.5, -0.5, 2 ** 31, 1e9, 'x', '', 'mean', true, false,
  {}, [], [1.5], [-1], [0], [2, 2], { bogus: 1 }, 1n, Symbol('junk'), () => 1, new Float32Array(2),
];

/** null most of the time: each mutation is rare enough that most cases get past the checks. */
const rarely = <T>(arb: fc.Arbitrary<T>, weight: number): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight }, { arbitrary: arb, weight: 1 });

const caseArb = (smallDims: boolean): fc.Arbitrary<Case> => fc.record({
  sample: fc.nat(),
  subs: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...(smallDims ? SMALL_DIMS : DIMS))), { maxLength: 3 }),
  poke: rarely(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...DIMS)), 6),
  rank: rarely(fc.tuple(fc.nat(), fc.boolean(), fc.nat(), fc.constantFrom(1, 2, 3)), 8),
  broadcast: rarely(fc.tuple(fc.nat(), fc.nat()), 2),
  mode: fc.constantFrom<Mode>('spec', 'spec', 'edge', 'edge', 'huge', 'nonfinite'),
  seed: fc.integer(),
  dtype: rarely(fc.tuple(fc.nat(), fc.constantFrom<WrongDType>('int32', 'int8', 'uint8')), 8),
  arg: rarely(fc.tuple(fc.nat(), fc.nat(), fc.nat()), 3),
  grad: fc.boolean(),
});

// ---- case → concrete inputs ------------------------------------------------------------------

/** mulberry32: a small seeded generator, so values follow from the case's seed alone. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface Concrete {
  sample: OpSample;
  specs: InputSpec[];
  /** Whether shapes differ from the sample's (fixed `values` then no longer fit). */
  reshaped: boolean;
  /** Whether dtypes and arguments are the sample's own (shapes and values may differ). */
  plain: boolean;
}

function concretize(def: OpDef, c: Case): Concrete {
  const sample = def.samples[c.sample % def.samples.length];
  const orig = sample.inputs.map((s) => s.shape.slice());
  let shapes = orig.map((s) => s.slice());
  // Consistent substitution keeps related dimensions related (matmul's inner size, a batch
  // shared by logits and labels), so the op gets past its shape checks with odd sizes.
  const distinct = [...new Set(orig.flat())];
  for (const [which, to] of c.subs) {
    if (distinct.length === 0) break;
    const from = distinct[which % distinct.length];
    shapes = shapes.map((s, si) => s.map((d, i) => (orig[si][i] === from ? to : d)));
  }
  if (c.poke !== null && shapes.length > 0) {
    const s = shapes[c.poke[0] % shapes.length];
    if (s.length > 0) s[c.poke[1] % s.length] = c.poke[2];
  }
  if (c.rank !== null && shapes.length > 0) {
    const s = shapes[c.rank[0] % shapes.length];
    if (c.rank[1]) s.splice(c.rank[2] % (s.length + 1), 0, c.rank[3]);
    else if (s.length > 0) s.splice(c.rank[2] % s.length, 1);
  }
  if (c.broadcast !== null && shapes.length === 2 && def.family === 'elementwise') {
    // Ones in some dimensions of one input, or leading dimensions dropped: NumPy broadcasting.
    const s = shapes[c.broadcast[0] % 2];
    const mask = c.broadcast[1];
    if (mask % 5 === 0 && s.length > 0) s.splice(0, 1 + (mask % s.length));
    else for (let i = 0; i < s.length; i++) if ((mask >> i) & 1) s[i] = 1;
  }
  if (shapes.some((s) => sizeOf(s) > MAX_ELEMENTS)) shapes = orig.map((s) => s.slice());
  const reshaped = shapes.some((s, i) => s.length !== orig[i].length || s.some((d, j) => d !== orig[i][j]));
  const specs = sample.inputs.map((s, i) => ({ ...s, shape: shapes[i] }));
  return { sample, specs, reshaped, plain: c.dtype === null && c.arg === null };
}

function baseValues(spec: InputSpec, n: number, reshaped: boolean, rnd: () => number): number[] {
  const kind = spec.kind ?? 'uniform';
  const given = spec.values ?? [];
  if ((kind === 'values' || kind === 'int') && !reshaped && given.length === n) return [...given];
  if (kind === 'int') {
    // Labels: within the range the sample used (the class count may have changed: then the op
    // must refuse the labels that fell outside it, by name).
    const hi = given.length > 0 ? Math.max(...given) : 1;
    return Array.from({ length: n }, () => Math.floor(rnd() * (hi + 1)));
  }
  if (kind === 'values') {
    const lo = Math.min(...given, 0), hi = Math.max(...given, 1);
    return Array.from({ length: n }, () => lo + (hi - lo) * rnd());
  }
  if (kind === 'away') {
    const lo = spec.lo ?? 0.1, hi = spec.hi ?? 1;
    return Array.from({ length: n }, () => (rnd() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rnd()));
  }
  if (kind === 'distinct') {
    const order = Array.from({ length: n }, (_, i) => i).sort(() => rnd() - 0.5);
    return order.map((i) => (i - n / 2) * 0.1);
  }
  const lo = spec.lo ?? -1, hi = spec.hi ?? 1;
  return Array.from({ length: n }, () => lo + (hi - lo) * rnd());
}

function injected(values: number[], pool: readonly number[], rnd: () => number): number[] {
  return values.map((v) => (rnd() < 0.3 ? pool[Math.floor(rnd() * pool.length)] : v));
}

interface Input {
  tensor: sg.Tensor;
  finite: boolean;
}

function makeInput(spec: InputSpec, index: number, count: number, c: Case, reshaped: boolean, rnd: () => number): Input {
  const n = sizeOf(spec.shape);
  let values = baseValues(spec, n, reshaped, rnd);
  const isInt = spec.kind === 'int';
  if (isInt) {
    if (c.mode !== 'spec') values = injected(values, [-1, 0, 1, 2 ** 31 - 1, -(2 ** 31), 1000], rnd);
  } else if (c.mode === 'edge') values = injected(values, EDGE, rnd);
  else if (c.mode === 'huge') values = injected(values, HUGE, rnd);
  else if (c.mode === 'nonfinite') values = injected(values, NONFINITE, rnd);
  const wrong = c.dtype !== null && c.dtype[0] % count === index ? c.dtype[1] : null;
  if (wrong !== null) {
    return { tensor: sg.tensor(values.map((v) => (Number.isFinite(v) ? Math.max(wrong === 'uint8' ? 0 : -100, Math.min(100, Math.round(v))) : 0)), spec.shape.slice(), { dtype: wrong }), finite: true };
  }
  if (isInt) return { tensor: sg.tensor(values, spec.shape.slice(), { dtype: 'int32' }), finite: true };
  const finite = values.every(Number.isFinite) && values.every((v) => Number.isFinite(Math.fround(v)));
  return { tensor: sg.tensor(values, spec.shape.slice(), { requiresGrad: spec.grad ?? true }), finite };
}

function mutateArgs(args: readonly unknown[], arg: [number, number, number] | null): unknown[] {
  const out = [...args];
  if (arg === null) return out;
  const [pos, junk, key] = arg;
  const at = pos % (out.length + 1);
  const cur = out[at];
  if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && key % 2 === 0) {
    // An option object: one of its keys (or an unknown one) set to junk.
    const keys = [...Object.keys(cur), 'bogusOption'];
    out[at] = { ...cur, [keys[key % keys.length]]: JUNK[junk % JUNK.length] };
  } else if (Array.isArray(cur) && cur.length > 0 && key % 2 === 0) {
    const copy: unknown[] = [...cur];
    copy[key % copy.length] = JUNK[junk % JUNK.length];
    out[at] = copy;
  } else {
    out[at] = JUNK[junk % JUNK.length];
  }
  return out;
}

// ---- checks ------------------------------------------------------------------------------

const hostOf = (t: sg.Tensor): HostTensor => ({ shape: t.shape.slice(), data: Array.from(t.data()) });
const opNames = (): string[] => allOps().map((d) => d.name);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function describeCase(def: OpDef, k: Concrete, args: unknown[], c: Case): string {
  const a = args.map((v) => (typeof v === 'symbol' || typeof v === 'function' ? String(v)
    : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'undefined'));
  return `${def.name} (${k.sample.label}) shapes ${JSON.stringify(k.specs.map((s) => s.shape))} args [${a.join(', ')}] mode ${c.mode} dtype ${JSON.stringify(c.dtype)}`;
}

/** A thrown value must be an Error (never a wasm trap or a non-Error) naming the op. */
function expectNamedError(e: unknown, def: OpDef, k: Concrete, what: string, args: unknown[] = []): void {
  if (!(e instanceof Error)) expect.fail(`${what}: threw a non-Error ${String(e)}`);
  if (e instanceof WebAssembly.RuntimeError) expect.fail(`${what}: wasm trap: ${e.message}`);
  // A sample with its own call may legitimately reach other ops first (nllLoss of logSoftmax).
  const names = k.sample.call !== undefined ? opNames() : [def.name];
  const ok = names.some((n) => new RegExp(`^${escape(n)}: `).test(e.message));
  if (!ok) expect.fail(`${what}: Error does not start with '${def.name}: ': ${e.constructor.name}: ${e.message}`);
}

// Families whose state compounds over steps: huge inputs overflow f32 after a few steps, and
// Inf - Inf = NaN there is f32 arithmetic, so their huge cases check traps, errors and writes only.
const COMPOUNDING = new Set(['recurrent']);

function compareValues(got: HostTensor, want: HostTensor, tol: number, mode: Mode, what: string): void {
  expect(got.shape, `${what}: shape`).toEqual([...want.shape]);
  for (let i = 0; i < got.data.length; i++) {
    const g = got.data[i];
    const w = Math.fround(want.data[i]);
    if (mode === 'huge') {
      // Only what f32 cannot excuse: a NaN, or an infinity, where the maths gives a modest finite value.
      if (Number.isFinite(w) && (Number.isNaN(g) || (!Number.isFinite(g) && Math.abs(w) < 1e30))) expect.fail(`${what}: element ${i}: got ${g}, reference ${want.data[i]}`);
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) expect.fail(`${what}: element ${i}: got ${g}, reference ${want.data[i]}`);
      continue;
    }
    const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (!(err <= tol)) expect.fail(`${what}: element ${i}: got ${g}, reference ${want.data[i]} (relative error ${err.toExponential(2)} > ${tol})`);
  }
}

function snapshot(xs: sg.Tensor[]): number[][] {
  return xs.map((x) => Array.from(x.data()));
}

function expectUnchanged(def: OpDef, k: Concrete, xs: sg.Tensor[], before: number[][], what: string): void {
  xs.forEach((x, i) => {
    if ((UPDATES_RUNNING_STATS.has(def.name) && k.specs[i].grad === false) || !x.isAlive) return;
    const now = Array.from(x.data());
    for (let j = 0; j < now.length; j++) {
      if (!Object.is(now[j], before[i][j]) && !(Number.isNaN(now[j]) && Number.isNaN(before[i][j]))) {
        expect.fail(`${what}: input ${i} element ${j} changed from ${before[i][j]} to ${now[j]}`);
      }
    }
  });
}

const stats = { cases: 0, errors: 0, compared: 0, gradchecked: 0, refUnavailable: 0 };

function call(def: OpDef, k: Concrete, xs: sg.Tensor[], args: unknown[]): sg.Tensor {
  if (k.sample.call !== undefined) return k.sample.call(...xs);
  return (def.fn as (...a: unknown[]) => sg.Tensor)(...xs, ...args);
}

function runCase(def: OpDef, c: Case, compareRef: boolean): void {
  sg.scope(() => {
    const k = concretize(def, c);
    const rnd = prng(c.seed);
    const inputs = k.specs.map((s, i, all) => makeInput(s, i, all.length, c, k.reshaped, rnd));
    const xs = inputs.map((x) => x.tensor);
    const allFinite = inputs.every((x) => x.finite) && c.mode !== 'nonfinite' && !(c.mode === 'huge' && COMPOUNDING.has(def.family));
    const args = mutateArgs(k.sample.args ?? [], k.sample.call === undefined ? c.arg : null);
    const what = describeCase(def, k, args, c);
    const before = snapshot(xs);
    stats.cases++;
    let out: sg.Tensor | undefined;
    let got: HostTensor | undefined;
    const t0 = performance.now();
    try {
      out = sg.noGrad(() => call(def, k, xs, args));
      got = hostOf(out);
    } catch (e) {
      expectNamedError(e, def, k, what, args);
      stats.errors++;
    }
    const ms = performance.now() - t0;
    if (ms > MAX_CALL_MS) expect.fail(`${what}: took ${ms.toFixed(0)} ms`);
    checkGuards();
    expectUnchanged(def, k, xs, before, what);
    if (out === undefined || got === undefined) return;
    expect(out).toBeInstanceOf(sg.Tensor);
    // A NaN from finite inputs is a bug whatever the reference says, except where the op's
    // maths itself leaves the reals (log/sqrt of a negative): there the reference decides.
    const ref = def.reference;
    const canCompare = compareRef && ref !== undefined && k.sample.call === undefined;
    if (allFinite && !canCompare && Array.from(got.data).some((v) => Number.isNaN(v))) expect.fail(`${what}: NaN from finite inputs`);
    if (!canCompare) return;
    let want: HostTensor;
    try {
      want = 'js' in ref
        ? ref.js(...xs.map((x) => (x.isAlive ? hostOf(x) : x)), ...args)
        : hostOf(sg.noGrad(() => ref.composed(...xs, ...args)));
    } catch (e) {
      // References that cannot predict a case say so (dropout's random mask); any other
      // refusal means the op accepted what its own definition of the maths does not.
      if (e instanceof Error && /reference/.test(e.message)) { stats.refUnavailable++; return; }
      expect.fail(`${what}: the op returned ${JSON.stringify(got.shape)} but its reference threw: ${String(e)}`);
    }
    const n = Math.max(1, ...xs.map((x) => x.size));
    // Recurrent state amplifies rounding by the recurrent weights' gain at every step (wide
    // random wHh: ~5x per step), so their tolerance is looser than one layer's.
    const tol = Math.max(ref.tolerance ?? 2e-5, 2e-5 * Math.sqrt(n)) * (COMPOUNDING.has(def.family) ? 20 : 1);
    if (allFinite) compareValues(got, want, tol, c.mode, what);
    stats.compared++;
    if (c.grad && c.mode === 'spec' && k.plain && def.differentiable && k.sample.noGradcheck === undefined) {
      gradientCheck(def, k, xs, args, what);
    }
  });
}

function gradientCheck(def: OpDef, k: Concrete, xs: sg.Tensor[], args: unknown[], what: string): void {
  if (xs.reduce((s, x) => s + x.size, 0) > 40 || xs.every((x) => !x.requiresGrad)) return;
  // Fixed sample values redrawn for another shape may sit on a kink or pole (q near 0 in
  // klDivergence) where central differences are not the derivative.
  if (k.reshaped && k.specs.some((s) => s.kind === 'values')) return;
  const f = (...a: sg.Tensor[]): sg.Tensor => call(def, k, a, args);
  const probe = sg.noGrad(() => f(...xs));
  if (probe.size === 0) return;
  stats.gradchecked++;
  const r = sg.gradcheck(f, xs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
  // A step of 1e-2 is too coarse where the op curves sharply (layerNorm over two close values):
  // a failure counts only if a finer step disagrees too.
  if (!r.ok) {
    const fine = sg.gradcheck(f, xs, { eps: 2e-3, atol: 5e-3, rtol: 3e-2 });
    if (!fine.ok) expect.fail(`${what}: gradient: ${r.worst}; with a step of 2e-3: ${fine.worst}`);
  }
  const ref = def.reference;
  if (ref !== undefined && 'composed' in ref) {
    const proj = sg.rand(probe.shape.slice(), -1, 1);
    const grads = (g: () => sg.Tensor): number[][] => {
      for (const x of xs) { x.grad?.dispose(); x.grad = null; }
      sg.sum(sg.mul(g(), proj)).backward();
      return xs.map((x) => (x.grad === null ? [] : Array.from(x.grad.data())));
    };
    const mine = grads(() => f(...xs));
    const theirs = grads(() => ref.composed(...xs, ...args));
    mine.forEach((g, i) => g.forEach((v, j) => {
      if (!(Math.abs(v - theirs[i][j]) <= 1e-4 * Math.max(1, Math.abs(theirs[i][j])))) {
        expect.fail(`${what}: gradient of input ${i} [${j}] ${v}, composed reference ${theirs[i][j]}`);
      }
    }));
  }
}

// ---- the tests ---------------------------------------------------------------------------

beforeAll(() => {
  setDebugGuards(true);
});
afterAll(() => {
  setDebugGuards(false);
});

describe('fuzzing every registered op', () => {
  const ops = allOps();
  it('finds ops to fuzz, each with samples and a reference or the reason it has none', () => {
    expect(ops.length).toBeGreaterThan(15);
    const lacking = ops.filter((d) => d.samples.length === 0 || (d.reference === undefined && !(d.noReference ?? '')));
    expect(lacking.map((d) => `${d.name}: ${d.samples.length === 0 ? 'no samples to derive inputs from' : 'no reference and no reason'}`)).toEqual([]);
  });

  for (const def of ops) {
    if (def.samples.length === 0) continue; // reported by name above
    const checked = def.reference !== undefined && def.samples.some((s) => s.call === undefined);
    // An op without a reference is still fuzzed for errors, traps, NaNs and stray writes; its
    // test's name says that its values are not compared, and why.
    const title = checked ? def.name : `${def.name} (values not compared: ${def.reference === undefined ? def.noReference : 'every sample has its own call'})`;
    it(title, () => {
      fc.assert(fc.property(caseArb(false), (c) => runCase(def, c, true)), { seed: SEED, numRuns: RUNS, endOnFailure: false });
      // Small shapes, so that the gradient is checked too.
      fc.assert(fc.property(caseArb(true), (c) => runCase(def, { ...c, mode: 'spec', grad: true }, true)), { seed: SEED + 1, numRuns: Math.ceil(RUNS / 4) });
    });
  }

  afterAll(() => {
    // Enough cases must have got past the checks to be compared, or the fuzzer only tests errors.
    expect(stats.compared).toBeGreaterThan(stats.cases / 5);
    expect(stats.gradchecked).toBeGreaterThan(0);
  });
});

// ---- nn layers ---------------------------------------------------------------------------

interface LayerCase {
  batch: number;
  rank: number;
  mode: Mode;
  seed: number;
}

describe('fuzzing the nn layers of test/nn/layer-table.ts', () => {
  for (const lc of layerTable) {
    it(`${lc.op}${lc.label ? ` ${lc.label}` : ''}`, () => {
      const arb: fc.Arbitrary<LayerCase> = fc.record({
        batch: fc.constantFrom(1, 1, 2, 3, 7, 0),
        rank: fc.constantFrom(0, 0, 0, -1, 1),
        mode: fc.constantFrom<Mode>('spec', 'spec', 'edge', 'huge', 'nonfinite'),
        seed: fc.integer(),
      });
      fc.assert(fc.property(arb, (c) => sg.scope(() => {
        const { fn, inputs } = lc.make();
        // The data input is the first that is not a parameter; a layer with none (an embedding
        // whose indices are fixed in the case) is run as it is.
        const at = inputs.findIndex((t) => !sg.nn.isParameter(t));
        if (at !== 0) {
          sg.noGrad(() => fn(...inputs));
          checkGuards();
          return;
        }
        const x0 = inputs[0];
        const params = inputs.slice(1);
        // A batch size elsewhere (h0's) cannot follow the change: a refusal is then no bug.
        const single = params.every((t) => sg.nn.isParameter(t)) && lc.fixedRows === undefined;
        const shape = x0.shape.slice();
        shape[0] = c.batch;
        if (c.rank === -1) shape.splice(shape.length - 1, 1);
        if (c.rank === 1) shape.push(2);
        const rnd = prng(c.seed);
        const pool = c.mode === 'edge' ? EDGE : c.mode === 'huge' ? HUGE : NONFINITE;
        let values = Array.from({ length: sizeOf(shape) }, () => rnd() * 2 - 1);
        if (c.mode !== 'spec') values = injected(values, pool, rnd);
        const x = sg.tensor(values, shape);
        const what = `${lc.op} ${lc.label} input ${JSON.stringify(shape)} mode ${c.mode}`;
        let out: sg.Tensor | undefined;
        try {
          out = sg.noGrad(() => fn(x, ...params));
        } catch (e) {
          if (!(e instanceof Error) || e instanceof WebAssembly.RuntimeError) expect.fail(`${what}: threw ${String(e)}`);
          // Layers report through the op they call or under their own name.
          if (!/^[\w.]+: /.test(e.message)) expect.fail(`${what}: Error without a name: ${e.message}`);
          // Batch 1 may be refused (batch statistics need two rows), batch 0 too.
          if (single && c.rank === 0 && c.batch > 1) expect.fail(`${what}: a valid batch was refused: ${e.message}`);
          checkGuards();
          return;
        }
        checkGuards();
        if (single && c.rank === 0 && shape.length > 1) expect(out.shape[0], what).toBe(c.batch);
        const data = out.data();
        if (c.mode !== 'nonfinite' && values.every((v) => Number.isFinite(Math.fround(v))) && c.mode !== 'huge') {
          for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) expect.fail(`${what}: NaN at ${i} from finite inputs`);
        }
      })), { seed: SEED + 2, numRuns: LAYER_RUNS });
    });
  }
});

// ---- regressions: cases the fuzzer found, kept as fixed cases ---------------------------------

describe('fuzzer findings, fixed', () => {
  const base: Case = { sample: 0, subs: [], poke: null, rank: null, broadcast: null, mode: 'spec', seed: 1, dtype: null, arg: null, grad: false };
  const op = (name: string): OpDef => allOps().find((d) => d.name === name)!;
  it('add: a 0-sized dim broadcast against 1 (the plain-JS reference gave [1,4] for [0,4] + [4])', () => {
    runCase(op('add'), { ...base, poke: [0, 0, 0], broadcast: [1, 0] }, true);
    const out = sg.add(sg.zeros([0, 4]), sg.ones([1, 4]));
    expect(out.shape).toEqual([0, 4]);
  });
  it('matmul and linear: inner dimension 0 gives zeros (+ bias), not uninitialised memory', () => {
    setDebugGuards(true);
    // Recycled blocks hold old values: make some to be recycled.
    sg.dispose(sg.full([4, 3], 7), sg.full([3, 4], 7));
    expect(Array.from(sg.matmul(sg.zeros([3, 0]), sg.zeros([0, 4])).data())).toEqual(new Array(12).fill(0));
    const y = sg.linear(sg.zeros([4, 0]), sg.zeros([3, 0]), sg.tensor([1, -2, 3]), { relu: true });
    expect(Array.from(y.data())).toEqual([1, 0, 3, 1, 0, 3, 1, 0, 3, 1, 0, 3]);
    runCase(op('matmul'), { ...base, subs: [[1, 0]] }, true);
  });
  it('layerNorm: normalizedShape null means "not given"', () => {
    const x = sg.rand([3, 2, 4]);
    expect(sg.layerNorm(x, null, null, 1e-3, null as unknown as number[]).shape).toEqual([3, 2, 4]);
  });
  it('a Symbol axis is refused with the op\'s Error, not a TypeError from formatting it', () => {
    expect(() => sg.sum(sg.zeros([2]), Symbol('axis') as unknown as number)).toThrow(/^sum: axis Symbol\(axis\) is out of range/);
  });
});
