// Builds the browser test pages in memory: test/browser/pages/checks.ts bundled by esbuild as an
// app would bundle simdgrad (`import 'simdgrad'` through the package's exports map), with the
// wasm files copied next to the bundle (what an esbuild user does for the explicit-URL init).
import { build } from 'esbuild';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExample } from '../../examples/browser/build.mjs';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export async function testPageMounts(): Promise<Record<string, string | Map<string, Uint8Array | string>>> {
  const here = join(root, 'test', 'browser', 'pages');
  const result = await build({
    entryPoints: [join(here, 'checks.ts')],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outdir: '/t', write: false, logLevel: 'warning', absWorkingDir: root,
  });
  const t = new Map<string, Uint8Array | string>();
  for (const f of result.outputFiles) t.set(f.path.replace(/^.*[\\/]t[\\/]/, ''), f.contents);
  for (const name of ['simdgrad-simd.wasm', 'simdgrad-relaxed.wasm']) t.set(name, readFileSync(join(root, 'dist', 'wasm', name)));
  for (const page of ['index.html', 'plain.html']) t.set(page, readFileSync(join(here, page)));
  // /dist/ is the package's own dist folder: the plain page imports dist/index.browser.js from
  // there, and a bundle that does not pass URLs finds /dist/wasm/ through '../dist/wasm/'.
  // examples/browser, built by its own script into a scratch folder, under /ex/.
  const ex = await buildExample(mkdtempSync(join(tmpdir(), 'simdgrad-example-')));
  return { '/t/': t, '/dist/': join(root, 'dist'), '/ex/': ex };
}
