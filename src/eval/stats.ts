/**
 * Small statistics for evaluation: means with Student-t confidence intervals, percentile bootstrap
 * intervals for metrics that are far from normal, Wilson intervals for rates, and Cohen's d.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkValues, mean, quantileSorted, std } from '../util/numerics.js';
import { randomInt, seededRandom } from '../util/random.js';

/** The base numerics, from src/util/numerics.ts. */
export { mean, variance, std, quantileSorted, median, quantile } from '../util/numerics.js';

/** A point estimate with a two-sided confidence interval. */
export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

/** A metric's values summarised: `null`s (answers that could not be scored) are counted, not dropped silently. */
export interface MetricSummary {
  /** Number of scored (non-null) values. */
  n: number;
  /** Number of `null` values (could not score). */
  missing: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN when n < 2. */
  std: number;
  /** Confidence interval of the mean; NaN bounds when n < 2. */
  lo: number;
  hi: number;
  level: number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new InvalidArgumentError(`confidence level must be in (0, 1), got ${level}`);
}

// ---- special functions -------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * log Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits).
 *
 * @example Math.exp(logGamma(5)); // 24
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta (modified Lentz; Numerical Recipes `betacf`). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const qab = a + b,
    qap = a + 1,
    qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/**
 * Regularised incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes `betai`).
 *
 * @example incompleteBeta(0.5, 2, 2); // 0.5
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T > t) for t ≥ 0 under Student's t with `df` degrees of freedom. */
function studentTUpperTail(t: number, df: number): number {
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * Cumulative distribution function of Student's t with `df` (> 0, not necessarily integer) degrees of freedom.
 *
 * @example studentTCdf(2.776, 4); // ≈ 0.975
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new InvalidArgumentError(`degrees of freedom must be > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const upper = studentTUpperTail(Math.abs(t), df);
  return t >= 0 ? 1 - upper : upper;
}

/**
 * Quantile (inverse CDF) of Student's t with `df` degrees of freedom: exact closed forms for df 1 and 2,
 * otherwise the incomplete-beta tail inverted by bisection to full double precision.
 *
 * @example studentTQuantile(0.975, 1); // 12.7062…
 * @example studentTQuantile(0.975, 30); // 2.0423…
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(df > 0)) throw new InvalidArgumentError(`degrees of freedom must be > 0, got ${df}`);
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`probability must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const q = 1 - p; // target upper tail, in (0, 0.5)
  let lo = 0;
  let hi = 1;
  while (studentTUpperTail(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (studentTUpperTail(mid, df) > q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Quantile of the standard normal distribution (Acklam's rational approximation, relative error
 * below 1.2e-9).
 *
 * @example normalQuantile(0.975); // 1.95996…
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`probability must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

// ---- intervals ---------------------------------------------------------------------------------

/**
 * Confidence interval of a mean from Student's t with n − 1 degrees of freedom (exact small-n
 * quantiles). With a single value the bounds are NaN: one sample says nothing about spread.
 *
 * @example meanCI([1, 2, 3, 4, 5]); // { estimate: 3, lo: 1.0368…, hi: 4.9632…, level: 0.95 }
 */
export function meanCI(xs: readonly number[], level = 0.95): Interval {
  checkLevel(level);
  const m = mean(xs);
  if (xs.length < 2) return { estimate: m, lo: NaN, hi: NaN, level };
  const half = studentTQuantile(1 - (1 - level) / 2, xs.length - 1) * (std(xs) / Math.sqrt(xs.length));
  return { estimate: m, lo: m - half, hi: m + half, level };
}

/** Options of {@link bootstrapCI}. */
export interface BootstrapOptions {
  /** The statistic of a sample (default: the mean). */
  statistic?: (xs: readonly number[]) => number;
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** PRNG seed (default 1): the same seed gives the same interval. */
  seed?: number;
}

/**
 * Percentile bootstrap confidence interval of a statistic, seeded, for metrics far from normal
 * (counts, bounded scores piled up at ±1, medians).
 *
 * @example bootstrapCI([0, 0, 1, 5, 9], { seed: 7 }); // { estimate: 3, lo: …, hi: …, level: 0.95 }
 */
export function bootstrapCI(xs: readonly number[], o: BootstrapOptions = {}): Interval {
  checkValues(xs, 'bootstrapCI');
  const level = o.level ?? 0.95;
  checkLevel(level);
  const stat = o.statistic ?? mean;
  const resamples = o.resamples ?? 2000;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new InvalidArgumentError(`resamples must be a positive integer, got ${resamples}`);
  const rand = seededRandom(o.seed ?? 1);
  const n = xs.length;
  const sample = new Array<number>(n);
  const stats = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = xs[randomInt(rand, n)];
    stats[r] = stat(sample);
  }
  stats.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { estimate: stat(xs), lo: quantileSorted(stats, tail), hi: quantileSorted(stats, 1 - tail), level };
}

/**
 * Wilson score interval of a proportion (e.g. the end-of-turn rate), well behaved at 0 and 1 where
 * a t interval collapses.
 *
 * @example wilsonCI(45, 50); // { estimate: 0.9, lo: 0.786…, hi: 0.956…, level: 0.95 }
 */
export function wilsonCI(successes: number, n: number, level = 0.95): Interval {
  checkLevel(level);
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`wilsonCI needs n ≥ 1 trials, got ${n}`);
  if (!(successes >= 0 && successes <= n)) throw new InvalidArgumentError(`successes must be in [0, ${n}], got ${successes}`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return { estimate: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), level };
}

/** Cohen's d with the pooled standard deviation (strict: two or more finite values per group); see src/util/effectSize.ts. */
export { cohensD } from '../util/effectSize.js';

/**
 * Summarises one metric over answers: `null` (could not score) is counted in `missing`; the rest
 * give the mean, sample std and a t interval of the mean.
 *
 * @example summarize([0.5, null, 1, 0]); // { n: 3, missing: 1, mean: 0.5, std: 0.5, lo: …, hi: …, level: 0.95 }
 */
export function summarize(values: ReadonlyArray<number | null>, level = 0.95): MetricSummary {
  const xs = values.filter((v): v is number => v !== null);
  const missing = values.length - xs.length;
  if (xs.length === 0) return { n: 0, missing, mean: NaN, std: NaN, lo: NaN, hi: NaN, level };
  const ci = meanCI(xs, level);
  return { n: xs.length, missing, mean: ci.estimate, std: std(xs), lo: ci.lo, hi: ci.hi, level };
}
