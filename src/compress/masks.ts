// Pruning masks as state of a parameter (notes §1.11.2: sparsification sets parameters to 0 and
// keeps them there). A mask is a 0/1 buffer stored on the module that owns the parameter under
// `<param>_mask` (PyTorch's torch.nn.utils.prune uses the same name), so the module walk puts it
// in the state dict, fit() keeps it alive across steps, and save/load carries it.
//
// The masked weight itself holds the zeros: masks are applied to the weights when set and after
// every optimizer step, and to the gradients before it (so momentum and Adam moments do not build
// up on pruned entries). Forward passes therefore run on the ordinary dense weight with no extra
// multiply; the sparse kernels read the same zeros.
//
// Applying masks and counting zeros run in wasm (kernels.ts); selecting the weights to keep
// (topKMask) is host code, since it must also rank scores that are not magnitudes (SNIP, OBD).
import { Tensor, fmt, full, persistent } from '../core/tensor.js';
import { applyMask, sparsityOf } from './kernels.js';
import { parseSafetensors } from '../export/safetensors.js';
import { Module, buffer, getModule, isParameter, type AnyModule, type HookHandle } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';

const SUFFIX = '_mask';

function checkModule(where: string, m: unknown): asserts m is AnyModule {
  if (!(m instanceof Module)) throw new Error(`${where}: expected a Module, got ${m === null ? 'null' : typeof m}`);
}

function paramOf(where: string, module: AnyModule, name: string): Tensor {
  const p = (module as unknown as Record<string, unknown>)[name];
  if (!(p instanceof Tensor) || !isParameter(p)) {
    throw new Error(`${where}: ${module.constructor.name} has no parameter '${name}'`);
  }
  return p;
}

function checkSparsity(where: string, s: number): void {
  if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new Error(`${where}: sparsity must be in [0, 1], got ${String(s)}`);
}

// ---- masks on modules --------------------------------------------------------------------------

/** A masked parameter: where it lives, the parameter and its mask. */
export interface MaskedParam {
  /** Dotted name of the owning module ('' for the root). */
  path: string;
  module: AnyModule;
  /** The parameter's name on its module ('weight'). */
  name: string;
  param: Tensor;
  mask: Tensor;
}

/** The mask of module[paramName], or null when it is not pruned. */
export function getMask(module: AnyModule, paramName: string): Tensor | null {
  const m = (module as unknown as Record<string, unknown>)[paramName + SUFFIX];
  return m instanceof Tensor ? m : null;
}

export interface PruneOptions {
  /**
   * 'intersect' (default): entries already pruned stay pruned (pruning only removes).
   * 'replace': the mask is set as given, so pruned entries can come back (RigL's growth); they
   * come back as zero weights.
   */
  mode?: 'intersect' | 'replace';
}

/**
 * Prunes module[paramName] with a 0/1 mask of the parameter's size (a tensor or numbers): the
 * mask becomes a buffer `<paramName>_mask` of the module and the parameter is zeroed where it is 0.
 * Returns the mask tensor (the module's; change it only through prune()).
 */
export function prune(module: AnyModule, paramName: string, mask: Tensor | ArrayLike<number>, opts: PruneOptions = {}): Tensor {
  checkModule('prune', module);
  const p = paramOf('prune', module, paramName);
  const values = mask instanceof Tensor ? mask.data() : mask;
  if (values.length !== p.size) throw new Error(`prune: mask of ${values.length} values for ${module.constructor.name}.${paramName} ${fmt(p.shape)} (${p.size} values)`);
  const bits = new Float32Array(p.size);
  for (let i = 0; i < bits.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) throw new Error(`prune: mask values must be 0 or 1, got ${v} at ${i}`);
    bits[i] = v;
  }
  let m = getMask(module, paramName);
  if (m === null) {
    m = buffer(persistent(() => full(p.shape, 1)));
    (module as unknown as Record<string, unknown>)[paramName + SUFFIX] = m;
  }
  if ((opts.mode ?? 'intersect') === 'intersect') {
    const old = m.data();
    for (let i = 0; i < bits.length; i++) bits[i] *= old[i];
  }
  m.setData(bits);
  applyMask(p, m);
  return m;
}

/** Drops the mask of module[paramName] (the weights keep their current values, zeros included). */
export function removeMask(module: AnyModule, paramName: string): void {
  const m = getMask(module, paramName);
  if (m === null) return;
  delete (module as unknown as Record<string, unknown>)[paramName + SUFFIX];
  m.dispose();
}

/** Every masked parameter of the tree. */
export function maskedParameters(model: AnyModule): MaskedParam[] {
  checkModule('maskedParameters', model);
  const out: MaskedParam[] = [];
  for (const [path, module] of model.namedModules()) {
    for (const [key, value] of Object.entries(module)) {
      if (!key.endsWith(SUFFIX) || !(value instanceof Tensor)) continue;
      const name = key.slice(0, -SUFFIX.length);
      const param = (module as unknown as Record<string, unknown>)[name];
      if (param instanceof Tensor) out.push({ path, module, name, param, mask: value });
    }
  }
  return out;
}

/** Re-applies every mask to its weight (after anything that wrote the weights: an optimizer step, a load). */
export function applyMasks(model: AnyModule): void {
  for (const { param, mask } of maskedParameters(model)) applyMask(param, mask);
}

/** Zeroes the gradients of pruned entries. */
export function maskGradients(model: AnyModule): void {
  for (const { param, mask } of maskedParameters(model)) if (param.grad !== null) applyMask(param.grad, mask);
}

const hooked = new WeakMap<Optimizer, { model: AnyModule; original: () => void }>();

/**
 * Makes `optimizer.step()` respect the model's masks: gradients are masked before the update
 * and weights after it. Works with fit() and any loop, since it patches this optimizer
 * instance only. Masks added later are picked up (the list is read on every step).
 */
export function maskOptimizer(optimizer: Optimizer, model: AnyModule): HookHandle {
  checkModule('maskOptimizer', model);
  if (hooked.has(optimizer)) throw new Error(`maskOptimizer: this ${optimizer.name} is already masked`);
  const original = optimizer.step;
  hooked.set(optimizer, { model, original });
  optimizer.step = function maskedStep(this: Optimizer): void {
    maskGradients(model);
    original.call(this);
    applyMasks(model);
  };
  return {
    remove(): void {
      if (!hooked.has(optimizer)) return;
      hooked.delete(optimizer);
      optimizer.step = original;
    },
  };
}

// ---- magnitude masks -------------------------------------------------------------------------

/** The parameters pruning considers by default: the weight (not the bias) of every layer with a matrix or filter bank. */
export function prunableParameters(model: AnyModule): { path: string; module: AnyModule; name: string; param: Tensor }[] {
  checkModule('prunableParameters', model);
  const out: { path: string; module: AnyModule; name: string; param: Tensor }[] = [];
  for (const [path, module] of model.namedModules()) {
    const w = (module as unknown as Record<string, unknown>).weight;
    if (w instanceof Tensor && isParameter(w) && w.shape.length >= 2) out.push({ path, module, name: 'weight', param: w });
  }
  return out;
}

/** A 0/1 mask keeping exactly `keep` of the largest scores (ties broken by position). */
export function topKMask(scores: ArrayLike<number>, keep: number): Float32Array {
  const n = scores.length;
  const mask = new Float32Array(n);
  if (keep <= 0) return mask;
  if (keep >= n) return mask.fill(1);
  const sorted = Float64Array.from(scores).sort();
  const thr = sorted[n - keep];
  let kept = 0;
  for (let i = 0; i < n; i++) if (scores[i] > thr) { mask[i] = 1; kept++; }
  for (let i = 0; i < n && kept < keep; i++) if (scores[i] === thr) { mask[i] = 1; kept++; }
  return mask;
}

export interface MagnitudeOptions {
  /** 'layer': each parameter loses the fraction `sparsity`; 'global' (default): one threshold over all of them. */
  scope?: 'layer' | 'global';
  /** Which parameters (default: prunableParameters(model)). */
  params?: { module: AnyModule; name: string; param: Tensor }[];
}

/**
 * Magnitude pruning (Han et al.): prunes the smallest |w| so that a fraction `sparsity` of the
 * selected weights is zero (already-pruned weights count toward it). Returns the masks set.
 */
export function magnitudePrune(model: AnyModule, sparsity: number, opts: MagnitudeOptions = {}): Tensor[] {
  checkSparsity('magnitudePrune', sparsity);
  return scorePrune(model, sparsity, (p) => Float32Array.from(p.data() as Float32Array, Math.abs), opts);
}

/**
 * Prunes by any score (higher = more important), per layer or globally. Entries already pruned
 * get score -Infinity so they stay pruned.
 */
export function scorePrune(
  model: AnyModule, sparsity: number, score: (param: Tensor, module: AnyModule, name: string) => ArrayLike<number>, opts: MagnitudeOptions = {},
): Tensor[] {
  checkSparsity('scorePrune', sparsity);
  const params = opts.params ?? prunableParameters(model);
  const scores = params.map(({ module, name, param }) => {
    const s = Float64Array.from(score(param, module, name));
    const m = getMask(module, name)?.data();
    if (m !== undefined) for (let i = 0; i < s.length; i++) if (m[i] === 0) s[i] = -Infinity;
    return s;
  });
  if ((opts.scope ?? 'global') === 'layer') {
    return params.map(({ module, name, param }, i) => prune(module, name, topKMask(scores[i], param.size - Math.round(sparsity * param.size))));
  }
  const total = scores.reduce((n, s) => n + s.length, 0);
  const flat = new Float64Array(total);
  let o = 0;
  for (const s of scores) { flat.set(s, o); o += s.length; }
  const mask = topKMask(flat, total - Math.round(sparsity * total));
  o = 0;
  return params.map(({ module, name, param }) => {
    const part = mask.subarray(o, o + param.size);
    o += param.size;
    return prune(module, name, part);
  });
}

// ---- statistics ---------------------------------------------------------------------------------

export interface LayerSparsity {
  /** Dotted parameter name ('layers.0.weight'). */
  name: string;
  shape: number[];
  size: number;
  zeros: number;
  sparsity: number;
  masked: boolean;
}

/** Per-layer sparsity of the prunable weights, and the total over them. */
export function sparsityStats(model: AnyModule): { layers: LayerSparsity[]; size: number; zeros: number; sparsity: number } {
  const layers = prunableParameters(model).map(({ path, module, name, param }) => {
    const s = sparsityOf(param);
    const zeros = Math.round(s * param.size);
    return { name: path ? `${path}.${name}` : name, shape: param.shape.slice(), size: param.size, zeros, sparsity: s, masked: getMask(module, name) !== null };
  });
  const size = layers.reduce((n, l) => n + l.size, 0);
  const zeros = layers.reduce((n, l) => n + l.zeros, 0);
  return { layers, size, zeros, sparsity: size === 0 ? 0 : zeros / size };
}

// ---- save / load -------------------------------------------------------------------------------

/**
 * Creates (all-ones) masks on `model` for every `<param>_mask` entry of a state dict, so that a
 * fresh model accepts a pruned model's weights: `restoreMasks(model, names); loadStateDict(...)`.
 */
export function restoreMasks(model: AnyModule, names: Iterable<string>): void {
  checkModule('restoreMasks', model);
  for (const key of names) {
    if (!key.endsWith(SUFFIX)) continue;
    const dot = key.lastIndexOf('.');
    const owner = dot < 0 ? model : getModule(model, key.slice(0, dot));
    const name = key.slice(dot + 1, -SUFFIX.length);
    const p = paramOf('restoreMasks', owner, name);
    if (getMask(owner, name) === null) prune(owner, name, new Float32Array(p.size).fill(1));
  }
}

/**
 * Loads a pruned model's safetensors (saveModel's bytes) into a model of the same
 * architecture: creates the masks the file has, then loads, with loadModel's checks of every
 * name and shape. Returns the file's metadata.
 */
export function loadPrunedModel(model: AnyModule, bytes: Uint8Array): Record<string, string> {
  const { tensors, metadata } = parseSafetensors(bytes);
  restoreMasks(model, Object.keys(tensors));
  model.loadStateDict(tensors);
  applyMasks(model);
  return metadata;
}
