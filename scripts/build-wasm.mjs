// Builds both wasm flavours from one source: plain SIMD128 and relaxed SIMD (FMA).
//
// Both are built for a shared imported memory (asconfig.json: sharedMemory, the threads
// feature, maximumMemory), so worker threads can run kernels on the same memory. Where there
// is no SharedArrayBuffer the loader (bindings/index.ts) flips the one byte that differs
// between a shared and a non-shared build — the flags of the memory import's limits, 0x03
// vs 0x01 — rather than shipping a second pair of files. The check below keeps that true.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const asc = require.resolve('assemblyscript/bin/asc.js');
mkdirSync('dist/wasm', { recursive: true });
const config = JSON.parse(readFileSync('asconfig.json', 'utf8'));
for (const target of ['simd', 'relaxed']) {
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { stdio: 'inherit' });
  // The import "env" "memory" (kind 2) must be followed by limits flags 0x03 (shared, with a maximum).
  const bytes = readFileSync(config.targets[target].outFile);
  const tag = Buffer.from([3, ...Buffer.from('env'), 6, ...Buffer.from('memory'), 2]);
  const at = bytes.indexOf(tag);
  if (at < 0 || bytes[at + tag.length] !== 0x03) {
    throw new Error(`${config.targets[target].outFile}: expected an imported shared memory (limits flags 0x03), found ${at < 0 ? 'no env.memory import' : `flags 0x${bytes[at + tag.length].toString(16)}`}`);
  }
}
