// The demo page (`npm run demo`) in headless Chromium: it trains the MNIST CNN briefly in its
// Web Worker, stays responsive, then a stroke drawn on the canvas gets a prediction with ten
// probabilities. A screenshot is saved under the OS temp dir and its path printed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMounts } from '../../demo/build.mjs';
import { startServer, type StartedServer } from '../../demo/server.mjs';
import { artifactDir, launchChromium, runBrowserTests, skipNote, type Browser } from './chromium';

describe.skipIf(!runBrowserTests)(`demo page in headless Chromium${skipNote}`, () => {
  let browser: Browser;
  let server: StartedServer;

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      demoMounts().then((mounts) => startServer({ mounts, isolated: true })),
      launchChromium(),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains briefly in a worker with the page responsive, then predicts a drawn digit', async () => {
    const { page, errors } = await browser.page();
    const t0 = Date.now();
    // Two short epochs of 25 steps on 3,000 training digits.
    await page.goto(`${server.url}/?epochs=2&steps=25&train=3000&val=500&test=500`);
    await page.waitForFunction(() => document.body.dataset.state === 'training', null, { timeout: 60_000 });
    // While the worker trains, the main thread answers at once.
    const r0 = Date.now();
    const step = await page.evaluate(() => Number(document.body.dataset.step ?? 0));
    const roundTrip = Date.now() - r0;
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 90_000 });
    const d = await page.evaluate(() => ({ ...document.body.dataset }));
    expect(await page.textContent('#error')).toBe('');
    expect(d.state).toBe('done');
    expect(d.build).toBe('relaxed');
    expect(d.step).toBe('50');
    expect(d.epochs).toBe('2');
    expect(Number(d.testAccuracy)).toBeGreaterThan(0.5);
    expect(Number(d.valAccuracy)).toBeGreaterThan(0.5);
    // The longest gap between the page's 50 ms timer ticks while training (main thread free).
    expect(Number(d.maxStall)).toBeLessThan(1000);
    expect(roundTrip).toBeLessThan(2000);
    expect(await page.textContent('#stats')).toMatch(/test accuracy \d+\.\d+%/);
    const progress = await page.evaluate(() => {
      const p = document.getElementById('progress') as HTMLProgressElement;
      return [p.value, p.max];
    });
    expect(progress[0]).toBe(progress[1]);

    // Draw a "1": one vertical stroke down the middle of the pad.
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * (0.52 - 0.004 * i), box.y + box.height * (0.15 + 0.058 * i));
    await page.mouse.up();
    await page.waitForFunction(() => (document.body.dataset.prediction ?? '') !== '', null, { timeout: 20_000 });
    const after = await page.evaluate(() => ({ ...document.body.dataset }));
    const probs = after.probs!.split(',').map(Number);
    expect(probs).toHaveLength(10);
    expect(probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
    const best = probs.indexOf(Math.max(...probs));
    expect(after.prediction).toBe(String(best));
    expect(await page.textContent('#prediction')).toBe(String(best));
    expect(await page.locator('#bars .bar').count()).toBe(10);
    expect(after.prediction).toBe('1');

    const shot = join(artifactDir, 'demo.png');
    await page.waitForTimeout(400); // let the bars' CSS transition finish
    await page.screenshot({ path: shot });
    console.log(`demo: ${d.step} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s (first reading at step ${step}), test accuracy ${d.testAccuracy}, ` +
      `longest main-thread stall ${d.maxStall} ms, drew a 1 -> predicted ${after.prediction} (p = ${probs[best].toFixed(3)})`);
    console.log(`demo screenshot: ${shot}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
