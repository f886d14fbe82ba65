import { describe, expect, it } from 'vitest';
import { sampleToken, topKIndices, validateSampling } from '../../src/engine/generate/sampling.js';
import { seededRandom } from '../../src/util/random.js';
import { stylist } from '../helpers/stylistModel.js';

const logits = () => Float32Array.from([2, 1.5, 1, 0.2, -1, -3]);

describe('sampling', () => {
  it('is greedy at temperature 0 and seeded otherwise', () => {
    expect(sampleToken(logits(), {}, seededRandom(1))).toBe(0);
    const draw = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits(), { temperature: 1 }, r));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('keeps only the top-k, the top-p nucleus and tokens above min-p', () => {
    const r = seededRandom(3);
    const seen = (s: Parameters<typeof sampleToken>[1]) => new Set(Array.from({ length: 400 }, () => sampleToken(logits(), s, r)));
    expect([...seen({ temperature: 2, topK: 2 })].sort()).toEqual([0, 1]);
    expect(seen({ temperature: 1, topP: 0.3 })).toEqual(new Set([0]));
    const minP = seen({ temperature: 1, minP: 0.5 });
    expect([...minP].every((t) => t <= 1)).toBe(true);
    expect(seen({ temperature: 1 }).size).toBeGreaterThan(3);
  });

  it('penalises repeated tokens', () => {
    const l = logits();
    expect(sampleToken(l, { repetitionPenalty: 10 }, seededRandom(1), [0, 1])).toBe(2);
  });

  it('rejects invalid settings with the name of the setting', () => {
    expect(() => validateSampling({ topP: 1.5 })).toThrow(/topP must be in \(0, 1\]/);
    expect(() => validateSampling({ temperature: -1 })).toThrow(/temperature/);
  });

  it('gives the same text for the same seed and streams exactly the final text', async () => {
    const model = await stylist();
    const opts = { maxNewTokens: 32, sampling: { temperature: 0.9, seed: 42 } };
    const [a] = await model.generate(['Invite Jo to a picnic.'], opts);
    const [b] = await model.generate(['Invite Jo to a picnic.'], opts);
    expect(a.text).toBe(b.text);
    let streamed = '';
    const it = model.stream('Invite Jo to a picnic.', opts);
    let next = await it.next();
    while (!next.done) {
      streamed += next.value;
      next = await it.next();
    }
    expect(streamed).toBe(a.text);
    expect(next.value.text).toBe(a.text);
  });
});

describe('topKIndices', () => {
  it('returns the k largest, largest first, the lower index first among equal values (as a full sort would)', () => {
    const rand = seededRandom(7);
    for (const [n, k] of [
      [1000, 50],
      [300, 1],
      [64, 64],
      [10, 3],
    ]) {
      // Few distinct values, so ties are common.
      const x = Float32Array.from({ length: n }, () => Math.floor(rand() * 40) - 20);
      const sorted = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[b] - x[a] || a - b);
      expect(topKIndices(x, k)).toEqual(sorted.slice(0, k));
    }
  });
});
