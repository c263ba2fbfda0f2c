// The memory API (bindings/memory.ts) and the dtypes it gives tensors: bytes per element,
// range checks, reads and writes of every dtype, scratch that is freed, views that survive
// memory growth, and safetensors round trips of each dtype.
import { describe, expect, it } from 'vitest';
import {
  DTYPES, advance, byteLength, bytesPerElement, copyElements, read, view, withInt32Arrays, withScratch, write,
} from '../../bindings/memory';
import * as sg from '../../src/index';

describe('memory API', () => {
  it('knows the size of every dtype', () => {
    expect(DTYPES.map(bytesPerElement)).toEqual([4, 4, 1, 1]);
    expect(advance(1024, 'float32', 3)).toBe(1036);
    expect(advance(1024, 'int8', 3)).toBe(1027);
    expect(() => byteLength('empty', 'float32', 2 ** 30)).toThrow('empty: 1073741824 float32 elements (4294967296 bytes) exceed the 4 GiB wasm32 address space');
  });

  it('reads and writes every dtype at a pointer, and copies with overlap', () => {
    for (const dtype of DTYPES) {
      const t = sg.zeros([6], { dtype });
      write(dtype, t.ptr, [1, 2, 3, 4, 5, 6]);
      expect(Array.from(read(dtype, t.ptr, 6))).toEqual([1, 2, 3, 4, 5, 6]);
      copyElements(dtype, t.ptr, advance(t.ptr, dtype, 2), 4);
      expect(Array.from(t.data())).toEqual([1, 2, 1, 2, 3, 4]);
      t.dispose();
    }
  });

  it('scratch is freed after use, also when the body throws', () => {
    const before = sg.memory().blocks;
    withInt32Arrays([[1, 2, 3], [4]], ([a, b]) => {
      expect(Array.from(read('int32', a, 3))).toEqual([1, 2, 3]);
      expect(Array.from(read('int32', b, 1))).toEqual([4]);
    });
    expect(() => withScratch('float32', [16], () => { throw new Error('boom'); })).toThrow('boom');
    expect(sg.memory().blocks).toBe(before);
  });

  it('views are re-derived after the memory grows', () => {
    const small = sg.tensor([7, 8, 9]);
    const before = view('float32', small.ptr, 3);
    expect(Array.from(before)).toEqual([7, 8, 9]);
    const big = sg.zeros([64 * 1024 * 1024 / 4 + 17]); // grows the memory
    expect(Array.from(view('float32', small.ptr, 3))).toEqual([7, 8, 9]);
    expect(Array.from(small.data())).toEqual([7, 8, 9]);
    big.dispose();
    small.dispose();
  });
});

describe('zeros without a pass over fresh memory', () => {
  it('reads zeros from a fresh block and from a recycled block that held other values', () => {
    for (const dtype of DTYPES) {
      const n = 4096 + 13;
      const fresh = sg.zeros([n], { dtype });
      expect(Array.from(fresh.data()).every((v) => v === 0), `${dtype} fresh`).toBe(true);
      fresh.setData(new Array<number>(n).fill(3));
      fresh.dispose();
      const recycled = sg.zeros([n], { dtype }); // the same size class: the block just freed
      expect(Array.from(recycled.data()).every((v) => v === 0), `${dtype} recycled`).toBe(true);
      recycled.dispose();
    }
  });
  it('still fills other values, -0 included', () => {
    const t = sg.full([5], -0);
    expect(Array.from(t.data()).every((v) => Object.is(v, -0))).toBe(true);
    expect(Array.from(sg.full([3], 2.5).data())).toEqual([2.5, 2.5, 2.5]);
  });
});

describe('dtypes of tensors', () => {
  it('makes int8 and uint8 tensors and checks their ranges', () => {
    const a = sg.tensor([-128, 0, 127], { dtype: 'int8' });
    expect(a.dtype).toBe('int8');
    expect(Array.from(a.data())).toEqual([-128, 0, 127]);
    const b = sg.tensor(new Uint8Array([0, 200, 255]));
    expect(b.dtype).toBe('uint8');
    expect(Array.from(sg.full([2], 255, { dtype: 'uint8' }).data())).toEqual([255, 255]);
    expect(() => sg.tensor([128], { dtype: 'int8' })).toThrow('tensor: value 128 at index 0 is out of the int8 range [-128, 127]');
    expect(() => sg.tensor([1.5], { dtype: 'uint8' })).toThrow('tensor: uint8 tensor needs integer values, got 1.5 at index 0');
    expect(() => sg.full([2], -1, { dtype: 'uint8' })).toThrow('full: a uint8 tensor needs an integer value in [0, 255], got -1');
    expect(() => sg.zeros([2], { dtype: 'float64' as never })).toThrow("full: unknown dtype 'float64'");
  });

  it('int8 tensors are refused by float ops with the op named', () => {
    const q = sg.tensor([1, 2], { dtype: 'int8' });
    expect(() => sg.relu(q)).toThrow('relu: expected float32 tensors, got int8 [2]');
    expect(() => { q.requiresGrad = true; }).toThrow(/only float32 tensors can require gradients/);
  });

  it('saves and loads every dtype as safetensors', () => {
    const tensors = {
      f: sg.tensor([1.5, -2]), i: sg.tensor([3, -4], { dtype: 'int32' }),
      q: sg.tensor([-5, 6, 7], { dtype: 'int8' }), u: sg.tensor([250, 1], { dtype: 'uint8' }),
    };
    const back = sg.loadSafetensors(sg.saveSafetensors(tensors));
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k].dtype).toBe(t.dtype);
      expect(Array.from(back[k].data())).toEqual(Array.from(t.data()));
    }
  });

  it('persistent() makes tensors that an enclosing scope does not collect', () => {
    let kept: sg.Tensor | null = null;
    sg.scope(() => {
      kept = sg.persistent(() => sg.zeros([3]));
      sg.zeros([2]);
    });
    expect(kept!.isAlive).toBe(true);
    kept!.dispose();
  });
});
