// Wasm threads in the browser: a page served with COOP/COEP (cross-origin isolated, so it has
// SharedArrayBuffer) runs large calls on worker threads; the same page served without those
// headers falls back to one thread without failing. Also the demo's worker, both ways.
//
// Kept apart from browser.test.ts: it needs the thread-pool API (setThreads, getThreads,
// threadsInfo, startThreads) and is skipped, with the reason in its name, while the library
// does not export it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMounts } from '../../demo/build.mjs';
import { startServer, type StartedServer } from '../../demo/server.mjs';
import { launchChromium, runBrowserTests, skipNote, type Browser } from './chromium';
import { root, testPageMounts } from './pages';
import type { Checks, SetupResult, ThreadsResult } from './pages/checks';

const hasThreadsApi = /\bsetThreads\b/.test(readFileSync(`${root}/src/index.ts`, 'utf8'));
const note = skipNote || (hasThreadsApi ? '' : ' [SKIPPED: the library does not export setThreads yet]');

type Win = { checks: Checks };

describe.skipIf(!runBrowserTests || !hasThreadsApi)(`wasm threads in headless Chromium${note}`, () => {
  let browser: Browser;
  let plain: StartedServer;
  let isolated: StartedServer;
  let demoPlain: StartedServer;
  let demoIsolated: StartedServer;

  beforeAll(async () => {
    const [mounts, demo] = await Promise.all([testPageMounts(), demoMounts()]);
    [plain, isolated, demoPlain, demoIsolated, browser] = await Promise.all([
      startServer({ mounts }),
      startServer({ mounts, isolated: true }),
      startServer({ mounts: demo }),
      startServer({ mounts: demo, isolated: true }),
      launchChromium(),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of [plain, isolated, demoPlain, demoIsolated]) await s?.close();
  });

  async function runThreads(server: StartedServer, n: number): Promise<{ setup: SetupResult; r: ThreadsResult; errors: string[] }> {
    const { page, errors } = await browser.page();
    await page.goto(`${server.url}/t/index.html?wasm=url`);
    await page.waitForFunction(() => (window as unknown as Win).checks !== undefined);
    const setup = await page.evaluate(() => (window as unknown as Win).checks.setup());
    const r = await page.evaluate((k) => (window as unknown as Win).checks.threads(k), n);
    await page.close();
    return { setup, r, errors };
  }

  it('cross-origin isolated (COOP/COEP): large calls run on 2 threads, with the one-thread results', async () => {
    const { setup, r, errors } = await runThreads(isolated, 2);
    console.log(`chromium threads (isolated): ${JSON.stringify(r.after)}; matmul+conv ${r.ms.threaded.toFixed(1)} ms on ${r.getThreads}, ${r.ms.single.toFixed(1)} ms on 1`);
    expect(setup.crossOriginIsolated).toBe(true);
    expect(setup.build).toBe('relaxed');
    expect(r.hasApi).toBe(true);
    expect(r.getThreads).toBe(2);
    expect(r.after).toMatchObject({ threads: 2, sharedMemory: true, workers: 1, reason: null });
    expect(r.maxRelDiff).toBeLessThan(1e-5);
    expect(errors).toEqual([]);
  }, 60_000);

  it('not cross-origin isolated: setThreads(2) is accepted, calls run on one thread, results unchanged', async () => {
    const { setup, r, errors } = await runThreads(plain, 2);
    console.log(`chromium threads (not isolated): ${JSON.stringify(r.after)}`);
    expect(setup.crossOriginIsolated).toBe(false);
    expect(setup.build).toBe('relaxed');
    expect(r.hasApi).toBe(true);
    expect(r.getThreads).toBe(1);
    expect(r.after).toMatchObject({ threads: 1, sharedMemory: false, workers: 0 });
    expect(r.after!.reason).toEqual(expect.any(String));
    expect(r.maxRelDiff).toBe(0);
    // The library may warn once on the console that it runs on one thread; nothing else.
    expect(errors).toEqual([]);
  }, 60_000);

  it("the demo's training worker uses the threads where the page is isolated, one thread where not", async () => {
    type Seen = { threads?: string; state?: string; text: string | null; note: string | null; seconds: number };
    const threadsOf = async (server: StartedServer): Promise<Seen> => {
      const { page } = await browser.page();
      const t0 = Date.now();
      await page.goto(`${server.url}/?epochs=1&steps=3&train=500&val=200&test=200&threads=2`);
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000 });
      const d = await page.evaluate(() => ({ ...document.body.dataset }));
      const out = { threads: d.threads, state: d.state, text: await page.textContent('#runtime'), note: await page.getAttribute('#runtime', 'title'), seconds: (Date.now() - t0) / 1000 };
      await page.close();
      return out;
    };
    // Threads started from inside a Web Worker: the pool's own workers are nested workers.
    const iso = await threadsOf(demoIsolated);
    console.log(`demo worker (isolated): ${iso.text} in ${iso.seconds.toFixed(1)} s${iso.note ? ` (note: ${iso.note})` : ''}`);
    expect(iso, `the demo's worker ran on one thread: ${iso.note}`).toMatchObject({ state: 'done', threads: '2' });
    expect(iso.text).toMatch(/cross-origin isolated/);
    expect(iso.seconds).toBeLessThan(15);
    const non = await threadsOf(demoPlain);
    expect(non).toMatchObject({ state: 'done', threads: '1' });
    expect(non.text).toMatch(/not cross-origin isolated/);
    expect(non.note).toMatch(/cross-origin isolated/);
  }, 90_000);
});
