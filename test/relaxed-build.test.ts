// The kernel tests normally run against whichever build the runtime picks (plain SIMD on
// Node 20, which does not enable relaxed SIMD by default). This test runs the whole kernel
// test directory a second time in a child process forced onto the relaxed-SIMD (FMA) build,
// so both shipped .wasm files are checked against the JS references on every test run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const relaxedWasm = join(root, 'dist', 'wasm', 'simdgrad-relaxed.wasm');
const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const FLAG = '--experimental-wasm-relaxed-simd';

/** Does a child `node <flags>` validate the relaxed build? */
function validatesWith(flags: string[]): boolean {
  const probe = 'process.exit(WebAssembly.validate(require("node:fs").readFileSync(process.argv[1])) ? 0 : 3)';
  const r = spawnSync(process.execPath, [...flags, '-e', probe, relaxedWasm], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

/** Node flags that make the relaxed build load, or null when this runtime cannot run it. */
function relaxedFlags(): { flags: string[] | null; why: string } {
  if (!existsSync(relaxedWasm)) return { flags: null, why: `${relaxedWasm} is missing (run npm run build:wasm)` };
  if (validatesWith([FLAG])) return { flags: [FLAG], why: '' };
  // Newer runtimes enable relaxed SIMD by default and may one day drop the flag.
  if (validatesWith([])) return { flags: [], why: '' };
  return { flags: null, why: `this runtime (Node ${process.version}) cannot validate the relaxed-SIMD build even with ${FLAG}` };
}

const { flags, why } = relaxedFlags();
if (flags === null) {
  console.warn(`simdgrad: relaxed-SIMD kernel tests NOT RUN: ${why}`);
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

describe('relaxed-SIMD build', () => {
  // Where the runtime cannot run the relaxed build, the test shows up as skipped with the reason.
  const title = flags === null
    ? `NOT RUN — relaxed-SIMD kernel tests skipped: ${why}`
    : 'passes the kernel tests (test/kernels) in a child process with SIMDGRAD_BUILD=relaxed';
  it.skipIf(flags === null)(title, () => {
    if (flags === null) return;
    // A nested vitest must not think it is a worker of this run.
    const env: Record<string, string | undefined> = { ...process.env, SIMDGRAD_BUILD: 'relaxed', NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
    delete env.FORCE_COLOR;
    // vitest does not hand its own node flags to its workers: pass the flag on via --execArgv.
    const args = [...flags, vitestBin, 'run', 'test/kernels', ...flags.map((f) => `--execArgv=${f}`)];
    const r = spawnSync(process.execPath, args, {
      cwd: root, env, encoding: 'utf8', timeout: 900_000, maxBuffer: 64 * 1024 * 1024,
    });
    const out = stripAnsi(`${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    // On failure show what failed (the child's FAIL/error lines) and its summary.
    const lines = out.split('\n');
    const tail = [...lines.filter((l) => /FAIL|Error|expected/.test(l)).slice(0, 40), ...lines.slice(-12)].join('\n');
    expect(r.error, tail).toBeUndefined();
    expect(r.status, tail).toBe(0);
    const summary = /Tests\s+(.*)/.exec(out)?.[1] ?? '';
    expect(summary, tail).toMatch(/\b[1-9]\d* passed\b/);
    expect(summary, tail).not.toMatch(/\bfailed\b/);
    // test/kernels/gemm.test.ts asserts build() === SIMDGRAD_BUILD, so passing means relaxed ran.
  }, 900_000);
});
