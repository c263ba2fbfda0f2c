// simdgrad in a browser app bundled by esbuild, with the wasm files passed explicitly.
// esbuild leaves `new URL('…', import.meta.url)` inside libraries alone, so here the app
// imports the wasm files through the package's `simdgrad/wasm/*` export: esbuild's `file`
// loader copies each into the output folder and gives its path relative to the bundle.
// The same init() takes bytes instead of URLs (fetched by your own code: CDNs, strict CSP).
import * as sg from 'simdgrad';
import simdWasm from 'simdgrad/wasm/simdgrad-simd.wasm';
import relaxedWasm from 'simdgrad/wasm/simdgrad-relaxed.wasm';

const out = document.getElementById('out')!;
const log = (line: string): void => { out.textContent += `${line}\n`; };

await sg.init({
  wasm: { simd: new URL(simdWasm, import.meta.url), relaxed: new URL(relaxedWasm, import.meta.url) },
});
log(`wasm build: ${sg.build()}`); // 'relaxed' where the browser validates relaxed SIMD

// XOR with a 2-8-1 MLP: 300 full-batch steps of Adam.
sg.manualSeed(3);
const x = sg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = sg.tensor([[0], [1], [1], [0]]);
const model = new sg.nn.Sequential(new sg.nn.Linear(2, 8), new sg.nn.Tanh(), new sg.nn.Linear(8, 1));
const opt = new sg.optim.Adam(model.parameters(), { lr: 0.05 });
let first = NaN;
let last = NaN;
for (let step = 0; step < 300; step++) {
  const loss = sg.binaryCrossEntropyWithLogits(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  last = loss.item();
  if (step === 0) first = last;
}
const p = sg.noGrad(() => sg.scope(() => Array.from(sg.sigmoid(model.forward(x)).data())));
log(`loss ${first.toFixed(3)} -> ${last.toFixed(4)}; XOR ≈ ${p.map((v) => v.toFixed(2)).join(' ')}`);
(globalThis as unknown as { result: unknown }).result = { build: sg.build(), first, last, p };
