// The demo page (`npm run demo`) in headless Chromium: it trains the MNIST CNN briefly in its
// Web Worker, stays responsive, then a stroke drawn on the canvas gets a prediction with ten
// probabilities. Its VAE tab, in a short run (?vaeSteps=200), trains the dense VAE in its own
// worker with the loss falling, draws a grid of samples from N(0, I) that is not blank, and
// decodes new digits as the 2-D latent slider is dragged. Screenshots are saved under the OS
// temp dir and their paths printed.
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

  it('trains the VAE briefly, the loss falls, and sampled digits are drawn', async () => {
    const { page, errors } = await browser.page();
    const t0 = Date.now();
    await page.goto(`${server.url}/?vaeSteps=200#vae`);
    const vae = page.locator('#tab-vae');
    expect(await vae.isVisible()).toBe(true);
    // Opening the VAE tab does not start the CNN's training.
    expect(await page.locator('#tab-cnn').isVisible()).toBe(false);
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('tab-vae')!.dataset.state ?? ''), null, { timeout: 90_000 });
    expect(await page.textContent('#vae-error')).toBe('');
    // The grid is redrawn every second; wait for one drawn after training ended.
    const gridsAtDone = Number(await vae.getAttribute('data-grids') ?? 0);
    await page.waitForFunction((n) => Number(document.getElementById('tab-vae')!.dataset.grids ?? 0) > n, gridsAtDone, { timeout: 10_000 });
    const d = await page.evaluate(() => ({ ...document.getElementById('tab-vae')!.dataset }));
    expect(d.state).toBe('done');
    expect(d.step).toBe('200');
    // −ELBO starts near 784·ln 2 ≈ 543 nats (every pixel a coin flip) and drops fast.
    expect(Number(d.lossFirst)).toBeGreaterThan(300);
    expect(Number(d.loss)).toBeLessThan(0.75 * Number(d.lossFirst));
    // The decoder's Bernoulli means: probabilities, mostly dark background with some ink.
    expect(Number(d.sampleMin)).toBeGreaterThanOrEqual(0);
    expect(Number(d.sampleMax)).toBeLessThanOrEqual(1);
    expect(Number(d.sampleMax)).toBeGreaterThan(0.5);
    expect(Number(d.sampleMean)).toBeGreaterThan(0.02);
    expect(Number(d.sampleMean)).toBeLessThan(0.5);
    expect(d.axes!.split(',').map(Number)).toHaveLength(2);

    // The canvas itself holds the digits: not blank, and not all white.
    const ink = await page.evaluate(() => {
      const cv = document.getElementById('vae-grid') as HTMLCanvasElement;
      const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] > 64) lit++;
      return lit / (px.length / 4);
    });
    expect(ink).toBeGreaterThan(0.02);
    expect(ink).toBeLessThan(0.5);

    // Dragging the latent slider decodes a digit per move.
    const before = Number(d.sliderDraws ?? 0);
    const oneBefore = await page.evaluate(() => (document.getElementById('vae-one') as HTMLCanvasElement).toDataURL());
    const box = (await page.locator('#vae-pad').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.08 * i), box.y + box.height * (0.2 + 0.07 * i));
    await page.mouse.up();
    await page.waitForFunction((n) => Number(document.getElementById('tab-vae')!.dataset.sliderDraws ?? 0) > n, before, { timeout: 10_000 });
    await page.waitForTimeout(300); // the last queued decode
    const oneAfter = await page.evaluate(() => (document.getElementById('vae-one') as HTMLCanvasElement).toDataURL());
    expect(oneAfter).not.toBe(oneBefore);
    expect(await page.textContent('#vae-coords')).toMatch(/^z\[\d+\] = -?\d\.\d\d, z\[\d+\] = -?\d\.\d\d$/);

    // Switching back to the CNN tab starts its training.
    await page.click('#tablink-cnn');
    await page.waitForFunction(() => document.body.dataset.state === 'training' || document.body.dataset.state === 'done', null, { timeout: 60_000 });
    expect(await page.locator('#tab-vae').isVisible()).toBe(false);

    const shot = join(artifactDir, 'demo-vae.png');
    await page.click('#tablink-vae');
    await page.screenshot({ path: shot });
    console.log(`demo VAE tab: ${d.step} steps, loss ${d.lossFirst} -> ${d.loss} nats, samples in [${d.sampleMin}, ${d.sampleMax}] (mean ${d.sampleMean}), ` +
      `slider over z[${d.axes}], ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`demo VAE screenshot: ${shot}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);
});
