import type { LayerType } from '../config/ModelConfig.js';
import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { baseConfig, perLayerTypeRope } from './common.js';

/**
 * Gemma 3 text: (1 + w) RMSNorms, embeddings scaled by sqrt(hidden), norms before and after both
 * attention and MLP, q/k norm, gelu-tanh, query_pre_attn_scalar, sliding-window layers with their
 * own rope base.
 */
export const gemma3: ArchitectureSpec = {
  name: 'gemma3',
  modelTypes: ['gemma3_text'],
  normalize(r) {
    const raw = r.raw;
    const c = baseConfig(r, 'gemma3');
    c.qkNorm = true;
    c.normWeightOffset = 1;
    c.embeddingScale = Math.sqrt(c.hiddenSize);
    c.sandwichNorms = true;
    c.tieWordEmbeddings = raw.tie_word_embeddings === undefined ? true : Boolean(raw.tie_word_embeddings);
    c.hiddenAct = 'gelu_tanh';
    c.attentionScale = r.num('query_pre_attn_scalar', { min: 0, minExclusive: true }, c.headDim) ** -0.5;
    if (!Array.isArray(raw.layer_types)) {
      const pattern = r.int('sliding_window_pattern', {}, r.int('_sliding_window_pattern', {}, 6));
      c.layerTypes = c.layerTypes.map((_, i): LayerType => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'));
    }
    c.rope = perLayerTypeRope(r, { full: r.num('rope_theta', { min: 0, minExclusive: true }, 1_000_000), sliding: r.num('rope_local_base_freq', { min: 0, minExclusive: true }, 10_000) });
    return c;
  },
};
