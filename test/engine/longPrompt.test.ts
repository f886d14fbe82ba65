import { describe, expect, it } from 'vitest';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { PREFILL_SCORE_BYTES, prefillChunkSize, reserveForChunk } from '../../src/engine/generate/prefillChunks.js';
import { KVCache } from '../../src/engine/KVCache.js';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { STYLIST } from '../helpers/paths.js';

describe('long prompts', () => {
  it('read in small chunks with a growing cache give the tokens and log-probs of one prefill call', async () => {
    const model = await loadModel(STYLIST);
    try {
      const promptIds = Array.from({ length: 150 }, (_, i) => 5 + ((i * 37) % 400));
      const reqs = [
        { promptIds, maxNewTokens: 10 },
        { promptIds: promptIds.slice(40), maxNewTokens: 10 },
      ];
      const opts = { stopTokenIds: [], padTokenId: model.padTokenId, logprobs: 0 };
      const whole = await generateBatch(model.session, reqs, { ...opts, prefillChunk: 256 });
      const chunked = await generateBatch(model.session, reqs, { ...opts, prefillChunk: 16 });
      expect(chunked.map((r) => r.tokens)).toEqual(whole.map((r) => r.tokens));
      const worst = Math.max(...chunked.flatMap((r, b) => r.logprobs!.map((x, i) => Math.abs(x - whole[b].logprobs![i]))));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('keep one layer of attention scores within the budget, and the cache grows to what is read, never past its limit', () => {
    const c = { numAttentionHeads: 16 } as Parameters<typeof prefillChunkSize>[0];
    expect(prefillChunkSize(c, 1, 256)).toBe(256);
    for (const capacity of [1024, 4096, 8192, 32768]) {
      const t = prefillChunkSize(c, 1, capacity);
      expect(4 * 16 * t * (capacity + t) <= PREFILL_SCORE_BYTES || t === 16).toBe(true);
    }
    const cache = new KVCache(2, 1, 1, 4, 8, 20);
    cache.append([new Float32Array(32).fill(1), new Float32Array(32).fill(2)], [new Float32Array(32).fill(3), new Float32Array(32).fill(4)], 8);
    reserveForChunk(cache, 12, 20);
    expect(cache.capacity).toBe(12);
    expect(Array.from(cache.k[1].subarray(0, 32))).toEqual(new Array(32).fill(2));
    cache.append([new Float32Array(16), new Float32Array(16)], [new Float32Array(16), new Float32Array(16)], 4);
    cache.append([new Float32Array(4), new Float32Array(4)], [new Float32Array(4), new Float32Array(4)], 1);
    expect(cache.capacity).toBe(20); // doubling (24) capped at the limit
  });

  it('grow in place within their limit exactly as a cache that copies into new buffers', () => {
    const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + i));
    const inPlace = new KVCache(2, 2, 3, 4, 5, 40); // one buffer per layer, re-strided as it grows
    const copied = new KVCache(2, 2, 3, 4, 5); // no limit: new buffers
    let seed = 0;
    for (const [t, reserve] of [
      [5, 9],
      [3, 0],
      [4, 17],
      [6, 0],
      [9, 40],
    ] as const) {
      const rows = () => [rand(2 * 3 * t * 4, ++seed), rand(2 * 3 * t * 4, ++seed)];
      const k = rows(),
        v = rows();
      for (const c of [inPlace, copied]) {
        c.append(k, v, t);
        c.reserve(reserve);
      }
      expect(inPlace.capacity).toBe(copied.capacity);
      for (let l = 0; l < 2; l++) {
        expect(Array.from(inPlace.k[l])).toEqual(Array.from(copied.k[l]));
        expect(Array.from(inPlace.v[l])).toEqual(Array.from(copied.v[l]));
      }
    }
  });
});
