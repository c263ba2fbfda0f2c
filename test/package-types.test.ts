// The type declarations that `npm pack` ships work for TypeScript users under every
// moduleResolution they may have: node10 (CommonJS), node16/nodenext (CommonJS and ESM
// importers: `tsc --init` defaults) and bundler. Three checks on the packed tarball:
//   publint (package.json fields and exports point at the right files, in the right formats),
//   @arethetypeswrong/cli (types resolve and match the JS for node10, node16 CJS/ESM, bundler),
//   and a tiny consumer compiled with `tsc --strict` in each mode against the unpacked package.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = require.resolve('typescript/bin/tsc');
const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
const run = promisify(execFile);

// Uses the public API the way a user would (test/fixtures/consumer-types.ts: typed metric
// names and logs, dtype-typed data(), toArray()); every line must type-check with --strict and
// noUncheckedIndexedAccess (so a callback parameter typed `any` because `fit` went missing is
// an error, TS7006, and `ev.accuracy` must be a number, not number | undefined).
const consumer = readFileSync(join(root, 'test', 'fixtures', 'consumer-types.ts'), 'utf8');
// Internals are not on the published Tensor type: each use below must be a compile error (an
// unused @ts-expect-error is one too). Not in the fixture, which the repo also compiles
// against src/, where they exist.
const internals = `
const t = sg.tensor([1, 2]);
// @ts-expect-error: kernels' pointer, not public
void t.ptr;
// @ts-expect-error: not public
void t.ptrAt(1);
// @ts-expect-error: the graph's release, not public
t.release('by hand');
// @ts-expect-error: not public
void t.shareStorage([2]);
// @ts-expect-error: tensors come from the creation functions
void new sg.Tensor();
// Public for graph inspection.
const op: string | undefined = sg.add(t, 1).node?.op;
void op;
`;

interface Mode { name: string; module: string; moduleResolution: string; type: 'commonjs' | 'module' }
const modes: Mode[] = [
  { name: 'node10 (module commonjs)', module: 'commonjs', moduleResolution: 'node10', type: 'commonjs' },
  { name: 'node16 from CommonJS', module: 'node16', moduleResolution: 'node16', type: 'commonjs' },
  { name: 'node16 from ESM', module: 'node16', moduleResolution: 'node16', type: 'module' },
  { name: 'nodenext from ESM', module: 'nodenext', moduleResolution: 'nodenext', type: 'module' },
  { name: 'bundler (module esnext)', module: 'esnext', moduleResolution: 'bundler', type: 'module' },
];

describe('published type declarations', () => {
  let dir: string;
  let tarball: string;
  let pkg: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simdgrad-types-'));
    // --ignore-scripts: dist/ is already built; pack it as it is.
    const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0].filename);
    pkg = join(dir, 'package');
    mkdirSync(pkg);
    execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publint finds no errors or warnings', async () => {
    // pack: false — pkg holds exactly the files of the tarball.
    const { messages, pkg: json } = await publint({ pkgDir: pkg, pack: false, level: 'warning' });
    const text = messages.map((m) => `${m.type}: ${formatMessage(m, json, { color: false }) ?? m.code}`);
    expect(text).toEqual([]);
  });

  it('attw: no problems for node10, node16 (CJS and ESM) and bundler', async () => {
    // attw exits with 1 when it finds problems; the JSON report says which.
    const r = await run(process.execPath, [attw, tarball, '--format', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
    const report = JSON.parse(r.stdout) as {
      analysis: { entrypoints: Record<string, { resolutions: Record<string, unknown> }>; problems?: unknown[] };
      problems?: Record<string, unknown[]> | unknown[];
    };
    expect(Object.keys(report.analysis.entrypoints['.'].resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
    expect(report.analysis.problems ?? []).toEqual([]);
    const problems = Array.isArray(report.problems) ? report.problems : Object.values(report.problems ?? {}).flat();
    expect(problems).toEqual([]);
  }, 60_000);

  it.each(modes)('a consumer compiles with tsc --strict: $name', async (mode) => {
    const app = join(dir, `app-${mode.moduleResolution}-${mode.type}`);
    cpSync(pkg, join(app, 'node_modules', 'simdgrad'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: mode.type }));
    writeFileSync(join(app, 'main.ts'), `${consumer}\n${internals}`);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', lib: ['es2023', 'dom'], types: [],
        module: mode.module, moduleResolution: mode.moduleResolution, esModuleInterop: true,
        skipLibCheck: false, noImplicitAny: true, noUncheckedIndexedAccess: true,
      },
      files: ['main.ts'],
    }));
    const r = await run(process.execPath, [tsc, '-p', app], { cwd: app, encoding: 'utf8' })
      .then(() => '', (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
    expect(r, `tsc errors for ${mode.name}`).toBe('');
  }, 60_000);
});
