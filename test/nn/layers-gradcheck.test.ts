// Finite-difference gradient check of every nn layer (inputs and parameters), from the layer
// table; ops are checked from their registry definitions in test/ops/registry.test.ts.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { layerTable } from './layer-table';

describe('gradient check of every layer (central differences)', () => {
  for (const c of layerTable) {
    it(`${c.op}${c.label ? ` (${c.label})` : ''}`, () => {
      const { fn, inputs } = c.make();
      const r = sg.gradcheck(fn, inputs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
      expect(r.worst).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('lists every layer class that sg.nn exports', () => {
    const notLayers = new Set(['Module', 'ModuleList', 'ModuleDict']);
    const classes = Object.entries(sg.nn)
      .filter(([name, v]) => typeof v === 'function' && v.prototype instanceof sg.nn.Module && !notLayers.has(name))
      .map(([name]) => name);
    const listed = new Set(layerTable.map((c) => c.op.replace(/^nn\.(\w+).*$/, '$1')));
    expect(classes.length).toBeGreaterThanOrEqual(20);
    expect(classes.filter((n) => !listed.has(n))).toEqual([]);
  });

  it('gradcheck itself catches a wrong backward', () => {
    // A deliberately wrong composition: forward x², backward claims x (should be 2x).
    const wrong = (x: sg.Tensor): sg.Tensor => {
      const y = sg.square(sg.detach(x));
      return sg.add(y, sg.mul(sg.sub(x, sg.detach(x)), sg.detach(x)));
    };
    const r = sg.gradcheck(wrong, [sg.tensor([0.5, -1, 2], { requiresGrad: true })]);
    expect(r.ok).toBe(false);
  });
});
