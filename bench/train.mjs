// MLP 784-128-10 (ReLU, softmax cross-entropy, Adam lr 1e-3, batch 64 and 256) on the 10,000
// real MNIST digits of the `mnist` package. One timed call = one training step on the next
// shuffled batch, including building the batch tensors (simdgrad and PyTorch gather them from
// the data set held in tensors; TF.js copies them from a Float32Array) and reading the loss
// back, as a user's loop does. Reported as samples/s = batch / (seconds per step).
// Batch 256 is there for the threads: the target is ≥ 1.8x on 2 threads at that batch.
import { PIXELS, mnistDigits } from './mnist.mjs';

const HIDDEN = 128;
const CLASSES = 10;

/**
 * Loss of the first step and mean loss of the last 20 steps, to show training is real, and
 * the number of live tensors after step 10 and after the last step, to show it does not leak.
 */
function stepLog(liveTensors) {
  const losses = [];
  let liveAt10 = null;
  let liveLast = null;
  return {
    push: (loss) => {
      losses.push(loss);
      liveLast = liveTensors();
      if (losses.length === 10) liveAt10 = liveLast;
    },
    summary: () => {
      if (losses.length === 0) return 'no steps';
      const tail = losses.slice(-20);
      const mean = tail.reduce((s, v) => s + v, 0) / tail.length;
      return `${losses.length} steps, loss ${losses[0].toFixed(3)} -> ${mean.toFixed(3)},` +
        ` live tensors after step 10: ${liveAt10}, after the last: ${liveLast}`;
    },
  };
}

// MNIST's mean and standard deviation, as PyTorch's MNIST example normalises with.
const STANDARDIZE = [0.1307, 0.3081];
let standardized = null;
/**
 * The digits, or (standardize) their pixels as (p - mean) / std: no pixel is 0 then, so
 * linear's zero skipping never applies and the rows show the dense GEMM path.
 */
function digits(standardize) {
  const d = mnistDigits();
  if (!standardize) return d;
  if (standardized === null) {
    const [mean, std] = STANDARDIZE;
    // A plain loop: Float32Array.from with a map function goes through a JS array of the
    // whole data set, a transient the memory probe would count.
    const x = new Float32Array(d.x.length);
    for (let i = 0; i < x.length; i++) x[i] = (d.x[i] - mean) / std;
    standardized = { ...d, x };
  }
  return standardized;
}

const mlpCase = (BATCH, standardize = false) => ({
  case: `MLP 784-128-10 train (batch ${BATCH}, Adam${standardize ? ', standardized pixels' : ''})`,
  unit: 'samples/s',
  work: BATCH,
  scale: 1,
  threads: true, // also run by the two-thread workers
  training: true, // its peak memory is measured too (train-memory.mjs)
  pytorch: { kind: 'mlp', batch: BATCH, hidden: HIDDEN, classes: CLASSES, lr: 1e-3, ...(standardize ? { standardize: STANDARDIZE } : {}) },
  note: {
    simdgrad: standardize
      ? 'ordinary loop: sg.batches over the data set in tensors (each batch gathered in wasm memory) -> model.forward -> crossEntropy -> zeroGrad/backward/step, loss.item(); standardized pixels have no zeros, so every GEMM is dense'
      : 'ordinary loop: sg.batches over the data set in tensors (each batch gathered in wasm memory) -> model.forward -> crossEntropy -> zeroGrad/backward/step, loss.item(); the first layer skips the pixel steps that are all 0 (linear zero skipping, the dense numbers bit for bit)',
    tfjs: 'manual tfjs-core loop: tf.train.adam(1e-3).minimize(() => softmaxCrossEntropy(fused.matMul relu -> fused.matMul), returnCost), cost.dataSync(); batch tensors built each step',
    pytorch: 'ordinary loop: x[idx], y[idx] from a shuffled torch.randperm -> Sequential(Linear, ReLU, Linear) -> F.cross_entropy -> zero_grad/backward/Adam(lr 1e-3).step(), loss.item()',
  },
  simdgrad(sg) {
    const { x, y } = digits(standardize);
    sg.manualSeed(1);
    const model = new sg.nn.Sequential(
      new sg.nn.Linear(PIXELS, HIDDEN, { init: 'he' }),
      new sg.nn.ReLU(),
      new sg.nn.Linear(HIDDEN, CLASSES, { init: 'xavier' }),
    );
    const optimizer = new sg.optim.Adam(model.parameters(), { lr: 1e-3 });
    // The data set lives in tensors, as PyTorch's does: each batch is gathered in wasm memory.
    const X = sg.tensor(x, [x.length / PIXELS, PIXELS]);
    const Y = sg.tensor(y, { dtype: 'int32' });
    let it = sg.batches(X, Y, PIXELS, { batchSize: BATCH, shuffle: true, dropLast: true });
    const log = stepLog(() => sg.memory().tensors);
    return {
      fn: () => {
        let next = it.next();
        if (next.done) {
          it = sg.batches(X, Y, PIXELS, { batchSize: BATCH, shuffle: true, dropLast: true });
          next = it.next();
        }
        const b = next.value;
        const loss = sg.crossEntropy(model.forward(b.x), b.y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        log.push(loss.item());
      },
      dispose: () => {
        const summary = log.summary();
        sg.dispose(X, Y);
        return summary;
      },
    };
  },
  tfjs(tf) {
    const { x, y, n } = digits(standardize);
    const w1 = tf.variable(tf.mul(tf.randomNormal([PIXELS, HIDDEN], 0, 1, 'float32', 1), Math.sqrt(2 / PIXELS)));
    const b1 = tf.variable(tf.zeros([HIDDEN]));
    const w2 = tf.variable(tf.mul(tf.randomNormal([HIDDEN, CLASSES], 0, 1, 'float32', 2), Math.sqrt(2 / (HIDDEN + CLASSES))));
    const b2 = tf.variable(tf.zeros([CLASSES]));
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
    const log = stepLog(() => tf.memory().numTensors);
    return {
      fn: () => {
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
          const xs = tf.tensor2d(bx, [BATCH, PIXELS]);
          const ys = tf.oneHot(tf.tensor1d(by, 'int32'), CLASSES);
          return optimizer.minimize(() => {
            const h = tf.fused.matMul({ a: xs, b: w1, bias: b1, activation: 'relu' });
            const logits = tf.fused.matMul({ a: h, b: w2, bias: b2 });
            return tf.losses.softmaxCrossEntropy(ys, logits);
          }, true);
        });
        log.push(cost.dataSync()[0]);
        cost.dispose();
      },
      dispose: () => {
        tf.dispose([w1, b1, w2, b2]);
        optimizer.dispose();
        return log.summary();
      },
    };
  },
});

export const trainCases = [mlpCase(64), mlpCase(256), mlpCase(256, true)];
