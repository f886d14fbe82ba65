import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { LLAMA_TENSORS } from './common.js';

/** Llama 2/3 (llama3 rope scaling) and Mistral (same block; optional sliding window on every layer). */
export const llama: ArchitectureSpec = {
  name: 'llama',
  modelTypes: ['llama', 'mistral'],
  features: {},
  tensors: LLAMA_TENSORS,
  normalize(r, c) {
    if (c.slidingWindow && !Array.isArray(r.raw.layer_types)) c.layerTypes = c.layerTypes.map(() => 'sliding_attention');
  },
};
