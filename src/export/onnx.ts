// ONNX export (issue 12). The model is traced, not read off its module tree: a forward pass on
// an input that requires grad makes every op record its node with its parsed attributes
// (core/autograd.ts), and the recorded graph is what gets translated. Tracing covers any
// Module whose forward returns a Tensor (custom forwards, fused Linear+ReLU, the slicing a
// recurrent layer does on its packed output) without this file knowing the layer classes;
// export/ sits below nn/ in the layering, so it could not import them anyway.
//
// The protobuf messages come from `onnx-buf` (the ONNX schema generated for @bufbuild/protobuf):
// the encoding is the schema's, not ours. Shapes are static: the input shape given is the one
// the exported graph accepts.
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType as AttrType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema,
  OperatorSetIdProtoSchema, TensorProtoSchema, TensorProto_DataType as DataType, TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf/dist/onnx_pb.js';
// Only the package's public names: this module is the separate entry point `simdgrad/onnx`
// (its protobuf runtime is ~75 kB, not for every app), bundled with the library as an import.
import { Tensor, enableGrad, full, quantizeWeight, scope, tensor } from '../index.js';

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** What exportOnnx needs of a model: a forward from one tensor to one tensor (any Module of that kind). */
export interface OnnxExportable {
  forward(x: Tensor): Tensor;
}

export interface OnnxExportOptions {
  /** The input's shape, batch included; the exported graph takes exactly this shape. */
  inputShape: readonly number[];
  /** ONNX opset (default 13, the baseline; 13 to 17 are accepted: the ops used do not change there). */
  opset?: number;
  /** Graph input and output names (default 'input' and 'output'). */
  inputName?: string;
  outputName?: string;
  /**
   * int8 QDQ export: the calibrated input scales of a `quantizeModel` result (pass the
   * QuantizedModel itself, or its `.scales`), one per Linear/Conv2d of the float model traced.
   * Weights are written as per-channel int8 with DequantizeLinear (axis 0), each layer input
   * goes through QuantizeLinear/DequantizeLinear with its scale, and batch norms are folded.
   */
  quantization?: { readonly scales: readonly { readonly inScale: number; readonly unsigned: boolean }[] };
}

/** What QDQ export keeps while emitting: the scales in layer order, and the batch norms folded. */
interface QuantState {
  readonly scales: readonly { readonly inScale: number; readonly unsigned: boolean }[];
  next: number;
  /** A Linear/Conv2d output -> the batch norm output it absorbs. */
  readonly folds: Map<Tensor, Tensor>;
}

const MIN_OPSET = 13;
const MAX_OPSET = 17;

type Attr = number | bigint | string | readonly number[] | { floats: readonly number[] } | { strings: readonly string[] };

/** The graph under construction: nodes, initializers and a name for every traced tensor. */
class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly taken = new Set<string>();
  private count = 0;

  constructor(private readonly paramNames: Map<Tensor, string>, readonly quant: QuantState | null = null) {}

  has(t: Tensor): boolean {
    return this.names.has(t);
  }

  fresh(hint: string): string {
    let name = hint;
    while (this.taken.has(name)) name = `${hint}_${++this.count}`;
    this.taken.add(name);
    return name;
  }

  /** The state-dict name of a parameter or buffer, for naming what is derived from it. */
  hint(t: Tensor): string | undefined {
    return this.paramNames.get(t);
  }

  bind(t: Tensor, name: string): void {
    this.names.set(t, name);
  }

  /** The name of a traced tensor; a leaf seen for the first time becomes an initializer. */
  use(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    if (t.node !== null) throw new Error(`exportOnnx: internal: tensor ${fmt(t.shape)} used before the node producing it was emitted`);
    if (t.dtype !== 'float32') throw new Error(`exportOnnx: a constant of dtype ${t.dtype} ${fmt(t.shape)} cannot be exported (float32 only)`);
    const name = this.floats(this.paramNames.get(t) ?? 'const', t.shape, t.data() as Float32Array);
    this.names.set(t, name);
    return name;
  }

  floats(hint: string, shape: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    const data = Float32Array.from(values);
    // Initializers travel as raw little-endian bytes (wasm and every host here are little-endian).
    const raw = new Uint8Array(data.buffer.slice(0));
    this.initializers.push(create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType: DataType.FLOAT, rawData: raw }));
    return name;
  }

  int8(hint: string, shape: readonly number[], values: Int8Array): string {
    const name = this.fresh(hint);
    const raw = new Uint8Array(Int8Array.from(values).buffer);
    this.initializers.push(create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType: DataType.INT8, rawData: raw }));
    return name;
  }

  ints(hint: string, values: readonly number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(create(TensorProtoSchema, { name, dims: [BigInt(values.length)], dataType: DataType.INT64, int64Data: values.map(BigInt) }));
    return name;
  }

  /** Adds a node and returns its (first) output's name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs?: readonly string[]): string {
    const outs = outputs ?? [this.fresh(`${opType.toLowerCase()}_out`)];
    const attribute: AttributeProto[] = Object.entries(attrs).map(([name, v]) => attribute_(name, v));
    this.nodes.push(create(NodeProtoSchema, { opType, input: inputs.slice(), output: outs.slice(), name: this.fresh(opType), attribute }));
    return outs[0];
  }
}

function attribute_(name: string, v: Attr): AttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) && !name.startsWith('f:')
      ? create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(v) })
      : create(AttributeProtoSchema, { name: name.replace(/^f:/, ''), type: AttrType.FLOAT, f: v });
  }
  if (typeof v === 'bigint') return create(AttributeProtoSchema, { name, type: AttrType.INT, i: v });
  if (typeof v === 'string') return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(v) });
  if ('strings' in v) return create(AttributeProtoSchema, { name, type: AttrType.STRINGS, strings: v.strings.map((t) => new TextEncoder().encode(t)) });
  if ('floats' in v) return create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: v.floats.slice() });
  return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: (v as readonly number[]).map(BigInt) });
}

// Float attributes that may hold an integral value (alpha = 1) are keyed 'f:name' so they are
// written as FLOAT, which the ONNX checker requires for them.
const float = (name: string): string => `f:${name}`;

function valueInfo(name: string, shape: readonly number[]): ValueInfoProto {
  const dims = shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }));
  const tensorType = create(TypeProto_TensorSchema, { elemType: DataType.FLOAT, shape: create(TensorShapeProtoSchema, { dim: dims }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

/** Nodes reachable from `root`, inputs before the nodes that use them (iterative: RNN graphs are deep). */
function order(root: Tensor): Tensor[] {
  const out: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const ins = top[0].node?.inputs ?? [];
    if (top[1] < ins.length) {
      const c = ins[top[1]++];
      if (!seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      if (top[0].node !== null) out.push(top[0]);
    }
  }
  return out;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

/** ONNX gate order from simdgrad's (PyTorch's): rows of a [G·H, ...] matrix regrouped by gate. */
function regate(values: Float32Array, H: number, cols: number, order_: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  order_.forEach((src, dst) => out.set(values.subarray(src * H * cols, (src + 1) * H * cols), dst * H * cols));
  return out;
}

// PyTorch orders LSTM gates i, f, g, o and ONNX i, o, f, c; GRU r, z, n against ONNX z, r, h.
const GATE_ORDER: Record<string, readonly number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };

/** Emits the ONNX nodes for one traced node. */
function emit(b: Builder, out: Tensor, opset: number): void {
  const node = out.node!;
  const a = node.attrs as Record<string, unknown>;
  const ins = node.inputs;
  const x = (i: number): string => b.use(ins[i]);
  const outName = b.fresh(node.op);
  const set = (name: string): void => {
    b.bind(out, name);
    // A folded batch norm's output is the layer's (QDQ export), through its fused ReLU if any.
    const bn = b.quant?.folds.get(out);
    if (bn !== undefined) b.bind(bn, (bn.node!.attrs as { relu?: boolean }).relu === true ? b.node('Relu', [name], {}) : name);
  };
  const operands = (): string[] => (b.quant === null ? ins.map((_, i) => x(i)) : quantOperands(b, out));
  const simple = (opType: string, attrs: Record<string, Attr> = {}): void => set(b.node(opType, ins.map((_, i) => x(i)), attrs, [outName]));
  switch (node.op) {
    case 'linear': {
      const xs = ins[0].shape;
      const relu = a.relu === true;
      const ops = operands();
      let y: string;
      if (xs.length === 2) {
        y = b.node('Gemm', ops, { transB: 1 }, relu ? undefined : [outName]);
      } else {
        const wt = b.node('Transpose', [ops[1]], { perm: [1, 0] });
        y = b.node('MatMul', [ops[0], wt], {}, ops.length > 2 || relu ? undefined : [outName]);
        if (ops.length > 2) y = b.node('Add', [y, ops[2]], {}, relu ? undefined : [outName]);
      }
      if (relu) y = b.node('Relu', [y], {}, [outName]);
      set(y);
      return;
    }
    case 'matmul': {
      const t = (i: number, flag: unknown): string => {
        if (flag !== true) return x(i);
        const r = ins[i].shape.length;
        const perm = [...Array(r).keys()];
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        return b.node('Transpose', [x(i)], { perm });
      };
      set(b.node('MatMul', [t(0, a.transA), t(1, a.transB)], {}, [outName]));
      return;
    }
    case 'conv2d': {
      const [kh, kw] = ins[1].shape.slice(2);
      const [ph, pw] = pair(a.padding);
      const [eh, ew] = a.paddingEnd === undefined ? [ph, pw] : pair(a.paddingEnd);
      const conv = b.node('Conv', operands(), { kernel_shape: [kh, kw], strides: pair(a.stride), pads: [ph, pw, eh, ew] }, a.relu === true ? undefined : [outName]);
      set(a.relu === true ? b.node('Relu', [conv], {}, [outName]) : conv);
      return;
    }
    case 'convTranspose2d': {
      const [kh, kw] = ins[1].shape.slice(2);
      const [ph, pw] = pair(a.padding);
      simple('ConvTranspose', { kernel_shape: [kh, kw], strides: pair(a.stride), pads: [ph, pw, ph, pw], output_padding: pair(a.outputPadding) });
      return;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      if (ins[0].shape.length !== 4) throw new Error(`exportOnnx: ${node.op} of a 3-D input ${fmt(ins[0].shape)} has no ONNX form (give it [N, C, H, W])`);
      const [ph, pw] = pair(a.padding);
      const attrs: Record<string, Attr> = { kernel_shape: pair(a.kernel), strides: pair(a.stride), pads: [ph, pw, ph, pw] };
      if (node.op === 'avgPool2d') attrs.count_include_pad = a.countIncludePad === false ? 0 : 1;
      simple(node.op === 'maxPool2d' ? 'MaxPool' : 'AveragePool', attrs);
      return;
    }
    case 'globalAvgPool2d': {
      if (ins[0].shape.length !== 4) throw new Error(`exportOnnx: globalAvgPool2d of a 3-D input ${fmt(ins[0].shape)} has no ONNX form (give it [N, C, H, W])`);
      const g = b.node('GlobalAveragePool', [x(0)]);
      set(b.node('Flatten', [g], { axis: 1 }, [outName]));
      return;
    }
    case 'batchNorm': {
      if (a.training === true) throw new Error('exportOnnx: batchNorm in training mode cannot be exported (call model.eval(), or let exportOnnx trace a Module, which it does in eval mode)');
      // Present inputs only: x, [gamma, beta,] runningMean, runningStd.
      if (ins.length !== 5 && ins.length !== 3) throw new Error(`exportOnnx: batchNorm with ${ins.length} inputs (only one of gamma and beta) cannot be exported`);
      const C = ins[0].shape[1];
      const [rm, rs] = ins.length === 5 ? [ins[3], ins[4]] : [ins[1], ins[2]];
      const scale = ins.length === 5 ? x(1) : b.floats('bn_scale', [C], new Float32Array(C).fill(1));
      const bias = ins.length === 5 ? x(2) : b.floats('bn_bias', [C], new Float32Array(C));
      // simdgrad keeps the running standard deviation σ̄ and normalises by sqrt(σ̄² + eps); ONNX
      // takes a variance and normalises by sqrt(var + eps): var = σ̄² gives the same outputs.
      const std = rs.data() as Float32Array;
      const variance = b.floats(`${b.hint(rs) ?? 'running'}_var`, [C], std.map((s) => s * s));
      const relu = a.relu === true;
      const y = b.node('BatchNormalization', [x(0), scale, bias, b.use(rm), variance], { [float('epsilon')]: a.eps as number }, relu ? undefined : [outName]);
      set(relu ? b.node('Relu', [y], {}, [outName]) : y);
      return;
    }
    case 'layerNorm': {
      // LayerNormalization arrived in opset 17; the baseline spells it out (biased variance, as simdgrad).
      const r = ins[0].shape.length;
      const k = (a.normalizedShape as number[]).length;
      const axes = [...Array(k).keys()].map((i) => r - k + i);
      const mean = b.node('ReduceMean', [x(0)], { axes, keepdims: 1 });
      const d = b.node('Sub', [x(0), mean]);
      const v = b.node('ReduceMean', [b.node('Mul', [d, d])], { axes, keepdims: 1 });
      const eps = b.floats('ln_eps', [], [a.eps as number]);
      let y = b.node('Div', [d, b.node('Sqrt', [b.node('Add', [v, eps])])], {}, ins.length === 1 ? [outName] : undefined);
      if (ins.length >= 2) y = b.node('Mul', [y, x(1)], {}, ins.length === 2 ? [outName] : undefined);
      if (ins.length === 3) y = b.node('Add', [y, x(2)], {}, [outName]);
      set(y);
      return;
    }
    case 'reshape':
      set(b.node('Reshape', [x(0), b.ints('shape', out.shape)], {}, [outName]));
      return;
    case 'permute':
      simple('Transpose', { perm: a.dims as number[] });
      return;
    case 'slice': {
      const begin = a.begin as number[];
      const axes = begin.map((_, i) => i);
      set(b.node('Slice', [x(0), b.ints('starts', begin), b.ints('ends', begin.map((s, i) => s + out.shape[i])), b.ints('axes', axes)], {}, [outName]));
      return;
    }
    case 'concat':
      simple('Concat', { axis: a.axis as number });
      return;
    case 'add': case 'sub': case 'mul': case 'div':
      simple(node.op[0].toUpperCase() + node.op.slice(1));
      return;
    case 'relu': case 'sigmoid': case 'tanh': case 'exp': case 'log': case 'sqrt': case 'abs': case 'neg': case 'softplus': {
      const names: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', abs: 'Abs', neg: 'Neg', softplus: 'Softplus' };
      simple(names[node.op]);
      return;
    }
    case 'square':
      set(b.node('Mul', [x(0), x(0)], {}, [outName]));
      return;
    case 'leakyRelu':
      simple('LeakyRelu', { [float('alpha')]: a.slope as number });
      return;
    case 'elu':
      simple('Elu', { [float('alpha')]: a.alpha as number });
      return;
    case 'clamp':
      set(b.node('Clip', [x(0), b.floats('min', [], [a.lo as number]), b.floats('max', [], [a.hi as number])], {}, [outName]));
      return;
    case 'softmax': case 'logSoftmax':
      // Opset 13 redefined Softmax as per-axis, matching simdgrad's.
      simple(node.op === 'softmax' ? 'Softmax' : 'LogSoftmax', { axis: a.axis as number });
      return;
    case 'sum': case 'mean': {
      const opType = node.op === 'sum' ? 'ReduceSum' : 'ReduceMean';
      const keep = a.keepDim === true ? 1 : 0;
      const axes = a.axis === null ? [...ins[0].shape.keys()] : [a.axis as number];
      // ReduceSum takes its axes as an input from opset 13 on; ReduceMean only from 18.
      if (opType === 'ReduceSum') set(b.node(opType, [x(0), b.ints('axes', axes)], { keepdims: keep }, [outName]));
      else simple(opType, { axes, keepdims: keep });
      return;
    }
    case 'lstm': case 'gru': case 'rnn':
      recurrent(b, out, outName);
      return;
    case 'scaledDotProductAttention':
      attention(b, out, outName);
      return;
    default:
      throw new Error(`exportOnnx: op '${node.op}' has no ONNX translation here (opset ${opset})`);
  }
}

/**
 * A recurrent op: batch-first x [N, T, D] becomes ONNX's [T, N, D], and the ONNX outputs are
 * packed back into simdgrad's [N, T + k, H] (outputs, final h, [final c]), which the layer slices.
 */
function recurrent(b: Builder, out: Tensor, outName: string): void {
  const node = out.node!;
  const kind = node.op;
  const a = node.attrs as { reverse?: boolean; relu?: boolean };
  const ins = node.inputs;
  // Present inputs: x, wIh, wHh, then bIh and bHh when the layer has biases (both 1-D).
  const biased = ins.length === 5 && ins[3].shape.length === 1 && ins[4].shape.length === 1;
  if (ins.length !== 3 && !biased) throw new Error(`exportOnnx: ${kind} with an initial state or a padding mask cannot be exported (only x, weights and biases)`);
  const [N, T, D] = ins[0].shape;
  const H = ins[2].shape[1];
  const gates = GATE_ORDER[kind];
  const G = gates.length;
  const hint = b.hint(ins[1]) ?? kind;
  const w = b.floats(`${hint}_W`, [1, G * H, D], regate(ins[1].data() as Float32Array, H, D, gates));
  const r = b.floats(`${hint}_R`, [1, G * H, H], regate(ins[2].data() as Float32Array, H, H, gates));
  const inputs = [b.node('Transpose', [b.use(ins[0])], { perm: [1, 0, 2] }), w, r];
  if (biased) {
    const bias = new Float32Array(2 * G * H);
    bias.set(regate(ins[3].data() as Float32Array, H, 1, gates), 0);
    bias.set(regate(ins[4].data() as Float32Array, H, 1, gates), G * H);
    inputs.push(b.floats(`${hint}_B`, [1, 2 * G * H], bias));
  }
  const attrs: Record<string, Attr> = { hidden_size: H, direction: a.reverse === true ? 'reverse' : 'forward' };
  if (kind === 'gru') attrs.linear_before_reset = 1; // PyTorch's GRU applies r after W_hn h + b_hn
  if (kind === 'rnn') attrs.activations = { strings: [a.relu === true ? 'Relu' : 'Tanh'] };
  const y = b.fresh(`${kind}_Y`);
  const yh = b.fresh(`${kind}_Y_h`);
  const outs = kind === 'lstm' ? [y, yh, b.fresh(`${kind}_Y_c`)] : [y, yh];
  b.node(kind.toUpperCase(), inputs, attrs, outs);
  // Y [T, 1, N, H] -> [N, T, H]; Y_h and Y_c [1, N, H] -> [N, 1, H].
  const seq = b.node('Reshape', [b.node('Transpose', [y], { perm: [2, 0, 1, 3] }), b.ints('shape', [N, T, H])]);
  const finals = outs.slice(1).map((s) => b.node('Transpose', [s], { perm: [1, 0, 2] }));
  b.bind(out, b.node('Concat', [seq, ...finals], { axis: 1 }, [outName]));
}

/** The fold of quantizeModel (compress/quantize.ts), in the same float arithmetic so the int8 weights come out identical. */
function foldBatchNorm(w: Float32Array, bias: Float32Array | null, bn: Tensor): { weight: Float32Array; bias: Float32Array } {
  const ins = bn.node!.inputs;
  const eps = (bn.node!.attrs as { eps: number }).eps;
  const [gamma, beta, mean, std] = (ins.length === 5 ? ins.slice(1) : [null, null, ins[1], ins[2]]).map((t) => (t === null ? null : (t.data() as Float32Array)));
  const out = mean!.length;
  const per = w.length / out;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(out);
  for (let c = 0; c < out; c++) {
    const scale = (gamma === null ? 1 : gamma[c]) / Math.sqrt(std![c] * std![c] + eps);
    for (let k = 0; k < per; k++) fw[c * per + k] = w[c * per + k] * scale;
    fb[c] = ((bias === null ? 0 : bias[c]) - mean![c]) * scale + (beta === null ? 0 : beta[c]);
  }
  return { weight: fw, bias: fb };
}

/**
 * The operands of a Linear/Conv2d in QDQ form: x through Clip, QuantizeLinear and
 * DequantizeLinear with the layer's calibrated scale; the weight (batch norm folded) as int8
 * with per-channel scales, dequantised on axis 0; the bias in float32, as QuantizedModel keeps it.
 */
function quantOperands(b: Builder, out: Tensor): string[] {
  const q = b.quant!;
  const node = out.node!;
  const ins = node.inputs;
  if (q.next >= q.scales.length) throw new Error(`exportOnnx: the model has more Linear/Conv2d layers than the ${q.scales.length} scales of quantization (export the float model quantizeModel was given)`);
  const { inScale, unsigned } = q.scales[q.next++];
  const hint = b.hint(ins[1]) ?? node.op;
  // simdgrad clamps the int8 input to [-127, 127] ([0, 127] when calibrated non-negative);
  // QuantizeLinear saturates to [-128, 127]: the Clip makes the two ranges the same.
  const s = b.floats(`${hint}_in_scale`, [], [inScale]);
  const zp = b.int8(`${hint}_in_zero`, [], new Int8Array(1));
  const clipped = b.node('Clip', [b.use(ins[0]), b.floats('min', [], [unsigned ? 0 : -127 * inScale]), b.floats('max', [], [127 * inScale])]);
  const xd = b.node('DequantizeLinear', [b.node('QuantizeLinear', [clipped, s, zp]), s, zp]);

  const bn = q.folds.get(out);
  let w = ins[1].data() as Float32Array;
  let bias = ins.length > 2 ? (ins[2].data() as Float32Array) : null;
  if (bn !== undefined) ({ weight: w, bias } = foldBatchNorm(w, bias, bn));
  const shape = ins[1].shape;
  const rows = shape[0];
  const cols = w.length / rows;
  const wt = tensor(w, shape);
  const qw = quantizeWeight(wt);
  wt.dispose();
  try {
    const padded = qw.q.data() as Int8Array;
    const kp = padded.length / rows;
    const int8 = new Int8Array(rows * cols);
    for (let r = 0; r < rows; r++) int8.set(padded.subarray(r * kp, r * kp + cols), r * cols);
    const ws = b.floats(`${hint}_scale`, [rows], qw.scales.data() as Float32Array);
    const wd = b.node('DequantizeLinear', [b.int8(`${hint}_int8`, shape, int8), ws, b.int8(`${hint}_zero`, [rows], new Int8Array(rows))], { axis: 0 });
    const ops = [xd, wd];
    if (bias !== null) ops.push(bn === undefined ? b.use(ins[2]) : b.floats(`${hint}_folded_bias`, [rows], bias));
    return ops;
  } finally {
    qw.dispose();
  }
}

/** Batch norms QDQ export folds: each right after a Linear/Conv2d that nothing else reads. */
function foldsOf(nodes: readonly Tensor[]): Map<Tensor, Tensor> {
  const uses = new Map<Tensor, number>();
  for (const t of nodes) for (const i of t.node!.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const folds = new Map<Tensor, Tensor>();
  for (const t of nodes) {
    const src = t.node!.inputs[0];
    if (t.node!.op !== 'batchNorm' || (src.node?.op !== 'linear' && src.node?.op !== 'conv2d')) continue;
    if (uses.get(src) !== 1) throw new Error('exportOnnx: quantization: a batch norm to fold reads a layer whose output is also used elsewhere');
    if ((src.node.attrs as { relu?: boolean }).relu === true) throw new Error(`exportOnnx: quantization: a batch norm after a fused ${src.node.op === 'linear' ? 'Linear' : 'Conv2d'}+ReLU cannot be folded`);
    folds.set(src, t);
  }
  return folds;
}

const sameShape = (s: readonly number[], t: readonly number[]): boolean => s.length === t.length && s.every((d, i) => d === t[i]);

/**
 * Attention decomposed at opset 13: heads come out of their column blocks by Reshape+Transpose
 * ([B, T, H·D] -> [B, H, T, D], K straight to [B, H, D, T]), then MatMul, Mul by the scale, Add
 * of one constant bias (additive mask, causal and padding blocks as −Infinity), Softmax, MatMul,
 * and back. The masks must be constants (leaves) at export: the graph has one input.
 */
function attention(b: Builder, out: Tensor, outName: string): void {
  const node = out.node!;
  const a = node.attrs as { heads: number; causal: boolean; scale: number | null };
  const [q, k, v, ...extra] = node.inputs;
  const lead = q.shape.slice(0, -2);
  const B = lead.reduce((p, d) => p * d, 1);
  const [Tq, E] = q.shape.slice(-2);
  const Tk = k.shape[k.shape.length - 2];
  const H = a.heads;
  const Dk = E / H;
  const Dv = v.shape[v.shape.length - 1] / H;
  const scale = a.scale ?? (Dk > 0 ? 1 / Math.sqrt(Dk) : 1);
  // The node keeps present inputs only: a lone fourth one is told apart by its shape.
  let keyMask: Tensor | null = null;
  let mask: Tensor | null = null;
  if (extra.length === 2) [keyMask, mask] = extra;
  else if (extra.length === 1) {
    const isKeyMask = sameShape(extra[0].shape, [...lead, Tk]);
    const isMask = sameShape(extra[0].shape, [Tq, Tk]);
    if (isKeyMask && isMask) throw new Error(`exportOnnx: scaledDotProductAttention with one mask ${fmt(extra[0].shape)} that could be the keyMask or the additive mask (batch = T_q): give the other one too, or a different batch size`);
    if (isKeyMask) keyMask = extra[0];
    else mask = extra[0];
  }
  for (const m of [keyMask, mask]) {
    if (m !== null && m.node !== null) throw new Error(`exportOnnx: scaledDotProductAttention with a mask ${fmt(m.shape)} computed in the graph cannot be exported (masks must be constants)`);
  }

  // One bias [B or 1, 1, T_q, T_k]. A query with every key blocked gets the zero vector in
  // simdgrad, where Softmax would give NaN: its row of the bias is zeroed and a 0/1 factor
  // after the Softmax zeroes its weights.
  const Bm = keyMask === null ? 1 : B;
  const bias = new Float32Array(Bm * Tq * Tk);
  const keep = new Float32Array(Bm * Tq).fill(1);
  const km = keyMask === null ? null : (keyMask.data() as Float32Array);
  const md = mask === null ? null : (mask.data() as Float32Array);
  let biased = false;
  let blockedRows = false;
  for (let bi = 0; bi < Bm; bi++) {
    for (let i = 0; i < Tq; i++) {
      const row = bias.subarray((bi * Tq + i) * Tk, (bi * Tq + i + 1) * Tk);
      let open = false;
      for (let j = 0; j < Tk; j++) {
        const blocked = (a.causal && j > i + Tk - Tq) || (km !== null && km[bi * Tk + j] === 0);
        row[j] = blocked ? -Infinity : md === null ? 0 : md[i * Tk + j];
        if (row[j] !== 0) biased = true;
        if (row[j] !== -Infinity) open = true;
      }
      if (!open) {
        row.fill(0);
        keep[bi * Tq + i] = 0;
        blockedRows = true;
      }
    }
  }

  const split = (t: Tensor, T: number, D: number, perm: number[]): string =>
    b.node('Transpose', [b.node('Reshape', [b.use(t), b.ints('shape', [B, T, H, D])])], { perm });
  const qh = split(q, Tq, Dk, [0, 2, 1, 3]);
  const kh = split(k, Tk, Dk, [0, 2, 3, 1]);
  const vh = split(v, Tk, Dv, [0, 2, 1, 3]);
  let s = b.node('Mul', [b.node('MatMul', [qh, kh]), b.floats('attn_scale', [], [scale])]);
  if (biased) s = b.node('Add', [s, b.floats('attn_bias', [Bm, 1, Tq, Tk], bias)]);
  let p = b.node('Softmax', [s], { axis: 3 });
  if (blockedRows) p = b.node('Mul', [p, b.floats('attn_keep', [Bm, 1, Tq, 1], keep)]);
  const y = b.node('Transpose', [b.node('MatMul', [p, vh])], { perm: [0, 2, 1, 3] });
  b.bind(out, b.node('Reshape', [y, b.ints('shape', out.shape)], {}, [outName]));
}

/**
 * Exports `model` as ONNX bytes (a ModelProto), tracing one forward pass on zeros of
 * `inputShape`. A Module is traced in eval mode (batch norm uses its running statistics,
 * dropout is the identity) and put back in the modes it had. Parameters keep their state-dict
 * names as initializer names.
 */
export function exportOnnx(model: OnnxExportable, opts: OnnxExportOptions): Uint8Array {
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function') throw new Error('exportOnnx: model must have a forward(x) method (a Module)');
  const shape = opts?.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`exportOnnx: inputShape must be a non-empty array of positive integers, got ${String(shape)}`);
  }
  const opset = opts.opset ?? MIN_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new Error(`exportOnnx: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${String(opset)}`);
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';

  const m = model as OnnxExportable & {
    namedModules?: () => [string, { training: boolean }][];
    stateDict?: () => Record<string, Tensor>;
  };
  const modes = typeof m.namedModules === 'function' ? m.namedModules().map(([, sub]) => [sub, sub.training] as const) : [];
  for (const [sub] of modes) sub.training = false;
  const paramNames = new Map<Tensor, string>();
  if (typeof m.stateDict === 'function') for (const [k, t] of Object.entries(m.stateDict())) paramNames.set(t, k);

  try {
    return scope(() => {
      const x = full(shape, 0, { requiresGrad: true });
      try {
        const y = enableGrad(() => model.forward(x));
        if (!(y instanceof Tensor)) throw new Error('exportOnnx: the model\'s forward must return one Tensor');
        if (y === x) throw new Error('exportOnnx: the model computes nothing from its input (forward returned it)');
        if (y.node === null) throw new Error('exportOnnx: the output was not computed from the input by recorded ops');
        const nodes = order(y);
        const quant = opts.quantization === undefined ? null : { scales: opts.quantization.scales, next: 0, folds: foldsOf(nodes) };
        const b = new Builder(paramNames, quant);
        b.fresh(inputName);
        b.bind(x, inputName);
        // A folded batch norm is bound when its layer is emitted.
        for (const t of nodes) if (!b.has(t)) emit(b, t, opset);
        if (quant !== null && quant.next !== quant.scales.length) {
          throw new Error(`exportOnnx: quantization has ${quant.scales.length} scales but the model traced ${quant.next} Linear/Conv2d layers (export the float model quantizeModel was given)`);
        }
        // The last node writes the graph output under its own name; Identity renames it.
        b.node('Identity', [b.use(y)], {}, [b.fresh(outputName)]);
        const graph = create(GraphProtoSchema, {
          name: 'simdgrad', node: b.nodes, initializer: b.initializers,
          input: [valueInfo(inputName, shape)], output: [valueInfo(outputName, y.shape)],
        });
        const onnx = create(ModelProtoSchema, {
          irVersion: opset <= 14 ? 7n : 8n, producerName: 'simdgrad', graph,
          opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
        });
        return toBinary(ModelProtoSchema, onnx);
      } finally {
        x.dispose();
      }
    });
  } finally {
    for (const [sub, on] of modes) sub.training = on;
  }
}
