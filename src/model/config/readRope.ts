import { UnsupportedModelError } from '../../errors.js';
import type { RopeParams } from './ModelConfig.js';

type Raw = Record<string, unknown>;

/**
 * Reads one set of rotary parameters from either layout: transformers-5 `rope_parameters`
 * (`{rope_theta, rope_type, factor, ...}`) or the older `rope_theta` + `rope_scaling`.
 */
export function readRopeParams(params: Raw | null | undefined, fallbackTheta: number, maxPositions: number): RopeParams {
  const p = params ?? {};
  const type = String(p.rope_type ?? p.type ?? 'default');
  const base: RopeParams = {
    theta: Number(p.rope_theta ?? fallbackTheta),
    type: 'default',
    factor: 1,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: maxPositions,
    attentionScaling: 1,
  };
  switch (type) {
    case 'default':
      return base;
    case 'linear':
      return { ...base, type: 'linear', factor: Number(p.factor ?? 1) };
    case 'llama3':
      return {
        ...base,
        type: 'llama3',
        factor: Number(p.factor),
        lowFreqFactor: Number(p.low_freq_factor ?? 1),
        highFreqFactor: Number(p.high_freq_factor ?? 4),
        originalMaxPositionEmbeddings: Number(p.original_max_position_embeddings ?? maxPositions),
      };
    default:
      throw new UnsupportedModelError(`Rope type "${type}" is not supported (supported: default, linear, llama3).`);
  }
}

/** True when `rope_parameters` is keyed by layer type (Gemma 3 in transformers 5). */
export function isPerLayerTypeRope(rp: unknown): rp is Record<string, Raw> {
  return !!rp && typeof rp === 'object' && ('full_attention' in (rp as Raw) || 'sliding_attention' in (rp as Raw));
}
