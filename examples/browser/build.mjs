// Bundles this example with esbuild: `node examples/browser/build.mjs [outdir]` writes
// index.html, main.js and the two wasm files (default: examples/browser/dist/); serve that
// folder with any static server. The browser tests build it the same way.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildExample(outdir = join(here, 'dist')) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outdir,
    loader: { '.wasm': 'file' },     // copy imported .wasm files, import their URL path
    assetNames: '[name]-[hash]',
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`built ${await buildExample(process.argv[2])}`);
}
