// conv2d throughput, GFLOP/s, 3×3 kernels with 'same' padding, stride 1, no bias:
//   forward   2·N·F·C·kh·kw·OH·OW flops per call;
//   backward  twice that: the input gradient (Wᵀ·dY, col2im) and the weight gradient (dY·colᵀ).
//
// Forward, one call = one conv2d whose output is disposed: simdgrad sg.conv2d under noGrad
// (NCHW input, weight [F, C, kh, kw]); TF.js tf.conv2d (NHWC input, filter [kh, kw, C, F],
// TF.js' native layout), on both backends.
//
// Backward, both libraries the same way, through their autograd: one call runs the forward
// and the backward to dx and dW for a fixed dY (simdgrad: conv2d on leaves with requiresGrad,
// sg.backward(y, { gradient: dY }), both .grad freed; TF.js: tf.grads((x, w) => tf.conv2d(...))
// ([x, w], dY), both gradients disposed). The backward time is that call's time minus the
// median forward time measured in the same worker (the forward row of the same shape), so
// the figure is backward flops / (t(forward + backward) − t(forward)). For simdgrad this
// agreed within 5-10% with backward() alone on a retained graph (checked when this was written).
// TF.js' wasm backend registers Conv2DBackpropInput but no Conv2DBackpropFilter kernel, so
// tf.grads fails there (the error is quoted in the row's note) and it cannot train a CNN;
// tfjs-cpu is the only TF.js backend with a backward row.
// PyTorch (NCHW like simdgrad): F.conv2d(x, w, padding=1) under torch.no_grad() forward; the
// backward as simdgrad's: conv2d on leaves with requires_grad, y.backward(dY), both .grad
// set to None, minus the median forward time.

/** Median and IQR/median (percent) of a list of values. */
function medianSpread(values) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => {
    const pos = (v.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  };
  const median = q(0.5);
  return { value: median, spread: (100 * (q(0.75) - q(0.25))) / median, samples: v.length };
}

const median = (xs) => medianSpread(xs).value;

function convShape(label, N, C, H, W, F, slowRounds = undefined) {
  const kh = 3;
  const kw = 3;
  const flops = 2 * N * F * C * kh * kw * H * W; // 'same', stride 1: OH = H, OW = W
  const shape = `${N}x${C}x${H}x${W} → ${F} filters 3x3 same`;
  const fwdName = `conv2d fwd ${label} ${shape}`;
  const forward = {
    case: fwdName,
    unit: 'GFLOP/s',
    work: flops,
    scale: 1e9,
    threads: true,
    pytorch: { kind: 'conv_fwd', N, C, H, W, F },
    note: {
      simdgrad: 'sg.noGrad(() => sg.conv2d(x, w, null, { padding: "same" })).dispose(); NCHW, weight [F,C,3,3], no bias',
      tfjs: 'tf.conv2d(x, w, 1, "same").dispose(); NHWC (TF.js layout), filter [3,3,C,F], no bias',
      pytorch: 'with torch.no_grad(): F.conv2d(x, w, padding=1); NCHW, weight [F,C,3,3], no bias',
    },
    simdgrad(sg) {
      const x = sg.randn([N, C, H, W]);
      const w = sg.randn([F, C, kh, kw]);
      return {
        fn: () => { sg.noGrad(() => sg.conv2d(x, w, null, { padding: 'same' })).dispose(); },
        dispose: () => sg.dispose(x, w),
      };
    },
    tfjs(tf) {
      const x = tf.randomNormal([N, H, W, C]);
      const w = tf.randomNormal([kh, kw, C, F]);
      return {
        fn: () => { tf.conv2d(x, w, 1, 'same').dispose(); },
        dispose: () => tf.dispose([x, w]),
      };
    },
  };
  const backward = {
    case: `conv2d bwd (dx+dW) ${label} ${shape}`,
    unit: 'GFLOP/s',
    work: 2 * flops,
    scale: 1e9,
    threads: true,
    // tfjs-cpu needs seconds per call: a library slower than 250 ms per call (one call per
    // round) is sampled in the first `slowRounds` rounds only, to bound the bench's time.
    slowRounds,
    pytorch: { kind: 'conv_bwd', N, C, H, W, F },
    note: {
      simdgrad: `forward+backward through autograd (conv2d on x, w with requiresGrad; sg.backward(y, { gradient: dY }); x.grad, w.grad freed) minus the median time of "${fwdName}"`,
      tfjs: `tf.grads((x, w) => tf.conv2d(x, w, 1, "same"))([x, w], dY), dx and dW disposed, minus the median time of "${fwdName}"; NHWC. tfjs-wasm: null, it registers Conv2DBackpropInput but no Conv2DBackpropFilter kernel (weight gradient), so it cannot train a CNN`,
      pytorch: `F.conv2d(x, w, padding=1) on x, w with requires_grad; y.backward(dY); x.grad = w.grad = None; minus the median time of "${fwdName}"`,
    },
    /** Rate from t(forward + backward) − median t(forward) of the same worker, per sample. */
    result(m, measurementOf) {
      const fwd = measurementOf(fwdName);
      if (fwd === null || fwd.perCallMs.length === 0) return null;
      const fwdMs = median(fwd.perCallMs);
      return medianSpread(m.perCallMs.map((ms) => (2 * flops) / ((ms - fwdMs) / 1000) / 1e9));
    },
    simdgrad(sg) {
      const x = sg.randn([N, C, H, W], 0, 1, { requiresGrad: true });
      const w = sg.randn([F, C, kh, kw], 0, 1, { requiresGrad: true });
      const dy = sg.randn([N, F, H, W]);
      return {
        fn: () => {
          const y = sg.conv2d(x, w, null, { padding: 'same' });
          sg.backward(y, { gradient: dy });
          for (const p of [x, w]) {
            p.grad.dispose();
            p.grad = null;
          }
        },
        dispose: () => sg.dispose(x, w, dy),
      };
    },
    tfjs(tf) {
      const x = tf.randomNormal([N, H, W, C]);
      const w = tf.randomNormal([kh, kw, C, F]);
      const dy = tf.randomNormal([N, H, W, F]);
      const grads = tf.grads((a, b) => tf.conv2d(a, b, 1, 'same'));
      return {
        fn: () => { tf.dispose(grads([x, w], dy)); },
        dispose: () => tf.dispose([x, w, dy]),
      };
    },
  };
  return [forward, backward];
}

export const convCases = [
  ...convShape('(a)', 32, 1, 28, 28, 32),
  // tfjs-cpu: ~18 s per forward+backward call of this shape (~1.2 s for (a)): two samples.
  ...convShape('(b)', 32, 32, 14, 14, 64, 2),
];
