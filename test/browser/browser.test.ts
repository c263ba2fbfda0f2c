// simdgrad in a real browser: headless Chromium (Debian's, driven by playwright-core) loads the
// library from bundles served on localhost, compares kernels with plain-JS references computed
// in the page, trains a small MLP and checks which wasm build it picked.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, type StartedServer } from '../../demo/server.mjs';
import { launchChromium, runBrowserTests, skipNote, type Browser } from './chromium';
import { testPageMounts } from './pages';
import type { Checks, Comparison, SetupResult } from './pages/checks';

if (!runBrowserTests) console.warn(`simdgrad: browser tests NOT RUN:${skipNote}`);

type Win = { checks: Checks; result?: unknown };

describe.skipIf(!runBrowserTests)(`simdgrad in headless Chromium${skipNote}`, () => {
  let browser: Browser;
  let plain: StartedServer; // no COOP/COEP: not cross-origin isolated
  let isolated: StartedServer;
  let exampleDir = '';

  beforeAll(async () => {
    const mounts = await testPageMounts();
    exampleDir = mounts['/ex/'] as string;
    [plain, isolated, browser] = await Promise.all([
      startServer({ mounts }),
      startServer({ mounts, isolated: true }),
      launchChromium(),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await plain?.close();
    await isolated?.close();
    if (exampleDir !== '') rmSync(exampleDir, { recursive: true, force: true });
  });

  /** Opens the checks page with a query and runs setup() (init with those options). */
  async function open(query: string, server = plain): Promise<{ page: Page; setup: SetupResult; errors: string[] }> {
    const { page, errors } = await browser.page();
    await page.goto(`${server.url}/t/index.html?${query}`);
    await page.waitForFunction(() => (window as unknown as Win).checks !== undefined);
    const setup = await page.evaluate(() => (window as unknown as Win).checks.setup());
    return { page, setup, errors };
  }

  function expectAllClose(results: Comparison[]): void {
    for (const r of results) expect(r, `${r.name}: max error ${r.maxError}, ${r.worst.toFixed(2)}x the tolerance`).toMatchObject({ ok: true });
    expect(results.map((r) => r.name)).toHaveLength(4);
  }

  it('a plain <script type="module"> imports dist/index.browser.js, which finds the wasm next to itself', async () => {
    const { page, errors } = await browser.page();
    await page.goto(`${plain.url}/t/plain.html`);
    await page.waitForFunction(() => (window as unknown as Win).result !== undefined);
    const r = await page.evaluate(() => (window as unknown as Win).result);
    expect(r).toEqual({ build: 'relaxed', loss: 54, grad: [7, 11, 9, 13] });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('an esbuild bundle with init({ wasm: { simd: url, relaxed: url } }): picks the relaxed build (Chromium validates it); kernels match JS references', async () => {
    const { page, setup, errors } = await open('wasm=url');
    expect(setup.relaxedValidates).toBe(true);
    expect(setup.build).toBe('relaxed');
    expect(setup.userAgent).toMatch(/Chrome\//);
    expectAllClose(await page.evaluate(() => (window as unknown as Win).checks.kernels()));
    const speed = await page.evaluate(() => (window as unknown as Win).checks.gemmSpeed());
    console.log(`chromium ${setup.build} build: gemm ${speed.n}^3 ${speed.gflops.toFixed(1)} GFLOP/s (one thread)`);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("init({ build: 'simd' }) forces the plain SIMD build; kernels match and a small MLP learns", async () => {
    const { page, setup, errors } = await open('wasm=url&build=simd');
    expect(setup.build).toBe('simd');
    expectAllClose(await page.evaluate(() => (window as unknown as Win).checks.kernels()));
    const t = await page.evaluate(() => (window as unknown as Win).checks.trainMlp());
    expect(t.losses.at(-1)!).toBeLessThan(0.3 * t.losses[0]);
    expect(t.accuracy).toBeGreaterThan(0.9);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a small MLP trains on the relaxed build: the loss falls, memory stays flat', async () => {
    const { page, setup, errors } = await open('wasm=url');
    expect(setup.build).toBe('relaxed');
    const t = await page.evaluate(() => (window as unknown as Win).checks.trainMlp());
    console.log(`chromium MLP: loss ${t.losses[0].toFixed(3)} -> ${t.losses.at(-1)!.toFixed(3)}, accuracy ${t.accuracy}, ${t.losses.length} steps in ${t.ms.toFixed(0)} ms`);
    expect(t.losses.every(Number.isFinite)).toBe(true);
    expect(t.losses.at(-1)!).toBeLessThan(0.3 * t.losses[0]);
    // Falling overall, not just at the end: the mean of the last 20 below the mean of the first 20.
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(t.losses.slice(-20))).toBeLessThan(0.5 * mean(t.losses.slice(0, 20)));
    expect(t.accuracy).toBeGreaterThan(0.9);
    expect(t.tensorsAtEnd).toBe(t.tensorsAt50);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('init({ wasm: { simd: bytes, relaxed: bytes } }) takes the bytes (strict CSP, CDNs)', async () => {
    const { page, setup, errors } = await open('wasm=bytes');
    expect(setup.build).toBe('relaxed');
    expectAllClose(await page.evaluate(() => (window as unknown as Win).checks.kernels()));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a bundle that passes no URLs finds ../dist/wasm/ relative to itself', async () => {
    const { page, setup, errors } = await open('wasm=default&build=simd');
    expect(setup.build).toBe('simd');
    expectAllClose(await page.evaluate(() => (window as unknown as Win).checks.kernels()));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('examples/browser (esbuild file loader for simdgrad/wasm/*) loads and learns XOR', async () => {
    const { page, errors } = await browser.page();
    await page.goto(`${plain.url}/ex/index.html`);
    await page.waitForFunction(() => (window as unknown as Win).result !== undefined);
    const r = await page.evaluate(() => (window as unknown as Win).result) as { build: string; first: number; last: number; p: number[] };
    expect(r.build).toBe('relaxed');
    expect(r.last).toBeLessThan(0.1 * r.first);
    expect(r.p.map((v) => Math.round(v))).toEqual([0, 1, 1, 0]);
    expect(await page.textContent('#out')).toMatch(/wasm build: relaxed/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the test servers: COOP/COEP make the page cross-origin isolated, their absence does not', async () => {
    const a = await open('wasm=url', isolated);
    expect(a.setup.crossOriginIsolated).toBe(true);
    expect(a.setup.build).toBe('relaxed');
    const b = await open('wasm=url', plain);
    expect(b.setup.crossOriginIsolated).toBe(false);
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.page.close();
    await b.page.close();
  }, 60_000);
});
