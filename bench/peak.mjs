// Single-thread SIMD peak of this machine, measured in the same run as everything else.
//
// The module is assembled here byte by byte (no wat2wasm, no AssemblyScript, so no optimiser
// can fold or reorder anything): one function `peak(n, m, a)` that runs n iterations of
// ACC independent f32x4 accumulators, each updated UNROLL times per iteration as
//   plain:   acc = acc * m + a        (f32x4.mul then f32x4.add: 2 flops per lane)
//   relaxed: acc = relaxed_madd(acc, m, a)   (one fused op, 2 flops per lane)
// With m = 0.999 and a = 0.001 every accumulator converges to 1: no overflow, no denormals.
// ACC = 12 keeps 12 + 2 values in the 15 xmm registers V8 allocates, so nothing spills.

const ACC = 12;
const UNROLL = 4;
const FLOPS_PER_ITER = ACC * UNROLL * 4 * 2;

const uleb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vec = (items) => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const localGet = (i) => [0x20, ...uleb(i)];
const localSet = (i) => [0x21, ...uleb(i)];
const simd = (op) => [0xfd, ...uleb(op)];
const F32X4_SPLAT = 0x13, F32X4_EXTRACT_LANE = 0x1f, F32X4_ADD = 0xe4, F32X4_MUL = 0xe6;
const F32X4_RELAXED_MADD = 0x105;

/** Bytes of the peak module; fused = use f32x4.relaxed_madd (needs relaxed SIMD). */
function peakModuleBytes(fused) {
  // params: 0 = n (i32), 1 = m (f32), 2 = a (f32); locals: 3..3+ACC-1 accumulators, then mv, av.
  const acc0 = 3, mv = acc0 + ACC, av = mv + 1;
  const body = [];
  for (let k = 0; k < ACC; k++) body.push(...localGet(2), ...simd(F32X4_SPLAT), ...localSet(acc0 + k));
  body.push(...localGet(1), ...simd(F32X4_SPLAT), ...localSet(mv));
  body.push(...localGet(2), ...simd(F32X4_SPLAT), ...localSet(av));
  body.push(0x03, 0x40); // loop (no result)
  for (let u = 0; u < UNROLL; u++) {
    for (let k = 0; k < ACC; k++) {
      if (fused) {
        body.push(...localGet(acc0 + k), ...localGet(mv), ...localGet(av), ...simd(F32X4_RELAXED_MADD));
      } else {
        body.push(...localGet(acc0 + k), ...localGet(mv), ...simd(F32X4_MUL), ...localGet(av), ...simd(F32X4_ADD));
      }
      body.push(...localSet(acc0 + k));
    }
  }
  // n = n - 1; br_if loop (n != 0)
  body.push(...localGet(0), 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00);
  body.push(0x0b); // end loop
  // Return lane 0 of the sum of all accumulators, so none of them is dead code.
  body.push(...localGet(acc0));
  for (let k = 1; k < ACC; k++) body.push(...localGet(acc0 + k), ...simd(F32X4_ADD));
  body.push(...simd(F32X4_EXTRACT_LANE), 0x00);
  body.push(0x0b); // end function

  const locals = vec([[...uleb(ACC + 2), V128]]); // one group: ACC + 2 locals of type v128
  const func = [...locals, ...body];
  const name = [...'peak'].map((c) => c.charCodeAt(0));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [F32], [F32]]), ...vec([[F32]])]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...uleb(name.length), ...name, 0x00, 0x00]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}

/** The peak function of one flavour, or null when the runtime cannot validate it. */
export function peakKernel(fused) {
  const bytes = peakModuleBytes(fused);
  if (!WebAssembly.validate(bytes)) return null;
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  return peak;
}

export const PEAK_ITERS = 50_000; // per call: 50k * 384 flops = 19.2 MFLOP, about 0.5 ms
export const PEAK_FLOPS_PER_CALL = PEAK_ITERS * FLOPS_PER_ITER;

/** Adds the peak tasks (GFLOP/s) that this runtime can run to a tinybench Bench. */
export function addPeakTasks(bench, sink) {
  const added = [];
  for (const [fused, label] of [[false, 'peak f32x4 mul+add'], [true, 'peak f32x4 relaxed_madd']]) {
    const peak = peakKernel(fused);
    if (peak === null) continue;
    bench.add(label, () => { sink.value += peak(PEAK_ITERS, 0.999, 0.001); }, { async: false });
    added.push({ name: label, fused, flops: PEAK_FLOPS_PER_CALL });
  }
  return added;
}
