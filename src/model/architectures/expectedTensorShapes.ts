import type { ModelConfig } from '../config/ModelConfig.js';

/** One tensor the architecture reads: its expected shape and whether a checkpoint must have it. */
export interface ExpectedTensor {
  shape: number[];
  required: boolean;
}

/**
 * The shape of every tensor a Llama-family decoder with this config reads (checkpoint names, HF
 * layout [out, in]), so a checkpoint whose header disagrees with its config is refused before any
 * tensor is allocated.
 *
 * @example expectedTensorShapes(config).get('model.embed_tokens.weight'); // { shape: [V, H], required: true }
 */
export function expectedTensorShapes(c: ModelConfig): Map<string, ExpectedTensor> {
  const H = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const m = new Map<string, ExpectedTensor>();
  const need = (name: string, shape: number[]) => m.set(name, { shape, required: true });
  const may = (name: string, shape: number[]) => m.set(name, { shape, required: false });
  need('model.embed_tokens.weight', [c.vocabSize, H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    need(`${p}.input_layernorm.weight`, [H]);
    need(`${p}.post_attention_layernorm.weight`, [H]);
    if (c.sandwichNorms) {
      need(`${p}.pre_feedforward_layernorm.weight`, [H]);
      need(`${p}.post_feedforward_layernorm.weight`, [H]);
    }
    if (c.qkNorm) {
      need(`${p}.self_attn.q_norm.weight`, [c.headDim]);
      need(`${p}.self_attn.k_norm.weight`, [c.headDim]);
    }
    const a = `${p}.self_attn`;
    need(`${a}.q_proj.weight`, [q, H]);
    need(`${a}.k_proj.weight`, [kv, H]);
    need(`${a}.v_proj.weight`, [kv, H]);
    need(`${a}.o_proj.weight`, [H, q]);
    may(`${a}.q_proj.bias`, [q]);
    may(`${a}.k_proj.bias`, [kv]);
    may(`${a}.v_proj.bias`, [kv]);
    may(`${a}.o_proj.bias`, [H]);
    const f = `${p}.mlp`;
    need(`${f}.gate_proj.weight`, [I, H]);
    need(`${f}.up_proj.weight`, [I, H]);
    need(`${f}.down_proj.weight`, [H, I]);
    may(`${f}.gate_proj.bias`, [I]);
    may(`${f}.up_proj.bias`, [I]);
    may(`${f}.down_proj.bias`, [H]);
  }
  need('model.norm.weight', [H]);
  may('lm_head.weight', [c.vocabSize, H]);
  return m;
}
