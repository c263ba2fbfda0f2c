// GEMM throughput, GFLOP/s (2·M·N·K flops per call).
// simdgrad: the gemm kernel (through gemmRaw, which forwards to kernels().gemm) on tensors
// allocated once, so nothing is allocated in the timed loop. TF.js has no output argument:
// tf.matMul(a, b, transposeA, transposeB) allocates its result, which is disposed each call.
// Operands are stored exactly as the transpose flags say in both libraries. PyTorch:
// torch.mm(a or a.t(), b or b.t(), out=c) on tensors allocated once, like simdgrad.
// Cases with `threads: true` are also run by the two-thread simdgrad workers (run.mjs): the
// large ones to show the speed-up, the small ones (64³, 64x128·128x10; below the size at
// which the pool splits a call) to show they are not slower with the pool on.

/** One GEMM case: op(A)[M,K]·op(B)[K,N]; A stored [K,M] if transA, B stored [N,K] if transB. */
function gemmCase(name, M, N, K, transA = false, transB = false, threads = false) {
  const aShape = transA ? [K, M] : [M, K];
  const bShape = transB ? [N, K] : [K, N];
  return {
    case: name,
    unit: 'GFLOP/s',
    work: 2 * M * N * K,
    scale: 1e9,
    gemm: true,
    threads,
    pytorch: { kind: 'gemm', M, N, K, transA, transB },
    simdgrad(sg) {
      const a = sg.randn(aShape);
      const b = sg.randn(bShape);
      const c = sg.zeros([M, N]);
      return {
        fn: () => { sg.gemmRaw(a, transA, b, transB, M, N, K, c); },
        dispose: () => sg.dispose(a, b, c),
      };
    },
    tfjs(tf) {
      const a = tf.randomNormal(aShape);
      const b = tf.randomNormal(bShape);
      return {
        fn: () => { tf.matMul(a, b, transA, transB).dispose(); },
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

export const gemmCases = [
  ...[64, 128, 256, 512, 1024].map((n) => gemmCase(`gemm ${n}x${n}x${n}`, n, n, n, false, false, true)),
  // The products of one training step of the 784-128-10 MLP's first layer (batch 64).
  gemmCase('gemm MLP fwd X·W 64x784·784x128', 64, 128, 784, false, false, true),
  gemmCase('gemm MLP fwd X·Wᵀ 64x784·(128x784)ᵀ', 64, 128, 784, false, true),
  gemmCase('gemm MLP dW=dYᵀ·X (64x128)ᵀ·64x784', 128, 784, 64, true, false),
  gemmCase('gemm MLP dX=dY·W 64x128·128x784', 64, 784, 128),
  // The MLP's output layer (128 -> 10), a small product: 164 kFLOP per call.
  gemmCase('gemm MLP out H·W2 64x128·128x10', 64, 10, 128, false, false, true),
];
