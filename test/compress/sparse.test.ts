// Sparse (CSR) inference: sparseLinear / sparseConv2d equal the dense linear / conv2d on the
// same pruned weight for awkward shapes and sparsities, their gradients check, and sparsify
// swaps layers in a model without changing its outputs.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';
import { toSparse, sparseConv2d, sparseLinear } from '../../src/ops/sparse';
import { SparseConv2d, SparseLinear, sparsify } from '../../src/compress/sparse';
import { randomF32, maxRelErr } from '../helpers/wasm';

/** A random weight with (about) the given fraction of exact zeros, by a seeded hash. */
function pruned(shape: number[], sparsity: number, seed: number): sg.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const w = randomF32(n, seed);
  const u = randomF32(n, seed + 1000);
  for (let i = 0; i < n; i++) if ((u[i] + 1) / 2 < sparsity) w[i] = 0;
  return sg.tensor(w, shape);
}

describe('sparseLinear', () => {
  it('equals the dense linear for awkward shapes and sparsities (bias, relu, leading dims)', () => {
    const cases: [number[], number, number, number][] = [
      [[1, 5], 3, 0.5, 1], [[3, 7], 9, 0.9, 2], [[33, 129], 65, 0.8, 3], [[2, 3, 17], 13, 0.99, 4], [[64, 300], 100, 0.95, 5], [[5, 8], 4, 1, 6],
    ];
    for (const [xs, out, s, seed] of cases) {
      sg.scope(() => {
        const inF = xs[xs.length - 1];
        const x = sg.tensor(randomF32(xs.reduce((a, b) => a * b, 1), seed + 50), xs);
        const w = pruned([out, inF], s, seed);
        const b = sg.tensor(randomF32(out, seed + 7));
        const sw = toSparse(w);
        for (const relu of [false, true]) {
          const dense = sg.linear(x, w, b, { relu }).data();
          const sparse = sparseLinear(x, sw.indptr, sw.indices, sw.values, b, { relu }).data();
          expect(maxRelErr(sparse, dense), `${xs} x ${out} at ${s}, relu ${relu}`).toBeLessThan(1e-5);
        }
        sw.dispose();
      });
    }
  });

  it('gradients with respect to x, the stored values and the bias pass a finite-difference check', () => {
    sg.scope(() => {
      const w = pruned([6, 11], 0.6, 21);
      const sw = toSparse(w);
      const x = sg.tensor(randomF32(5 * 11, 22), [5, 11], { requiresGrad: true });
      const values = sg.tensor(sw.values.data(), { requiresGrad: true });
      const b = sg.tensor(randomF32(6, 23), { requiresGrad: true });
      const r = sg.gradcheck((xx, vv, bb) => sparseLinear(xx, sw.indptr, sw.indices, vv, bb), [x, values, b]);
      expect(r.ok, r.worst).toBe(true);
      sw.dispose();
    });
  });
});

describe('sparseConv2d', () => {
  it('equals the dense conv2d (stride, padding, same, 1x1, odd sizes, high sparsity)', () => {
    const cases: { x: number[]; w: number[]; opts: sg.Conv2dOptions; s: number }[] = [
      { x: [2, 3, 9, 7], w: [5, 3, 3, 3], opts: { padding: 1 }, s: 0.7 },
      { x: [1, 2, 11, 13], w: [4, 2, 5, 3], opts: { stride: [2, 3], padding: [2, 1] }, s: 0.9 },
      { x: [3, 4, 6, 6], w: [7, 4, 1, 1], opts: {}, s: 0.5 },
      { x: [1, 1, 28, 28], w: [8, 1, 3, 3], opts: { padding: 'same' }, s: 0.95 },
      { x: [2, 6, 5, 4], w: [3, 6, 2, 2], opts: { padding: 'same' }, s: 0.99 },
    ];
    cases.forEach((c, i) => sg.scope(() => {
      const x = sg.tensor(randomF32(c.x.reduce((a, b) => a * b, 1), 60 + i), c.x);
      const w = pruned(c.w, c.s, 70 + i);
      const b = sg.tensor(randomF32(c.w[0], 80 + i));
      const sw = toSparse(w);
      const dense = sg.conv2d(x, w, b, c.opts).data();
      const sparse = sparseConv2d(x, sw.indptr, sw.indices, sw.values, b, { kernelSize: [c.w[2], c.w[3]], ...c.opts } as never).data();
      expect(maxRelErr(sparse, dense), `case ${i}`).toBeLessThan(1e-5);
      sw.dispose();
    }));
  });
});

describe('sparsify', () => {
  it('replaces only the layers above the threshold, and the model computes the same', () => {
    sg.scope(() => {
      const model = new sg.nn.Sequential(
        new sg.nn.Conv2d(1, 4, 3, { padding: 1 }), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2), new sg.nn.Flatten(),
        new sg.nn.Linear(4 * 7 * 7, 32), new sg.nn.ReLU(), new sg.nn.Linear(32, 10),
      );
      const [conv, fc1, fc2] = [model.layers[0] as sg.nn.Conv2d, model.layers[4] as sg.nn.Linear, model.layers[6] as sg.nn.Linear];
      for (const [layer, s] of [[conv, 0.8], [fc1, 0.95], [fc2, 0.3]] as const) {
        const p = pruned([...layer.weight.shape], s, 90 + layer.weight.size);
        layer.weight.setData(p.data());
      }
      const x = sg.tensor(randomF32(3 * 14 * 14, 99).map((v) => Math.abs(v)), [3, 1, 14, 14]);
      const before = model.call(x).data();
      const replaced = sparsify(model, { minSparsity: 0.7 });
      expect(replaced).toEqual(['layers.0', 'layers.4']);
      expect(model.layers[0]).toBeInstanceOf(SparseConv2d);
      expect(model.layers[4]).toBeInstanceOf(SparseLinear);
      expect(model.layers[6]).toBeInstanceOf(sg.nn.Linear);
      const after = model.call(x).data();
      expect(maxRelErr(after, before)).toBeLessThan(1e-5);
      expect(() => sparsify(model, { minSparsity: 2 })).toThrow(/^sparsify: minSparsity must be a number in \[0, 1\]/);
    });
  });

  /** A small CNN with a sparse conv and a sparse first Linear after sparsify (the same pruning from `seed`). */
  function sparseModel(seed: number): sg.nn.Sequential {
    sg.manualSeed(seed);
    const model = new sg.nn.Sequential(
      new sg.nn.Conv2d(1, 4, 3, { padding: 1 }), new sg.nn.ReLU(), new sg.nn.MaxPool2d(2), new sg.nn.Flatten(),
      new sg.nn.Linear(4 * 3 * 3, 8), new sg.nn.ReLU(), new sg.nn.Linear(8, 3),
    );
    for (const i of [0, 4]) {
      const layer = model.layers[i] as sg.nn.Conv2d | sg.nn.Linear;
      const w = layer.weight.data() as Float32Array;
      // The same pattern whatever the seed: every third entry survives.
      layer.weight.setData(w.map((v, j) => (j % 3 === 0 ? v : 0)));
    }
    expect(sparsify(model, { minSparsity: 0.6 })).toEqual(['layers.0', 'layers.4']);
    return model;
  }

  it('the CSR tensors are in the state dict: a saved sparse model loads into another and computes the same', () => {
    sg.scope(() => {
      const a = sparseModel(1);
      const state = a.stateDict();
      for (const layer of ['layers.0', 'layers.4']) {
        for (const part of ['values', 'indptr', 'indices']) expect(Object.keys(state)).toContain(`${layer}.weight.${part}`);
      }
      const b = sparseModel(2);
      const x = sg.tensor(randomF32(2 * 6 * 6, 5), [2, 1, 6, 6]);
      const ya = sg.noGrad(() => a.call(x).data());
      expect(Array.from(sg.noGrad(() => b.call(x).data()))).not.toEqual(Array.from(ya));
      b.loadStateDict(state);
      expect(Array.from(sg.noGrad(() => b.call(x).data()))).toEqual(Array.from(ya));
      // Through a safetensors file too (int32 row pointers and column indices included).
      const c = sparseModel(3);
      sg.loadModel(c, sg.saveModel(a));
      expect(Array.from(sg.noGrad(() => c.call(x).data()))).toEqual(Array.from(ya));
    });
  });

  it('a SparseLinear\'s stored values are a parameter an optimizer trains; a SparseConv2d\'s are buffers (inference only)', () => {
    sg.scope(() => {
      const model = sparseModel(3);
      const names = model.namedParameters().map(([n]) => n);
      expect(names).toContain('layers.4.weight.values');
      expect(names).not.toContain('layers.0.weight.values');
      expect(model.namedBuffers().map(([n]) => n)).toEqual(expect.arrayContaining(['layers.0.weight.values', 'layers.0.weight.indptr', 'layers.4.weight.indices']));
      const values = (model.layers[4] as SparseLinear).weight.values;
      const before = Array.from(values.data());
      const opt = new sg.optim.SGD(model.parameters(), { lr: 0.1 });
      const x = sg.tensor(randomF32(4 * 6 * 6, 7), [4, 1, 6, 6]);
      const loss = sg.crossEntropy(model.call(x), sg.tensor(Int32Array.from([0, 1, 2, 0]), [4]));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const after = Array.from(values.data());
      expect(after.length).toBe(before.length);
      expect(after.some((v, i) => v !== before[i])).toBe(true);
    });
  });

  it('a state dict from another sparsity pattern size is refused, naming the tensor, and nothing is written', () => {
    sg.scope(() => {
      const model = sparseModel(4);
      const state = { ...model.stateDict() };
      const values = (model.layers[4] as SparseLinear).weight.values;
      const before = Array.from(values.data());
      state['layers.4.weight.values'] = sg.zeros([values.size + 1]);
      expect(() => model.loadStateDict(state)).toThrow(/layers\.4\.weight\.values: expected \[\d+\], got \[\d+\]/);
      expect(Array.from(values.data())).toEqual(before);
    });
  });
});
