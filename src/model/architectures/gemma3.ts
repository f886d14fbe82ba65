import type { LayerType } from '../config/ModelConfig.js';
import type { ArchitectureSpec } from './ArchitectureSpec.js';
import { LLAMA_TENSORS, perLayerTypeRope } from './common.js';

const POSITIVE = { min: 0, minExclusive: true } as const;

/**
 * Gemma 3 text: (1 + w) RMSNorms, embeddings scaled by sqrt(hidden), norms before and after both
 * attention and MLP, q/k norm, gelu-tanh, query_pre_attn_scalar, sliding-window layers with their
 * own rope base.
 */
export const gemma3: ArchitectureSpec = {
  name: 'gemma3',
  modelTypes: ['gemma3_text'],
  features: { qkNorm: true, sandwichNorms: true, normWeightOffset: 1, hiddenAct: 'gelu_tanh' },
  tensors: {
    ...LLAMA_TENSORS,
    block: {
      ...LLAMA_TENSORS.block,
      // Gemma's post_attention_layernorm is on the attention output; the MLP has its own pre-norm.
      attnOutNorm: 'model.layers.{l}.post_attention_layernorm',
      mlpNorm: 'model.layers.{l}.pre_feedforward_layernorm',
      mlpOutNorm: 'model.layers.{l}.post_feedforward_layernorm',
    },
  },
  normalize(r, c) {
    const raw = r.raw;
    c.embeddingScale = Math.sqrt(c.hiddenSize);
    c.tieWordEmbeddings = raw.tie_word_embeddings === undefined ? true : Boolean(raw.tie_word_embeddings);
    c.attentionScale = r.num('query_pre_attn_scalar', POSITIVE, c.headDim) ** -0.5;
    if (!Array.isArray(raw.layer_types)) {
      const pattern = r.int('sliding_window_pattern', {}, r.int('_sliding_window_pattern', {}, 6));
      c.layerTypes = c.layerTypes.map((_, i): LayerType => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'));
    }
    c.rope = perLayerTypeRope(r, { full: r.num('rope_theta', POSITIVE, 1_000_000), sliding: r.num('rope_local_base_freq', POSITIVE, 10_000) });
  },
};
