// Sequence kernels (assembly/sequence.ts) against plain-JS f64 references, on hidden sizes
// around the vector width (1, 3, 4, 5, 7, 13) and on strided rows: every buffer is read or
// written with a row stride larger than its row, and the gaps and the ends carry sentinels
// that the kernels must leave alone. Row 1 of every batch is a padded step.
import { describe, expect, it } from 'vitest';
import { kernels } from '../../bindings/index';
import { free, getF32, getI32, maxRelErr, putF32, putI32, randomF32 } from '../helpers/wasm';

const SENTINEL = 777.25;
const TOL = 2e-6;

/** A strided [rows, cols] block (row stride `stride`) with sentinels in the gaps and after it. */
class Strided {
  readonly ptr: number;
  constructor(readonly rows: number, readonly cols: number, readonly stride: number, values?: ArrayLike<number>) {
    const buf = new Float32Array(rows * stride + 4).fill(SENTINEL);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) buf[r * stride + c] = values === undefined ? Number.NaN : values[r * cols + c];
    this.ptr = putF32(buf);
  }
  /** The dense values; fails if a sentinel was overwritten. */
  read(what: string): Float32Array {
    const all = getF32(this.ptr, this.rows * this.stride + 4);
    const out = new Float32Array(this.rows * this.cols);
    for (let i = 0; i < all.length; i++) {
      const r = Math.floor(i / this.stride);
      const c = i % this.stride;
      if (r < this.rows && c < this.cols) out[r * this.cols + c] = all[i];
      else if (all[i] !== SENTINEL) expect.fail(`${what}: wrote outside the block at ${i}`);
    }
    return out;
  }
  free(): void {
    free(this.ptr);
  }
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const SIZES = [1, 3, 4, 5, 7, 13];
const N = 3;
const MASK = [1, 0, 1]; // stride 2 in the mask buffer: [1, x, 0, x, 1, x]
const maskBuf = (): number => putF32([1, 9, 0, 9, 1, 9]);

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  const e = maxRelErr(got, want);
  if (!(e <= TOL)) expect.fail(`${what}: max relative error ${e}`);
}

describe('lstmForward / lstmBackward', () => {
  for (const H of SIZES) {
    it(`H = ${H}`, () => {
      const k = kernels();
      const pre = randomF32(N * 4 * H, H).map((v) => v * 3);
      const cp = randomF32(N * H, H + 1);
      const hp = randomF32(N * H, H + 2);
      const g = new Strided(N, 4 * H, 4 * H + 2, pre);
      const cPrev = new Strided(N, H, H + 1, cp);
      const hPrev = new Strided(N, H, H + 3, hp);
      const cOut = new Strided(N, H, H + 2);
      const hOut = new Strided(N, H, H);
      const y = new Strided(N, H, H + 5);
      const mask = maskBuf();
      k.lstmForward(g.ptr, g.stride, cPrev.ptr, cPrev.stride, hPrev.ptr, hPrev.stride, mask, 2, cOut.ptr, cOut.stride, hOut.ptr, hOut.stride, y.ptr, y.stride, N, H);
      const wantA = Array.from(pre);
      const wantC: number[] = [];
      const wantH: number[] = [];
      const wantY: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < H; j++) {
          const at = (q: number): number => n * 4 * H + q * H + j;
          if (MASK[n] === 0) {
            wantC.push(cp[n * H + j]); wantH.push(hp[n * H + j]); wantY.push(0);
            continue;
          }
          const i = sig(pre[at(0)]), f = sig(pre[at(1)]), cc = Math.tanh(pre[at(2)]), o = sig(pre[at(3)]);
          wantA[at(0)] = i; wantA[at(1)] = f; wantA[at(2)] = cc; wantA[at(3)] = o;
          const c = f * cp[n * H + j] + i * cc;
          wantC.push(c); wantH.push(o * Math.tanh(c)); wantY.push(o * Math.tanh(c));
        }
      }
      const act = g.read('gates');
      close(act, wantA, 'activated gates');
      close(cOut.read('c'), wantC, 'c');
      close(hOut.read('h'), wantH, 'h');
      close(y.read('y'), wantY, 'y');

      // Backward from the activations just computed.
      const dyv = randomF32(N * H, H + 3);
      const dhv = randomF32(N * H, H + 4);
      const dcv = randomF32(N * H, H + 5);
      const dy = new Strided(N, H, H + 1, dyv);
      const dh = putF32(dhv);
      const dc = putF32(dcv);
      const dG = new Strided(N, 4 * H, 4 * H + 3);
      k.lstmBackward(g.ptr, g.stride, cPrev.ptr, cPrev.stride, cOut.ptr, cOut.stride, dy.ptr, dy.stride, mask, 2, dh, dc, dG.ptr, dG.stride, N, H);
      const wantDG: number[] = new Array(N * 4 * H).fill(0);
      const wantDh = Array.from(dhv);
      const wantDc = Array.from(dcv);
      for (let n = 0; n < N; n++) {
        if (MASK[n] === 0) continue;
        for (let j = 0; j < H; j++) {
          const a = (q: number): number => act[n * 4 * H + q * H + j];
          const [i, f, cc, o] = [a(0), a(1), a(2), a(3)];
          const c = wantC[n * H + j];
          const tc = Math.tanh(c);
          const d = dhv[n * H + j] + dyv[n * H + j];
          const dcn = dcv[n * H + j] + d * o * (1 - tc * tc);
          wantDG[n * 4 * H + j] = dcn * cc * i * (1 - i);
          wantDG[n * 4 * H + H + j] = dcn * cp[n * H + j] * f * (1 - f);
          wantDG[n * 4 * H + 2 * H + j] = dcn * i * (1 - cc * cc);
          wantDG[n * 4 * H + 3 * H + j] = d * tc * o * (1 - o);
          wantDc[n * H + j] = dcn * f;
          wantDh[n * H + j] = 0;
        }
      }
      close(dG.read('dG'), wantDG, 'dG');
      close(getF32(dh, N * H), wantDh, 'dh');
      close(getF32(dc, N * H), wantDc, 'dc');
      for (const b of [g, cPrev, hPrev, cOut, hOut, y, dy, dG]) b.free();
      free(mask, dh, dc);
    });
  }
});

describe('gruForward / gruBackward', () => {
  for (const H of SIZES) {
    it(`H = ${H}`, () => {
      const k = kernels();
      const xv = randomF32(N * 3 * H, 2 * H).map((v) => v * 2);
      const hv = randomF32(N * 3 * H, 2 * H + 1).map((v) => v * 2);
      const hp = randomF32(N * H, 2 * H + 2);
      const gx = new Strided(N, 3 * H, 3 * H + 1, xv);
      const gh = new Strided(N, 3 * H, 3 * H + 2, hv);
      const hPrev = new Strided(N, H, H + 1, hp);
      const hOut = new Strided(N, H, H + 3);
      const y = new Strided(N, H, H + 2);
      const mask = maskBuf();
      k.gruForward(gx.ptr, gx.stride, gh.ptr, gh.stride, hPrev.ptr, hPrev.stride, mask, 2, hOut.ptr, hOut.stride, y.ptr, y.stride, N, H);
      const wantA = Array.from(xv);
      const wantH: number[] = [];
      const wantY: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < H; j++) {
          if (MASK[n] === 0) { wantH.push(hp[n * H + j]); wantY.push(0); continue; }
          const at = (q: number): number => n * 3 * H + q * H + j;
          const r = sig(xv[at(0)] + hv[at(0)]);
          const z = sig(xv[at(1)] + hv[at(1)]);
          const nn = Math.tanh(xv[at(2)] + r * hv[at(2)]);
          wantA[at(0)] = r; wantA[at(1)] = z; wantA[at(2)] = nn;
          const h = (1 - z) * nn + z * hp[n * H + j];
          wantH.push(h); wantY.push(h);
        }
      }
      const act = gx.read('gates');
      close(act, wantA, 'activated gates');
      close(hOut.read('h'), wantH, 'h');
      close(y.read('y'), wantY, 'y');

      const dyv = randomF32(N * H, 2 * H + 3);
      const dhv = randomF32(N * H, 2 * H + 4);
      const dy = new Strided(N, H, H + 4, dyv);
      const dh = putF32(dhv);
      const dGx = new Strided(N, 3 * H, 3 * H + 1);
      const dGh = new Strided(N, 3 * H, 3 * H + 5);
      k.gruBackward(gx.ptr, gx.stride, gh.ptr, gh.stride, hPrev.ptr, hPrev.stride, dy.ptr, dy.stride, mask, 2, dh, dGx.ptr, dGx.stride, dGh.ptr, dGh.stride, N, H);
      const wantDx: number[] = new Array(N * 3 * H).fill(0);
      const wantDhh: number[] = new Array(N * 3 * H).fill(0);
      const wantDh = Array.from(dhv);
      for (let n = 0; n < N; n++) {
        if (MASK[n] === 0) continue;
        for (let j = 0; j < H; j++) {
          const at = (q: number): number => n * 3 * H + q * H + j;
          const [r, z, nn] = [act[at(0)], act[at(1)], act[at(2)]];
          const d = dhv[n * H + j] + dyv[n * H + j];
          const dan = d * (1 - z) * (1 - nn * nn);
          const dar = dan * hv[at(2)] * r * (1 - r);
          const daz = d * (hp[n * H + j] - nn) * z * (1 - z);
          wantDx[at(0)] = dar; wantDx[at(1)] = daz; wantDx[at(2)] = dan;
          wantDhh[at(0)] = dar; wantDhh[at(1)] = daz; wantDhh[at(2)] = dan * r;
          wantDh[n * H + j] = d * z;
        }
      }
      close(dGx.read('dGx'), wantDx, 'dGx');
      close(dGh.read('dGh'), wantDhh, 'dGh');
      close(getF32(dh, N * H), wantDh, 'dh');
      for (const b of [gx, gh, hPrev, hOut, y, dy, dGx, dGh]) b.free();
      free(mask, dh);
    });
  }
});

describe('rnnForward / rnnBackward', () => {
  for (const relu of [0, 1]) {
    for (const H of SIZES) {
      it(`${relu ? 'relu' : 'tanh'}, H = ${H}`, () => {
        const k = kernels();
        const pre = randomF32(N * H, 3 * H + relu).map((v) => v * 2);
        const hp = randomF32(N * H, 3 * H + 7);
        const g = new Strided(N, H, H + 2, pre);
        const hPrev = new Strided(N, H, H + 1, hp);
        const hOut = new Strided(N, H, H + 4);
        const y = new Strided(N, H, H + 1);
        const mask = maskBuf();
        k.rnnForward(g.ptr, g.stride, hPrev.ptr, hPrev.stride, mask, 2, hOut.ptr, hOut.stride, y.ptr, y.stride, N, H, relu);
        const f = relu ? (v: number): number => Math.max(v, 0) : Math.tanh;
        const wantA = Array.from(pre, (v, i) => (MASK[Math.floor(i / H)] === 0 ? v : f(v)));
        const wantH = Array.from(pre, (v, i) => (MASK[Math.floor(i / H)] === 0 ? hp[i] : f(v)));
        const wantY = Array.from(pre, (v, i) => (MASK[Math.floor(i / H)] === 0 ? 0 : f(v)));
        const act = g.read('a');
        close(act, wantA, 'a');
        close(hOut.read('h'), wantH, 'h');
        close(y.read('y'), wantY, 'y');

        const dyv = randomF32(N * H, 3 * H + 8);
        const dhv = randomF32(N * H, 3 * H + 9);
        const dy = new Strided(N, H, H + 3, dyv);
        const dh = putF32(dhv);
        const dG = new Strided(N, H, H + 1);
        k.rnnBackward(g.ptr, g.stride, dy.ptr, dy.stride, mask, 2, dh, dG.ptr, dG.stride, N, H, relu);
        const live = (i: number): boolean => MASK[Math.floor(i / H)] === 1;
        const wantDG = Array.from(act, (a, i) => (!live(i) ? 0 : (dhv[i] + dyv[i]) * (relu ? (a > 0 ? 1 : 0) : 1 - a * a)));
        close(dG.read('dG'), wantDG, 'dG');
        close(getF32(dh, N * H), Array.from(dhv, (v, i) => (live(i) ? 0 : v)), 'dh');
        for (const b of [g, hPrev, hOut, y, dy, dG]) b.free();
        free(mask, dh);
      });
    }
  }
});

describe('indexOutOfRange / gatherRowsAt (trusted row gathers, split by rows on threads)', () => {
  for (const dim of [1, 2, 3, 4, 5, 15, 16, 17, 33, 784]) {
    it(`dim ${dim}: every row copied bit for bit (NaN payloads and int32 patterns too), nothing past the rows written`, () => {
      const k = kernels();
      const num = 7;
      const src = randomF32(num * dim, dim + 11);
      // A NaN with a payload and an int32 bit pattern that is a float NaN: copied as bits.
      src[Math.min(3, src.length - 1)] = new Float32Array(new Int32Array([0x7fa00001]).buffer)[0];
      const idx = [6, 0, 3, 3, 1, 6, 2, 5, 4];
      const sp = putF32(src);
      const ip = putI32(idx);
      const out = new Strided(idx.length, dim, dim);
      expect(k.indexOutOfRange(ip, idx.length, num)).toBe(-1);
      k.gatherRowsAt(sp, dim, ip, idx.length, out.ptr);
      // The source's bits as they are in wasm memory, read back as int32 (no float conversion).
      const bits = getI32(sp, num * dim);
      const want = Int32Array.from(idx.flatMap((i) => Array.from(bits.subarray(i * dim, (i + 1) * dim))));
      expect(bits[Math.min(3, bits.length - 1)] & 0x7fc00000).toBe(0x7fc00000); // the NaN is there
      const all = getF32(out.ptr, idx.length * dim + 4);
      expect(getI32(out.ptr, idx.length * dim)).toEqual(want);
      expect(Array.from(all.subarray(idx.length * dim))).toEqual([SENTINEL, SENTINEL, SENTINEL, SENTINEL]);
      // A range of rows (what one thread runs) writes exactly those rows.
      const part = new Strided(idx.length, dim, dim, new Float32Array(idx.length * dim).fill(SENTINEL));
      k.gatherRowsAt(sp, dim, ip + 4 * 2, 3, part.ptr + 4 * 2 * dim);
      const p = getF32(part.ptr, idx.length * dim);
      const pBits = getI32(part.ptr, idx.length * dim);
      for (let r = 0; r < idx.length; r++) {
        if (r >= 2 && r < 5) expect(pBits.subarray(r * dim, (r + 1) * dim)).toEqual(want.subarray(r * dim, (r + 1) * dim));
        else expect(Array.from(p.subarray(r * dim, (r + 1) * dim)).every((v) => v === SENTINEL)).toBe(true);
      }
      out.free(); part.free();
      free(sp, ip);
    });
  }
  it('indexOutOfRange names the first index outside [0, num)', () => {
    const k = kernels();
    for (const [idx, num, at] of [[[0, 4, 1], 4, 1], [[1, 3, -1], 4, 2], [[2, 2147483647], 4, 1], [[0, 1, 2, 3], 4, -1], [[], 4, -1], [[0], 0, 0]] as [number[], number, number][]) {
      const ip = putI32(idx.length > 0 ? idx : [0]);
      expect(k.indexOutOfRange(ip, idx.length, num)).toBe(at);
      free(ip);
    }
  });
});

describe('the embedding op\'s kernels: checked indices, gatherRowsAt, embeddingScatterAdd', () => {
  for (const dim of [1, 3, 4, 5, 16, 17, 37]) {
    it(`dim ${dim}, repeated indices, padding row`, () => {
      const k = kernels();
      const num = 6;
      const w = randomF32(num * dim, dim);
      const idx = [5, 0, 2, 5, 5, 3, 0];
      const wp = putF32(w);
      const ip = putI32(idx);
      const out = new Strided(idx.length, dim, dim);
      expect(k.indexOutOfRange(ip, idx.length, num)).toBe(-1);
      k.gatherRowsAt(wp, dim, ip, idx.length, out.ptr);
      close(out.read('out'), idx.flatMap((i) => Array.from(w.subarray(i * dim, (i + 1) * dim))), 'gather');

      const dyv = randomF32(idx.length * dim, dim + 1);
      const dy = putF32(dyv);
      const dW = new Strided(num, dim, dim, new Float32Array(num * dim).fill(Number.NaN));
      k.embeddingScatterAdd(dy, ip, idx.length, dim, num, 0, dW.ptr);
      const want = new Array<number>(num * dim).fill(0);
      idx.forEach((i, r) => { if (i !== 0) for (let j = 0; j < dim; j++) want[i * dim + j] += dyv[r * dim + j]; });
      close(dW.read('dW'), want, 'scatter-add');
      out.free(); dW.free();
      free(wp, ip, dy);
    });
  }
});
