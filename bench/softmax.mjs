// Row-wise softmax of a 1024x1000 matrix, ms per call. Both libraries allocate the output
// and it is disposed each call (simdgrad under noGrad, the inference idiom; PyTorch
// torch.softmax(x, 1) under torch.no_grad()).
const ROWS = 1024;
const COLS = 1000;

export const softmaxCases = [{
  case: `softmax ${ROWS}x${COLS}`,
  unit: 'ms',
  work: null,
  pytorch: { kind: 'softmax', rows: ROWS, cols: COLS },
  simdgrad(sg) {
    const x = sg.randn([ROWS, COLS]);
    return {
      fn: () => { sg.noGrad(() => sg.softmax(x)).dispose(); },
      dispose: () => x.dispose(),
    };
  },
  tfjs(tf) {
    const x = tf.randomNormal([ROWS, COLS]);
    return {
      fn: () => { tf.softmax(x).dispose(); },
      dispose: () => x.dispose(),
    };
  },
}];
