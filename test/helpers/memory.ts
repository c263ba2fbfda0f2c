// Runs a training step repeatedly and checks that live wasm memory stays flat and the loss falls.
import { expect } from 'vitest';
import * as sg from '../../src/index';

export function expectFlatTraining(step: () => number, steps: number): void {
  const first = step();
  step();
  sg.releaseGraphs();
  const before = sg.memory();
  let last = first;
  for (let i = 0; i < steps; i++) last = step();
  sg.releaseGraphs();
  const after = sg.memory();
  expect(after.tensors).toBe(before.tensors);
  expect(after.bytes).toBe(before.bytes);
  expect(last).toBeLessThan(first);
}
