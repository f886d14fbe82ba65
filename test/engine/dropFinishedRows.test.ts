import { describe, expect, it, vi } from 'vitest';
import { KVCache } from '../../src/engine/KVCache.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { shippedPersona, stylist, STYLIST_HELD_OUT } from '../helpers/stylistModel.js';

describe('finished rows leave the batch', () => {
  it('KVCache.keepRows moves the kept rows down in place; the cache then appends and grows as before', () => {
    const fill = (n: number, base: number) => Float32Array.from({ length: n }, (_, i) => base + i);
    // 2 layers, 4 rows, 2 kv heads, head dim 3, capacity 4 of at most 10.
    for (const limit of [10, Infinity]) {
      const cache = new KVCache(2, 4, 2, 3, 4, limit);
      const t = 3;
      cache.append([fill(4 * 2 * t * 3, 0), fill(4 * 2 * t * 3, 1000)], [fill(4 * 2 * t * 3, 2000), fill(4 * 2 * t * 3, 3000)], t);
      const rowOf = (arr: Float32Array | Int8Array, row: number) =>
        [0, 1].flatMap((h) => Array.from(arr.subarray((row * 2 + h) * cache.capacity * 3, (row * 2 + h) * cache.capacity * 3 + cache.length * 3)));
      const before = [1, 3].map((r) => rowOf(cache.k[1], r));
      const beforeV = [1, 3].map((r) => rowOf(cache.v[0], r));
      cache.keepRows([1, 3]);
      expect(cache.batch).toBe(2);
      expect(cache.k[1].length).toBe(2 * 2 * cache.capacity * 3);
      expect([0, 1].map((r) => rowOf(cache.k[1], r))).toEqual(before);
      expect([0, 1].map((r) => rowOf(cache.v[0], r))).toEqual(beforeV);
      // Appending past the capacity grows it with the kept rows intact.
      cache.append([fill(2 * 2 * 3 * 3, 5000), fill(2 * 2 * 3 * 3, 6000)], [fill(2 * 2 * 3 * 3, 7000), fill(2 * 2 * 3 * 3, 8000)], 3);
      expect(cache.length).toBe(6);
      expect(cache.capacity).toBeGreaterThanOrEqual(6);
      for (const r of [0, 1]) {
        const now = rowOf(cache.k[1], r); // two heads of 6 positions × 3
        expect([...now.slice(0, 9), ...now.slice(18, 27)]).toEqual(before[r]);
      }
      expect(() => cache.keepRows([1, 0])).toThrow(/ascending/);
    }
  });

  it('rows that end early do not change the others: per-row steering and lengths, batch of 12 vs one row at a time', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const questions = STYLIST_HELD_OUT.slice(0, 12);
    const rows = questions.map((q, i) => ({
      prompt: q,
      // Different budgets and steering per row, so rows finish at different steps and the restacked steering must follow them.
      maxNewTokens: 8 + ((i * 7) % 40),
      sampling: { temperature: 0.8, topK: 50, seed: 100 + i },
      intervention: i % 3 === 0 ? null : resolveSteering(model, [{ persona: formal, alpha: i % 3 === 1 ? 4 : -4 }]),
    }));
    const keepRows = vi.spyOn(KVCache.prototype, 'keepRows');
    const together = await model.generateRows(rows, { ignoreHooks: true });
    expect(keepRows).toHaveBeenCalled(); // the batch really shrank
    keepRows.mockRestore();
    const ends = together.map((r) => r.tokens.length);
    expect(new Set(ends).size).toBeGreaterThan(3); // rows really finish at different steps
    for (let i = 0; i < rows.length; i++) {
      const [alone] = await model.generateRows([rows[i]], { ignoreHooks: true });
      expect(together[i].tokens, `row ${i}`).toEqual(alone.tokens);
      expect(together[i].ended).toBe(alone.ended);
    }
  }, 300_000);
});
