// The layering rules of the source tree, checked on the files themselves:
//   bindings/ is the only code that knows byte sizes and typed-array views of the wasm memory;
//   imports go one way: core <- ops <- nn <- train, with data and optim beside nn, and
//   only core/, ops/ and export/ talk to bindings/ (kernels and memory).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Code without comments and string contents, so rules look at code only. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/`(?:\\.|[^`\\])*`/g, '``')
    .replace(/'(?:\\.|[^'\\])*'/g, "''");
}

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]);
}

const all = files(src);
const area = (p: string): string => relative(src, p).split('/')[0];

describe('architecture', () => {
  it('src/ has no byte-offset arithmetic or raw memory views (bindings/memory.ts owns them)', () => {
    const offenders: string[] = [];
    for (const f of all) {
      const c = code(f);
      const rules: [RegExp, string][] = [
        [/>>>\s*2\b/, '>>> 2'],
        [/\b(?:f32|i32|u8)\(\)/, 'a raw memory view (f32()/i32()/u8())'],
        [/\*\s*4\b(?!\s*\*)/, '* 4'],
      ];
      for (const [re, what] of rules) if (re.test(c)) offenders.push(`${relative(root, f)}: ${what}`);
    }
    expect(offenders).toEqual([]);
  });

  it('relative imports in src/ and bindings/ name their .js file (declarations must resolve under node16/nodenext)', () => {
    const offenders: string[] = [];
    for (const f of [...all, ...files(join(root, 'bindings'))]) {
      const text = readFileSync(f, 'utf8');
      const specs = [...text.matchAll(/(?:from\s+|import\(\s*|declare module\s+)'(\.{1,2}\/[^']*)'/g)].map((m) => m[1]);
      for (const m of specs) if (!m.endsWith('.js')) offenders.push(`${relative(root, f)}: '${m}'`);
    }
    expect(offenders).toEqual([]);
  });

  it('only core/, ops/ and export/ import bindings/', () => {
    const offenders: string[] = [];
    for (const f of all) {
      if (['core', 'ops', 'export', 'index.ts'].includes(area(f))) continue;
      for (const m of imports(f)) if (m.includes('bindings/')) offenders.push(`${relative(root, f)} imports ${m}`);
    }
    expect(offenders).toEqual([]);
  });

  it('imports go down the layers (core <- ops <- nn/data/optim <- train <- models)', () => {
    const rank: Record<string, number> = { core: 0, export: 1, ops: 1, nn: 2, data: 2, optim: 2, compress: 3, train: 3, models: 4 };
    const offenders: string[] = [];
    for (const f of all) {
      const from = area(f);
      if (!(from in rank)) continue;
      for (const m of imports(f)) {
        if (!m.startsWith('.')) continue;
        const target = relative(src, join(f, '..', m)).split('/')[0];
        if (!(target in rank) || target === from) continue;
        if (rank[target] >= rank[from]) offenders.push(`${relative(root, f)} (${from}) imports ${m} (${target})`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
