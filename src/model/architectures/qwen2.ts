import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { LLAMA_TENSORS, qwenSlidingWindow } from './common.js';

/** Qwen2 / Qwen2.5: Llama with biases on q, k and v (none on o). */
export const qwen2: ArchitectureSpec = {
  name: 'qwen2',
  modelTypes: ['qwen2'],
  features: { attentionBias: true },
  tensors: LLAMA_TENSORS,
  normalize: qwenSlidingWindow,
};
