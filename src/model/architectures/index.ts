import { UnsupportedModelError } from '../../errors.js';
import type { ModelConfig } from '../config/ModelConfig.js';
import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { gemma3 } from './gemma3.js';
import { llama } from './llama.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';

/** Every supported architecture. Adding one is adding a spec here (see docs/architecture.md). */
export const ARCHITECTURES: readonly ArchitectureSpec[] = [qwen3, qwen2, llama, gemma3];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

export function architectureFor(modelType: string): ArchitectureSpec | undefined {
  return ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
}

/**
 * The spec a normalised config came from (by its `architecture` name).
 *
 * @example specOf(config).tensors.embed; // 'model.embed_tokens'
 */
export function specOf(c: Pick<ModelConfig, 'architecture'>): ArchitectureSpec {
  const spec = ARCHITECTURES.find((a) => a.name === c.architecture);
  if (!spec) throw new UnsupportedModelError(`No architecture spec is named "${c.architecture}" (known: ${ARCHITECTURES.map((a) => a.name).join(', ')}).`);
  return spec;
}

export type { ArchitectureSpec } from './ArchitectureSpec.js';
export type { TensorTable } from './tensorPlan.js';
