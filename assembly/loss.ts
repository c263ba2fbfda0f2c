// Loss kernels on [rows, cols] matrices with i32 class labels (one per row, in [0, cols)):
// the fused softmax + cross-entropy (op crossEntropy) and the negative log-likelihood of
// log-probabilities (op nllLoss), each with its backward. Losses are summed over rows in f64
// and returned; the caller scales by 1/rows for the mean.
//
// Contract: bindings/kernels.ts (loss.ts section).

import { loadPartial, splat, storePartial } from './vmath';
import { expShiftSum, rowMax, scaleRow } from './softmax';

/**
 * Fused softmax + cross-entropy for i32 labels in [0, cols). Writes probs and returns
 * sum_r (max_r - logit[r, label]) + log(sum_r): logsumexp - logit, finite even when the
 * true class's logit is hugely negative. A label outside [0, cols) contributes NaN.
 */
export function crossEntropy(logits: usize, labels: usize, probs: usize, rows: i32, cols: i32): f64 {
  if (cols <= 0) return 0;
  const stride = <usize>cols << 2;
  let loss: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    const xr = logits + off;
    const label = load<i32>(labels + (<usize>r << 2));
    const m = rowMax(xr, cols);
    // Read the true logit before probs (possibly the same memory) is written.
    const xl: f32 = label >= 0 && label < cols ? load<f32>(xr + (<usize>label << 2)) : NaN;
    const s = expShiftSum(xr, probs + off, cols, m, true);
    scaleRow(probs + off, cols, <f32>1.0 / s);
    loss += <f64>(m - xl) + <f64>Mathf.log(s);
  }
  return loss;
}

/** dlogits[r, c] = scale * (probs[r, c] - (c == label[r])) */
export function crossEntropyBackward(probs: usize, labels: usize, dlogits: usize, rows: i32, cols: i32, scale: f32): void {
  if (cols <= 0) return;
  const stride = <usize>cols << 2;
  const sv = splat(scale);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * stride;
    const pr = probs + off;
    const dr = dlogits + off;
    const label = load<i32>(labels + (<usize>r << 2));
    const valid = label >= 0 && label < cols;
    const pl: f32 = valid ? load<f32>(pr + (<usize>label << 2)) : 0;
    let i = 0;
    for (; i + 16 <= cols; i += 16) {
      const o = <usize>i << 2;
      const a0 = f32x4.mul(v128.load(pr + o), sv);
      const a1 = f32x4.mul(v128.load(pr + o, 16), sv);
      const a2 = f32x4.mul(v128.load(pr + o, 32), sv);
      const a3 = f32x4.mul(v128.load(pr + o, 48), sv);
      v128.store(dr + o, a0);
      v128.store(dr + o, a1, 16);
      v128.store(dr + o, a2, 32);
      v128.store(dr + o, a3, 48);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      v128.store(dr + o, f32x4.mul(v128.load(pr + o), sv));
    }
    if (i < cols) {
      const o = <usize>i << 2;
      const k = cols - i;
      storePartial(dr + o, f32x4.mul(loadPartial(pr + o, k), sv), k);
    }
    if (valid) store<f32>(dr + (<usize>label << 2), scale * (pl - 1));
  }
}

/**
 * -sum_r logProbs[r, label[r]] (accumulated in f64, rows in order). A label outside
 * [0, cols) contributes NaN.
 */
export function nllLoss(logProbs: usize, labels: usize, rows: i32, cols: i32): f64 {
  let loss: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const label = load<i32>(labels + (<usize>r << 2));
    const v: f32 = label >= 0 && label < cols ? load<f32>(logProbs + ((<usize>r * <usize>cols + <usize>label) << 2)) : NaN;
    loss -= <f64>v;
  }
  return loss;
}

/**
 * dlogProbs (zeroed here) = value at [r, label[r]], 0 elsewhere: the gradient of nllLoss
 * times the upstream gradient (value = -g / rows for the mean). Invalid labels scatter nothing.
 */
export function nllLossBackward(labels: usize, dlogProbs: usize, rows: i32, cols: i32, value: f32): void {
  if (rows <= 0 || cols <= 0) return;
  memory.fill(dlogProbs, 0, (<usize>rows * <usize>cols) << 2);
  for (let r = 0; r < rows; r++) {
    const label = load<i32>(labels + (<usize>r << 2));
    if (label >= 0 && label < cols) store<f32>(dlogProbs + ((<usize>r * <usize>cols + <usize>label) << 2), value);
  }
}
