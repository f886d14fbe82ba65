import type { ModelConfig } from '../config/ModelConfig.js';
import { specOf } from './index.js';
import { tensorPlan } from './tensorPlan.js';

/** One tensor the architecture reads: its expected shape and whether a checkpoint must have it. */
export interface ExpectedTensor {
  shape: number[];
  required: boolean;
}

/**
 * The shape of every checkpoint tensor a decoder with this config reads (its architecture's names,
 * HF layout [out, in]), from the same plan the converter follows, so a checkpoint whose header
 * disagrees with its config is refused before any tensor is allocated. Biases and the output
 * layer are optional.
 *
 * @example expectedTensorShapes(config).get('model.embed_tokens.weight'); // { shape: [V, H], required: true }
 */
export function expectedTensorShapes(c: ModelConfig): Map<string, ExpectedTensor> {
  const m = new Map<string, ExpectedTensor>();
  for (const t of tensorPlan(c, specOf(c).tensors)) {
    for (const p of t.parts) m.set(p.name, { shape: p.shape, required: t.required });
    for (const b of t.biases) m.set(b.name, { shape: b.shape, required: false });
  }
  return m;
}
