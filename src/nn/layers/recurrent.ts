// Recurrent layers: nn.RNN (Elman), nn.LSTM and nn.GRU, batch-first, stacked, optionally
// bidirectional, with variable-length batches. Each layer and direction is one call of the
// sequence op (src/ops/recurrent.ts), whose packed output is sliced here into the outputs of
// every step and the final state.
import { markTransient } from '../../core/autograd.js';
import { fmt, tensor, type Tensor } from '../../core/tensor.js';
import { assertBoolean, assertFloat, assertTensor, checkOptions, oneOf, positiveInt } from '../../core/validate.js';
import { gru, lstm, rnn } from '../../ops/recurrent.js';
import { concat, reshape, slice } from '../../ops/shape.js';
import { xavierUniform } from '../init.js';
import { Module, parameter } from '../module.js';

type Kind = 'rnn' | 'lstm' | 'gru';

const GATES: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };
const LAYER: Record<Kind, string> = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

export interface RecurrentLayerOptions {
  /** Stacked layers: each one reads the outputs of every step of the one below (default 1). */
  numLayers?: number;
  /** A second direction per layer that reads the sequence backwards; outputs are concatenated (default false). */
  bidirectional?: boolean;
  /** Learn bias_ih and bias_hh (default true). */
  bias?: boolean;
}

export interface RNNLayerOptions extends RecurrentLayerOptions {
  /** g of the Elman update: 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** What a recurrent layer's forward takes besides x [N, T, inputSize]. */
export interface RecurrentState {
  /** Initial hidden state [numLayers·directions, N, H] (default 0), as PyTorch's h_0. */
  h0?: Tensor | null;
  /** Initial cell state [numLayers·directions, N, H] (LSTM only; default 0). */
  c0?: Tensor | null;
  /**
   * Length of each sequence (numbers or an int32 tensor [N], each in 0..T): steps at and
   * after a sequence's length are padding. They change neither the state nor any gradient and
   * their outputs are 0; the reverse direction starts at each sequence's last real step.
   */
  lengths?: readonly number[] | Tensor | null;
  /** Or a padding mask [N, T] of 0 (padding) and 1 (real step), for padding anywhere. */
  mask?: Tensor | null;
}

export interface RecurrentResult {
  /** The top layer's output at every step [N, T, directions·H] (0 at padded steps). */
  output: Tensor;
  /**
   * The top layer's final state per sequence [N, directions·H]: for the forward direction
   * its output at the sequence's last real step, for the reverse one its state after reading
   * the whole sequence backwards.
   */
  last: Tensor;
  /** Final hidden state of every layer and direction [numLayers·directions, N, H] (PyTorch's h_n). */
  h: Tensor;
  /** Final cell state, like h (LSTM; null otherwise). */
  c: Tensor | null;
}

/** The weights of one layer and direction, in PyTorch's layout and gate order. */
export interface RecurrentWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

/**
 * The common part of RNN, LSTM and GRU. Parameters are own properties named as in PyTorch's
 * state dict, so that `loadStateDict(torchStateDict)` needs no renaming: for layer k,
 * `weight_ih_l{k}` [G·H, inputSize of layer k], `weight_hh_l{k}` [G·H, H], `bias_ih_l{k}` and
 * `bias_hh_l{k}` [G·H], and the same with the suffix `_reverse` for the reverse direction.
 */
abstract class RecurrentBase extends Module<[Tensor, RecurrentState?], RecurrentResult> {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly bias: boolean;

  constructor(private readonly kind: Kind, readonly inputSize: number, readonly hiddenSize: number, opts: RNNLayerOptions,
    private readonly relu = false) {
    super();
    const name = LAYER[kind];
    positiveInt(name, 'inputSize', inputSize);
    positiveInt(name, 'hiddenSize', hiddenSize);
    this.numLayers = positiveInt(name, 'numLayers', opts.numLayers ?? 1);
    const bidirectional = opts.bidirectional ?? false;
    assertBoolean(name, 'bidirectional', bidirectional);
    this.bidirectional = bidirectional;
    const bias = opts.bias ?? true;
    assertBoolean(name, 'bias', bias);
    this.bias = bias;
    const G = GATES[kind];
    const H = hiddenSize;
    const self = this as unknown as Record<string, Tensor>;
    // PyTorch's initialisation: every weight and bias U(-1/√H, 1/√H).
    for (let l = 0; l < this.numLayers; l++) {
      const inF = l === 0 ? inputSize : H * this.directions;
      for (let d = 0; d < this.directions; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        self[`weight_ih${sfx}`] = parameter(xavierUniform([G * H, inF], H));
        self[`weight_hh${sfx}`] = parameter(xavierUniform([G * H, H], H));
        if (bias) {
          self[`bias_ih${sfx}`] = parameter(xavierUniform([G * H], H));
          self[`bias_hh${sfx}`] = parameter(xavierUniform([G * H], H));
        }
      }
    }
  }

  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The parameters of layer `layer` and direction `direction` (1: reverse). */
  weights(layer: number, direction = 0): RecurrentWeights {
    const self = this as unknown as Record<string, Tensor | undefined>;
    const sfx = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
    const wIh = self[`weight_ih${sfx}`];
    if (wIh === undefined) throw new Error(`${LAYER[this.kind]}: no layer ${layer} direction ${direction}`);
    return { wIh, wHh: self[`weight_hh${sfx}`]!, bIh: self[`bias_ih${sfx}`] ?? null, bHh: self[`bias_hh${sfx}`] ?? null };
  }

  forward(x: Tensor, state: RecurrentState = {}): RecurrentResult {
    const name = LAYER[this.kind];
    const s = checkOptions(name, state, ['h0', 'c0', 'lengths', 'mask']);
    assertTensor(name, x, 'x');
    assertFloat(name, x);
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`${name}: x must be [N, T, ${this.inputSize}] (batch first), got ${fmt(x.shape)}`);
    }
    const [N, T] = x.shape;
    const H = this.hiddenSize;
    const S = this.numLayers * this.directions;
    const checkState = (t: Tensor | null | undefined, what: string): Tensor | null => {
      if (t === null || t === undefined) return null;
      assertTensor(name, t, what);
      if (t.ndim !== 3 || t.shape[0] !== S || t.shape[1] !== N || t.shape[2] !== H) {
        throw new Error(`${name}: ${what} must be [${S}, ${N}, ${H}] (numLayers·directions, N, H), got ${fmt(t.shape)}`);
      }
      return t;
    };
    const h0 = checkState(s.h0, 'h0');
    if (this.kind !== 'lstm' && s.c0 !== null && s.c0 !== undefined) throw new Error(`${name}: c0 is for LSTM only`);
    const c0 = checkState(s.c0, 'c0');
    const { mask, owned } = this.maskOf(name, s, N, T, x);

    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let input = x;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.directions; d++) {
        const k = l * this.directions + d;
        const pick = (t: Tensor | null): Tensor | null => (t === null ? null : reshape(slice(t, [k, 0, 0], [1, N, H]), [N, H]));
        const { wIh, wHh, bIh, bHh } = this.weights(l, d);
        const opts = { reverse: d === 1 };
        const packed = this.kind === 'lstm'
          ? lstm(input, wIh, wHh, bIh, bHh, pick(h0), pick(c0), mask, opts)
          : this.kind === 'gru'
            ? gru(input, wIh, wHh, bIh, bHh, pick(h0), mask, opts)
            : rnn(input, wIh, wHh, bIh, bHh, pick(h0), mask, { ...opts, nonlinearity: this.relu ? 'relu' : 'tanh' });
        outs.push(slice(packed, [0, 0, 0], [N, T, H]));
        hs.push(reshape(slice(packed, [0, T, 0], [N, 1, H]), [1, N, H]));
        if (this.kind === 'lstm') cs.push(reshape(slice(packed, [0, T + 1, 0], [N, 1, H]), [1, N, H]));
      }
      input = outs.length === 1 ? outs[0] : concat(outs, 2);
    }
    const top = hs.slice(S - this.directions).map((t) => reshape(t, [N, H]));
    const result: RecurrentResult = {
      output: input,
      last: top.length === 1 ? top[0] : concat(top, 1),
      h: hs.length === 1 ? hs[0] : concat(hs, 0),
      c: cs.length === 0 ? null : cs.length === 1 ? cs[0] : concat(cs, 0),
    };
    // A mask made here belongs to the graph that reads it in its backward, or to no one.
    if (owned) {
      if (result.output.requiresGrad) markTransient(mask!);
      else mask!.dispose();
    }
    return result;
  }

  private maskOf(name: string, s: RecurrentState, N: number, T: number, x: Tensor): { mask: Tensor | null; owned: boolean } {
    const hasMask = s.mask !== null && s.mask !== undefined;
    const hasLengths = s.lengths !== null && s.lengths !== undefined;
    if (hasMask && hasLengths) throw new Error(`${name}: pass lengths or mask, not both`);
    if (hasMask) {
      assertTensor(name, s.mask, 'mask');
      if (s.mask!.ndim !== 2 || s.mask!.shape[0] !== N || s.mask!.shape[1] !== T) {
        throw new Error(`${name}: mask must be [${N}, ${T}] for x ${fmt(x.shape)}, got ${fmt(s.mask!.shape)}`);
      }
      return { mask: s.mask!, owned: false };
    }
    if (!hasLengths) return { mask: null, owned: false };
    let lengths: ArrayLike<number>;
    if (Array.isArray(s.lengths)) {
      lengths = s.lengths as readonly number[];
    } else {
      const t = s.lengths as Tensor;
      assertTensor(name, t, 'lengths');
      if (t.dtype !== 'int32' || t.ndim !== 1) throw new Error(`${name}: lengths must be numbers or an int32 tensor [N], got ${t.dtype} ${fmt(t.shape)}`);
      lengths = t.data();
    }
    if (lengths.length !== N) throw new Error(`${name}: ${lengths.length} lengths for a batch of ${N} (x ${fmt(x.shape)})`);
    const values = new Float32Array(N * T);
    for (let n = 0; n < N; n++) {
      const len = lengths[n];
      if (!Number.isInteger(len) || len < 0 || len > T) {
        throw new Error(`${name}: lengths[${n}] = ${len} is out of range for x ${fmt(x.shape)} (0..${T})`);
      }
      values.fill(1, n * T, n * T + len);
    }
    return { mask: tensor(values, [N, T]), owned: true };
  }
}

/**
 * Elman RNN (notes §1.6.1): a_t = g(W_ih x_t + b_ih + W_hh a_{t-1} + b_hh), a_0 = h0 or 0, g =
 * tanh or relu. Batch-first x [N, T, inputSize]; `forward(x, { h0, lengths | mask })` returns
 * { output, last, h }. Weights as in PyTorch's nn.RNN: `weight_ih_l{k}` [H, in],
 * `weight_hh_l{k}` [H, H], `bias_ih_l{k}`, `bias_hh_l{k}` [H], `_reverse` for the second
 * direction — a PyTorch state dict loads by the same names.
 */
export class RNN extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNLayerOptions = {}) {
    checkOptions('RNN', opts, ['numLayers', 'bidirectional', 'bias', 'nonlinearity']);
    super('rnn', inputSize, hiddenSize, opts, oneOf('RNN', 'nonlinearity', opts.nonlinearity ?? 'tanh', ['tanh', 'relu']) === 'relu');
  }
}

/**
 * LSTM (notes §1.6.2.1): gates f, i, o and the candidate C̃ on [h_{t−1}, x_t], C_t = f·C_{t−1} +
 * i·C̃, h_t = o·tanh(C_t). Batch-first x [N, T, inputSize]; `forward(x, { h0, c0, lengths | mask })`
 * returns { output, last, h, c }.
 *
 * PyTorch name map (identity): `weight_ih_l{k}` [4H, in] and `weight_hh_l{k}` [4H, H] hold the
 * gates' rows in PyTorch's order i, f, g (= C̃), o — W_i, W_f, W_C, W_o of the notes, each
 * split into its x part (weight_ih) and its h part (weight_hh); `bias_ih_l{k}` + `bias_hh_l{k}`
 * [4H] sum to b_i, b_f, b_C, b_o; `_reverse` marks the second direction. So
 * `lstm.loadStateDict(torchLstm.state_dict())` (as tensors or { shape, data }) loads as is.
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions = {}) {
    checkOptions('LSTM', opts, ['numLayers', 'bidirectional', 'bias']);
    super('lstm', inputSize, hiddenSize, opts);
  }
}

/**
 * GRU in PyTorch's formulation: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz +
 * W_hz h + b_hz), n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
 * Batch-first x [N, T, inputSize]; `forward(x, { h0, lengths | mask })` returns { output, last, h }.
 * PyTorch name map (identity): `weight_ih_l{k}` [3H, in], `weight_hh_l{k}` [3H, H],
 * `bias_ih_l{k}`, `bias_hh_l{k}` [3H], rows in PyTorch's order r, z, n; `_reverse` suffix.
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions = {}) {
    checkOptions('GRU', opts, ['numLayers', 'bidirectional', 'bias']);
    super('gru', inputSize, hiddenSize, opts);
  }
}
