import { ModelFileError } from '../../errors.js';
import { CONFIG_LIMITS, type ConfigReader } from '../config/ConfigReader.js';
import { describeValue } from '../config/describeValue.js';
import type { LayerType, ModelConfig, RopeParams } from '../config/ModelConfig.js';
import { isPerLayerTypeRope, readRopeParams } from '../config/readRope.js';
import type { ArchitectureSpec, RawConfig } from './ArchitectureSpec.js';
import type { TensorTable } from './tensorPlan.js';

/**
 * The Hugging Face Llama family's tensor names (Llama, Mistral, Qwen2/3, Gemma 3 share them);
 * `q_norm`/`k_norm` are read only with the `qkNorm` feature.
 */
export const LLAMA_TENSORS: TensorTable = {
  embed: 'model.embed_tokens',
  finalNorm: 'model.norm',
  lmHead: 'lm_head',
  block: {
    attnNorm: 'model.layers.{l}.input_layernorm',
    qNorm: 'model.layers.{l}.self_attn.q_norm',
    kNorm: 'model.layers.{l}.self_attn.k_norm',
    qkv: ['model.layers.{l}.self_attn.q_proj', 'model.layers.{l}.self_attn.k_proj', 'model.layers.{l}.self_attn.v_proj'],
    o: 'model.layers.{l}.self_attn.o_proj',
    mlpNorm: 'model.layers.{l}.post_attention_layernorm',
    gateUp: ['model.layers.{l}.mlp.gate_proj', 'model.layers.{l}.mlp.up_proj'],
    down: 'model.layers.{l}.mlp.down_proj',
  },
};

/** Token ids from a number or a list (`eos_token_id` in generation_config.json); other entries are dropped. */
export function idList(v: unknown): number[] {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [v] : [];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
  return [];
}

const POSITIVE = { min: 0, minExclusive: true } as const;

/**
 * The fields every Llama-family config shares, read once and range-checked, with the spec's
 * `features` set over them.
 */
export function baseConfig(r: ConfigReader, spec: Pick<ArchitectureSpec, 'name' | 'features'>): ModelConfig {
  const raw = r.raw;
  const hiddenSize = r.int('hidden_size', { max: CONFIG_LIMITS.hidden_size });
  const numAttentionHeads = r.int('num_attention_heads', { max: CONFIG_LIMITS.num_attention_heads });
  const numHiddenLayers = r.int('num_hidden_layers', { max: CONFIG_LIMITS.num_hidden_layers });
  const numKeyValueHeads = r.int('num_key_value_heads', { max: numAttentionHeads }, numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    r.fail('num_attention_heads', `(${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads}).`);
  }
  if (raw.head_dim === undefined || raw.head_dim === null) {
    if (hiddenSize % numAttentionHeads !== 0) {
      r.fail('hidden_size', `(${hiddenSize}) is not a multiple of num_attention_heads (${numAttentionHeads}) and there is no head_dim.`);
    }
  }
  const headDim = r.int('head_dim', { max: CONFIG_LIMITS.head_dim }, hiddenSize / numAttentionHeads);
  if (headDim % 2 !== 0) r.fail('head_dim', `is ${headDim}; rotary embeddings need an even head size.`);
  const maxPositionEmbeddings = r.int('max_position_embeddings', { max: CONFIG_LIMITS.max_position_embeddings }, 32768);
  const theta = r.num('rope_theta', POSITIVE, 10000);
  const rp = (raw.rope_parameters ?? raw.rope_scaling) as RawConfig | null | undefined;
  const rope = readRopeParams(
    isPerLayerTypeRope(rp) ? undefined : rp,
    theta,
    maxPositionEmbeddings,
    r,
    raw.rope_parameters ? 'rope_parameters' : 'rope_scaling',
  );
  const slidingWindow = r.optInt('sliding_window');
  return {
    modelType: String(raw.model_type),
    architecture: spec.name,
    hiddenSize,
    intermediateSize: r.int('intermediate_size', { max: CONFIG_LIMITS.intermediate_size }),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: r.int('vocab_size', { max: CONFIG_LIMITS.vocab_size }),
    rmsNormEps: r.num('rms_norm_eps', { ...POSITIVE, max: 1 }, 1e-6),
    maxPositionEmbeddings,
    tieWordEmbeddings: raw.tie_word_embeddings === undefined ? false : Boolean(raw.tie_word_embeddings),
    attentionBias: Boolean(raw.attention_bias),
    qkNorm: false,
    hiddenAct: activation(r, raw.hidden_act !== undefined ? 'hidden_act' : 'hidden_activation'),
    normWeightOffset: 0,
    embeddingScale: 1,
    sandwichNorms: false,
    attentionScale: 1 / Math.sqrt(headDim),
    layerTypes: layerTypes(r, numHiddenLayers),
    slidingWindow,
    rope: { full_attention: rope, sliding_attention: rope },
    attnLogitSoftcapping: r.optNum('attn_logit_softcapping', POSITIVE),
    finalLogitSoftcapping: r.optNum('final_logit_softcapping', POSITIVE),
    eosTokenIds: r.ids('eos_token_id'),
    bosTokenId: r.ids('bos_token_id')[0] ?? null,
    padTokenId: r.ids('pad_token_id')[0] ?? null,
    ...spec.features,
  };
}

/** Qwen2/3: `sliding_window` counts only with `use_sliding_window` (or sliding `layer_types`). */
export function qwenSlidingWindow(r: ConfigReader, c: ModelConfig): void {
  if (r.raw.use_sliding_window !== true && !Array.isArray(r.raw.layer_types)) c.slidingWindow = null;
  if (!c.layerTypes.includes('sliding_attention')) c.slidingWindow = null;
}

function activation(r: ConfigReader, key: string): ModelConfig['hiddenAct'] {
  const v = r.raw[key] ?? 'silu';
  switch (v) {
    case 'silu':
    case 'swish':
      return 'silu';
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
    case 'gelu_tanh':
      return 'gelu_tanh';
    case 'gelu':
      return 'gelu';
    default:
      throw new ModelFileError(`${r.source}: "${key}" is ${describeValue(v)}, which is not supported (silu, gelu, gelu_pytorch_tanh).`);
  }
}

/** `layer_types` when present (transformers 5): one known type per layer; else all full attention. */
function layerTypes(r: ConfigReader, n: number): LayerType[] {
  const v = r.raw.layer_types;
  if (v === undefined || v === null) return Array.from({ length: n }, () => 'full_attention' as LayerType);
  if (!Array.isArray(v)) r.fail('layer_types', `is ${describeValue(v)}; a list of one attention type per layer was expected.`);
  if (v.length !== n) r.fail('layer_types', `lists ${v.length} layers but num_hidden_layers is ${n}.`);
  return v.map((t, i) => {
    if (t !== 'full_attention' && t !== 'sliding_attention')
      r.fail(`layer_types[${i}]`, `is ${describeValue(t)}; supported: full_attention, sliding_attention.`);
    return t;
  });
}

/** Per-layer-type rope from `rope_parameters: {full_attention: {...}, sliding_attention: {...}}`. */
export function perLayerTypeRope(r: ConfigReader, fallback: { full: number; sliding: number }): Record<LayerType, RopeParams> {
  const raw = r.raw;
  const max = r.int('max_position_embeddings', { max: CONFIG_LIMITS.max_position_embeddings }, 32768);
  const rp = raw.rope_parameters;
  if (isPerLayerTypeRope(rp)) {
    return {
      full_attention: readRopeParams(rp.full_attention, fallback.full, max, r, 'rope_parameters.full_attention'),
      sliding_attention: readRopeParams(rp.sliding_attention ?? rp.full_attention, fallback.sliding, max, r, 'rope_parameters.sliding_attention'),
    };
  }
  // Older layout: rope_theta + rope_scaling for global layers, rope_local_base_freq for sliding ones.
  return {
    full_attention: readRopeParams((raw.rope_scaling as RawConfig) ?? null, fallback.full, max, r, 'rope_scaling'),
    sliding_attention: readRopeParams(null, fallback.sliding, max, r, 'rope_scaling'),
  };
}
