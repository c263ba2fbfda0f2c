// Knowledge distillation (notes §1.11.1.1): a small student learns the input-output mapping of a
// large teacher. Following Hinton et al., the teacher's logits are softened by a temperature T
// so that the student also sees how the teacher ranks the wrong classes, and the labels are
// kept as a second term.
import { Tensor, fmt, tensor } from '../core/tensor.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/loss.js';
import { mean, sum } from '../ops/reduce.js';
import { logSoftmax, softmax } from '../ops/softmax.js';

export interface DistillationOptions {
  /** Softening temperature T (default 4). */
  temperature?: number;
  /** Weight α of the teacher term; the labels get 1 − α (default 0.9). */
  alpha?: number;
}

/**
 * α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, labels), averaged over the batch.
 * The T² keeps the soft term's gradients on the scale of the hard one's as T changes (the
 * soft gradients shrink as 1/T²). The teacher's logits are treated as constants.
 */
export function distillationLoss(student: Tensor, teacher: Tensor, labels: Tensor, opts: DistillationOptions = {}): Tensor {
  const T = opts.temperature ?? 4;
  const alpha = opts.alpha ?? 0.9;
  if (!(T > 0) || !Number.isFinite(T)) throw new Error(`distillationLoss: temperature must be a finite number > 0, got ${String(T)}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`distillationLoss: alpha must be in [0, 1], got ${String(alpha)}`);
  if (student.shape.length !== 2 || student.shape.join() !== teacher.shape.join()) {
    throw new Error(`distillationLoss: student ${fmt(student.shape)} and teacher ${fmt(teacher.shape)} logits must both be [N, classes]`);
  }
  // A constant copy when the teacher's logits carry a graph. noGrad is not used here: at top
  // level it would end the step and free the caller's batch.
  const fixed = teacher.requiresGrad || teacher.node !== null ? tensor(teacher.data(), teacher.shape.slice()) : teacher;
  const t = mul(fixed, 1 / T);
  const p = softmax(t, 1);
  const logP = logSoftmax(t, 1);
  const logQ = logSoftmax(mul(student, 1 / T), 1);
  const kl = mean(sum(mul(p, sub(logP, logQ)), 1));
  const soft = mul(kl, alpha * T * T);
  if (alpha === 1) return soft;
  return add(soft, mul(crossEntropy(student, labels), 1 - alpha));
}
