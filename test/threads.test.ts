// Threads (bindings/parallel): large GEMM and convolution calls split across worker threads
// over the shared wasm memory give the same numbers as one thread — bitwise where each
// output element is computed by one thread (GEMM split by rows or columns, conv forward and
// input gradients split by images), within float rounding for summed weight gradients, which
// depend on the planned thread count only — and small calls stay on one thread. A plan
// written directly (runPlan) keeps the same guarantees. The fallbacks (setThreads(1), no SharedArrayBuffer, threads
// 'off') work and say why; a process that used threads exits by itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sg from '../src/index';
import { BinOp, runtime } from '../bindings/index';
import { Job, parallelGemm as gemmCall, runPlan, threadsFor, tuneThreads } from '../bindings/parallel/index';
import { blankF32, free, getF32, putF32, randomF32 } from './helpers/wasm';

const jobs = (): number => tuneThreads().jobs;

/** Runs fn with `n` threads, returning its result and how many parallel jobs it ran. */
function withThreads<T>(n: number, fn: () => T): { out: T; jobs: number } {
  const before = jobs();
  sg.setThreads(n);
  const out = fn();
  return { out, jobs: jobs() - before };
}

function expectBitwise(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  let diff = -1;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) { diff = i; break; }
  }
  expect(diff, diff < 0 ? '' : `first difference at ${diff}: ${a[diff]} vs ${b[diff]}`).toBe(-1);
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / Math.max(scale, 1e-30);
}

beforeAll(() => {
  // Tests use threads whatever the core count, and never leave a call single-threaded
  // because a worker happened to be asleep.
  sg.setThreads(2);
  tuneThreads({ wakeFlops: 0, backoff: false });
});
afterAll(() => {
  sg.setThreads(1);
});

describe('thread pool', () => {
  it('has a shared memory and starts workers on the first large call', async () => {
    const info = sg.threadsInfo();
    expect(info.sharedMemory).toBe(true);
    expect(info.reason).toBe(null);
    expect(info.threads).toBe(2);
    expect(sg.getThreads()).toBe(2);
    expect(runtime().memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const started = await sg.startThreads();
    expect(started.workers).toBeGreaterThanOrEqual(1);
  });

  it('init({ threads: n }) sets the count without new kernels; a one-thread Job runs every task', async () => {
    const memory = runtime().memory;
    await sg.init({ threads: 3 });
    expect(runtime().memory).toBe(memory);
    expect(sg.getThreads()).toBe(3);
    await expect(sg.init({ threads: 0 })).rejects.toThrow(/init\(\{ threads \}\) must be a positive integer or 'off', got 0/);
    sg.setThreads(2);
    const a = putF32(randomF32(16, 5));
    const c = blankF32(16 * 4);
    const job = new Job(1);
    for (let t = 0; t < 4; t++) job.task().call('copy', [a, c + t * 64, 16]);
    job.run();
    expect(Array.from(getF32(c, 64))).toEqual(Array.from(getF32(a, 16)).concat(...Array(3).fill(Array.from(getF32(a, 16)))));
    free(a, c);
  });

  it('setThreads rejects bad counts', () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN, '2' as unknown as number]) {
      expect(() => sg.setThreads(bad)).toThrow(/setThreads: expected an integer from 1 to 64/);
    }
    expect(sg.getThreads()).toBe(2);
  });

  it('keeps small calls on one thread', () => {
    expect(threadsFor(2 * 64 * 64 * 64)).toBe(1);
    expect(threadsFor(3.9e6)).toBe(1);
    expect(threadsFor(1e9)).toBe(2);
    expect(threadsFor(1e9, 1)).toBe(1);
    const a = sg.randn([64, 64]);
    const b = sg.randn([64, 64]);
    const x = sg.randn([2, 3, 8, 8]);
    const w = sg.randn([4, 3, 3, 3], 0, 1, { requiresGrad: true });
    const r = withThreads(2, () => {
      sg.matmul(a, b);
      sg.linear(sg.randn([64, 100]), sg.randn([10, 100]));
      sg.sum(sg.conv2d(x, w, null, { padding: 1 })).backward();
    });
    expect(r.jobs).toBe(0);
  });

  it('a worker error is reported by the calling thread, and the pool keeps working', () => {
    expect(threadsFor(1e9)).toBe(2);
    const A = putF32(randomF32(128 * 128, 1));
    const C = blankF32(128 * 128 * 2);
    // Local offsets resolve into valid memory on the calling thread only: thread 1's base is
    // far beyond the memory, so any task the worker claims traps there.
    let message = '';
    for (let attempt = 0; attempt < 10 && message === ''; attempt++) {
      const job = new Job(2).local(0, 0).local(1, 0x7ff00000);
      for (let i = 0; i < 50; i++) job.task().gemm(false, false, 128, 128, 128, A, 128, A, 128, 0, C, 128, 0, false, 1 << 6);
      try {
        job.run();
      } catch (e) {
        message = String(e);
      }
    }
    expect(message).toMatch(/worker thread 1 failed: .*(out of bounds|RuntimeError)/);
    free(A, C);
    const a = sg.randn([200, 200]);
    const ref = withThreads(1, () => sg.matmul(a, a).data()).out;
    const got = withThreads(2, () => sg.matmul(a, a).data());
    expect(got.jobs).toBe(1);
    expectBitwise(got.out as Float32Array, ref as Float32Array);
  });

  it('workers start on a job\'s first tasks while the calling thread still writes the rest', () => {
    // Item 0 fills a buffer with 1s. Writing item 2 waits (up to 2 s) for them to appear:
    // only a worker can have run item 0 by then, since the calling thread runs tasks only
    // once the whole job is written.
    const n = 1024;
    const flag = blankF32(n);
    const out = blankF32(4 * n);
    const view = (): Float32Array => new Float32Array(runtime().memory.buffer, flag, n);
    let seen = false;
    runPlan({
      flops: 1e9, items: 4, threads: 2,
      work: (s, i) => {
        if (i === 2) {
          const t0 = performance.now();
          while (!seen && performance.now() - t0 < 2000) seen = view()[n - 1] === 1;
        }
        s.call('fill', [i === 0 ? flag : out + i * n * 4, 1, n]);
      },
    });
    expect(seen).toBe(true);
    expect(Array.from(getF32(out + 4 * n, 3 * n)).every((v) => v === 1)).toBe(true);
    free(flag, out);
  });

  it('a plan whose writing throws after its job started releases the workers; the pool keeps working', () => {
    const out = blankF32(64 * 256, 0);
    for (let round = 0; round < 3; round++) {
      expect(() => runPlan({
        flops: 1e9, items: 64, threads: 2,
        work: (s, i) => {
          if (i === 40) throw new Error('item 40 is bad');
          s.call('fill', [out + i * 256 * 4, i, 256]);
        },
      })).toThrow('item 40 is bad');
    }
    // The items the workers ran before the throw are written, none after it.
    const got = getF32(out, 64 * 256);
    for (let i = 41; i < 64; i++) expect(got[i * 256]).toBe(0);
    const a = sg.randn([200, 200]);
    const ref = withThreads(1, () => sg.matmul(a, a).data()).out;
    const again = withThreads(2, () => sg.matmul(a, a).data());
    expect(again.jobs).toBe(1);
    expectBitwise(again.out as Float32Array, ref as Float32Array);
    free(out);
  });
});

describe('GEMM on two threads equals one thread, bitwise', () => {
  // [M, N, K]: a row split (M large), a column split (few rows, wide C), awkward sizes.
  const shapes: Array<[number, number, number]> = [[130, 121, 140], [20, 333, 401], [257, 64, 250], [9, 1000, 300]];
  for (const [M, N, K] of shapes) {
    for (const tA of [false, true]) for (const tB of [false, true]) {
      it(`${M}x${N}x${K} transA=${tA} transB=${tB}, with beta, bias and ReLU`, () => {
        const A = putF32(randomF32(M * K, 1));
        const B = putF32(randomF32(K * N, 2));
        const bias = putF32(randomF32(N, 3));
        const C0 = randomF32(M * N, 4);
        const lda = tA ? M : K;
        const ldb = tB ? K : N;
        const results: Float32Array[][] = [];
        for (const threads of [1, 2]) {
          const one = blankF32(M * N);
          const two = putF32(C0);
          const r = withThreads(threads, () => {
            gemmCall(tA, tB, M, N, K, A, lda, B, ldb, 0, one, N);
            gemmCall(tA, tB, M, N, K, A, lda, B, ldb, 1, two, N, bias, true);
          });
          expect(r.jobs).toBe(threads === 1 ? 0 : 2);
          results.push([getF32(one, M * N), getF32(two, M * N)]);
          free(one, two);
        }
        expectBitwise(results[1][0], results[0][0]);
        expectBitwise(results[1][1], results[0][1]);
        free(A, B, bias);
      });
    }
  }

  it('matmul, linear and their gradients', () => {
    const run = (): Float32Array[] => {
      sg.manualSeed(7);
      const x = sg.randn([96, 200], 0, 1, { requiresGrad: true });
      const w = sg.randn([150, 200], 0, 1, { requiresGrad: true });
      const b = sg.randn([150], 0, 1, { requiresGrad: true });
      const y = sg.linear(x, w, b, { relu: true });
      const z = sg.matmul(y, sg.randn([150, 160]));
      sg.sum(z).backward();
      return [z.data(), x.grad!.data(), w.grad!.data(), b.grad!.data()] as Float32Array[];
    };
    const one = withThreads(1, run);
    const two = withThreads(2, run);
    expect(one.jobs).toBe(0);
    expect(two.jobs).toBe(5);
    for (let i = 0; i < one.out.length; i++) expectBitwise(two.out[i], one.out[i]);
  });

  it('batched matmul (whole products per thread, and split products)', () => {
    for (const B of [4, 3]) {
      const run = (): Float32Array[] => {
        sg.manualSeed(3);
        const a = sg.randn([B, 100, 96], 0, 1, { requiresGrad: true });
        const b = sg.randn([B, 96, 300], 0, 1, { requiresGrad: true });
        const y = sg.matmul(a, b);
        sg.sum(y).backward();
        return [y.data(), a.grad!.data(), b.grad!.data()] as Float32Array[];
      };
      const one = withThreads(1, run);
      const two = withThreads(2, run);
      expect(two.jobs).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < one.out.length; i++) expectBitwise(two.out[i], one.out[i]);
    }
  });

  it('workers see memory added after they started', () => {
    const before = runtime().memory.buffer.byteLength;
    // Fresh allocations beyond the current heap grow the memory (the allocator never reuses a different size).
    const big = sg.zeros([Math.ceil(before / 4) + 1024]);
    expect(runtime().memory.buffer.byteLength).toBeGreaterThan(before);
    const a = sg.randn([300, 200]);
    const b = sg.randn([200, 250]);
    expect(a.ptr).toBeGreaterThan(before);
    const one = withThreads(1, () => sg.matmul(a, b).data());
    const two = withThreads(2, () => sg.matmul(a, b).data());
    expect(two.jobs).toBe(1);
    expectBitwise(two.out as Float32Array, one.out as Float32Array);
    big.dispose();
  });
});

describe('parallel plans', () => {
  // The example of plan.ts: dW[M, K] = Σ_b dY_b · X_bᵀ over a batch, each X_b copied into the
  // running thread's scratch; each item also writes out_b = 2·X_b on its own.
  const B = 24, M = 16, K = 32, P = 300;
  const run = (x: sg.Tensor, dy: sg.Tensor): Float32Array[] => {
    const dw = sg.empty([M, K]);
    const out = sg.empty([B, K, P]);
    runPlan({
      flops: 2 * B * M * K * P, items: B,
      scratch: { xb: K * P },
      sums: { dw: { elements: M * K, into: dw.ptr } },
      work: (s, b) => {
        s.call('copy', [x.ptrAt(b * K * P), s.scratch('xb'), K * P]);
        s.call('binaryScalar', [BinOp.Mul, s.scratch('xb'), 2, out.ptrAt(b * K * P), K * P, 0]);
        s.gemm(false, true, M, K, P, dy.ptrAt(b * M * P), P, s.scratch('xb'), P, s.first ? 0 : 1, s.sum('dw'), K);
      },
    });
    const r = [dw.data(), out.data()] as Float32Array[];
    sg.dispose(dw, out);
    return r;
  };

  it('per-item outputs are bitwise those of one thread; sums depend on the planned count only', () => {
    sg.manualSeed(17);
    const x = sg.randn([B, K, P]);
    const dy = sg.randn([B, M, P]);
    const one = withThreads(1, () => run(x, dy));
    const two = withThreads(2, () => run(x, dy));
    expect(one.jobs).toBe(0);
    expect(two.jobs).toBe(1);
    expectBitwise(two.out[1], one.out[1]);
    expect(maxRelErr(two.out[0], one.out[0])).toBeLessThan(1e-5);
    tuneThreads({ serial: true });
    try {
      const alone = withThreads(2, () => run(x, dy));
      expect(alone.jobs).toBe(0);
      expectBitwise(alone.out[0], two.out[0]);
      expectBitwise(alone.out[1], two.out[1]);
    } finally {
      tuneThreads({ serial: false });
    }
    // The sum against plain JS.
    const xv = x.data(), dyv = dy.data();
    let err = 0;
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) {
      let want = 0;
      for (let b = 0; b < B; b++) for (let p = 0; p < P; p++) want += dyv[(b * M + m) * P + p] * xv[(b * K + k) * P + p];
      err = Math.max(err, Math.abs(two.out[0][m * K + k] - want) / Math.max(1, Math.abs(want)));
    }
    expect(err).toBeLessThan(1e-4);
    sg.dispose(x, dy);
  });

  it('ranges cut the items into aligned runs; a sum over no items is zero and reaches finish', () => {
    const seen: [number, number][] = [];
    withThreads(2, () => runPlan({
      flops: 1e9, items: 50, threads: 2, ranges: { perThread: 2, align: 4 },
      work: (s, i0, count) => {
        seen.push([i0, count]);
        s.call('fill', [runtime().gemmWork, 0, 0]);
      },
    }));
    // 50 items, 4 ranges on 2 threads, each a multiple of 4 items but the last.
    expect(seen).toEqual([[0, 16], [16, 16], [32, 16], [48, 2]]);
    let total = -1;
    runPlan({
      flops: 0, items: 0, sums: { s: { elements: 8, into: null } },
      work: () => { throw new Error('no items'); },
      finish: ({ s }) => { total = s; expect(Array.from(getF32(s, 8))).toEqual(new Array(8).fill(0)); },
    });
    expect(total).toBeGreaterThan(0);
  });

  it('batch: one run per lane on one thread, one task per lane (runs of items without sums) in a job', () => {
    const runs = (threads: number, sums: boolean, flops = 1e9, items = 10): [number, number, boolean, string][] => {
      const seen: [number, number, boolean, string][] = [];
      withThreads(threads, () => runPlan<never, 's'>({
        flops, items, sums: sums ? { s: { elements: 4, into: null } } : {},
        work: (s, n, count) => {
          seen.push([n, count, s.first, 'work']);
          s.call('fill', [runtime().gemmWork, 0, 0]);
        },
        batch: (s, n, count) => {
          seen.push([n, count, s.first, 'batch']);
          s.call('fill', [runtime().gemmWork, 0, 0]);
        },
      }));
      return seen;
    };
    // Planned for 2 threads: 8 lanes over 10 items, the same runs whichever thread count ran them.
    const lanes: [number, number, boolean, string][] = [[0, 2, true, 'batch'], [2, 1, true, 'batch'], [3, 1, true, 'batch'], [4, 1, true, 'batch'],
      [5, 2, true, 'batch'], [7, 1, true, 'batch'], [8, 1, true, 'batch'], [9, 1, true, 'batch']];
    expect(runs(2, true)).toEqual(lanes);
    expect(runs(1, true)).toEqual([[0, 10, true, 'batch']]);
    tuneThreads({ serial: true });
    try {
      expect(runs(2, true)).toEqual(lanes);
    } finally {
      tuneThreads({ serial: false });
    }
    // Without sums, runs of items: 8 per thread where there are enough items.
    expect(runs(2, false)).toEqual(Array.from({ length: 10 }, (_, n) => [n, 1, true, 'batch']));
    expect(runs(2, false, 1e9, 40)).toEqual(Array.from({ length: 20 }, (_, i) => [2 * i, 2, true, 'batch']));
    expect(runs(1, false)).toEqual([[0, 10, true, 'batch']]);
    // An item alone worth splitting (one thread for the plan, not for an item): `work` per item.
    const single: [number, number, boolean, string][] = [];
    withThreads(2, () => runPlan({
      flops: 1e9, items: 1, threads: 1,
      work: (s, n, count) => { single.push([n, count, s.first, 'work']); },
      batch: () => { throw new Error('not batch'); },
    }));
    expect(single).toEqual([[0, 1, true, 'work']]);
    expect(() => runPlan({ flops: 0, items: 4, ranges: { perThread: 1 }, work: () => {}, batch: () => {} }))
      .toThrow('runPlan: batch and ranges do not go together');
  });
});

describe('passes over memory on two threads (elementwise, pooling, optimizer steps)', () => {
  // Each element or plane is computed by the same operations whichever thread runs it.
  const cases: { name: string; run: () => Float32Array[] }[] = [
    {
      name: 'relu forward and backward, exp, same-shape mul (odd size)',
      run: () => {
        const x = sg.randn([1000, 1001], 0, 1, { requiresGrad: true });
        const y = sg.relu(x).mul(sg.exp(sg.mul(x, 0.1)));
        y.backward({ gradient: sg.randn(y.shape) });
        return [y.data(), x.grad!.data()] as Float32Array[];
      },
    },
    {
      name: 'maxPool2d and avgPool2d forward and backward (odd plane count)',
      run: () => {
        const x = sg.randn([37, 16, 28, 28], 0, 1, { requiresGrad: true });
        const y = sg.maxPool2d(x, 2).add(sg.avgPool2d(x, 3, { stride: 2, padding: 1 }).slice([0, 0, 0, 0], [37, 16, 14, 14]));
        y.backward({ gradient: sg.randn(y.shape) });
        return [y.data(), x.grad!.data()] as Float32Array[];
      },
    },
    {
      name: 'batchNorm (split by channels) training [N,C,H,W] and [N,C], forward and backward, then evaluation',
      run: () => {
        const x = sg.randn([32, 24, 20, 20], 0, 1, { requiresGrad: true });
        const g = sg.randn([24], 1, 0.2, { requiresGrad: true });
        const b = sg.randn([24], 0, 0.2, { requiresGrad: true });
        const rm = sg.zeros([24]);
        const rs = sg.ones([24]);
        const y = sg.batchNorm(x, g, b, rm, rs, { training: true });
        const x2 = sg.randn([4096, 100], 0, 1, { requiresGrad: true });
        const y2 = sg.batchNorm(x2, null, null, null, null, { training: true });
        sg.add(y.mul(sg.randn(y.shape)).sum(), y2.mul(sg.randn(y2.shape)).sum()).backward();
        const out = [y.data(), y2.data(), x.grad!.data(), g.grad!.data(), b.grad!.data(), x2.grad!.data(), rm.data(), rs.data()];
        const z = sg.batchNorm(x, g, b, rm, rs);
        z.backward({ gradient: sg.randn(z.shape) });
        return [...out, z.data(), x.grad!.data()] as Float32Array[];
      },
    },
    {
      name: 'sum over trailing axes and a conv bias gradient (reduceSum split by leading blocks)',
      run: () => {
        const x = sg.randn([301, 64, 97]);
        const rows = sg.sum(x, -1);
        const middle = sg.sum(x, 1);
        const img = sg.randn([32, 16, 14, 14], 0, 1, { requiresGrad: true });
        const w = sg.randn([8, 16, 3, 3], 0, 0.2, { requiresGrad: true });
        const b = sg.randn([8], 0, 0.2, { requiresGrad: true });
        const y = sg.conv2d(img, w, b, { padding: 1 });
        y.backward({ gradient: sg.randn(y.shape) });
        // (w.grad is a sum over images by lanes: it depends on the planned thread count, by design.)
        return [rows.data(), middle.data(), b.grad!.data()] as Float32Array[];
      },
    },
    {
      name: 'row gathers: embedding of 4,097 indices, and DataLoader batches from a tensor dataset',
      run: () => {
        const w = sg.randn([3000, 301]);
        const idx = sg.tensor(Int32Array.from({ length: 4097 }, (_, i) => (i * 7919) % 3000), { dtype: 'int32' });
        const e = sg.embedding(idx, w);
        const ds = sg.Dataset.fromTensors(w, sg.tensor(Int32Array.from({ length: 3000 }, (_, i) => i), { dtype: 'int32' }));
        const b = [...new sg.DataLoader(ds, { batchSize: 2500, shuffle: true, generator: new sg.Generator(3) })][0];
        return [e.data(), b.x.data(), Float32Array.from(b.y.data())] as Float32Array[];
      },
    },
    ...(['Adam', 'SGD', 'RMSprop', 'Adagrad'] as const).map((kind) => ({
      name: `${kind}: all parameters in one job, three steps`,
      run: () => {
        const ps = [sg.randn([333, 257]), sg.randn([7]), sg.randn([128, 1000])].map((p) => { p.requiresGrad = true; return p; });
        const opt = kind === 'Adam' ? new sg.optim.Adam(ps, { lr: 0.01, weightDecay: 0.1 })
          : kind === 'SGD' ? new sg.optim.SGD(ps, { lr: 0.01, momentum: 0.9, weightDecay: 0.1 })
          : kind === 'RMSprop' ? new sg.optim.RMSprop(ps, { lr: 0.01 }) : new sg.optim.Adagrad(ps, { lr: 0.01 });
        for (let t = 0; t < 3; t++) {
          for (const p of ps) p.grad = sg.randn(p.shape);
          opt.step();
        }
        return ps.map((p) => p.data() as Float32Array);
      },
    })),
  ];
  for (const c of cases) {
    it(`${c.name}: bitwise the same as one thread, and split`, () => {
      sg.manualSeed(5);
      const one = withThreads(1, c.run);
      sg.manualSeed(5);
      const two = withThreads(2, c.run);
      expect(one.jobs).toBe(0);
      expect(two.jobs).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < one.out.length; i++) expectBitwise(two.out[i], one.out[i]);
    });
  }

  it('a large sum over a trailing axis runs as one parallel job', () => {
    sg.setThreads(2);
    const x = sg.keep(sg.randn([301, 64, 97]));
    const names = sg.profile(() => { sg.sum(x, -1); }, { runs: 1, warmup: 0 }).kernels.map((k) => k.name);
    expect(names).toContain('reduceSum (2 threads)');
  });

  it('an optimizer step over many parameters is one parallel job', () => {
    const ps = Array.from({ length: 12 }, () => sg.randn([200, 300], 0, 1, { requiresGrad: true }));
    const opt = new sg.optim.Adam(ps);
    for (const p of ps) p.grad = sg.randn(p.shape);
    const r = withThreads(2, () => opt.step());
    expect(r.jobs).toBe(1);
  });

  it('a small pass stays on one thread', () => {
    const x = sg.randn([64, 10]);
    expect(withThreads(2, () => sg.relu(x)).jobs).toBe(0);
  });
});

describe('convolutions on two threads', () => {
  interface Case { name: string; x: number[]; w: number[]; opts: sg.Conv2dOptions; transpose?: boolean }
  const cases: Case[] = [
    { name: 'conv2d 3x3 same', x: [8, 16, 16, 16], w: [16, 16, 3, 3], opts: { padding: 'same' } },
    { name: 'conv2d first layer (one channel, transposed weight gradient)', x: [64, 1, 28, 28], w: [8, 1, 3, 3], opts: { padding: 1 } },
    { name: 'conv2d 5x5 stride 2, odd batch', x: [7, 12, 23, 19], w: [20, 12, 5, 5], opts: { stride: 2, padding: 2 } },
    { name: 'conv2d 1x1 (no im2col)', x: [16, 32, 16, 16], w: [32, 32, 1, 1], opts: {} },
    { name: 'convTranspose2d 4x4 stride 2', x: [8, 24, 12, 12], w: [24, 16, 4, 4], opts: { stride: 2, padding: 1 }, transpose: true },
    { name: 'convTranspose2d 1x1', x: [16, 32, 16, 16], w: [32, 32, 1, 1], opts: {}, transpose: true },
  ];
  for (const c of cases) {
    it(`${c.name}: forward and input gradient bitwise, weight gradient within rounding`, () => {
      const run = (needX: boolean): Float32Array[] => {
        sg.manualSeed(11);
        const x = sg.randn(c.x, 0, 1, { requiresGrad: needX });
        const w = sg.randn(c.w, 0, 1, { requiresGrad: true });
        const b = sg.randn([c.transpose ? c.w[1] : c.w[0]], 0, 1, { requiresGrad: true });
        const y = c.transpose ? sg.convTranspose2d(x, w, b, c.opts as sg.ConvTranspose2dOptions) : sg.conv2d(x, w, b, c.opts);
        const dy = sg.randn(y.shape);
        y.backward({ gradient: dy });
        return [y.data(), needX ? x.grad!.data() : new Float32Array(0), w.grad!.data(), b.grad!.data()] as Float32Array[];
      };
      for (const needX of [true, false]) {
        const one = withThreads(1, () => run(needX));
        const two = withThreads(2, () => run(needX));
        expect(one.jobs).toBe(0);
        expect(two.jobs).toBeGreaterThanOrEqual(2);
        const [y1, dx1, dw1, db1] = one.out;
        const [y2, dx2, dw2, db2] = two.out;
        expectBitwise(y2, y1);
        expectBitwise(dx2, dx1);
        expect(maxRelErr(dw2, dw1)).toBeLessThan(1e-5);
        expectBitwise(db2, db1);
      }
    });
  }

  it('weight gradients depend on the planned thread count only, not on how many threads ran', () => {
    const run = (): Float32Array[] => {
      sg.manualSeed(13);
      const x = sg.randn([12, 16, 16, 16]);
      const w = sg.randn([24, 16, 3, 3], 0, 1, { requiresGrad: true });
      const y = sg.conv2d(x, w, null, { padding: 1 });
      y.backward({ gradient: sg.randn(y.shape) });
      const t = sg.convTranspose2d(sg.randn([12, 24, 8, 8]), w, null, { stride: 2, padding: 1, outputPadding: 1 });
      t.backward({ gradient: sg.randn(t.shape) });
      return [w.grad!.data()] as Float32Array[];
    };
    const two = withThreads(2, run);
    expect(two.jobs).toBeGreaterThanOrEqual(4);
    tuneThreads({ serial: true });
    try {
      const alone = withThreads(2, run);
      expect(alone.jobs).toBe(0);
      expectBitwise(alone.out[0], two.out[0]);
    } finally {
      tuneThreads({ serial: false });
    }
  });

  it('input gradient alone (frozen weights) is bitwise too', () => {
    const run = (): Float32Array => {
      sg.manualSeed(5);
      const x = sg.randn([8, 16, 16, 16], 0, 1, { requiresGrad: true });
      const w = sg.randn([16, 16, 3, 3]);
      sg.sum(sg.conv2d(x, w, null, { padding: 1 })).backward();
      return x.grad!.data() as Float32Array;
    };
    const one = withThreads(1, run);
    const two = withThreads(2, run);
    expect(two.jobs).toBe(2);
    expectBitwise(two.out, one.out);
  });

  it('a batch of one image splits its GEMMs instead', () => {
    const run = (): Float32Array[] => {
      sg.manualSeed(9);
      const x = sg.randn([1, 32, 24, 24], 0, 1, { requiresGrad: true });
      const w = sg.randn([64, 32, 3, 3], 0, 1, { requiresGrad: true });
      const y = sg.conv2d(x, w, null, { padding: 1 });
      sg.sum(y).backward();
      return [y.data(), x.grad!.data(), w.grad!.data()] as Float32Array[];
    };
    const one = withThreads(1, run);
    const two = withThreads(2, run);
    expect(two.jobs).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < 3; i++) expectBitwise(two.out[i], one.out[i]);
  });
});

// ---- separate processes: the bundled library, as users run it ----------------------------

const root = fileURLToPath(new URL('..', import.meta.url));
let dir = '';
let lib = '';

/** Runs an ES module script (with `sg` imported from a fresh bundle of src/) in a child node. */
function child(script: string, nodeArgs: string[] = [], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import * as sg from ${JSON.stringify(pathToFileURL(lib).href)};\n${script}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...nodeArgs, file], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, SIMDGRAD_BUILD: 'simd', SIMDGRAD_THREADS: '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

const bigCall = `
  const a = sg.randn([256, 256]);
  const r1 = sg.matmul(a, a).data();
  const r2 = sg.matmul(a, a).data();
  sg.setThreads(1);
  const r3 = sg.matmul(a, a).data();
  let same = r1.length === r3.length;
  for (let i = 0; i < r1.length; i++) if (!Object.is(r1[i], r3[i]) || !Object.is(r2[i], r3[i])) same = false;
  console.log(JSON.stringify({ info: sg.threadsInfo(), same }));
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-threads-'));
  lib = join(dir, 'simdgrad.mjs');
  // The wasm files are found relative to import.meta.url: point it at dist/. Minified, as in
  // the browser bundle: the workers run the source text of minified functions.
  await build({
    entryPoints: [join(root, 'src/index.ts')], bundle: true, format: 'esm', platform: 'neutral', outfile: lib, minify: true,
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'dist/index.js')).href) }, logLevel: 'error',
  });
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('in a separate process', () => {

  it('uses threads and exits by itself when done (workers do not keep it alive)', () => {
    const r = child(`sg.setThreads(2);${bigCall}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.info.workers).toBe(1);
    expect(out.same).toBe(true);
    expect(r.ms).toBeLessThan(30_000);
  });

  it('exits by itself right after workers were started, and when they sleep', () => {
    const quick = child(`sg.setThreads(2); await sg.startThreads(); console.log('ok');`);
    expect(quick.status).toBe(0);
    expect(quick.stdout.trim()).toBe('ok');
    const idle = child(`sg.setThreads(2); const a = sg.randn([300, 300]); sg.matmul(a, a);
      setTimeout(() => console.log('ok'), 100);`);
    expect(idle.status).toBe(0);
    expect(idle.stdout.trim()).toBe('ok');
  });

  it('without SharedArrayBuffer: one thread, a non-shared memory, the reason said once', () => {
    const r = child(`
      console.log(JSON.stringify({ sab: typeof SharedArrayBuffer }));
      sg.setThreads(2);
      ${bigCall}
      console.log(JSON.stringify({ threads: sg.getThreads(), warned: 0 }));
    `, ['--no-harmony-sharedarraybuffer']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].sab).toBe('undefined');
    expect(lines[1].info).toMatchObject({ sharedMemory: false, workers: 0, threads: 1, reason: 'no SharedArrayBuffer in this runtime' });
    expect(lines[1].same).toBe(true);
    expect(lines[2].threads).toBe(1);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('simdgrad: running on one thread'));
    expect(warnings).toEqual(['simdgrad: running on one thread: no SharedArrayBuffer in this runtime']);
  });

  it("SIMDGRAD_THREADS=off and init({ threads: 'off' }) give up the shared memory, silently", () => {
    const env = child(bigCall, [], { SIMDGRAD_THREADS: 'off' });
    expect(env.status, env.stderr).toBe(0);
    expect(env.stderr).toBe('');
    expect(JSON.parse(env.stdout).info).toMatchObject({ sharedMemory: false, workers: 0, threads: 1, reason: 'threads are off: SIMDGRAD_THREADS=off' });
    const opt = child(`await sg.init({ threads: 'off' });${bigCall}`);
    expect(opt.status, opt.stderr).toBe(0);
    expect(JSON.parse(opt.stdout).info).toMatchObject({ sharedMemory: false, reason: "threads are off: init({ threads: 'off' })" });
    const one = child(bigCall, [], { SIMDGRAD_THREADS: '1' });
    expect(JSON.parse(one.stdout).info).toMatchObject({ sharedMemory: true, workers: 0, threads: 1 });
  });

  it('SIMDGRAD_BACKOFF=off (for profiles) loads and threads; another value is refused by name', () => {
    const off = child(`sg.setThreads(2);${bigCall}`, [], { SIMDGRAD_BACKOFF: 'off' });
    expect(off.status, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ same: true, info: { workers: 1 } });
    // The import fails (caught here: Node would print the whole minified line of the bundle).
    const bad = spawnSync(process.execPath, ['--input-type=module', '-e',
      `try { await import(${JSON.stringify(pathToFileURL(lib).href)}); console.log('loaded'); } catch (e) { console.log(e.message); }`],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SIMDGRAD_BACKOFF: 'maybe' } });
    expect(bad.stdout.trim()).toBe("simdgrad: SIMDGRAD_BACKOFF must be on or off, got 'maybe'");
  });
});

describe('the non-shared memory (patched wasm) gives the same numbers', () => {

  it("SIMDGRAD_THREADS=off in a child vs two threads here: GEMM and conv bitwise", () => {
    const script = `
      sg.manualSeed(21);
      const a = sg.randn([200, 180]);
      const b = sg.randn([180, 190]);
      const x = sg.randn([8, 16, 16, 16]);
      const w = sg.randn([16, 16, 3, 3]);
      const out = [sg.matmul(a, b).data(), sg.conv2d(x, w, null, { padding: 1 }).data()];
      console.log(JSON.stringify({ info: sg.threadsInfo(), out: out.map((d) => Buffer.from(d.buffer).toString('base64')) }));
    `;
    // The same build as here (the relaxed one rounds differently).
    const flags = sg.build() === 'relaxed' ? process.execArgv.filter((f) => f.includes('relaxed-simd')) : [];
    const r = child(script, flags, { SIMDGRAD_THREADS: 'off', SIMDGRAD_BUILD: sg.build() });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.info.sharedMemory).toBe(false);
    const threaded = withThreads(2, () => {
      sg.manualSeed(21);
      const a = sg.randn([200, 180]);
      const b = sg.randn([180, 190]);
      const x = sg.randn([8, 16, 16, 16]);
      const w = sg.randn([16, 16, 3, 3]);
      return [sg.matmul(a, b).data(), sg.conv2d(x, w, null, { padding: 1 }).data()] as Float32Array[];
    });
    expect(threaded.jobs).toBe(2);
    for (let i = 0; i < 2; i++) {
      const buf = Buffer.from(res.out[i], 'base64');
      expectBitwise(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), threaded.out[i]);
    }
  });
});
