import { describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { opTable } from './op-table';

describe('gradient check of every differentiable op (central differences)', () => {
  for (const c of opTable) {
    it(`${c.op}${c.label ? ` (${c.label})` : ''}`, () => {
      const { fn, inputs } = c.make();
      const r = sg.gradcheck(fn, inputs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
      expect(r.worst).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('gradcheck itself catches a wrong backward', () => {
    // A deliberately wrong op: forward x², backward claims x (should be 2x).
    const wrong = (x: sg.Tensor): sg.Tensor => {
      const y = sg.square(sg.detach(x));
      return sg.add(y, sg.mul(sg.sub(x, sg.detach(x)), sg.detach(x)));
    };
    const r = sg.gradcheck(wrong, [sg.tensor([0.5, -1, 2], { requiresGrad: true })]);
    expect(r.ok).toBe(false);
  });
});
