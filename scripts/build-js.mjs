// Bundles the library (ESM + CommonJS) and the command-line examples with esbuild, and
// writes the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

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
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
