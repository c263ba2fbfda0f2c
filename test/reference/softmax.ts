// Row-wise softmax in f64: the reference of the softmax, log-softmax and cross-entropy kernel tests.

/** Softmax, log-softmax and log-sum-exp of each row of x [rows, cols]. */
export function refSoftmax(x: ArrayLike<number>, rows: number, cols: number): { p: Float64Array; logp: Float64Array; lse: Float64Array } {
  const p = new Float64Array(rows * cols);
  const logp = new Float64Array(rows * cols);
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    lse[r] = m + Math.log(s);
    for (let c = 0; c < cols; c++) {
      logp[r * cols + c] = x[r * cols + c] - m - Math.log(s);
      p[r * cols + c] = Math.exp(logp[r * cols + c]);
    }
  }
  return { p, logp, lse };
}
