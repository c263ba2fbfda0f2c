// What `npm pack` ships, installed the way a user gets it: the tarball unpacked into
// node_modules/simdgrad of a scratch app, then `require('simdgrad')`, `import 'simdgrad'` and a
// browser bundle (esbuild, browser condition) from that app. Also: nothing but the library, no
// script that would run on a consumer's install, and bundlers keeping the import-time work.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackInfo { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] }

describe('npm pack', () => {
  let dir: string;
  let app: string;
  let info: PackInfo;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simdgrad-pack-'));
    // --ignore-scripts: dist/ is already built (by `npm test`'s pretest, build-if-stale); pack it as it is.
    const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    info = (JSON.parse(out) as PackInfo[])[0];
    app = join(dir, 'app');
    const pkg = join(app, 'node_modules', 'simdgrad');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', join(dir, info.filename), '-C', pkg, '--strip-components=1']);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only the library: bundles, wasm, type declarations, README, package.json', () => {
    const files = info.files.map((f) => f.path).sort();
    const allowed = [
      /^package\.json$/, /^README\.md$/, /^LICEN[CS]E(\.\w+)?$/i,
      /^dist\/index\.(js|cjs|browser\.js)(\.map)?$/,
      /^dist\/onnx\.(js|cjs)$/,
      /^onnx\/package\.json$/, // simdgrad/onnx for node10 resolution, which ignores the exports map
      /^dist\/wasm\/simdgrad-(simd|relaxed)\.wasm$/,
      /^dist\/types\/(src|bindings)\/.+\.d\.ts$/,
      /^dist\/types-cjs\/(src|bindings)\/.+\.d\.cts$/,
    ];
    const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
    expect(unexpected, `files in the package that users do not need: ${unexpected.join(', ')}`).toEqual([]);
    for (const need of ['dist/index.js', 'dist/index.cjs', 'dist/index.browser.js', 'dist/wasm/simdgrad-simd.wasm', 'dist/wasm/simdgrad-relaxed.wasm', 'dist/types/src/index.d.ts', 'dist/types-cjs/src/index.d.cts']) {
      expect(files).toContain(need);
    }
    const js = info.files.filter((f) => /^dist\/index\.(js|cjs|browser\.js)$/.test(f.path)).reduce((s, f) => s + f.size, 0);
    console.log(`npm pack: ${info.files.length} files, ${(info.size / 1000).toFixed(1)} kB packed, ${(info.unpackedSize / 1000).toFixed(1)} kB unpacked (bundles ${(js / 1000).toFixed(1)} kB)`);
    // About 1.0 MiB packed (Dec 2026): three readable bundles with source maps, two wasm builds,
    // the onnx entry and type declarations. The budget catches a stray data set, build cache or
    // test tree (each several MiB), not the library's own growth: raised from 1 MiB when the
    // fused BatchNorm + ReLU took it 3 kB past.
    expect(info.size).toBeLessThan(1.25 * 1024 * 1024);
  });

  it('the packed package.json has no script that runs when a consumer installs it', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'simdgrad', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    // npm runs these on `npm install` of the package (prepare and the pack scripts for git
    // dependencies); npm 11 asks the consumer to allow each (allowScripts).
    const installTime = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare', 'prepack', 'postpack', 'prepublish'];
    expect(Object.keys(pkg.scripts ?? {}).filter((k) => installTime.includes(k))).toEqual([]);
  });

  // Importing the package puts the op methods on Tensor.prototype and fills the op registry:
  // import-time work a bundler must keep. With `sideEffects: false` (publint's suggestion)
  // esbuild dropped it from examples/browser (`loss.backward is not a function` in Chromium),
  // so the package does not claim it, and apps importing a few names keep the methods.
  it('does not claim sideEffects: false; apps importing a few names keep the Tensor methods and the op registry (esbuild, webpack)', async () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'simdgrad', 'package.json'), 'utf8')) as { sideEffects?: unknown };
    expect(pkg.sideEffects).toBeUndefined();
    writeFileSync(join(app, 'named.js'), [
      "import { Tensor, allOps } from 'simdgrad';",
      'globalThis.__named = [typeof Tensor.prototype.relu, typeof Tensor.prototype.matmul, typeof Tensor.prototype.backward, allOps().length];',
    ].join('\n'));
    const expected = (await import(join(root, 'dist', 'index.js'))) as { allOps(): unknown[] };
    const want = ['function', 'function', 'function', expected.allOps().length];
    const evaluate = async (file: string): Promise<unknown> => {
      (globalThis as { __named?: unknown }).__named = undefined;
      await import(`${file}?${Date.now()}`);
      return (globalThis as { __named?: unknown }).__named;
    };
    const esb = join(app, 'named-esbuild.mjs');
    await build({
      entryPoints: [join(app, 'named.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: esb,
      logLevel: 'silent', absWorkingDir: app,
    });
    expect(await evaluate(esb)).toEqual(want);
    const wpDir = join(app, 'named-webpack');
    await new Promise<void>((resolve, reject) => {
      webpack({
        mode: 'production', context: app, entry: './named.js', target: 'web', experiments: { outputModule: true },
        output: { path: wpDir, filename: 'out.mjs', module: true },
      }, (err, stats) => (err || stats?.hasErrors() ? reject(err ?? new Error(stats?.toString())) : resolve()));
    });
    expect(await evaluate(join(wpDir, 'out.mjs'))).toEqual(want);
  }, 120_000);

  const script = `
    const x = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const loss = sg.sum(sg.matmul(x, x));
    loss.backward();
    console.log(JSON.stringify({ loss: loss.item(), grad: Array.from(x.grad.data()), build: sg.build() }));`;
  const run = (args: string[]): { loss: number; grad: number[]; build: string } =>
    JSON.parse(execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', env: { ...process.env, SIMDGRAD_BUILD: '' } }));
  const want = { loss: 54, grad: [7, 11, 9, 13] };

  it("require('simdgrad') from an app (node condition: dist/index.cjs)", () => {
    const r = run(['-e', `const sg = require('simdgrad'); if (!require.resolve('simdgrad').endsWith('index.cjs')) throw new Error(require.resolve('simdgrad'));${script}`]);
    expect(r).toMatchObject(want);
  });

  it("import 'simdgrad' from an app (node condition: dist/index.js), with the relaxed build where the runtime has it", () => {
    const code = `import * as sg from 'simdgrad'; if (!import.meta.resolve('simdgrad').endsWith('/dist/index.js')) throw new Error(import.meta.resolve('simdgrad'));${script}`;
    expect(run(['--input-type=module', '-e', code])).toMatchObject(want);
    expect(run(['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', code])).toMatchObject({ ...want, build: 'relaxed' });
  });

  it("'simdgrad/onnx' (ESM and CommonJS) exports models made with 'simdgrad' itself: one copy of the library", () => {
    const make = `const m = new sg.nn.Sequential(new sg.nn.Linear(3, 2), new sg.nn.ReLU());
      const bytes = exportOnnx(m, { inputShape: [1, 3] });
      console.log(JSON.stringify({ ok: bytes instanceof Uint8Array && bytes.length > 100, bundled: !/from ['"]\\.\\.?\\//.test(String(exportOnnx)) }));`;
    const esm = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', `import * as sg from 'simdgrad'; import { exportOnnx } from 'simdgrad/onnx'; ${make}`], { cwd: app, encoding: 'utf8' }));
    const cjs = JSON.parse(execFileSync(process.execPath, ['-e', `const sg = require('simdgrad'); const { exportOnnx } = require('simdgrad/onnx'); ${make}`], { cwd: app, encoding: 'utf8' }));
    expect(esm.ok).toBe(true);
    expect(cjs.ok).toBe(true);
    // The main bundle does not carry the protobuf runtime.
    expect(readFileSync(join(app, 'node_modules', 'simdgrad', 'dist', 'index.js'), 'utf8')).not.toContain('$typeName');
  });

  it("the wasm files are importable as 'simdgrad/wasm/<name>' (for bundlers' asset loaders)", () => {
    const p = execFileSync(process.execPath, ['-p', "require.resolve('simdgrad/wasm/simdgrad-simd.wasm')"], { cwd: app, encoding: 'utf8' }).trim();
    expect(p.endsWith(join('dist', 'wasm', 'simdgrad-simd.wasm'))).toBe(true);
    expect(statSync(p).size).toBeGreaterThan(1000);
  });

  it('a browser bundler (esbuild, platform browser) takes dist/index.browser.js, and its asset loader the wasm', async () => {
    writeFileSync(join(app, 'main.js'), [
      "import * as sg from 'simdgrad';",
      "import simd from 'simdgrad/wasm/simdgrad-simd.wasm';",
      "import relaxed from 'simdgrad/wasm/simdgrad-relaxed.wasm';",
      'await sg.init({ wasm: { simd: new URL(simd, import.meta.url), relaxed: new URL(relaxed, import.meta.url) } });',
    ].join('\n'));
    const out = join(app, 'out');
    const r = await build({
      entryPoints: [join(app, 'main.js')], bundle: true, format: 'esm', platform: 'browser', outdir: out,
      loader: { '.wasm': 'file' }, metafile: true, logLevel: 'silent', absWorkingDir: app,
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs).toContain('node_modules/simdgrad/dist/index.browser.js');
    expect(inputs.some((p) => p.endsWith('dist/index.js') || p.endsWith('dist/index.cjs'))).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
  });
});
