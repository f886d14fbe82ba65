import { describe, expect, it } from 'vitest';
import { randomInt, seededRandom, seededShuffle, seededWords } from '../../src/util/random.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('the seeded PRNG', () => {
  it('is mulberry32: seed 1 draws the reference sequence, as words and as fractions', () => {
    expect(Array.from({ length: 3 }, seededRandom(1))).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    const next = seededWords(1);
    const words = [next(), next(), next()];
    const rand = seededRandom(1);
    expect([rand(), rand(), rand()]).toEqual(words.map((w) => w / 2 ** 32));
    expect(words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)).toBe(true);
  });

  it('truncates fractional seeds and refuses non-finite ones', () => {
    expect(seededRandom(5.7)()).toBe(seededRandom(5)());
    expect(() => seededRandom(NaN)).toThrow(InvalidArgumentError);
  });

  it('draws integers in range and shuffles to a permutation', () => {
    const r = seededRandom(3);
    for (let i = 0; i < 1000; i++) {
      const k = randomInt(r, 7);
      expect(k >= 0 && k < 7 && Number.isInteger(k)).toBe(true);
    }
    const items = Array.from({ length: 30 }, (_, i) => i);
    const s = seededShuffle(items, 11);
    expect([...s].sort((a, b) => a - b)).toEqual(items);
    expect(seededShuffle(items, 11)).toEqual(s);
    expect(seededShuffle(items, 12)).not.toEqual(s);
  });
});
