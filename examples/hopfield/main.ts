// `npm run example -- hopfield`: a 784-unit Hopfield network stores two binarised MNIST digits
// (Hebbian rule), recalls them from copies with 10-40% of the pixels flipped and from half-
// erased copies, and shows the capacity curve for random patterns. Writes
// examples/hopfield/out/hopfield-recall.png: per row stored, corrupted, recalled.
import { mkdirSync } from 'node:fs';
import * as sg from '../../src/index';
import { PIXELS, loadAllDigits } from '../mnist-data.mjs';
import { squareTiles, writeImageGrid } from '../shared/images';

const { Hopfield, toBipolar, corrupt, overlap, capacityCurve } = sg.energy;
const out = 'examples/hopfield/out';
mkdirSync(out, { recursive: true });
const gen = new sg.RandomGenerator(5);

const { x, y } = loadAllDigits();
const pair = [3, 6];
const stored = new Float32Array(pair.length * PIXELS);
pair.forEach((d, k) => { const i = y.indexOf(d); stored.set(toBipolar(x.subarray(i * PIXELS, (i + 1) * PIXELS)), k * PIXELS); });
const net = Hopfield.store(Array.from(stored), PIXELS);
console.log(`stored the digits ${pair.join(' and ')} (binarised, ±1) in a ${PIXELS}-unit Hopfield net; energies ${net.energy(Array.from(stored)).map((e) => e.toFixed(1)).join(', ')}`);

const tiles: Float32Array[] = [];
const show = (name: string, start: Float32Array): void => {
  const r = net.recall(Array.from(start), { generator: gen });
  const got = Float32Array.from(r.states.data());
  const before = overlap(start, stored, PIXELS);
  const after = overlap(got, stored, PIXELS);
  const e = r.energies.map((es) => `${es[0].toFixed(0)} → ${es[es.length - 1].toFixed(0)}`);
  console.log(`${name}: pixels right before ${before.map((o) => (100 * o).toFixed(1) + '%').join(', ')}; after ${r.sweeps} pass(es) ${after.map((o) => (100 * o).toFixed(1) + '%').join(', ')}; energy ${e.join(', ')}`);
  for (let k = 0; k < pair.length; k++) tiles.push(stored.subarray(k * PIXELS, (k + 1) * PIXELS), start.subarray(k * PIXELS, (k + 1) * PIXELS), got.slice(k * PIXELS, (k + 1) * PIXELS));
};
for (const f of [0.1, 0.25, 0.4]) show(`${100 * f}% of pixels flipped`, corrupt(stored, PIXELS, f, gen));
const erased = Float32Array.from(stored);
for (let k = 0; k < pair.length; k++) for (let p = PIXELS / 2; p < PIXELS; p++) erased[k * PIXELS + p] = -1;
show('lower half erased', erased);
show('negated patterns (spurious stable states)', stored.map((v) => -v));

const all = new Float32Array(tiles.length * PIXELS);
tiles.forEach((t, i) => all.set(t, i * PIXELS));
writeImageGrid(`${out}/hopfield-recall.png`, squareTiles(all, tiles.length), { columns: 6, range: [-1, 1], gap: 1, gapShade: 128 });
console.log(`wrote ${out}/hopfield-recall.png: one row per experiment above, for each digit stored | start | recalled`);

console.log('capacity, 200 units, random patterns, recall started at each stored pattern:');
for (const c of capacityCurve(200, [10, 20, 24, 28, 32, 40, 60], { trials: 3, generator: gen })) {
  console.log(`  M = ${String(c.patterns).padStart(2)} (${c.load.toFixed(2)}·N): ${(100 * c.meanOverlap).toFixed(1)}% of units right, ${(100 * c.recalled).toFixed(0)}% of patterns recalled (≤ 1% wrong)`);
}
