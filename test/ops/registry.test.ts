// The op tables, built from the registry (src/ops/registry.ts): every defined op gets
//   - a finite-difference gradient check of every sample (differentiable ops),
//   - a forward check of every sample against its reference (plain JS, or for a fused op the
//     composition of other ops it must equal — then the gradients are compared too),
//   - its own bad-input cases, and generic ones derived from its samples: each tensor input
//     replaced by null, by an int32 tensor and by a disposed tensor must throw an Error that
//     starts with the op's name,
// and the registry itself is checked: names match exports, methods exist, every op has samples
// and a reference (or says why not), shape rules agree with the outputs.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { Generator } from '../../src/core/random';
import { allOps, defineOp, type HostTensor, type InputSpec, type OpDef, type OpSample } from '../../src/ops/registry';

const gen = new Generator(7);

function draw(spec: InputSpec): sg.Tensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const kind = spec.kind ?? 'uniform';
  let values: number[];
  if (kind === 'int' || kind === 'values') {
    values = [...(spec.values ?? [])];
    if (values.length !== n) throw new Error(`sample input: ${values.length} values for shape [${spec.shape}]`);
  } else if (kind === 'away') {
    const lo = spec.lo ?? 0.1, hi = spec.hi ?? 1;
    values = Array.from({ length: n }, () => (gen.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * gen.uniform()));
  } else if (kind === 'distinct') {
    const p = gen.permutation(n);
    values = Array.from(p, (i) => (i - n / 2) * 0.1);
  } else {
    const lo = spec.lo ?? -1, hi = spec.hi ?? 1;
    values = Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform());
  }
  if (kind === 'int') return sg.tensor(values, spec.shape.slice(), { dtype: 'int32' });
  return sg.tensor(values, spec.shape.slice(), { requiresGrad: spec.grad ?? true });
}

function run(def: OpDef, s: OpSample, xs: sg.Tensor[]): sg.Tensor {
  if (s.call !== undefined) return s.call(...xs);
  return (def.fn as (...a: unknown[]) => sg.Tensor)(...xs, ...(s.args ?? []));
}

const host = (t: sg.Tensor): HostTensor => ({ shape: t.shape.slice(), data: Array.from(t.data()) });

function expectClose(got: sg.Tensor, want: HostTensor, tol: number, what: string): void {
  expect(got.shape.slice(), `${what}: shape`).toEqual([...want.shape]);
  const g = got.data();
  for (let i = 0; i < g.length; i++) {
    const w = want.data[i];
    const err = Math.abs(g[i] - w) / Math.max(1, Math.abs(w));
    if (!(err <= tol)) expect.fail(`${what}: element ${i}: got ${g[i]}, reference ${w}`);
  }
}

const label = (def: OpDef, s: OpSample): string => `${def.name}${s.label ? ` (${s.label})` : ''}`;
const ops = allOps();

describe('the registry', () => {
  it('holds the ops of every family, each exported under its own name', () => {
    expect(ops.length).toBeGreaterThan(15);
    const exported = sg as unknown as Record<string, unknown>;
    for (const def of ops) expect(exported[def.name], def.name).toBe(def.fn);
  });
  it('gives every op samples and a reference (or the reason it has none)', () => {
    for (const def of ops) {
      expect(def.hasTests, `${def.name} carries no test material`).toBe(true);
      expect(def.samples.length, `${def.name} has no samples`).toBeGreaterThan(0);
      expect(def.reference !== undefined || (def.noReference ?? '').length > 0, `${def.name} has no reference`).toBe(true);
    }
  });
  it('puts a Tensor method on the prototype for every op that asks for one', () => {
    const proto = sg.Tensor.prototype as unknown as Record<string, unknown>;
    for (const def of ops.filter((d) => d.method)) expect(typeof proto[def.name], def.name).toBe('function');
    const x = sg.tensor([[-1, 2]]);
    expect(Array.from(x.relu().data())).toEqual([0, 2]);
  });
  it('records the op name and attributes in the graph', () => {
    const x = sg.tensor([[-1, 2]], { requiresGrad: true });
    const y = sg.leakyRelu(x, 0.2);
    expect(y.node?.op).toBe('leakyRelu');
    expect(y.node?.attrs).toEqual({ slope: 0.2 });
  });
  it('infers shapes without running the op', () => {
    expect(sg.opShape('add', [[3, 1], [1, 4]])).toEqual([3, 4]);
    expect(() => sg.opShape('add', [[3, 2], [4]])).toThrow('add: shapes [3,2] and [4] cannot be broadcast together');
  });
});

describe('forward values against the reference', () => {
  for (const def of ops) {
    for (const s of def.samples) {
      const ref = def.reference;
      if (ref === undefined || s.call !== undefined) continue;
      it(label(def, s), () => {
        const xs = s.inputs.map(draw);
        const out = sg.noGrad(() => run(def, s, xs));
        const tol = ref.tolerance ?? 2e-5;
        if ('js' in ref) {
          expectClose(out, ref.js(...xs.map(host), ...(s.args ?? [])), tol, def.name);
        } else {
          const want = sg.noGrad(() => ref.composed(...xs, ...(s.args ?? [])));
          expectClose(out, host(want), tol, `${def.name} vs its composed reference`);
          // A fused op's gradient must equal the composition's too.
          if (def.differentiable && s.noGradcheck === undefined) {
            const r = sg.gradcheck((...a) => run(def, s, a), xs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
            expect(r.worst).toBe('');
            const proj = sg.rand(out.shape.slice(), -1, 1);
            const grads = (f: () => sg.Tensor): number[][] => {
              for (const x of xs) { x.grad?.dispose(); x.grad = null; }
              sg.sum(sg.mul(f(), proj)).backward();
              return xs.map((x) => (x.grad === null ? [] : Array.from(x.grad.data())));
            };
            const mine = grads(() => run(def, s, xs));
            const theirs = grads(() => ref.composed(...xs, ...(s.args ?? [])));
            mine.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - theirs[i][j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(theirs[i][j])))));
          }
        }
      });
    }
  }
});

describe('gradient check (central differences)', () => {
  for (const def of ops.filter((d) => d.differentiable)) {
    for (const s of def.samples) {
      if (s.noGradcheck !== undefined) continue;
      it(label(def, s), () => {
        const xs = s.inputs.map(draw);
        const r = sg.gradcheck((...a) => run(def, s, a), xs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
        expect(r.worst).toBe('');
        expect(r.ok).toBe(true);
        // The shape rule, fed the recorded inputs and attributes, gives the output's shape.
        const out = run(def, s, xs);
        const node = out.node;
        if (def.shape !== null && node !== null && node.op === def.name && node.inputs.length === def.inputs.length) {
          expect(sg.opShape(def.name, node.inputs.map((t) => t.shape), node.attrs)).toEqual(out.shape.slice());
        }
      });
    }
  }
  it('catches a wrong backward', () => {
    const wrong = defineOp({
      name: 'test.wrongSquare', family: 'elementwise', summary: 'x² with a backward claiming x', inputs: ['x'],
      parse: (x: sg.Tensor) => ({ inputs: [x], attrs: {} }),
      shape: ([x]) => x!.slice(),
      forward: ([x]) => sg.noGrad(() => sg.square(x!)),
      backward: (g, { inputs: [x] }) => [sg.mul(g, x!)],
      tests: { samples: [], noReference: 'a deliberately wrong op' },
    });
    const r = sg.gradcheck(wrong, [sg.tensor([0.5, -1, 2], { requiresGrad: true })]);
    expect(r.ok).toBe(false);
  });
});

describe('bad input', () => {
  for (const def of ops) {
    for (const b of def.badInputs) {
      it(`${def.name}: ${b.label}`, () => {
        expect(b.call).toThrow(b.error);
        const message = (() => { try { b.call(); } catch (e) { return (e as Error).message; } return ''; })();
        expect(message.startsWith(`${def.name}:`), message).toBe(true);
      });
    }
    const s = def.samples[0];
    if (s === undefined || s.call !== undefined) continue;
    s.inputs.forEach((spec, i) => {
      const replaced = (by: (x: sg.Tensor) => unknown): (() => unknown) => () => {
        const xs: unknown[] = s.inputs.map(draw);
        xs[i] = by(xs[i] as sg.Tensor);
        return (def.fn as (...a: unknown[]) => sg.Tensor)(...xs, ...(s.args ?? []));
      };
      const startsWithName = new RegExp(`^${def.name.replace(/[.+]/g, '\\$&')}: `);
      it(`${def.name}: input ${i} null`, () => expect(replaced(() => null)).toThrow(startsWithName));
      it(`${def.name}: input ${i} disposed`, () => expect(replaced((x) => { x.dispose(); return x; })).toThrow(startsWithName));
      // A dtype the op does not take (labels and views take int32; nothing here takes int8 yet but views).
      const wrong = (['int32', 'int8'] as const).find((d) => !def.dtypes.includes(d));
      if (spec.kind !== 'int' && wrong !== undefined) {
        it(`${def.name}: input ${i} ${wrong}`, () => expect(replaced((x) => sg.zeros(x.shape.slice(), { dtype: wrong }))).toThrow(startsWithName));
      }
    });
  }
});
