// Builds what dist/ lacks or has older than its sources: the wasm files (build-wasm.mjs) and the
// JS bundles with their declarations (build-js.mjs), each only when needed. `npm start`,
// `npm test`, `npm run bench`, `npm run demo`, `npm run example` and `npm run size` run it
// first (their pre* scripts), so a fresh clone needs `npm install` and nothing else by hand, while the package.json
// that npm publishes carries no script that runs on install (npm 11 asks consumers to allow
// `prepare` and install scripts one by one).
//
//   node scripts/build-if-stale.mjs            build the stale parts
//   node scripts/build-if-stale.mjs --check    only say what is stale (exit 1 if anything is)
//
// Staleness is by modification time: the newest file of a part's sources against the oldest of
// its outputs. A compiler upgrade (assemblyscript, esbuild, typescript) changes no source: run
// `npm run build` after one.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const parts = [
  {
    name: 'wasm',
    script: 'scripts/build-wasm.mjs',
    sources: ['assembly', 'asconfig.json', 'scripts/build-wasm.mjs'],
    outputs: ['dist/wasm/simdgrad-simd.wasm', 'dist/wasm/simdgrad-relaxed.wasm'],
  },
  {
    name: 'js',
    script: 'scripts/build-js.mjs',
    // examples/: `npm start` runs dist/train-mnist.js, bundled from examples/train-mnist.ts.
    sources: ['src', 'bindings', 'examples', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-js.mjs'],
    outputs: [
      'dist/index.js', 'dist/index.cjs', 'dist/index.browser.js', 'dist/train-mnist.js',
      'dist/types/src/index.d.ts', 'dist/types-cjs/src/index.d.cts',
    ],
  },
];

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Newest modification time of a file or of the files under a directory (0 when absent).
 * Directories' own times do not count: temporary files come and go in them (tests, editors),
 * and a deleted source matters only through a file that imported it, which changed too.
 */
function newest(path) {
  const top = statSync(path, { throwIfNoEntry: false });
  if (top === undefined) return 0;
  if (!top.isDirectory()) return top.mtimeMs;
  let t = 0;
  for (const rel of readdirSync(path, { recursive: true })) {
    // What examples write (examples/NAME/out/*.png) is output, not source.
    if (!SOURCE_FILE.test(String(rel))) continue;
    const st = statSync(join(path, String(rel)), { throwIfNoEntry: false });
    if (st?.isFile() && st.mtimeMs > t) t = st.mtimeMs;
  }
  return t;
}

/** Why a part needs building, or null when its outputs are all newer than its sources. */
export function staleness(part, base = root) {
  const out = part.outputs.map((o) => [o, mtime(join(base, o))]);
  const missing = out.filter(([, m]) => m === null).map(([o]) => o);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const oldest = Math.min(...out.map(([, m]) => m));
  const changed = part.sources.filter((s) => newest(join(base, s)) > oldest);
  return changed.length > 0 ? `changed since the last build: ${changed.join(', ')}` : null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const part of parts) {
    const why = staleness(part);
    if (why === null) continue;
    stale++;
    console.log(`build-if-stale: ${part.name}: ${why}${check ? '' : `; running ${part.script}`}`);
    // The build scripts use paths relative to the repository root.
    if (!check) execFileSync(process.execPath, [part.script], { cwd: root, stdio: 'inherit' });
  }
  if (check && stale > 0) process.exitCode = 1;
}
