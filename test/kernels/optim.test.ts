// Optimizer step kernels vs plain-JS references (f32 arithmetic emulated with Math.fround),
// several steps in a row, awkward sizes, with and without weight decay / momentum.
// Tolerances allow the relaxed build's fused multiply-adds to round differently.
import { describe, expect, it } from 'vitest';
import { f32, kernels } from '../../bindings/index';
import { free, getF32, maxRelErr, putF32, randomF32 } from '../helpers/wasm';
import { refAdagrad, refAdam, refRmsprop, refSgd } from '../reference/optim';

const SIZES = [0, 1, 3, 4, 7, 1001];
const STEPS = 5;
const TOL = 2e-5;
// Elements past n that the kernel must leave untouched (checks the scalar tail stops at n).
const GUARD = 5;
const GUARD_VALUE = 12345.5;

/** A wasm array holding `data` followed by GUARD sentinel values. */
function putGuarded(data: Float32Array): number {
  const buf = new Float32Array(data.length + GUARD).fill(GUARD_VALUE);
  buf.set(data);
  return putF32(buf);
}
function expectGuardsIntact(ptr: number, n: number, what: string): void {
  const tail = getF32(ptr, n + GUARD).subarray(n);
  expect(Array.from(tail), `${what}: elements past n were written`).toEqual(new Array(GUARD).fill(GUARD_VALUE));
}
function expectClose(ptr: number, ref: Float32Array, what: string): void {
  const got = getF32(ptr, ref.length);
  expect(maxRelErr(got, ref), what).toBeLessThan(TOL);
}

/** Gradients differ per step; seeds depend on the step so each step sees new data. */
function gradAt(n: number, step: number): Float32Array {
  return randomF32(n, 1000 + step * 7919);
}

// ---- kernels vs references ------------------------------------------------------------

describe('sgdStep', () => {
  for (const n of SIZES) {
    for (const momentum of [0, 0.9]) {
      for (const wd of [0, 0.01]) {
        it(`n=${n} momentum=${momentum} weightDecay=${wd}`, () => {
          const k = kernels();
          const w = randomF32(n, 3), vel = new Float32Array(n);
          const pw = putGuarded(w), pv = putGuarded(vel);
          const lr = 0.1;
          for (let t = 0; t < STEPS; t++) {
            const g = gradAt(n, t);
            const pg = putGuarded(g);
            k.sgdStep(pw, pg, pv, n, lr, momentum, wd);
            refSgd(w, g, vel, lr, momentum, wd);
            expectClose(pw, w, `w after step ${t + 1}`);
            expectClose(pv, vel, `velocity after step ${t + 1}`);
            expect(maxRelErr(getF32(pg, n), g), 'g must be read only').toBe(0);
            expectGuardsIntact(pg, n, 'g');
            free(pg);
          }
          expectGuardsIntact(pw, n, 'w');
          expectGuardsIntact(pv, n, 'velocity');
          free(pw, pv);
        });
      }
    }
  }

  it('momentum 0 ignores whatever the velocity buffer held (NaN) and stores dw', () => {
    const k = kernels();
    const n = 7;
    const w = randomF32(n, 5), g = randomF32(n, 6);
    const pw = putF32(w), pg = putF32(g), pv = putF32(new Float32Array(n).fill(NaN));
    k.sgdStep(pw, pg, pv, n, 0.5, 0, 0);
    const vel = new Float32Array(n);
    refSgd(w, g, vel, 0.5, 0, 0);
    expectClose(pw, w, 'w');
    expectClose(pv, vel, 'velocity');
    free(pw, pg, pv);
  });

  it('a null velocity pointer means plain gradient descent without state', () => {
    const k = kernels();
    for (const n of SIZES) {
      const w = randomF32(n, 8), g = randomF32(n, 9);
      const pw = putGuarded(w), pg = putF32(g);
      k.sgdStep(pw, pg, 0, n, 0.25, 0.9, 0.01);
      refSgd(w, g, new Float32Array(n), 0.25, 0, 0.01);
      expectClose(pw, w, `w n=${n}`);
      expectGuardsIntact(pw, n, 'w');
      free(pw, pg);
    }
  });

  it('reproduces the momentum update of notes §1.3.5.3 by hand (1 element, two steps)', () => {
    // E(w) = w^2, so dE/dw = 2w. eta = 0.1, mu = 0.9, w(0) = 1, dw(-1) = 0.
    // Step 1: grad = 2*1 = 2;     dw(0) = -0.1*2   + 0.9*0      = -0.2;  w(1) = 1   - 0.2  = 0.8
    // Step 2: grad = 2*0.8 = 1.6; dw(1) = -0.1*1.6 + 0.9*(-0.2) = -0.34; w(2) = 0.8 - 0.34 = 0.46
    const k = kernels();
    const pw = putF32([1]), pv = putF32([0]), pg = putF32([0]);
    const grad = (): void => { putInto(pg, 2 * getF32(pw, 1)[0]); };
    grad();
    k.sgdStep(pw, pg, pv, 1, 0.1, 0.9, 0);
    expect(getF32(pv, 1)[0]).toBeCloseTo(-0.2, 6);
    expect(getF32(pw, 1)[0]).toBeCloseTo(0.8, 6);
    grad();
    expect(getF32(pg, 1)[0]).toBeCloseTo(1.6, 6);
    k.sgdStep(pw, pg, pv, 1, 0.1, 0.9, 0);
    expect(getF32(pv, 1)[0]).toBeCloseTo(-0.34, 6);
    expect(getF32(pw, 1)[0]).toBeCloseTo(0.46, 6);
    free(pw, pv, pg);
  });
});

/** Overwrites the first element of a wasm f32 array. */
function putInto(ptr: number, value: number): void {
  f32()[ptr >> 2] = value;
}

describe('adagradStep', () => {
  for (const n of SIZES) {
    for (const wd of [0, 0.01]) {
      it(`n=${n} weightDecay=${wd}`, () => {
        const k = kernels();
        const w = randomF32(n, 11), h = new Float32Array(n);
        const pw = putGuarded(w), ph = putGuarded(h);
        const lr = 0.05, eps = 1e-10;
        for (let t = 0; t < STEPS; t++) {
          const g = gradAt(n, t);
          const pg = putGuarded(g);
          k.adagradStep(pw, pg, ph, n, lr, eps, wd);
          refAdagrad(w, g, h, lr, eps, wd);
          expectClose(pw, w, `w after step ${t + 1}`);
          expectClose(ph, h, `h after step ${t + 1}`);
          expect(maxRelErr(getF32(pg, n), g), 'g must be read only').toBe(0);
          free(pg);
        }
        expectGuardsIntact(pw, n, 'w');
        expectGuardsIntact(ph, n, 'h');
        free(pw, ph);
      });
    }
  }
});

describe('rmspropStep', () => {
  for (const n of SIZES) {
    for (const wd of [0, 0.01]) {
      it(`n=${n} weightDecay=${wd}`, () => {
        const k = kernels();
        const w = randomF32(n, 21), s = new Float32Array(n);
        const pw = putGuarded(w), ps = putGuarded(s);
        const lr = 0.01, rho = 0.99, eps = 1e-8;
        for (let t = 0; t < STEPS; t++) {
          const g = gradAt(n, t);
          const pg = putGuarded(g);
          k.rmspropStep(pw, pg, ps, n, lr, rho, eps, wd);
          refRmsprop(w, g, s, lr, rho, eps, wd);
          expectClose(pw, w, `w after step ${t + 1}`);
          expectClose(ps, s, `s after step ${t + 1}`);
          expect(maxRelErr(getF32(pg, n), g), 'g must be read only').toBe(0);
          free(pg);
        }
        expectGuardsIntact(pw, n, 'w');
        expectGuardsIntact(ps, n, 's');
        free(pw, ps);
      });
    }
  }
});

describe('adamStep', () => {
  const cases: { wd: number; decoupled: boolean; name: string }[] = [
    { wd: 0, decoupled: false, name: 'Adam' },
    { wd: 0.01, decoupled: false, name: 'Adam + coupled L2' },
    { wd: 0.01, decoupled: true, name: 'AdamW (decoupled)' },
  ];
  for (const n of SIZES) {
    for (const c of cases) {
      it(`n=${n} ${c.name}`, () => {
        const k = kernels();
        const w = randomF32(n, 31), m = new Float32Array(n), v = new Float32Array(n);
        const pw = putGuarded(w), pm = putGuarded(m), pv = putGuarded(v);
        const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        for (let t = 1; t <= STEPS; t++) {
          const g = gradAt(n, t);
          const pg = putGuarded(g);
          const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
          k.adamStep(pw, pg, pm, pv, n, lr, b1, b2, eps, c.wd, c.decoupled ? 1 : 0, bc1, bc2);
          refAdam(w, g, m, v, lr, b1, b2, eps, c.wd, c.decoupled, bc1, bc2);
          expectClose(pw, w, `w after step ${t}`);
          expectClose(pm, m, `m after step ${t}`);
          expectClose(pv, v, `v after step ${t}`);
          expect(maxRelErr(getF32(pg, n), g), 'g must be read only').toBe(0);
          free(pg);
        }
        expectGuardsIntact(pw, n, 'w');
        expectGuardsIntact(pm, n, 'm');
        expectGuardsIntact(pv, n, 'v');
        free(pw, pm, pv);
      });
    }
  }

  it('first step moves each weight by about lr against the gradient sign (bias correction)', () => {
    const k = kernels();
    const n = 9;
    const w = new Float32Array(n), g = randomF32(n, 41);
    const pw = putF32(w), pg = putF32(g), pm = putF32(new Float32Array(n)), pv = putF32(new Float32Array(n));
    k.adamStep(pw, pg, pm, pv, n, 0.001, 0.9, 0.999, 1e-8, 0, 0, 1 - 0.9, 1 - 0.999);
    const got = getF32(pw, n);
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(-0.001 * Math.sign(g[i]), 5);
    free(pw, pg, pm, pv);
  });

  it('decoupled decay shrinks w by lr*wd*w independently of the gradient', () => {
    const k = kernels();
    const n = 6;
    const w = new Float32Array([1, -2, 3, -4, 5, -6]);
    const pw = putF32(w), pg = putF32(new Float32Array(n)), pm = putF32(new Float32Array(n)), pv = putF32(new Float32Array(n));
    // Zero gradient: m = v = 0, so the Adam term is 0 and only the decay acts.
    k.adamStep(pw, pg, pm, pv, n, 0.1, 0.9, 0.999, 1e-8, 0.5, 1, 0.1, 0.001);
    const got = getF32(pw, n);
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(w[i] * (1 - 0.1 * 0.5), 6);
    free(pw, pg, pm, pv);
  });
});
