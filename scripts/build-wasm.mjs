// Builds both wasm flavours from one source: plain SIMD128 and relaxed SIMD (FMA).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const asc = require.resolve('assemblyscript/bin/asc.js');
mkdirSync('dist/wasm', { recursive: true });
for (const target of ['simd', 'relaxed']) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { stdio: 'inherit' });
}
