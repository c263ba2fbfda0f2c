// Debug guard bytes (bindings/allocator.ts): with setDebugGuards(true) every block sits
// between guard bytes that are checked when it is freed and by checkGuards(), so a write
// outside a tensor is caught at the tensor, naming the block's size. Off, nothing changes.
import { afterEach, describe, expect, it } from 'vitest';
import { checkGuards, debugGuards, setDebugGuards } from '../../bindings/allocator';
import { runtime } from '../../bindings/index';
import { view, write, writeAt } from '../../bindings/memory';
import * as sg from '../../src/index';

afterEach(() => {
  setDebugGuards(false);
});

describe('debug guard bytes', () => {
  it('are off by default and leave blocks and byte counts as they were', () => {
    expect(debugGuards()).toBe(false);
    const before = sg.memory();
    const t = sg.zeros([5]);
    expect(t.ptr % 64).toBe(0);
    expect(sg.memory().bytes - before.bytes).toBe(64);
    expect(checkGuards()).toBe(0);
    t.dispose();
  });

  it('catch one element written past the end, when freed and by checkGuards()', () => {
    setDebugGuards(true);
    const t = sg.tensor([1, 2, 3, 4, 5]);
    const other = sg.ones([16]);
    expect(t.ptr % 64).toBe(0);
    expect(checkGuards()).toBeGreaterThanOrEqual(2);
    // One float32 past the 20 bytes asked for: inside the 64-byte block's slack, still outside.
    writeAt('float32', t.ptr, 5, 42);
    expect(() => checkGuards()).toThrow(/outside a block of 20 bytes .*0 byte\(s\) past its end/);
    expect(() => t.dispose()).toThrow(/outside a block of 20 bytes/);
    // The block was freed all the same; the allocator stays usable and the neighbour intact.
    expect(checkGuards()).toBeGreaterThanOrEqual(1);
    expect(Array.from(other.data())).toEqual(new Array(16).fill(1));
    other.dispose();
  });

  it('catch a write past a block of a whole number of cache lines, and one before the start', () => {
    setDebugGuards(true);
    const a = sg.zeros([16]);
    write('float32', a.ptr, new Array(17).fill(3));
    expect(() => checkGuards()).toThrow(/outside a block of 64 bytes/);
    expect(() => a.dispose()).toThrow('allocator guard:');
    const b = sg.zeros([4], { dtype: 'int8' });
    writeAt('int8', b.ptr, -1, 7);
    expect(() => b.dispose()).toThrow(/outside a block of 4 bytes at \d+: byte 1 byte\(s\) before its start is 0x07/);
    expect(checkGuards()).toBe(0);
  });

  it('leave every element of the block usable and zeroed blocks zero, fresh or recycled', () => {
    setDebugGuards(true);
    for (let round = 0; round < 2; round++) {
      const t = sg.zeros([3, 7]);
      expect(Array.from(t.data())).toEqual(new Array(21).fill(0));
      view('float32', t.ptr, 21).fill(-1);
      expect(checkGuards()).toBeGreaterThanOrEqual(1);
      t.dispose();
    }
    // Kernels writing exactly their outputs leave the guards intact.
    const x = sg.rand([7, 9]);
    const y = sg.matmul(x, sg.transpose(x)).relu().sum(1);
    expect(y.shape).toEqual([7]);
    expect(checkGuards()).toBeGreaterThan(0);
    sg.dispose(x, y);
  });

  it('count guarded blocks as their size alone, and free blocks allocated before the switch', () => {
    const plain = sg.zeros([10]);
    setDebugGuards(true);
    const before = sg.memory();
    const g = sg.zeros([10]);
    expect(sg.memory().bytes - before.bytes).toBe(64);
    setDebugGuards(false);
    // A guarded block freed after the switch went off is still checked and freed.
    writeAt('float32', g.ptr, 10, 1);
    expect(() => g.dispose()).toThrow(/outside a block of 40 bytes/);
    plain.dispose();
    expect(sg.memory().bytes).toBe(before.bytes - 64);
  });

  it('are refused a non-boolean switch', () => {
    expect(() => setDebugGuards('yes' as unknown as boolean)).toThrow('setDebugGuards: expected true or false, got yes');
    expect(runtime().allocator).toBeDefined();
  });
});
