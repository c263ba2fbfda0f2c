// The shipped bundles leave out the test material of the op definitions (samples, references,
// bad inputs, and the helpers only they use): scripts/build-js.mjs defines
// globalThis.__SIMDGRAD_OP_TESTS__ as false for them (see OpCommon.tests in src/ops/registry.ts).
// Reads dist/ as `npm run build:js` (run by `npm test`'s pretest when stale) left it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe.each(['index.browser.js', 'index.js', 'index.cjs'])('dist/%s', (file) => {
  const bundle = readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');

  it('keeps the runtime error messages', () => {
    expect(bundle).toContain('cannot be broadcast together');
    expect(bundle).toContain('must have 1 element or one per channel');
  });

  it('leaves out the ops\' test material', () => {
    for (const material of [
      'slope per channel of the wrong size', // a bad-input label (prelu)
      'middle-dim broadcast', // a sample label, in a factory's arguments (add)
      'keepDim not a boolean', // a label in a helper only bad inputs use (reduceBadInputs)
      'compare the kernel instead', // a reference's message (dropout)
      'noGradcheck',
    ]) expect(bundle, material).not.toContain(material);
  });
});
