import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_POOL_IDLE_MS, dropCacheBuffers, giveCacheBuffers, pooledCacheFloats, takeCacheBuffer } from '../../src/engine/cacheBuffers.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { KVCache } from '../../src/engine/KVCache.js';
import { stylist } from '../helpers/stylistModel.js';

afterEach(() => dropCacheBuffers());

describe('the KV cache buffer pool', () => {
  it('hands a released buffer to the next take (the smallest that fits), zeroed where asked, and lets it go when idle', async () => {
    const small = new Float32Array(100).fill(7);
    const big = new Float32Array(1000).fill(NaN);
    giveCacheBuffers([big, small, small.subarray(10, 20)]); // a view returns its whole buffer, once
    expect(pooledCacheFloats()).toBe(1100);
    const a = takeCacheBuffer(80, 50);
    expect(a.buffer).toBe(small.buffer);
    expect(a.length).toBe(80);
    expect(Array.from(a.subarray(0, 50)).every((x) => x === 0)).toBe(true);
    expect(a[60]).toBe(7); // beyond the zeroed part the old contents stay (a cache zeroes what it grows into)
    // A take of fewer than half a buffer's floats does not pin it (a new buffer; the big one stays for a larger take).
    expect(takeCacheBuffer(200).buffer).not.toBe(big.buffer);
    expect(pooledCacheFloats()).toBe(1000);
    const b = takeCacheBuffer(600);
    expect(b.buffer).toBe(big.buffer);
    expect(Array.from(b).every((x) => x === 0)).toBe(true);
    expect(takeCacheBuffer(5000).buffer).not.toBe(big.buffer); // nothing fits: a new buffer
    expect(pooledCacheFloats()).toBe(0);
    giveCacheBuffers([a, b]);
    expect(pooledCacheFloats()).toBe(1100);
    // A take the pool can meet leaves the rest; one it cannot meet lets every smaller buffer go.
    giveCacheBuffers([new Float32Array(3000), new Float32Array(300)]);
    expect(takeCacheBuffer(2000).length).toBe(2000);
    expect(pooledCacheFloats()).toBe(1000 + 100 + 300);
    takeCacheBuffer(4000);
    expect(pooledCacheFloats()).toBe(0);
    giveCacheBuffers([a, b]);
    expect(pooledCacheFloats()).toBe(1100);
    await new Promise((r) => setTimeout(r, CACHE_POOL_IDLE_MS + 300));
    expect(pooledCacheFloats()).toBe(0);
  });

  it('a released cache gives its buffers back and refuses further use; an unpooled one keeps them', () => {
    const c = new KVCache(2, 3, 2, 4, 5, 20, { pooled: true });
    c.append(
      [new Float32Array(3 * 2 * 4).fill(1), new Float32Array(3 * 2 * 4).fill(1)],
      [new Float32Array(3 * 2 * 4).fill(2), new Float32Array(3 * 2 * 4).fill(2)],
      1,
    );
    c.reserve(12); // grown in place within its store
    c.release();
    expect(pooledCacheFloats()).toBe(4 * 3 * 2 * 20 * 4);
    expect(() => c.append([], [], 1)).toThrow(/released/);
    const plain = new KVCache(2, 3, 2, 4, 5, 20);
    plain.release();
    expect(plain.k).toHaveLength(2);
    expect(pooledCacheFloats()).toBe(4 * 3 * 2 * 20 * 4);
  });

  it('generation on reused buffers that held NaN gives the same tokens as on fresh ones', async () => {
    const model = await stylist();
    const s = model.session;
    const prompts = ['Write a short note to Sam about the picnic.', 'Describe a rainy morning.'].map((q) => model.encodePrompt([{ role: 'user', content: q }]));
    const requests = prompts.map((promptIds, i) => ({ promptIds, maxNewTokens: 24, sampling: { temperature: 0.8, topK: 20, seed: i } }));
    const opts = { stopTokenIds: model.stopTokenIds, padTokenId: model.padTokenId };
    dropCacheBuffers();
    const fresh = await generateBatch(s, requests, opts);
    expect(pooledCacheFloats()).toBeGreaterThan(0); // released for the next batch
    dropCacheBuffers();
    // Buffers of exactly the batch's cache size (2 rows × kv heads × (prompt + 24 + 1) positions × head size): the ones it takes.
    const c = model.config;
    const size = 2 * c.numKeyValueHeads * (Math.max(...prompts.map((p) => p.length)) + 25) * c.headDim;
    const poisoned = Array.from({ length: 4 * c.numHiddenLayers }, () => new Float32Array(size).fill(NaN));
    giveCacheBuffers(poisoned);
    const reused = await generateBatch(s, requests, opts);
    expect(reused.map((r) => r.tokens)).toEqual(fresh.map((r) => r.tokens));
    expect(poisoned.some((p) => !Number.isNaN(p[0]))).toBe(true); // the poisoned buffers were the ones used
  }, 120_000);
});
