import type { DecoderSession } from '../engine/DecoderSession.js';
import { generateBatch } from '../engine/generate/generateBatch.js';
import { prefillChunkSize, reserveForChunk } from '../engine/generate/prefillChunks.js';
import { median } from '../util/numerics.js';
import { randomInt, seededRandom } from '../util/random.js';

/**
 * Timing of single forward calls on a session over random tokens: prefill, and decode steps after a
 * filled cache. Shared by the engine bench and the evaluation-speed measurement.
 */

/**
 * The logits a greedy generation step fetches (the top-1 where the graph has that output), as the
 * llama.cpp side of the comparison decodes greedily.
 */
function greedyStep(s: DecoderSession): { topK?: number } {
  return s.hasTopK ? { topK: 1 } : {};
}

/** Deterministic random token ids. */
export function randomIds(n: number, vocab: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => randomInt(rand, vocab));
}

/** Seconds for one prefill of B rows of T random tokens (optionally pooling, as extraction does). */
export async function prefill(s: DecoderSession, T: number, B = 1, pool = false): Promise<number> {
  const ids = randomIds(B * T, s.config.vocabSize, T + B);
  const t = performance.now();
  await s.run({
    inputIds: ids,
    batch: B,
    seq: T,
    positions: Array.from({ length: B * T }, (_, i) => i % T),
    keyMask: new Uint8Array(B * T).fill(1),
    poolWeights: pool ? new Float32Array(B * 2 * T).fill(1 / T) : undefined,
    pools: 2,
    // What the engine fetches: nothing when extracting, a greedy step's top-1 when generating.
    ...(pool ? s.noLogits : greedyStep(s)),
  });
  return (performance.now() - t) / 1000;
}

/**
 * A cache filled with `ctx` positions, and a function that times one decode step on it. The cache is
 * filled as the engine prefills a long prompt (chunks whose attention scores stay within
 * `PREFILL_SCORE_BYTES`, the cache growing as it is read) and ends with room for `steps` tokens.
 */
export async function decoder(s: DecoderSession, ctx: number, B: number, steps: number, steer?: Float32Array): Promise<() => Promise<number>> {
  const c = s.config;
  const limit = ctx + steps + 1;
  const cache = s.newCache(B, Math.min(ctx, 256), limit);
  const ids = randomIds(B * ctx, c.vocabSize, ctx * 7 + B);
  for (let s0 = 0; s0 < ctx;) {
    reserveForChunk(cache, Math.min(ctx, s0 + 256), limit);
    const T = Math.min(ctx - s0, prefillChunkSize(c, B, cache.capacity));
    const S = s0 + T;
    const inputIds: number[] = [];
    const positions: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let t = s0; t < S; t++) {
        inputIds.push(ids[b * ctx + t]);
        positions.push(t);
      }
    }
    const res = await s.run({ inputIds, batch: B, seq: T, positions, keyMask: new Uint8Array(B * S).fill(1), cache, ...s.noLogits });
    cache.append(res.newK, res.newV, T);
    s0 = S;
  }
  cache.reserve(limit);
  let i = 0;
  return async () => {
    const S = cache.length + 1;
    const t = performance.now();
    const res = await s.run({
      inputIds: randomIds(B, c.vocabSize, ++i),
      batch: B,
      seq: 1,
      positions: new Array(B).fill(cache.length),
      keyMask: new Uint8Array(B * S).fill(1),
      cache,
      steer: steer ? { delta: steer } : undefined,
      ...greedyStep(s),
    });
    cache.append(res.newK, res.newV, 1);
    return (performance.now() - t) / 1000;
  };
}

/**
 * Decode `steps` tokens per row after `ctx` cached random tokens; returns seconds per step (median).
 * What `decode_tok_s` reports, as batch / this.
 *
 * @example const tokS = 8 / (await decode(session, 128, 8, 16)); // decode_tok_s.ctx128_b8
 */
export async function decode(s: DecoderSession, ctx: number, B: number, steps: number): Promise<number> {
  const step = await decoder(s, ctx, B, steps);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(await step());
  return median(times);
}

/**
 * Seconds to prefill one prompt of T random tokens the way the engine reads a prompt (`generateBatch`
 * with no new token: chunked, the cache growing as it goes), so long prompts are timed as users run them.
 *
 * @example const tokS = 4096 / (await enginePrefill(session, 4096));
 */
export async function enginePrefill(s: DecoderSession, T: number): Promise<number> {
  const promptIds = randomIds(T, s.config.vocabSize, T + 3);
  const t = performance.now();
  await generateBatch(s, [{ promptIds, maxNewTokens: 0 }], { stopTokenIds: [], padTokenId: 0 });
  return (performance.now() - t) / 1000;
}
