import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { baseConfig } from './common.js';

/** Qwen2 / Qwen2.5: Llama with biases on q, k and v (none on o). */
export const qwen2: ArchitectureSpec = {
  name: 'qwen2',
  modelTypes: ['qwen2'],
  normalize(r) {
    const raw = r.raw;
    const c = baseConfig(r, 'qwen2');
    c.attentionBias = true;
    c.outputBias = false;
    if (raw.use_sliding_window !== true && !Array.isArray(raw.layer_types)) c.slidingWindow = null;
    if (!c.layerTypes.includes('sliding_attention')) c.slidingWindow = null;
    return c;
  },
};
