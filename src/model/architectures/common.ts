import { ModelFileError } from '../../errors.js';
import type { LayerType, ModelConfig, RopeParams } from '../config/ModelConfig.js';
import { isPerLayerTypeRope, readRopeParams } from '../config/readRope.js';
import type { RawConfig } from './ArchitectureSpec.js';

export function num(raw: RawConfig, key: string, fallback?: number): number {
  const v = raw[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelFileError(`config.json has no "${key}", which this architecture needs.`);
  }
  throw new ModelFileError(`config.json has "${key}": ${JSON.stringify(v)}; a number was expected.`);
}

export function optNum(raw: RawConfig, key: string): number | null {
  const v = raw[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function idList(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

/** The fields every Llama-family config shares, read once. */
export function baseConfig(raw: RawConfig, architecture: string): ModelConfig {
  const hiddenSize = num(raw, 'hidden_size');
  const numAttentionHeads = num(raw, 'num_attention_heads');
  const numHiddenLayers = num(raw, 'num_hidden_layers');
  const headDim = num(raw, 'head_dim', hiddenSize / numAttentionHeads);
  const maxPositionEmbeddings = num(raw, 'max_position_embeddings', 32768);
  const theta = num(raw, 'rope_theta', 10000);
  const rp = (raw.rope_parameters ?? raw.rope_scaling) as RawConfig | null | undefined;
  const rope = readRopeParams(isPerLayerTypeRope(rp) ? undefined : rp, theta, maxPositionEmbeddings);
  const slidingWindow = optNum(raw, 'sliding_window');
  return {
    modelType: String(raw.model_type),
    architecture,
    hiddenSize,
    intermediateSize: num(raw, 'intermediate_size'),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads: num(raw, 'num_key_value_heads', numAttentionHeads),
    headDim,
    vocabSize: num(raw, 'vocab_size'),
    rmsNormEps: num(raw, 'rms_norm_eps', 1e-6),
    maxPositionEmbeddings,
    tieWordEmbeddings: raw.tie_word_embeddings === undefined ? false : Boolean(raw.tie_word_embeddings),
    attentionBias: Boolean(raw.attention_bias),
    outputBias: Boolean(raw.attention_bias),
    mlpBias: Boolean(raw.mlp_bias),
    qkNorm: false,
    hiddenAct: activation(raw.hidden_act ?? raw.hidden_activation ?? 'silu'),
    normWeightOffset: 0,
    embeddingScale: 1,
    sandwichNorms: false,
    attentionScale: 1 / Math.sqrt(headDim),
    layerTypes: layerTypes(raw, numHiddenLayers, slidingWindow),
    slidingWindow,
    rope: { full_attention: rope, sliding_attention: rope },
    attnLogitSoftcapping: optNum(raw, 'attn_logit_softcapping'),
    finalLogitSoftcapping: optNum(raw, 'final_logit_softcapping'),
    eosTokenIds: idList(raw.eos_token_id),
    bosTokenId: optNum(raw, 'bos_token_id'),
    padTokenId: optNum(raw, 'pad_token_id'),
  };
}

function activation(v: unknown): ModelConfig['hiddenAct'] {
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
      throw new ModelFileError(`Activation ${JSON.stringify(v)} is not supported (silu, gelu, gelu_pytorch_tanh).`);
  }
}

/** `layer_types` when present (transformers 5), else all full attention. */
function layerTypes(raw: RawConfig, n: number, slidingWindow: number | null): LayerType[] {
  if (Array.isArray(raw.layer_types) && raw.layer_types.length === n) {
    return raw.layer_types.map((t) => (t === 'sliding_attention' ? 'sliding_attention' : 'full_attention'));
  }
  return Array.from({ length: n }, () => 'full_attention' as LayerType);
}

/** Per-layer-type rope from `rope_parameters: {full_attention: {...}, sliding_attention: {...}}`. */
export function perLayerTypeRope(raw: RawConfig, fallback: { full: number; sliding: number }): Record<LayerType, RopeParams> {
  const max = num(raw, 'max_position_embeddings', 32768);
  const rp = raw.rope_parameters;
  if (isPerLayerTypeRope(rp)) {
    return {
      full_attention: readRopeParams(rp.full_attention, fallback.full, max),
      sliding_attention: readRopeParams(rp.sliding_attention ?? rp.full_attention, fallback.sliding, max),
    };
  }
  // Older layout: rope_theta + rope_scaling for global layers, rope_local_base_freq for sliding ones.
  return {
    full_attention: readRopeParams((raw.rope_scaling as RawConfig) ?? null, fallback.full, max),
    sliding_attention: readRopeParams(null, fallback.sliding, max),
  };
}
