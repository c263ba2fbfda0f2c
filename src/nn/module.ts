// Module: the base of every layer and model. Parameters, buffers and sub-modules are found
// by walking the module's own properties (in definition order), as PyTorch's __setattr__
// registration does, so a layer only has to assign them.
import { f32, i32 } from '../../bindings/index';
import { Tensor, fmt } from '../core/tensor';

const parameters = new WeakSet<Tensor>();
const buffers = new WeakSet<Tensor>();

/** Marks t as a trainable parameter (requiresGrad) of whichever module holds it. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  parameters.add(t);
  return t;
}

/** Marks t as a non-trainable state tensor that belongs in the state dict (running statistics). */
export function buffer(t: Tensor): Tensor {
  buffers.add(t);
  return t;
}

export abstract class Module {
  training = true;

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Named direct children: sub-modules (also inside arrays), parameters and buffers. */
  private *children(): Generator<[string, Module | Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
      else if (value instanceof Tensor && (parameters.has(value) || buffers.has(value))) yield [key, value];
      else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (v instanceof Module) yield [`${key}.${i}`, v];
          else if (v instanceof Tensor && (parameters.has(v) || buffers.has(v))) yield [`${key}.${i}`, v];
        }
      }
    }
  }

  /** Sub-modules, depth first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, v] of this.children()) if (v instanceof Module) out.push(...v.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this.children()) {
      const name = prefix ? `${prefix}.${k}` : k;
      if (v instanceof Module) out.push(...v.namedParameters(name));
      else if (parameters.has(v)) out.push([name, v]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this.children()) {
      const name = prefix ? `${prefix}.${k}` : k;
      if (v instanceof Module) out.push(...v.namedBuffers(name));
      else if (buffers.has(v)) out.push([name, v]);
    }
    return out;
  }

  /** Number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Training mode (dropout active, batch statistics) for this module and its children. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, v] of this.namedParameters()) out[k] = v;
    for (const [k, v] of this.namedBuffers()) out[k] = v;
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers. Every name and shape is checked
   * before anything is written, so a mismatch never leaves a half-loaded model.
   */
  loadStateDict(state: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>): void {
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = state[k];
      if (s === undefined) problems.push(`missing ${k} ${fmt(t.shape)}`);
      else if (s.shape.join() !== t.shape.join()) problems.push(`${k}: expected ${fmt(t.shape)}, got ${fmt(s.shape)}`);
    }
    for (const k of Object.keys(state)) if (!(k in own)) problems.push(`unexpected ${k}`);
    if (problems.length > 0) throw new Error(`loadStateDict: state does not match the model: ${problems.join('; ')}`);
    for (const [k, t] of Object.entries(own)) {
      const s = state[k];
      const values = s instanceof Tensor ? s.data() : s.data;
      if (t.dtype === 'float32') f32().set(values as ArrayLike<number>, t.ptr >>> 2);
      else i32().set(values as ArrayLike<number>, t.ptr >>> 2);
    }
  }
}
