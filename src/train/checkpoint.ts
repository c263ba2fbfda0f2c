// Saving and loading a model's weights as safetensors bytes (readable by PyTorch's
// safetensors too). Loading checks every name, shape and dtype before writing anything.
import { parseSafetensors, saveSafetensors } from '../export/safetensors.js';
import { Module, type AnyModule } from '../nn/module.js';
import { fmt } from '../core/tensor.js';

/** The model's parameters and buffers (stateDict) as safetensors bytes. */
export function saveModel(model: AnyModule, metadata: Record<string, string> = {}): Uint8Array {
  if (!(model instanceof Module)) throw new Error('saveModel: expected a Module');
  return saveSafetensors(model.stateDict(), metadata);
}

/**
 * Loads safetensors bytes into the model. The file must hold exactly the model's tensors
 * with the same shapes and dtypes, otherwise it throws and the model is unchanged.
 * Returns the file's metadata.
 */
export function loadModel(model: AnyModule, bytes: Uint8Array): Record<string, string> {
  if (!(model instanceof Module)) throw new Error('loadModel: expected a Module');
  const { tensors, metadata } = parseSafetensors(bytes);
  const own = model.stateDict();
  const problems: string[] = [];
  for (const [k, t] of Object.entries(own)) {
    const s = tensors[k];
    if (s !== undefined && s.dtype !== t.dtype) problems.push(`${k}: expected ${t.dtype} ${fmt(t.shape)}, got ${s.dtype}`);
  }
  if (problems.length > 0) throw new Error(`loadModel: the file does not match the model: ${problems.join('; ')}`);
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new Error(`loadModel: the file does not match the model: ${(e as Error).message.replace(/^loadStateDict: state does not match the model: /, '')}`);
  }
  return metadata;
}
