// Hardening: tensor() refuses non-numbers, backward() refuses a used-up or disposed graph,
// and the NaN detector tells an input that already held a NaN from an op that made one.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

describe('tensor() refuses values that are not numbers', () => {
  it('nested and top-level non-numbers name the index and the value', () => {
    expect(() => sg.tensor([1, 'a'] as never)).toThrow('tensor: expected a number at index [1], got string "a"');
    expect(() => sg.tensor([1, undefined] as never)).toThrow(/^tensor: expected a number at index \[1\], got undefined/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => sg.tensor([1, , 2] as never)).toThrow(/^tensor: expected a number at index \[1\], got undefined/);
    expect(() => sg.tensor([1, null] as never)).toThrow('tensor: expected a number at index [1], got null');
    expect(() => sg.tensor([1, {}] as never)).toThrow('tensor: expected a number at index [1], got object Object');
    expect(() => sg.tensor([true, 1] as never)).toThrow('tensor: expected a number at index [0], got boolean true');
    expect(() => sg.tensor([1, 1n] as never)).toThrow('tensor: expected a number at index [1], got bigint 1n');
    expect(() => sg.tensor([[1, 2], [3, '4']] as never)).toThrow('tensor: expected a number at index [1][1], got string "4"');
    expect(() => sg.tensor(null as never)).toThrow('tensor: expected a number, nested arrays of numbers or a typed array, got null');
    expect(() => sg.tensor({} as never)).toThrow(/^tensor: expected a number.*got object Object/);
    expect(() => sg.tensor('1' as never)).toThrow(/^tensor: .*got string "1"/);
    expect(() => sg.tensor(true as never)).toThrow(/^tensor: .*got boolean true/);
    expect(() => sg.tensor(1n as never)).toThrow(/^tensor: .*got bigint 1n/);
    expect(() => sg.tensor(undefined as never)).toThrow(/^tensor: .*got undefined/);
  });
  it('numbers, NaN and typed arrays are still accepted', () => {
    expect(sg.tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(sg.tensor(5).item()).toBe(5);
    expect(Number.isNaN(sg.tensor([NaN]).item())).toBe(true);
    expect(sg.tensor(Float32Array.of(1, 2)).dtype).toBe('float32');
    expect(sg.tensor(Int32Array.of(1, 2)).dtype).toBe('int32');
    expect(sg.tensor(Uint8Array.of(1, 2, 3, 4), [2, 2]).toArray()).toEqual([[1, 2], [3, 4]]);
  });
  it('out-of-range integers and unknown dtypes are refused', () => {
    expect(() => sg.tensor([3e9], { dtype: 'int32' })).toThrow('tensor: value 3000000000 at index 0 is out of the int32 range');
    expect(() => sg.tensor([1], { dtype: 'float64' as never })).toThrow("tensor: unknown dtype 'float64'");
  });
  it('creation options must be an object of known options: a dtype given as a string is refused, not ignored', () => {
    expect(() => sg.zeros([2, 3], 'int32' as never)).toThrow("full: options must be an object such as { dtype: 'int32' }, got the string 'int32'");
    expect(() => sg.tensor([1, 2], 'int32' as never)).toThrow("tensor: options must be an object such as { dtype: 'int32' }, got the string 'int32'");
    expect(() => sg.ones([2], { dtype: 'int32', grad: true } as never)).toThrow("full: unknown option 'grad' (known: dtype, requiresGrad)");
    expect(() => sg.full([2], 1, { requiresGrad: 1 } as never)).toThrow('full: requiresGrad must be true or false, got 1');
    expect(() => sg.randn([2], 0, 1, { dtype: 'int32' } as never)).toThrow("randn: draws float32 values, got dtype 'int32' (randint draws int32)");
    expect(() => sg.rand([2], 0, 1, null as never)).toThrow('rand: options must be an object such as { dtype: \'int32\' }, got null');
    expect(() => sg.arange(0, 3, 1, 'int32' as never)).toThrow(/^tensor: options must be an object/);
    // The valid forms still work.
    expect(sg.zeros([2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(sg.randn([2], 0, 1, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(sg.tensor([1, 2], [2], { dtype: 'int8' }).dtype).toBe('int8');
  });
});

describe('backward() through a used-up graph', () => {
  it('a second backward throws unless the first retained the graph', () => {
    const w = sg.tensor([1, 2, 3], { requiresGrad: true });
    const loss = sg.sum(sg.mul(w, w));
    loss.backward();
    expect(() => loss.backward()).toThrow(/^backward: trying to backward through the graph a second time .*pass \{ retainGraph: true \} to the first backward\(\)/);
    expect(Array.from(w.grad!.data())).toEqual([2, 4, 6]); // not accumulated twice

    const v = sg.tensor([1, 2], { requiresGrad: true });
    const l2 = sg.sum(sg.mul(v, v));
    l2.backward({ retainGraph: true });
    l2.backward();
    expect(Array.from(v.grad!.data())).toEqual([4, 8]);
    expect(() => l2.backward()).toThrow(/second time/);
  });
  it('a second loss through an intermediate of a used-up graph throws too', () => {
    const w = sg.tensor([1, 2], { requiresGrad: true });
    const h = sg.relu(sg.mul(w, 2));
    sg.sum(h).backward();
    expect(() => sg.mean(h).backward()).toThrow(/^backward: trying to backward through the graph a second time \(the output of relu \[2\]/);
  });
  it('the ordinary patterns still work', () => {
    const w = sg.tensor([[0.5, -0.5], [0.25, 1]], { requiresGrad: true });
    const x = sg.tensor([[1, 2], [3, 4]]);
    for (let step = 0; step < 3; step++) {
      w.grad?.dispose();
      w.grad = null;
      const logits = sg.matmul(x, w);
      const loss = sg.mean(sg.mul(logits, logits));
      loss.backward();
      expect(logits.toArray()).toHaveLength(2); // intermediates readable after backward
      expect(Number.isFinite(loss.item())).toBe(true);
    }
    // Two losses sharing parameters but not intermediates.
    const a = sg.sum(sg.matmul(x, w));
    const b = sg.sum(sg.mul(w, 3));
    a.backward();
    b.backward();
    expect(w.grad).not.toBeNull();
  });
});

describe('backward() with a disposed tensor in the graph', () => {
  it('an intermediate disposed before backward is named', () => {
    const w = sg.tensor([[1, -2, 3, 4], [1, 2, -3, 4], [0, 1, 1, 1]], { requiresGrad: true });
    const h = sg.relu(w);
    const loss = sg.sum(sg.mul(h, 2));
    h.dispose();
    expect(() => loss.backward()).toThrow('backward: the output of relu [3,4] was disposed before backward()');
    expect(w.grad).toBeNull();
  });
  it('the loss disposed before backward is named', () => {
    const w = sg.tensor([1, 2], { requiresGrad: true });
    const loss = sg.sum(w);
    loss.dispose();
    expect(() => loss.backward()).toThrow('backward: the output of sum [] (the root) was disposed before backward()');
  });
});

describe('the NaN detector and non-finite inputs', () => {
  it('blames the input when it already held the NaN, the op when the op made it', () => {
    sg.setDetectAnomaly(true);
    try {
      const x = sg.tensor([1, NaN, 2]);
      expect(() => sg.relu(x)).toThrow('relu: input x [3] already holds 1 non-finite value (NaN or Inf) before the op ran');
      const y = sg.tensor([[Infinity, 1], [NaN, 2]]);
      expect(() => sg.add(sg.ones([2, 2]), y)).toThrow(/^add: input \w+ \[2,2\] already holds 2 non-finite values \(NaN or Inf\) before the op ran/);
      expect(() => sg.log(sg.tensor([-1, 1]))).toThrow('log produced 1 non-finite value (NaN or Inf) in its output [2] from inputs [2]');
    } finally {
      sg.setDetectAnomaly(false);
    }
  });
});
