// simdgrad as an npm dependency of a web app built by webpack 5 and by Vite (build and dev
// server), run in headless Chromium. The app does nothing special: `import * as sg from
// 'simdgrad'` and `await sg.init()`; the bundlers must pick the browser build through the
// exports map and emit the wasm files that it finds with new URL('…', import.meta.url).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../demo/server.mjs';
import { launchChromium, runBrowserTests, skipNote, type Browser } from './chromium';
import { root } from './pages';

const APP = `import * as sg from 'simdgrad';
(async () => {
  try {
    await sg.init();
    const x = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const loss = sg.sum(sg.matmul(x, x));
    loss.backward();
    window.result = { build: sg.build(), loss: loss.item(), grad: Array.from(x.grad.data()) };
  } catch (e) {
    window.result = { error: String((e && e.stack) || e) };
  }
})();
`;
const want = { build: 'relaxed', loss: 54, grad: [7, 11, 9, 13] };

describe.skipIf(!runBrowserTests)(`simdgrad in apps built by webpack and Vite${skipNote}`, () => {
  let browser: Browser;
  let app: string;
  const servers: StartedServer[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    // A scratch app with simdgrad "installed": the files the package ships, copied into
    // node_modules (not a symlink, so that bundlers treat it as a real dependency).
    app = mkdtempSync(join(tmpdir(), 'simdgrad-bundlers-'));
    const pkg = join(app, 'node_modules', 'simdgrad');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    for (const f of readdirSync(join(root, 'dist'))) {
      if (/^index\./.test(f)) cpSync(join(root, 'dist', f), join(pkg, 'dist', f));
    }
    cpSync(join(root, 'dist', 'wasm'), join(pkg, 'dist', 'wasm'), { recursive: true });
    cpSync(join(root, 'dist', 'types'), join(pkg, 'dist', 'types'), { recursive: true });
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'src', 'main.js'), APP);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="/src/main.js"></script>\n');
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    for (const c of closers) await c().catch(() => undefined);
    if (app) rmSync(app, { recursive: true, force: true });
  });

  async function resultAt(url: string): Promise<{ result: unknown; errors: string[] }> {
    const { page, errors } = await browser.page();
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
    await page.close();
    return { result, errors };
  }

  it('webpack 5 (production, target web): emits both wasm files and the page runs', async () => {
    const { default: webpack } = await import('webpack');
    const out = join(app, 'out-webpack');
    await new Promise<void>((resolve, reject) => {
      webpack({
        mode: 'production', context: app, entry: './src/main.js', target: 'web', devtool: false,
        output: { path: out, filename: 'main.js', clean: true }, performance: { hints: false },
      }, (err, stats) => {
        if (err) reject(err);
        else if (stats?.hasErrors()) reject(new Error(stats.toString('errors-only')));
        else resolve();
      });
    });
    expect(readdirSync(out).filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
    writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script src="main.js"></script>\n');
    const s = await startServer({ mounts: { '/': out } });
    servers.push(s);
    const { result, errors } = await resultAt(`${s.url}/`);
    expect(result).toEqual(want);
    expect(errors).toEqual([]);
  }, 90_000);

  it('Vite build: emits both wasm files as assets and the page runs', async () => {
    const { build } = await import('vite');
    const out = join(app, 'out-vite');
    await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    expect(readdirSync(join(out, 'assets')).filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
    const s = await startServer({ mounts: { '/': out } });
    servers.push(s);
    const { result, errors } = await resultAt(`${s.url}/`);
    expect(result).toEqual(want);
    expect(errors).toEqual([]);
  }, 90_000);

  it('Vite dev server (simdgrad pre-bundled by the dependency optimizer, which keeps the wasm URLs right)', async () => {
    const { createServer } = await import('vite');
    const server = await createServer({
      root: app, configFile: false, logLevel: 'warn', cacheDir: join(app, '.vite-cache'),
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    });
    await server.listen();
    closers.push(() => server.close());
    const url = server.resolvedUrls?.local[0];
    expect(url).toBeDefined();
    const { result, errors } = await resultAt(url!);
    expect(result).toEqual(want);
    expect(errors).toEqual([]);
  }, 90_000);
});
