// Bundles the library (ESM + CommonJS) and the command-line examples with esbuild, and
// writes the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const common = { bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', format: 'esm', platform: 'neutral' });
// CommonJS has no import.meta.url: derive it from __filename so the wasm files are found.
await build({
  ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', format: 'cjs', platform: 'node',
  define: { 'import.meta.url': '__simdgrad_url' },
  banner: { js: 'const __simdgrad_url = require("url").pathToFileURL(__filename).href;' },
});
// Browsers (the `browser` condition of package.json): ESM, minified. The wasm files are found
// next to it with new URL('../dist/wasm/…', import.meta.url), which webpack and Vite rewrite
// into emitted assets and a plain <script type="module"> resolves against this file's URL.
// globalThis.__SIMDGRAD_OP_TESTS__ false: the ops' test material (samples, references, bad
// inputs) is dropped (see OpCommon.tests in src/ops/registry.ts).
await build({
  ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.browser.js', format: 'esm', platform: 'browser',
  minify: true, legalComments: 'none', define: { 'globalThis.__SIMDGRAD_OP_TESTS__': 'false' },
});
await build({
  ...common, entryPoints: ['examples/train-mnist.ts'], outfile: 'dist/train-mnist.js',
  format: 'esm', platform: 'node', external: ['mnist'],
  banner: { js: 'import { createRequire as __cr } from "module"; const require = __cr(import.meta.url);' },
});
rmSync('dist/types', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

// CommonJS twin of the declarations, for `require` consumers under moduleResolution node16 /
// nodenext: in a "type": "module" package every .d.ts is an ES module, which a CommonJS file
// cannot require (TS1479). dist/types-cjs holds the same declarations as .d.cts, with the
// relative specifiers ('./tensor.js', import('./tensor.js'), declare module '../core/tensor.js')
// pointing at .cjs instead.
const cjsTypes = 'dist/types-cjs';
rmSync(cjsTypes, { recursive: true, force: true });
const relSpec = /((?:\bfrom|\bimport|\bimport\(|\bdeclare module)\s*)(['"])(\.\.?\/[^'"]*)\.js\2/g;
for (const rel of readdirSync('dist/types', { recursive: true })) {
  if (!String(rel).endsWith('.d.ts')) continue;
  const text = readFileSync(join('dist/types', rel), 'utf8').replace(relSpec, '$1$2$3.cjs$2');
  const out = join(cjsTypes, String(rel).replace(/\.d\.ts$/, '.d.cts'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
}
