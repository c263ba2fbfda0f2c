// The built bundles work as a user gets them: `import` and `require` in a fresh Node process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const script = `
  const x = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const loss = sg.sum(sg.matmul(x, x));
  loss.backward();
  console.log(JSON.stringify({ build: sg.build(), loss: loss.item(), grad: Array.from(x.grad.data()) }));
`;

function run(args: string[]): { build: string; loss: number; grad: number[] } {
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, SIMDGRAD_BUILD: '' } }));
}

describe('package bundles (dist/, built by npm install)', () => {
  it('dist/ exists', () => {
    expect(existsSync(new URL('../dist/index.js', import.meta.url))).toBe(true);
    expect(existsSync(new URL('../dist/index.cjs', import.meta.url))).toBe(true);
  });
  const want = { loss: 54, grad: [7, 11, 9, 13] };
  it('works with require()', () => {
    const r = run(['-e', `const sg = require('./dist/index.cjs');${script}`]);
    expect(r).toMatchObject(want);
    // Node 20 without the flag cannot validate relaxed SIMD; Node 22+ can.
    const relaxedOk = WebAssembly.validate(readFileSync(new URL('../dist/wasm/simdgrad-relaxed.wasm', import.meta.url)));
    expect(r.build).toBe(relaxedOk ? 'relaxed' : 'simd');
  });
  it('works with import', () => {
    const r = run(['--input-type=module', '-e', `import * as sg from './dist/index.js';${script}`]);
    expect(r).toMatchObject(want);
  });
  it('picks the relaxed build where the runtime validates it', () => {
    const r = run(['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', `import * as sg from './dist/index.js';${script}`]);
    expect(r.build).toBe('relaxed');
    expect(r).toMatchObject(want);
  });
});
