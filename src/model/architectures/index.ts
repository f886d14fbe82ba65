import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { gemma3 } from './gemma3.js';
import { llama } from './llama.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';

/** Every supported architecture. Adding one is adding a spec here. */
export const ARCHITECTURES: readonly ArchitectureSpec[] = [qwen3, qwen2, llama, gemma3];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

export function architectureFor(modelType: string): ArchitectureSpec | undefined {
  return ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
}

export type { ArchitectureSpec } from './ArchitectureSpec.js';
