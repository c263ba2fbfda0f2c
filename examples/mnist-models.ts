// The MNIST models of the examples, the tests, `npm start` and the demo, built from whichever
// copy of the library the caller has (the demo's bundle imports 'simdgrad', the examples the
// sources): pass its `nn`.
import type * as sg from '../src/index';

type Nn = typeof sg.nn;

/** LeNet-style CNN: two conv + batch-norm + pool blocks, a dense head with dropout. */
export function makeCnn(nn: Nn): sg.nn.Sequential {
  const { Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, Dropout, Sequential } = nn;
  return new Sequential(
    new Conv2d(1, 16, 3, { padding: 1, init: 'he' }), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2), // 16×14×14
    new Conv2d(16, 32, 3, { padding: 1, init: 'he' }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2), // 32×7×7
    new Flatten(),
    new Linear(32 * 7 * 7, 128, { init: 'he' }), new ReLU(), new Dropout(0.25),
    new Linear(128, 10),
  );
}

/** MLP 784-128-10; its Linear + ReLU runs as one fused GEMM. */
export function makeMlp(nn: Nn): sg.nn.Sequential {
  return new nn.Sequential(
    new nn.Linear(784, 128, { init: 'he' }),
    new nn.ReLU(),
    new nn.Linear(128, 10, { init: 'xavier' }),
  );
}
