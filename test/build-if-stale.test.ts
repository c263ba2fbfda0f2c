// scripts/build-if-stale.mjs: what `npm start` / `npm test` / `npm run bench` run first (their
// pre* scripts) now that no install-time `prepare` builds dist/. It must build a part whose
// outputs are missing or older than any of its sources, and leave an up-to-date part alone.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { parts, staleness } from '../scripts/build-if-stale.mjs';

interface Part { name: string; script: string; sources: string[]; outputs: string[] }
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'simdgrad-stale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes dir/rel with modification time `seconds`, and gives its directories (changed by it) that time too. */
function touch(rel: string, seconds: number): void {
  const f = join(dir, rel);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, '');
  for (let p = f; p.length > dir.length; p = dirname(p)) utimesSync(p, seconds, seconds);
}

describe('build-if-stale', () => {
  const part: Part = { name: 'js', script: 'x', sources: ['src', 'tsconfig.json'], outputs: ['dist/a.js', 'dist/b.js'] };
  const why = (): string | null => (staleness as (p: Part, base: string) => string | null)(part, dir);

  it('builds when an output is missing, when a source (also deep in a directory) is newer, not otherwise', () => {
    touch('src/core/x.ts', 1000);
    touch('tsconfig.json', 1000);
    touch('dist/a.js', 2000);
    expect(why()).toBe('missing dist/b.js');
    touch('dist/b.js', 2000);
    expect(why()).toBeNull();
    touch('src/core/deep/y.ts', 3000);
    expect(why()).toBe('changed since the last build: src');
    touch('dist/a.js', 4000);
    expect(why()).toBe('changed since the last build: src'); // b.js is still older
    touch('dist/b.js', 4000);
    expect(why()).toBeNull();
    // A picture an example wrote under its folder is output, not a source.
    touch('src/out/picture.png', 5000);
    expect(why()).toBeNull();
    // A directory's own time (a temporary file came and went) is not a change of the sources.
    writeFileSync(join(dir, 'src/core/tmp'), '');
    rmSync(join(dir, 'src/core/tmp'));
    expect(why()).toBeNull();
  });

  it('covers the wasm and the JS builds, and package.json runs it before start, test and bench instead of an install-time prepare', () => {
    expect((parts as Part[]).map((p) => p.script)).toEqual(['scripts/build-wasm.mjs', 'scripts/build-js.mjs']);
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const s of ['prestart', 'pretest', 'prebench']) expect(scripts[s]).toBe('node scripts/build-if-stale.mjs');
    expect(scripts.prepare).toBeUndefined();
  });
});
