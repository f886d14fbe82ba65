import { describe, expect, it } from 'vitest';
import { cosine, median, quantile, quantileSorted } from '../../src/util/numerics.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('median and quantile', () => {
  it('interpolate linearly between ranks, as numpy does by default', () => {
    const xs = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(median(xs)).toBe(10.5);
    expect(quantile(xs, 0.95)).toBeCloseTo(19.05, 12);
    expect(quantile([7], 0.95)).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
  });

  it('refuse an empty list and a p outside [0, 1]', () => {
    expect(() => median([])).toThrow(InvalidArgumentError);
    expect(() => quantile([1, 2], 95)).toThrow(/p must be in \[0, 1\]/);
  });
});

describe('cosine', () => {
  it('is the cosine of the angle, and 0 against an all-zero vector', () => {
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(cosine([2, 0, 0], [-3, 0, 0])).toBeCloseTo(-1, 12);
    expect(cosine([0, 0], [1, 2])).toBe(0);
  });
});
