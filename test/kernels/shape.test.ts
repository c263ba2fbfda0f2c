// copyStrided (the strided block copy of the shape ops) vs a plain-JS reference: gathers
// through permuted strides, scatters of a dense block into a larger one at an offset (slice
// backward, concat), dims of awkward sizes (0, 1, 3, 5, 7, 17), 0-d copies, 1-, 2- and 4-byte
// elements; elements the copy must not touch keep their values.
import { describe, expect, it } from 'vitest';
import { kernels, runtime } from '../../bindings/index';
import { read, write } from '../../bindings/memory';
import { free, putI32, randomF32 } from '../helpers/wasm';
import { stridesOf } from '../../src/core/tensor';

type Elem = 'float32' | 'int8' | 'uint8';
const BYTES: Record<Elem, number> = { float32: 4, int8: 1, uint8: 1 };

function put(dtype: Elem, values: ArrayLike<number>): number {
  const ptr = runtime().allocator.alloc(values.length * BYTES[dtype]);
  write(dtype, ptr, values);
  return ptr;
}


/** Plain JS: dst[dOff + i·ds] = src[sOff + i·ss] for every index i of shape. */
function refCopy(src: ArrayLike<number>, sOff: number, ss: number[], dst: number[], dOff: number, ds: number[], shape: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const st = stridesOf(shape);
  for (let k = 0; k < n; k++) {
    let si = sOff, di = dOff;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(k / st[d]) % shape[d];
      si += c * ss[d];
      di += c * ds[d];
    }
    dst[di] = src[si];
  }
}

function run(dtype: Elem, src: number[], sOff: number, ss: number[], dstInit: number[], dOff: number, ds: number[], shape: number[]): { got: number[]; want: number[] } {
  const want = dstInit.slice();
  refCopy(src, sOff, ss, want, dOff, ds, shape);
  const b = BYTES[dtype];
  const sp = put(dtype, src), dp = put(dtype, dstInit);
  const shp = putI32(shape), ssp = putI32(ss), dsp = putI32(ds);
  kernels().copyStrided(sp + sOff * b, dp + dOff * b, shape.length, shp, ssp, dsp, b);
  const got = Array.from(read(dtype, dp, dstInit.length));
  free(sp, dp, shp, ssp, dsp);
  return { got, want };
}

const SIZES = [0, 1, 3, 5, 7, 17];

/** A deterministic shape of `nd` dims drawn from SIZES. */
function shapeOf(nd: number, seed: number): number[] {
  return Array.from({ length: nd }, (_, i) => SIZES[(seed * 7 + i * 3 + (seed >> 2)) % SIZES.length]);
}

/** A permutation of 0..nd-1 from a seed. */
function perm(nd: number, seed: number): number[] {
  const p = Array.from({ length: nd }, (_, i) => i);
  for (let i = nd - 1; i > 0; i--) {
    const j = (seed * 31 + i * 17) % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe('copyStrided', () => {
  it('gathers through permuted strides (permute) for 1..4 dims of awkward sizes', () => {
    for (let nd = 1; nd <= 4; nd++) {
      for (let seed = 0; seed < 12; seed++) {
        const shape = shapeOf(nd, seed + nd);
        if (shape.reduce((a, b) => a * b, 1) > 20000) continue;
        const d = perm(nd, seed);
        const st = stridesOf(shape);
        const outShape = d.map((a) => shape[a]);
        const n = shape.reduce((a, b) => a * b, 1);
        const src = Array.from(randomF32(n, seed + 1));
        const { got, want } = run('float32', src, 0, d.map((a) => st[a]), new Array(n).fill(-7), 0, stridesOf(outShape), outShape);
        expect(got, `shape [${shape}] dims [${d}]`).toEqual(want);
      }
    }
  });

  it('scatters a dense block into a larger one at an offset (slice backward, concat), untouched elements kept', () => {
    for (let nd = 1; nd <= 4; nd++) {
      for (let seed = 0; seed < 12; seed++) {
        const big = shapeOf(nd, seed + 2 * nd).map((v) => v + 2);
        const begin = big.map((v, i) => (seed + i) % Math.max(v - 1, 1));
        const block = big.map((v, i) => Math.max(0, Math.min(v - begin[i], SIZES[(seed + i) % SIZES.length])));
        const bigN = big.reduce((a, b) => a * b, 1);
        if (bigN > 40000) continue;
        const bst = stridesOf(big);
        const off = begin.reduce((a, b, i) => a + b * bst[i], 0);
        const n = block.reduce((a, b) => a * b, 1);
        const src = Array.from(randomF32(n, seed + 5));
        const init = Array.from(randomF32(bigN, seed + 6));
        const what = `block [${block}] at [${begin}] of [${big}]`;
        const scatter = run('float32', src, 0, stridesOf(block), init, off, bst, block);
        expect(scatter.got, `scatter ${what}`).toEqual(scatter.want);
        // And back: the gather of the same block (slice forward).
        const gather = run('float32', init, off, bst, new Array(n).fill(-7), 0, stridesOf(block), block);
        expect(gather.got, `gather ${what}`).toEqual(gather.want);
      }
    }
  });

  it('concat layout: [outer, run] blocks at column offsets, for 1-byte and 4-byte elements', () => {
    for (const dtype of ['float32', 'int8', 'uint8'] as Elem[]) {
      for (const [outer, runs] of [[1, [3]], [3, [1, 5]], [7, [17, 0, 3]], [5, [4, 4, 4, 1]], [0, [2, 3]]] as [number, number[]][]) {
        const total = runs.reduce((a, b) => a + b, 0);
        const out = new Array<number>(outer * total).fill(0);
        const init = out.slice();
        let at = 0;
        let got: number[] = init;
        const want = init.slice();
        for (const [j, run0] of runs.entries()) {
          const src = Array.from({ length: outer * run0 }, (_, i) => (i * 13 + j * 7) % 100 - (dtype === 'uint8' ? 0 : 50));
          const r = run(dtype, src, 0, [run0, 1], got, at, [total, 1], [outer, run0]);
          refCopy(src, 0, [run0, 1], want, at, [total, 1], [outer, run0]);
          got = r.got;
          at += run0;
        }
        expect(got, `${dtype} outer ${outer} runs [${runs}]`).toEqual(want);
      }
    }
  });

  it('0-d copies one element; a 0 in the shape copies nothing', () => {
    const one = run('float32', [1.5, 2.5], 1, [], [9, 9], 1, [], []);
    expect(one.got).toEqual([9, 2.5]);
    const none = run('float32', [1, 2, 3], 0, [1, 1], [9, 9, 9], 0, [1, 1], [3, 0]);
    expect(none.got).toEqual([9, 9, 9]);
  });
});
