import { describe, expect, it } from 'vitest';
import { median, quantile, quantileSorted } from '../../src/util/numerics.js';
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
