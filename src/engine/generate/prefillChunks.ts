import type { ModelConfig } from '../../model/config/ModelConfig.js';
import type { KVCache } from '../KVCache.js';

/**
 * Bytes one layer's attention scores [B, qH, T, C+T] (f32) may take in a prefill call. The graph
 * holds a few tensors of that size at once (scores, biased scores, probabilities), so this bounds the
 * memory a long prompt's prefill adds to the weights and the cache.
 */
export const PREFILL_SCORE_BYTES = 32 * 2 ** 20;

/**
 * Tokens for the next prefill call: `requested` (default 256), fewer when the attention scores over
 * `capacity` cached slots plus the new rows would pass {@link PREFILL_SCORE_BYTES} (a multiple of 16,
 * at least 16).
 *
 * @example prefillChunkSize(config, 1, 8192); // 48 on Qwen3-0.6B's shape (16 heads)
 */
export function prefillChunkSize(c: ModelConfig, batch: number, capacity: number, requested = 256): number {
  const perToken = 4 * batch * c.numAttentionHeads; // bytes of scores per new token and column
  let t = requested;
  while (t > 16 && perToken * t * (capacity + t) > PREFILL_SCORE_BYTES) t -= 16;
  return Math.max(1, Math.min(requested, t));
}

/**
 * Before a prefill call over positions [start, end): grows the cache so it holds `end` positions, by
 * at least a quarter of its size (few copies) but never past `limit`. The graph attends over the whole
 * capacity, so a prompt read chunk by chunk attends over what it has read, not over its final length.
 *
 * @example reserveForChunk(cache, s + T, promptLength + maxNewTokens + 1);
 */
export function reserveForChunk(cache: KVCache, end: number, limit: number): void {
  if (cache.capacity >= end) return;
  cache.reserve(Math.max(end, Math.min(limit, Math.ceil(cache.capacity * 1.25))));
}
