// `npm run example -- NAME [args...]`: bundles examples/NAME/main.ts with
// the library's sources and runs it with node, passing the remaining arguments on.
//
// The bundle goes to dist/, next to the wasm files it loads ('../dist/wasm/…' from the module),
// with npm packages left external so node resolves them from the project's node_modules (the
// examples' data packages are devDependencies, never bundled).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [name, ...rest] = process.argv.slice(2);
const available = () => readdirSync('examples', { withFileTypes: true })
  // A folder with an index.html is a browser page (examples/browser), not a node example.
  .filter((d) => d.isDirectory() && existsSync(join('examples', d.name, 'main.ts')) && !existsSync(join('examples', d.name, 'index.html')))
  .map((d) => d.name).sort();
if (name === undefined || name === '' || name.startsWith('-')) {
  console.error(`usage: npm run example -- NAME [args]\nexamples: ${available().join(', ')}`);
  process.exit(2);
}
if (!/^[\w-]+$/.test(name)) {
  console.error(`example: '${name}' is not an example name (letters, digits, - and _)`);
  process.exit(2);
}
const entry = available().includes(name) ? join('examples', name, 'main.ts') : undefined;
if (entry === undefined) {
  console.error(`example: no example named '${name}' (examples/NAME/main.ts); examples: ${available().join(', ')}`);
  process.exit(2);
}
const outfile = join('dist', `example-${name}.mjs`);
await build({
  entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', target: 'es2022',
  sourcemap: true, logLevel: 'warning', packages: 'external',
});
// Node 20 turns relaxed SIMD on only with the flag; later versions have it on and accept it.
const flags = ['--enable-source-maps'];
if (Number(process.versions.node.split('.')[0]) < 22) flags.push('--experimental-wasm-relaxed-simd');
const r = spawnSync(process.execPath, [...flags, outfile, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
