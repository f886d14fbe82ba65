import { describe, expect, it } from 'vitest';
import { randomInt, seededRandom } from '../../src/util/random.js';
import {
  bootstrapCI,
  cohensD,
  incompleteBeta,
  mean,
  meanCI,
  normalQuantile,
  quantileSorted,
  std,
  studentTCdf,
  studentTQuantile,
  summarize,
  variance,
  wilsonCI,
} from '../../src/eval/stats.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('stats', () => {
  it('computes the mean and the sample (n − 1) standard deviation', () => {
    expect(mean([1, 2, 3, 4, 5])).toBe(3);
    expect(variance([1, 2, 3, 4, 5])).toBe(2.5);
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(std([4])).toBeNaN();
    expect(() => mean([])).toThrow(InvalidArgumentError);
    expect(() => mean([1, NaN])).toThrow(/finite/);
  });

  it('gives the textbook two-sided 95% t quantiles for df 1, 2, 5 and 30', () => {
    // Tables: 12.706, 4.303, 2.571, 2.042; the closed forms below give them to full precision.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(Math.PI * 0.475), 12);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 6);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(0.95 / Math.sqrt(2 * 0.975 * 0.025), 12);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3026527, 6);
    expect(studentTQuantile(0.975, 5)).toBeCloseTo(2.5705818, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0422725, 6);
    expect(studentTQuantile(0.995, 30)).toBeCloseTo(2.7499957, 6);
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-2.5705818, 6);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('inverts a t CDF that agrees with the closed form for odd degrees of freedom', () => {
    // df = 5: F(t) = 1/2 + (θ + sinθ cosθ (1 + 2/3 cos²θ)) / π with θ = atan(t / √5).
    const closed5 = (t: number) => {
      const th = Math.atan(t / Math.sqrt(5)),
        c = Math.cos(th);
      return 0.5 + (th + Math.sin(th) * c * (1 + (2 / 3) * c * c)) / Math.PI;
    };
    for (const t of [-3, -0.7, 0.1, 1, 2.5, 6]) expect(studentTCdf(t, 5)).toBeCloseTo(closed5(t), 12);
    for (const p of [0.6, 0.9, 0.975, 0.999]) expect(closed5(studentTQuantile(p, 5))).toBeCloseTo(p, 12);
    expect(studentTCdf(studentTQuantile(0.975, 2.5), 2.5)).toBeCloseTo(0.975, 12);
  });

  it('approaches the normal quantile as the degrees of freedom grow', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959963985, 5);
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14);
  });

  it('gives a t confidence interval of a mean with the exact small-n width', () => {
    const ci = meanCI([1, 2, 3, 4, 5]);
    // half width = t(0.975, 4) · s / √n = 2.776445 · 1.581139 / 2.236068
    expect(ci.estimate).toBe(3);
    expect(ci.hi - ci.lo).toBeCloseTo((2 * 2.7764451052 * Math.sqrt(2.5)) / Math.sqrt(5), 8);
    expect(ci.hi - ci.lo).toBeCloseTo(3.92648632, 6);
    const two = meanCI([0, 1]);
    expect(two.hi - two.lo).toBeCloseTo((2 * 12.7062047 * Math.SQRT1_2) / Math.SQRT2, 5);
    const one = meanCI([7]);
    expect(one.estimate).toBe(7);
    expect(one.lo).toBeNaN();
  });

  it("computes Cohen's d with the pooled standard deviation", () => {
    // Means 5 and 3, both variances 2.5: d = 2 / √2.5.
    expect(cohensD([3, 4, 5, 6, 7], [1, 2, 3, 4, 5])).toBeCloseTo(2 / Math.sqrt(2.5), 12);
    // Unequal sizes: pooled var = (2·1 + 3·(5/3)) / 5 = 1.4.
    expect(cohensD([1, 2, 3], [2, 3, 4, 5])).toBeCloseTo((2 - 3.5) / Math.sqrt(1.4), 12);
    expect(() => cohensD([1], [2, 3])).toThrow(InvalidArgumentError);
  });

  it('gives a seeded, reproducible percentile bootstrap interval around the statistic', () => {
    const xs = [0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 0, 1];
    const a = bootstrapCI(xs, { seed: 42 });
    const b = bootstrapCI(xs, { seed: 42 });
    expect(a).toEqual(b);
    expect(a.estimate).toBeCloseTo(mean(xs), 12);
    expect(a.lo).toBeLessThan(a.estimate);
    expect(a.hi).toBeGreaterThan(a.estimate);
    // Roughly as wide as the t interval for a sample this size.
    const t = meanCI(xs);
    expect((a.hi - a.lo) / (t.hi - t.lo)).toBeGreaterThan(0.6);
    expect((a.hi - a.lo) / (t.hi - t.lo)).toBeLessThan(1.3);
    const med = bootstrapCI(xs, {
      statistic: (s) =>
        quantileSorted(
          [...s].sort((p, q) => p - q),
          0.5,
        ),
      seed: 1,
      resamples: 500,
    });
    expect(med.estimate).toBe(1);
    expect(bootstrapCI([2, 2, 2])).toMatchObject({ lo: 2, hi: 2 });
  });

  it('gives a Wilson interval for rates that stays inside [0, 1]', () => {
    const w = wilsonCI(45, 50);
    expect(w.estimate).toBe(0.9);
    expect(w.lo).toBeCloseTo(0.78639768, 6);
    expect(w.hi).toBeCloseTo(0.95652424, 6);
    const all = wilsonCI(10, 10);
    expect(all.hi).toBe(1);
    expect(all.lo).toBeGreaterThan(0.6);
    expect(wilsonCI(0, 10).lo).toBe(0);
  });

  it('summarises a metric counting nulls as missing rather than dropping them silently', () => {
    const s = summarize([0.5, null, 1, 0, null]);
    expect(s).toMatchObject({ n: 3, missing: 2, mean: 0.5, std: 0.5 });
    expect(s.hi - s.lo).toBeCloseTo((2 * studentTQuantile(0.975, 2) * 0.5) / Math.sqrt(3), 10);
    expect(summarize([null])).toMatchObject({ n: 0, missing: 1 });
  });

  it('draws the same uniform sequence from the same seed', () => {
    const a = seededRandom(123),
      b = seededRandom(123),
      c = seededRandom(124);
    const sa = Array.from({ length: 5 }, a),
      sb = Array.from({ length: 5 }, b),
      sc = Array.from({ length: 5 }, c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    const r = seededRandom(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10000; i++) counts[randomInt(r, 10)]++;
    for (const n of counts) expect(n).toBeGreaterThan(850);
    expect(seededRandom(0)()).toBeGreaterThanOrEqual(0);
  });
});
