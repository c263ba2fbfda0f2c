// Transformer layers (notes §1.12.3): attention, then a two-layer MLP, each with a residual
// connection and a layer norm, in either placement of the notes:
//   post-LN: Z = LayerNorm[Y(X) + X],   X̃ = LayerNorm[MLP(Z) + Z]
//   pre-LN:  Z = Y(LayerNorm[X]) + X,   X̃ = MLP(LayerNorm[Z]) + Z
// The decoder layer has a cross-attention block between the two (queries from the decoder,
// keys and values from the encoder's output). Dropout follows each block, before its residual.
import { gelu } from '../../ops/attention.js';
import { dropout } from '../../ops/dropout.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../core/tensor.js';
import { checkOptions, numberIn, oneOf, positiveInt } from '../../core/validate.js';
import { Module } from '../module.js';
import { MultiheadAttention, type KVCache } from './attention.js';
import { Linear } from './linear.js';
import { LayerNorm } from './norm.js';

export interface TransformerLayerOptions {
  /** Hidden units of the MLP (default 4·dModel). */
  ffDim?: number;
  /** Dropout after attention and MLP blocks, while training (default 0.1). */
  dropout?: number;
  /** The MLP's activation (default 'relu'; the ReLU is fused into its first GEMM). */
  activation?: 'relu' | 'gelu';
  /** Layer-norm placement (default 'post', the original transformer's). */
  norm?: 'post' | 'pre';
}

interface Resolved {
  ffDim: number;
  dropout: number;
  activation: 'relu' | 'gelu';
  norm: 'post' | 'pre';
}

function resolve(where: string, dModel: number, heads: number, opts: TransformerLayerOptions): Resolved {
  positiveInt(where, 'dModel', dModel);
  positiveInt(where, 'heads', heads);
  const o = checkOptions(where, opts, ['ffDim', 'dropout', 'activation', 'norm']);
  const ffDim = o.ffDim ?? 4 * dModel;
  positiveInt(where, 'ffDim', ffDim);
  const p = o.dropout ?? 0.1;
  numberIn(where, 'dropout', p, 0, 1, { hiOpen: true });
  return { ffDim, dropout: p, activation: oneOf(where, 'activation', o.activation ?? 'relu', ['relu', 'gelu']), norm: oneOf(where, 'norm', o.norm ?? 'post', ['post', 'pre']) };
}

/** The position-wise two-layer MLP. */
class FeedForward {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dModel: number, ffDim: number, readonly activation: 'relu' | 'gelu') {
    this.fc1 = new Linear(dModel, ffDim);
    this.fc2 = new Linear(ffDim, dModel);
  }

  run(x: Tensor): Tensor {
    const h = this.activation === 'relu' ? this.fc1.forwardRelu(x) : gelu(this.fc1.forward(x));
    return this.fc2.forward(h);
  }
}

/** x + block(x) with the layer norm before the block (pre-LN) or after the sum (post-LN). */
function residual(layer: { training: boolean; p: number; placement: 'post' | 'pre' }, norm: LayerNorm, x: Tensor, block: (h: Tensor) => Tensor): Tensor {
  const drop = (t: Tensor): Tensor => dropout(t, layer.p, layer.training);
  if (layer.placement === 'pre') return add(x, drop(block(norm.forward(x))));
  return norm.forward(add(x, drop(block(x))));
}

export interface EncoderCallOptions {
  /** [B, T]: 0 marks padding. */
  keyMask?: Tensor | null;
  /** Causal self-attention (a decoder-only model is a stack of these). */
  causal?: boolean;
  /** KV cache for generation (decoder-only use). */
  cache?: KVCache | null;
}

/** Self-attention + MLP (notes §1.12.3), on [B, T, dModel]. */
export class TransformerEncoderLayer extends Module<[x: Tensor, opts?: EncoderCallOptions], Tensor> {
  readonly selfAttn: MultiheadAttention;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly p: number;
  readonly placement: 'post' | 'pre';
  private readonly ff: FeedForward;

  constructor(readonly dModel: number, readonly heads: number, opts: TransformerLayerOptions = {}) {
    super();
    const r = resolve('TransformerEncoderLayer', dModel, heads, opts);
    this.selfAttn = new MultiheadAttention(dModel, heads);
    this.ff = new FeedForward(dModel, r.ffDim, r.activation);
    this.fc1 = this.ff.fc1;
    this.fc2 = this.ff.fc2;
    this.norm1 = new LayerNorm([dModel]);
    this.norm2 = new LayerNorm([dModel]);
    this.p = r.dropout;
    this.placement = r.norm;
  }

  forward(x: Tensor, opts: EncoderCallOptions = {}): Tensor {
    const z = residual(this, this.norm1, x, (h) => this.selfAttn.forward(h, null, { causal: opts.causal ?? false, keyMask: opts.keyMask ?? null, cache: opts.cache ?? null }));
    return residual(this, this.norm2, z, (h) => this.ff.run(h));
  }
}

export interface DecoderCallOptions {
  /** [B, T_memory]: 0 marks padding in the encoder's output. */
  memoryKeyMask?: Tensor | null;
  /** [B, T]: 0 marks padding among the decoder's own positions. */
  keyMask?: Tensor | null;
  /** KV cache: self-attention grows, cross-attention's keys and values are made once. */
  cache?: KVCache | null;
}

/** Causal self-attention + cross-attention over the encoder's output + MLP, on [B, T, dModel]. */
export class TransformerDecoderLayer extends Module<[x: Tensor, memory: Tensor, opts?: DecoderCallOptions], Tensor> {
  readonly selfAttn: MultiheadAttention;
  readonly crossAttn: MultiheadAttention;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly p: number;
  readonly placement: 'post' | 'pre';
  private readonly ff: FeedForward;

  constructor(readonly dModel: number, readonly heads: number, opts: TransformerLayerOptions = {}) {
    super();
    const r = resolve('TransformerDecoderLayer', dModel, heads, opts);
    this.selfAttn = new MultiheadAttention(dModel, heads);
    this.crossAttn = new MultiheadAttention(dModel, heads);
    this.ff = new FeedForward(dModel, r.ffDim, r.activation);
    this.fc1 = this.ff.fc1;
    this.fc2 = this.ff.fc2;
    this.norm1 = new LayerNorm([dModel]);
    this.norm2 = new LayerNorm([dModel]);
    this.norm3 = new LayerNorm([dModel]);
    this.p = r.dropout;
    this.placement = r.norm;
  }

  forward(x: Tensor, memory: Tensor, opts: DecoderCallOptions = {}): Tensor {
    const cache = opts.cache ?? null;
    const z1 = residual(this, this.norm1, x, (h) => this.selfAttn.forward(h, null, { causal: true, keyMask: opts.keyMask ?? null, cache }));
    const z2 = residual(this, this.norm2, z1, (h) => this.crossAttn.forward(h, memory, { keyMask: opts.memoryKeyMask ?? null, cache, static: true }));
    return residual(this, this.norm3, z2, (h) => this.ff.run(h));
  }
}

export interface StackOptions extends TransformerLayerOptions {
  /** Layers (default 1). */
  numLayers?: number;
}

function stackLayers<L>(where: string, opts: StackOptions, make: (o: TransformerLayerOptions) => L): { layers: L[]; pre: boolean; rest: TransformerLayerOptions } {
  const { numLayers = 1, ...rest } = opts;
  positiveInt(where, 'numLayers', numLayers);
  return { layers: Array.from({ length: numLayers }, () => make(rest)), pre: rest.norm === 'pre', rest };
}

/** A stack of encoder layers; with pre-LN a final LayerNorm closes it (the residual stream is never normalised otherwise). */
export class TransformerEncoder extends Module<[x: Tensor, opts?: EncoderCallOptions], Tensor> {
  readonly layers: TransformerEncoderLayer[];
  readonly norm: LayerNorm | null;

  constructor(readonly dModel: number, readonly heads: number, opts: StackOptions = {}) {
    super();
    const s = stackLayers('TransformerEncoder', opts, (o) => new TransformerEncoderLayer(dModel, heads, o));
    this.layers = s.layers;
    this.norm = s.pre ? new LayerNorm([dModel]) : null;
  }

  forward(x: Tensor, opts: EncoderCallOptions = {}): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h, opts);
    return this.norm === null ? h : this.norm.forward(h);
  }
}

/** A stack of decoder layers (final LayerNorm with pre-LN, as TransformerEncoder). */
export class TransformerDecoder extends Module<[x: Tensor, memory: Tensor, opts?: DecoderCallOptions], Tensor> {
  readonly layers: TransformerDecoderLayer[];
  readonly norm: LayerNorm | null;

  constructor(readonly dModel: number, readonly heads: number, opts: StackOptions = {}) {
    super();
    const s = stackLayers('TransformerDecoder', opts, (o) => new TransformerDecoderLayer(dModel, heads, o));
    this.layers = s.layers;
    this.norm = s.pre ? new LayerNorm([dModel]) : null;
  }

  forward(x: Tensor, memory: Tensor, opts: DecoderCallOptions = {}): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h, memory, opts);
    return this.norm === null ? h : this.norm.forward(h);
  }
}

/** GELU as a layer (tanh form, see the gelu op). */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}
