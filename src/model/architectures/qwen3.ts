import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { baseConfig } from './common.js';

/** Qwen3: Qwen2 without the qkv bias, plus RMSNorm on each q and k head and an explicit head_dim. */
export const qwen3: ArchitectureSpec = {
  name: 'qwen3',
  modelTypes: ['qwen3'],
  normalize(r) {
    const raw = r.raw;
    const c = baseConfig(r, 'qwen3');
    c.qkNorm = true;
    if (raw.use_sliding_window !== true && !Array.isArray(raw.layer_types)) c.slidingWindow = null;
    if (!c.layerTypes.includes('sliding_attention')) c.slidingWindow = null;
    return c;
  },
};
