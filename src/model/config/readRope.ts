import { UnsupportedModelError } from '../../errors.js';
import { ConfigReader } from './ConfigReader.js';
import { describeValue } from './describeValue.js';
import type { RopeParams } from './ModelConfig.js';

type Raw = Record<string, unknown>;

/**
 * Reads one set of rotary parameters from either layout: transformers-5 `rope_parameters`
 * (`{rope_theta, rope_type, factor, ...}`) or the older `rope_theta` + `rope_scaling`. Theta and
 * the scaling factors must be positive (a zero factor or theta gives NaN rotations), llama3's
 * high_freq_factor above its low_freq_factor; a bad value is an error naming `where.key`.
 *
 * @example readRopeParams({ rope_type: 'linear', factor: 8 }, 1e6, 8192, new ConfigReader(raw, 'config.json'), 'rope_scaling')
 */
export function readRopeParams(
  params: Raw | null | undefined,
  fallbackTheta: number,
  maxPositions: number,
  parent: ConfigReader = new ConfigReader({}),
  where = 'rope_scaling',
): RopeParams {
  const p = params && typeof params === 'object' && !Array.isArray(params) ? params : {};
  const r = parent.nested(p, where);
  const rawType = p.rope_type ?? p.type ?? 'default';
  const type = typeof rawType === 'string' ? rawType : describeValue(rawType);
  const positive = { min: 0, minExclusive: true };
  const base: RopeParams = {
    theta: r.num('rope_theta', positive, fallbackTheta),
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
      return { ...base, type: 'linear', factor: r.num('factor', positive, 1) };
    case 'llama3': {
      const lowFreqFactor = r.num('low_freq_factor', positive, 1);
      const highFreqFactor = r.num('high_freq_factor', { min: lowFreqFactor, minExclusive: true }, 4);
      return {
        ...base,
        type: 'llama3',
        factor: r.num('factor', positive),
        lowFreqFactor,
        highFreqFactor,
        originalMaxPositionEmbeddings: r.int('original_max_position_embeddings', {}, maxPositions),
      };
    }
    default:
      throw new UnsupportedModelError(`${parent.source}: rope type "${type}" is not supported (supported: default, linear, llama3).`);
  }
}

/** True when `rope_parameters` is keyed by layer type (Gemma 3 in transformers 5). */
export function isPerLayerTypeRope(rp: unknown): rp is Record<string, Raw> {
  return !!rp && typeof rp === 'object' && ('full_attention' in (rp as Raw) || 'sliding_attention' in (rp as Raw));
}
