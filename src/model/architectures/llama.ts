import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { baseConfig } from './common.js';

/** Llama 2/3 (llama3 rope scaling) and Mistral (same block; optional sliding window on every layer). */
export const llama: ArchitectureSpec = {
  name: 'llama',
  modelTypes: ['llama', 'mistral'],
  normalize(r) {
    const raw = r.raw;
    const c = baseConfig(r, 'llama');
    if (c.slidingWindow && !Array.isArray(raw.layer_types)) c.layerTypes = c.layerTypes.map(() => 'sliding_attention');
    return c;
  },
};
