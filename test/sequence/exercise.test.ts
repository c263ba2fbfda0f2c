// Notes §2.4.1 (LSTM forget memory): σ the step function (1 for arguments > 0, else 0),
// W_f = [1, 1, 1, −10; 1, 1, 2, −10], b_f = 0, [h_{t−1}, x_t] = [1, 1, 0, 1] with x_t = [0, 1]
// the code of "." — then f_t = [0, 0]: the full stop erases the cell state.
import { describe, expect, it } from 'vitest';
import * as sg from '../../src/index';

const Wf = [[1, 1, 1, -10], [1, 1, 2, -10]];
const step = (v: number): number => (v > 0 ? 1 : 0);

describe('notes §2.4.1: the LSTM forget gate', () => {
  it('f_t = step(W_f·[h_{t−1}, x_t] + b_f) = [0, 0] for the full stop', () => {
    const z = sg.matmul(sg.tensor(Wf), sg.tensor([[1], [1], [0], [1]]));
    expect(Array.from(z.data())).toEqual([-8, -8]);
    expect(Array.from(z.data(), step)).toEqual([0, 0]);
  });

  // The same gate inside lstmCell: W_f is split into its h part (columns 0-1, rows of weight_hh)
  // and its x part (columns 2-3, rows of weight_ih) in PyTorch's gate order i, f, g, o. The
  // logistic σ(s·z) tends to the step function as s grows; s = 1000 makes it exact in float32.
  // The input gate is shut (bias −1000), so C_t = f_t·C_{t−1} shows f_t directly.
  function cell(x: number[]): number[] {
    const s = 1000;
    const H = 2;
    const wIh = new Array<number>(4 * H * 2).fill(0);
    const wHh = new Array<number>(4 * H * H).fill(0);
    const bias = new Array<number>(4 * H).fill(0);
    for (let r = 0; r < H; r++) {
      bias[r] = -1000; // i
      for (let c = 0; c < 2; c++) {
        wHh[(H + r) * H + c] = s * Wf[r][c]; // f, h part
        wIh[(H + r) * 2 + c] = s * Wf[r][2 + c]; // f, x part
      }
    }
    const cPrev = [0.7, -2.5];
    const out = sg.lstmCell(sg.tensor([x]), sg.tensor([[1, 1]]), sg.tensor([cPrev]), sg.tensor(wIh, [4 * H, 2]), sg.tensor(wHh, [4 * H, H]), sg.tensor(bias));
    const c = Array.from(out.data()).slice(H, 2 * H);
    // + 0 turns the −0 of 0·(−2.5) into 0.
    return c.map((v, j) => v / Math.fround(cPrev[j]) + 0);
  }

  it('inside lstmCell: after "." the forget gate is [0, 0] and the cell state is erased', () => {
    expect(cell([0, 1])).toEqual([0, 0]);
  });

  it('another input, x_t = [1, 0], keeps the memory (f_t = [1, 1])', () => {
    // W_f·[1, 1, 1, 0] = [3, 4] > 0.
    expect(cell([1, 0])).toEqual([1, 1]);
  });
});
