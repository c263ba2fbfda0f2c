// Small-CNN training, samples/s: conv 3x3x8 (same), ReLU, max-pool 2, conv 3x3x16 (same),
// ReLU, max-pool 2, dense 10 (16·7·7 = 784 inputs); softmax cross-entropy, Adam lr 1e-3,
// batch 64 and 256, on the 10,000 real MNIST digits of the `mnist` package. One timed call =
// one training step on the next shuffled batch, including building the batch tensors and
// reading the loss back, as a user's loop does. samples/s = batch / (seconds per step).
// Batch 256 is there for the threads (the target: ≥ 1.8x on 2 threads at that batch).
//
// TF.js runs the same network in NHWC on tfjs-cpu; its wasm backend has no
// Conv2DBackpropFilter kernel, so the first step fails there (error quoted in the note).
// Setup runs one untimed warm-up step (it creates Adam's state). tfjs-cpu needs seconds per
// step (~3 s at batch 64, ~13 s at 256): after the warm-up and the (untimed) probe step it is
// timed for one step in each of the first `slowRounds` rounds, which keeps these cases to
// ~25 s and ~40 s of the bench.
//
// Also the LeNet-style CNN that `npm start` trains (examples/mnist-models.ts makeCnn: conv16 +
// batch-norm + ReLU + pool, conv32 + batch-norm + ReLU + pool, dense 128 + ReLU + dropout 0.25,
// dense 10; Adam lr 2e-3, batch 64), against PyTorch only: TF.js' wasm backend cannot train a
// CNN and its cpu backend would need many seconds per step of this network.
import { PIXELS, mnistDigits } from './mnist.mjs';

const SIDE = 28;
const CLASSES = 10;
const C1 = 8;
const C2 = 16;
const FLAT = C2 * (SIDE / 4) * (SIDE / 4);

/**
 * Loss of the untimed warm-up step run at setup (which also creates the optimizer state, so
 * that every case's lasting tensors exist before any case is probed), mean loss of the last 5
 * steps, and live tensors after the first and the last logged step, to show it does not leak.
 */
function stepLog(liveTensors, warmupLoss) {
  const losses = [];
  let liveFirst = null;
  let liveLast = null;
  return {
    push: (loss) => {
      losses.push(loss);
      liveLast = liveTensors();
      if (losses.length === 1) liveFirst = liveLast;
    },
    summary: () => {
      if (losses.length === 0) return 'no steps';
      const tail = losses.slice(-5);
      const mean = tail.reduce((s, v) => s + v, 0) / tail.length;
      return `1 warm-up + ${losses.length} steps, loss ${warmupLoss.toFixed(3)} -> ${mean.toFixed(3)} (mean of the last ${tail.length}),` +
        ` live tensors after the first logged step: ${liveFirst}, after the last: ${liveLast}`;
    },
  };
}

/**
 * The next shuffled batch of simdgrad images [batch, 1, 28, 28] each call, epoch after epoch,
 * gathered from the data set held in tensors (as PyTorch's is); `free` disposes those.
 */
function sgBatches(sg, BATCH) {
  const { x, y } = mnistDigits();
  const X = sg.tensor(x, [x.length / (SIDE * SIDE), 1, SIDE, SIDE]);
  const Y = sg.tensor(y, { dtype: 'int32' });
  const loader = new sg.DataLoader(sg.Dataset.fromTensors(X, Y), { batchSize: BATCH, shuffle: true, dropLast: true });
  let it = loader[Symbol.iterator]();
  const next = () => {
    let n = it.next();
    if (n.done) {
      it = loader[Symbol.iterator]();
      n = it.next();
    }
    return n.value;
  };
  next.free = () => sg.dispose(X, Y);
  return next;
}

// slowRounds: a library slower than 250 ms per step is timed in the first slowRounds rounds only.

/**
 * simdgrad's side of a CNN case: the ordinary loop (next batch, forward, crossEntropy,
 * zeroGrad/backward/Adam step, loss read back), one untimed warm-up step at setup.
 */
function sgTrainLoop(sg, model, lr, batch) {
  const optimizer = new sg.optim.Adam(model.parameters(), { lr });
  const nextBatch = sgBatches(sg, batch);
  const step = () => {
    const b = nextBatch();
    const loss = sg.crossEntropy(model.forward(b.x), b.y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return loss.item();
  };
  const log = stepLog(() => sg.memory().tensors, step());
  return {
    fn: () => log.push(step()),
    dispose: () => {
      const summary = log.summary();
      nextBatch.free();
      return summary;
    },
  };
}
const cnnCase = (BATCH, slowRounds) => ({
  case: `CNN conv8-pool-conv16-pool-dense10 train (batch ${BATCH}, Adam)`,
  unit: 'samples/s',
  work: BATCH,
  scale: 1,
  threads: true, // also run by the two-thread workers
  training: true, // its peak memory is measured too (train-memory.mjs)
  slowRounds,
  pytorch: { kind: 'cnn', batch: BATCH, c1: C1, c2: C2, classes: CLASSES, lr: 1e-3 },
  note: {
    simdgrad: 'ordinary loop: DataLoader over Dataset.fromTensors [1,28,28] (batches gathered in wasm memory) -> Sequential(Conv2d(1,8,3,same), ReLU, MaxPool2d(2), Conv2d(8,16,3,same), ReLU, MaxPool2d(2), Flatten, Linear(784,10)).forward -> crossEntropy -> zeroGrad/backward/step, loss.item(); NCHW',
    tfjs: `manual tfjs-core loop, NHWC: tf.train.adam(1e-3).minimize(() => softmaxCrossEntropy(fused.conv2d relu -> maxPool -> fused.conv2d relu -> maxPool -> reshape -> fused.matMul), returnCost), cost.dataSync(); batch tensors built each step; tfjs-cpu: one timed step in each of the first ${slowRounds} rounds (seconds per step), after an untimed warm-up step and probe step. tfjs-wasm: null, it has no Conv2DBackpropFilter kernel (conv weight gradient), so it cannot train a CNN`,
    pytorch: 'ordinary loop, NCHW: x[idx], y[idx] from a shuffled torch.randperm -> Sequential(Conv2d(1,8,3,padding=1), ReLU, MaxPool2d(2), Conv2d(8,16,3,padding=1), ReLU, MaxPool2d(2), Flatten, Linear(784,10)) -> F.cross_entropy -> zero_grad/backward/Adam(lr 1e-3).step(), loss.item(); one untimed warm-up step at setup',
  },
  simdgrad(sg) {
    sg.manualSeed(1);
    const { Conv2d, ReLU, MaxPool2d, Flatten, Linear, Sequential } = sg.nn;
    const model = new Sequential(
      new Conv2d(1, C1, 3, { padding: 'same', init: 'he' }), new ReLU(), new MaxPool2d(2),
      new Conv2d(C1, C2, 3, { padding: 'same', init: 'he' }), new ReLU(), new MaxPool2d(2),
      new Flatten(),
      new Linear(FLAT, CLASSES, { init: 'xavier' }),
    );
    return sgTrainLoop(sg, model, 1e-3, BATCH);
  },
  tfjs(tf) {
    const { x, y, n } = mnistDigits();
    const he = (shape, fanIn, seed) => tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), Math.sqrt(2 / fanIn)));
    const w1 = he([3, 3, 1, C1], 9, 1);
    const b1 = tf.variable(tf.zeros([C1]));
    const w2 = he([3, 3, C1, C2], 9 * C1, 2);
    const b2 = tf.variable(tf.zeros([C2]));
    const w3 = tf.variable(tf.mul(tf.randomNormal([FLAT, CLASSES], 0, 1, 'float32', 3), Math.sqrt(2 / (FLAT + CLASSES))));
    const b3 = tf.variable(tf.zeros([CLASSES]));
    const optimizer = tf.train.adam(1e-3);
    const order = new Int32Array(n).map((_, i) => i);
    let pos = n; // forces a shuffle on the first step
    const shuffle = () => {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        const t = order[i]; order[i] = order[j]; order[j] = t;
      }
      pos = 0;
    };
    const step = () => {
      if (pos + BATCH > n) shuffle();
      const bx = new Float32Array(BATCH * PIXELS);
      const by = new Int32Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        const r = order[pos + i];
        bx.set(x.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
        by[i] = y[r];
      }
      pos += BATCH;
      const cost = tf.tidy(() => {
        const xs = tf.tensor4d(bx, [BATCH, SIDE, SIDE, 1]);
        const ys = tf.oneHot(tf.tensor1d(by, 'int32'), CLASSES);
        return optimizer.minimize(() => {
          let h = tf.fused.conv2d({ x: xs, filter: w1, strides: 1, pad: 'same', bias: b1, activation: 'relu' });
          h = tf.maxPool(h, 2, 2, 'valid');
          h = tf.fused.conv2d({ x: h, filter: w2, strides: 1, pad: 'same', bias: b2, activation: 'relu' });
          h = tf.maxPool(h, 2, 2, 'valid');
          const logits = tf.fused.matMul({ a: tf.reshape(h, [BATCH, FLAT]), b: w3, bias: b3 });
          return tf.losses.softmaxCrossEntropy(ys, logits);
        }, true);
      });
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    };
    const log = stepLog(() => tf.memory().numTensors, step());
    return {
      fn: () => log.push(step()),
      dispose: () => {
        tf.dispose([w1, b1, w2, b2, w3, b3]);
        optimizer.dispose();
        return log.summary();
      },
    };
  },
});

const LENET_BATCH = 64; // npm start's default (examples/train-mnist.ts)

/** The LeNet-style CNN of `npm start`; the same layers as examples/mnist-models.ts makeCnn (a .ts file node cannot import). */
const lenetCase = {
  case: `LeNet CNN of npm start (conv16-bn-pool-conv32-bn-pool-dense128-dropout-dense10) train (batch ${LENET_BATCH}, Adam)`,
  unit: 'samples/s',
  work: LENET_BATCH,
  scale: 1,
  threads: true,
  training: true,
  pytorch: { kind: 'lenet', batch: LENET_BATCH, classes: CLASSES, lr: 2e-3 },
  note: {
    simdgrad: 'ordinary loop: DataLoader over Dataset.fromTensors [1,28,28] (batches gathered in wasm memory) -> Sequential(Conv2d(1,16,3,pad 1), BatchNorm2d, ReLU, MaxPool2d(2), Conv2d(16,32,3,pad 1), BatchNorm2d, ReLU, MaxPool2d(2), Flatten, Linear(1568,128), ReLU, Dropout(0.25), Linear(128,10)).forward -> crossEntropy -> zeroGrad/backward/Adam(lr 2e-3).step, loss.item(); pixels in [0, 1] as in the other cases (npm start also standardizes, shifts digits at random and decays lr: left out, they are not the model)',
    tfjs: 'not run: tfjs-wasm has no Conv2DBackpropFilter kernel (cannot train a CNN), and tfjs-cpu needs seconds per step of the much smaller CNN case',
    pytorch: 'the same layers (nn.BatchNorm2d, nn.Dropout(0.25), train mode), NCHW, ordinary loop as in the CNN case, Adam(lr 2e-3); one untimed warm-up step at setup',
  },
  simdgrad(sg) {
    sg.manualSeed(1);
    const { Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, Dropout, Sequential } = sg.nn;
    const model = new Sequential(
      new Conv2d(1, 16, 3, { padding: 1, init: 'he' }), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
      new Conv2d(16, 32, 3, { padding: 1, init: 'he' }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
      new Flatten(),
      new Linear(32 * 7 * 7, 128, { init: 'he' }), new ReLU(), new Dropout(0.25),
      new Linear(128, CLASSES),
    );
    return sgTrainLoop(sg, model, 2e-3, LENET_BATCH);
  },
};

export const cnnTrainCases = [cnnCase(64, 4), cnnCase(256, 2), lenetCase];
