// Bundles the library (ESM + CommonJS) and the command-line examples with esbuild, and
// writes the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// globalThis.__SIMDGRAD_OP_TESTS__ false: the ops' test material (samples, references, bad
// inputs, about a fifth of the code) is dropped from every shipped bundle (see OpCommon.tests in
// src/ops/registry.ts); the tests run it from src/.
const noOpTests = { 'globalThis.__SIMDGRAD_OP_TESTS__': 'false' };
// minifySyntax folds the flag's branches away (whitespace and names stay readable in the node bundles).
// Maps carry positions only (stack traces and devtools name the src/ file and line), not the
// sources again, which would double the package.
const common = { bundle: true, target: 'es2022', sourcemap: true, sourcesContent: false, logLevel: 'warning', define: noOpTests, minifySyntax: true };

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', format: 'esm', platform: 'neutral'});
// CommonJS has no import.meta.url: derive it from __filename so the wasm files are found.
await build({
  ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', format: 'cjs', platform: 'node',
  define: { ...noOpTests, 'import.meta.url': '__simdgrad_url' },
  banner: { js: 'const __simdgrad_url = require("url").pathToFileURL(__filename).href;' },
});
// Browsers (the `browser` condition of package.json): ESM, minified. The wasm files are found
// next to it with new URL('../dist/wasm/…', import.meta.url), which webpack and Vite rewrite
// into emitted assets and a plain <script type="module"> resolves against this file's URL.
await build({
  ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.browser.js', format: 'esm', platform: 'browser',
  minify: true, legalComments: 'none',
});
// simdgrad/onnx, a separate entry point: ONNX export carries a protobuf runtime and schema
// (~75 kB minified) that most apps never need. It imports the library as 'simdgrad' (one copy of
// Tensor and the registry), and bundles onnx-buf and @bufbuild/protobuf.
const libraryAsPackage = {
  name: 'library-as-package',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (args.importer.endsWith(join('src', 'export', 'onnx.ts')) ? { path: 'simdgrad', external: true } : undefined));
  },
};
await build({ ...common, entryPoints: ['src/export/onnx.ts'], outfile: 'dist/onnx.js', format: 'esm', platform: 'neutral', plugins: [libraryAsPackage] });
await build({ ...common, entryPoints: ['src/export/onnx.ts'], outfile: 'dist/onnx.cjs', format: 'cjs', platform: 'node', plugins: [libraryAsPackage] });
await build({
  ...common, entryPoints: ['examples/train-mnist.ts'], outfile: 'dist/train-mnist.js',
  format: 'esm', platform: 'node', external: ['mnist'],
  banner: { js: 'import { createRequire as __cr } from "module"; const require = __cr(import.meta.url);' },
});
rmSync('dist/types', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
stripInternalMembers('dist/types');

// Class members tagged @internal (Tensor's ptr, ptrAt, release, shareStorage, its constructor)
// are dropped from the published declarations; src/ keeps using them. Only members of classes:
// tsconfig's stripInternal also drops @internal top-level functions, and index files re-export
// some of those (tuneThreads ...), which left consumers with re-exports of nothing. An
// @internal constructor becomes `private constructor()`, so users cannot call `new` on the
// class (a removed one would read as a public no-argument constructor).
function stripInternalMembers(dir) {
  const ts = require('typescript');
  for (const rel of readdirSync(dir, { recursive: true })) {
    if (!String(rel).endsWith('.d.ts')) continue;
    const file = join(dir, rel);
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const cuts = [];
    const visit = (node) => {
      if (ts.isClassDeclaration(node)) {
        for (const m of node.members) {
          if (!ts.getJSDocTags(m).some((t) => t.tagName.text === 'internal')) continue;
          const indent = /[ \t]*$/.exec(text.slice(0, m.getStart()))[0];
          cuts.push({ from: m.getFullStart(), to: m.getEnd(), with: ts.isConstructorDeclaration(m) ? `\n${indent}private constructor();` : '' });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (cuts.length === 0) continue;
    let out = text;
    for (const c of cuts.sort((a, b) => b.from - a.from)) out = out.slice(0, c.from) + c.with + out.slice(c.to);
    writeFileSync(file, out);
  }
}

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
