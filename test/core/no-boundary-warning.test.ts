// The step rule frees op results at step boundaries (a backward(), a top-level noGrad()). A
// loop with none (forward passes outside noGrad, no backward: plain inference) frees nothing,
// and wasm memory grows until it runs out; the library says so once, early, and not for a
// training step that merely makes large activations. manage() is driven with stand-ins of
// the size of real results, so the test does not have to allocate half a gigabyte.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { manage, NO_BOUNDARY_WARN_BYTES, stepBoundary } from '../../src/core/lifetime';
import type { Tensor } from '../../src/core/tensor';

/** A stand-in for an op result of `bytes` float32 bytes (not alive: the sweep drops it). */
const result = (bytes: number): Tensor => ({ size: bytes / 4, dtype: 'float32', isAlive: false }) as unknown as Tensor;
const MiB = 2 ** 20;

describe('warning for a loop without step boundaries', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is silent while steps end, even steps that make more than the threshold each', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // 2,000 training steps of 2 MiB of results each: far more than the threshold in all.
    for (let s = 0; s < 2000; s++) {
      for (let i = 0; i < 8; i++) manage(result(MiB / 4), 'linear');
      stepBoundary('backward', () => false);
    }
    // A model whose single step makes 300 MiB, then one making 2x that (another batch size).
    manage(result(300 * MiB), 'conv2d');
    stepBoundary('backward', () => false);
    manage(result(NO_BOUNDARY_WARN_BYTES + 100 * MiB), 'conv2d');
    stepBoundary('backward', () => false);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns once when results pile up with no boundary, naming noGrad', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Inference outside noGrad: 36 KB per forward pass of the MNIST MLP at batch 64. Past the
    // largest step seen so far (612 MiB, above) times 4.
    let passes = 0;
    while (warn.mock.calls.length === 0 && passes < 200_000) {
      manage(result(32 * 1024), 'linear');
      manage(result(4 * 1024), 'linear');
      passes++;
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(passes * 36 * 1024).toBeGreaterThan(4 * 612 * MiB);
    expect(passes * 36 * 1024).toBeLessThan(4 * 612 * MiB + 64 * 1024);
    expect(String(warn.mock.calls[0][0])).toMatch(/^simdgrad: \d+ MiB of op results \(the last from linear\) were made since the last step boundary.*sg\.noGrad/);
    for (let i = 0; i < 1000; i++) manage(result(MiB), 'linear');
    stepBoundary('noGrad', () => false);
    for (let i = 0; i < 3000; i++) manage(result(MiB), 'linear');
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
