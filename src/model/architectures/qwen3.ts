import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { LLAMA_TENSORS, qwenSlidingWindow } from './common.js';

/** Qwen3: Qwen2 without the qkv bias, plus RMSNorm on each q and k head and an explicit head_dim. */
export const qwen3: ArchitectureSpec = {
  name: 'qwen3',
  modelTypes: ['qwen3'],
  features: { qkNorm: true },
  tensors: LLAMA_TENSORS,
  normalize: qwenSlidingWindow,
};
