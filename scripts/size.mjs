// `npm run size`: what users download. The npm package (npm pack, as built now) and what a
// browser app loads: the browser bundle and one wasm build, raw and gzipped (gzip -9).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const kB = (n) => `${(n / 1000).toFixed(1)} kB`;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const [pack] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }));
const maps = pack.files.filter((f) => f.path.endsWith('.map')).reduce((s, f) => s + f.size, 0);
console.log(`npm package: ${kB(pack.size)} packed, ${kB(pack.unpackedSize)} unpacked, ${pack.files.length} files (source maps ${kB(maps)} of it unpacked)`);
const files = ['dist/index.browser.js', 'dist/index.js', 'dist/wasm/simdgrad-simd.wasm', 'dist/wasm/simdgrad-relaxed.wasm'];
const sizes = Object.fromEntries(files.map((f) => {
  const b = readFileSync(f);
  return [f, { raw: b.length, gz: gzipSync(b, { level: 9 }).length }];
}));
for (const f of files) console.log(`${f}: ${kB(sizes[f].raw)}, gzip ${kB(sizes[f].gz)}`);
const a = sizes['dist/index.browser.js'];
const w = sizes['dist/wasm/simdgrad-relaxed.wasm'];
console.log(`browser download (index.browser.js + one wasm): ${kB(a.raw + w.raw)}, gzip ${kB(a.gz + w.gz)}`);
