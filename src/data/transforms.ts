// Per-example transforms for DataLoader: image augmentation on [C, H, W] examples (random
// shift/crop with padding, Gaussian noise, horizontal flip) and composition. A transform
// changes one example's values in place; its random draws come from a seeded Generator
// (its own if given, else the loader's), so an augmented epoch is reproducible.
import type { Generator } from '../core/random.js';
import { fmt, type Shape } from '../core/tensor.js';
import { assertFiniteNumber, nonNegativeInt, numberIn } from '../core/validate.js';

/** A per-example transform: changes x (shaped `shape`) in place. */
export interface Transform {
  apply(x: Float32Array, shape: Shape, generator: Generator): void;
}

/** A Transform object or a plain function with the same signature. */
export type TransformLike = Transform | ((x: Float32Array, shape: Shape, generator: Generator) => void);

/** @internal Normalises a TransformLike into a function, checking its type. */
export function toTransform(where: string, t: TransformLike): (x: Float32Array, shape: Shape, generator: Generator) => void {
  if (typeof t === 'function') return t as (x: Float32Array, shape: Shape, generator: Generator) => void;
  if (t !== null && typeof t === 'object' && typeof (t as Transform).apply === 'function') {
    return (x, shape, g) => (t as Transform).apply(x, shape, g);
  }
  throw new Error(`${where}: a transform must be a function (x, shape, generator) => void or an object with apply(), got ${t === null ? 'null' : typeof t}`);
}

/** Applies transforms one after the other. */
export function compose(...transforms: TransformLike[]): Transform {
  const fns = transforms.map((t, i) => toTransform(`compose (argument ${i})`, t));
  return { apply: (x, shape, g) => { for (const f of fns) f(x, shape, g); } };
}

function imageDims(op: string, x: Float32Array, shape: Shape): [number, number, number] {
  if (shape.length !== 3 && shape.length !== 2) {
    throw new Error(`${op}: expects image examples [C, H, W] (or [H, W]), got shape ${fmt(shape)}`);
  }
  const [c, h, w] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
  if (x.length !== c * h * w) throw new Error(`${op}: ${x.length} values do not match shape ${fmt(shape)}`);
  return [c, h, w];
}

export interface RandomCropOptions {
  /** Zero padding (or `fill`) added on every side before cropping back to H×W. */
  padding: number;
  /** Value of the padded border (default 0: the background of digits). */
  fill?: number;
  /** Own generator (default: the loader's). */
  generator?: Generator;
}

/**
 * Pads the image by `padding` on every side and crops an H×W window at a random position:
 * a random translation by (dy, dx) ∈ [−padding, padding]², the vacated border filled.
 */
export function randomCrop(opts: RandomCropOptions): Transform {
  const op = 'randomCrop';
  const pad = nonNegativeInt(op, 'padding', opts?.padding);
  const fill = opts.fill ?? 0;
  assertFiniteNumber(op, 'fill', fill);
  let tmp = new Float32Array(0);
  return {
    apply(x, shape, g) {
      const [c, h, w] = imageDims(op, x, shape);
      const gen = opts.generator ?? g;
      // Window origin in the padded image, in [0, 2*pad]; the shift is origin - pad.
      const dy = gen.int(2 * pad + 1) - pad;
      const dx = gen.int(2 * pad + 1) - pad;
      if (dy === 0 && dx === 0) return;
      if (tmp.length < x.length) tmp = new Float32Array(x.length);
      tmp.set(x);
      for (let ch = 0; ch < c; ch++) {
        const base = ch * h * w;
        for (let y = 0; y < h; y++) {
          const sy = y + dy;
          const row = base + y * w;
          if (sy < 0 || sy >= h) {
            x.fill(fill, row, row + w);
            continue;
          }
          const srow = base + sy * w;
          for (let xx = 0; xx < w; xx++) {
            const sx = xx + dx;
            x[row + xx] = sx < 0 || sx >= w ? fill : tmp[srow + sx];
          }
        }
      }
    },
  };
}

/** Random translation by up to `maxShift` pixels in each direction (randomCrop with that padding). */
export function randomShift(maxShift: number, opts: { fill?: number; generator?: Generator } = {}): Transform {
  return randomCrop({ padding: nonNegativeInt('randomShift', 'maxShift', maxShift), ...opts });
}

export interface GaussianNoiseOptions {
  /** Standard deviation of the noise. */
  std: number;
  mean?: number;
  /** Own generator (default: the loader's). */
  generator?: Generator;
}

/** Adds independent N(mean, std²) noise to every value (works on any example shape). */
export function gaussianNoise(opts: GaussianNoiseOptions): Transform {
  const std = opts?.std;
  const mean = opts.mean ?? 0;
  if (typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) throw new Error(`gaussianNoise: std must be a finite number >= 0, got ${String(std)}`);
  assertFiniteNumber('gaussianNoise', 'mean', mean);
  return {
    apply(x, _shape, g) {
      const gen = opts.generator ?? g;
      for (let i = 0; i < x.length; i++) x[i] += mean + std * gen.normal();
    },
  };
}

/**
 * Mirrors the image left-right with probability p (default 0.5). Opt-in: it is wrong for
 * data whose meaning changes under reflection, such as digits and text.
 */
export function randomHorizontalFlip(opts: { p?: number; generator?: Generator } = {}): Transform {
  const p = numberIn('randomHorizontalFlip', 'p', opts.p ?? 0.5, 0, 1);
  return {
    apply(x, shape, g) {
      const [c, h, w] = imageDims('randomHorizontalFlip', x, shape);
      const gen = opts.generator ?? g;
      if (!(gen.uniform() < p)) return;
      for (let r = 0; r < c * h; r++) {
        const o = r * w;
        for (let a = 0, b = w - 1; a < b; a++, b--) {
          const t = x[o + a];
          x[o + a] = x[o + b];
          x[o + b] = t;
        }
      }
    },
  };
}
