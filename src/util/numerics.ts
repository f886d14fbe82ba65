/**
 * Base numerics shared by every layer (evaluation statistics, benchmarks, the load test): mean,
 * variance, median and quantiles. Confidence intervals build on these in src/eval/stats.ts.
 */
import { InvalidArgumentError } from '../errors.js';

/** Throws unless `xs` holds at least one value, all finite; `what` names the caller in the message. */
export function checkValues(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new InvalidArgumentError(`${what} needs at least one value`);
  for (const x of xs) if (!Number.isFinite(x)) throw new InvalidArgumentError(`${what}: values must be finite numbers, got ${x}`);
}

/**
 * Arithmetic mean.
 *
 * @example mean([1, 2, 3]); // 2
 */
export function mean(xs: readonly number[]): number {
  checkValues(xs, 'mean');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Sample variance (divides by n − 1); NaN for a single value.
 *
 * @example variance([1, 2, 3, 4, 5]); // 2.5
 */
export function variance(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length < 2) return NaN;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return s / (xs.length - 1);
}

/**
 * Sample standard deviation (divides by n − 1); NaN for a single value.
 *
 * @example std([2, 4, 4, 4, 5, 5, 7, 9]); // 2.138…
 */
export function std(xs: readonly number[]): number {
  return Math.sqrt(variance(xs));
}

/**
 * Linear-interpolation quantile (R type 7, numpy's default) of values sorted ascending.
 *
 * @example quantileSorted([1, 2, 3, 4], 0.5); // 2.5
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new InvalidArgumentError('quantile needs at least one value');
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`quantile: p must be in [0, 1], got ${p}`);
  const h = (sorted.length - 1) * p;
  const i = Math.floor(h);
  const f = h - i;
  return i + 1 < sorted.length ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * Linear-interpolation quantile (R type 7) of values in any order; `p` in [0, 1].
 *
 * @example quantile([3, 1, 4, 2], 0.95); // 3.85
 */
export function quantile(xs: readonly number[], p: number): number {
  return quantileSorted(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

/**
 * The median (the mean of the two middle values for an even count).
 *
 * @example median([3, 1, 2]); // 2
 */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/**
 * The dot product of two equal-length vectors (a projection when `b` is a unit direction).
 *
 * @example dot([1, 2], [3, 4]); // 11
 */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The cosine of the angle between two equal-length vectors (0 when either is all zeros).
 *
 * @example cosine([1, 0], [1, 1]); // 0.7071…
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    x = 0,
    y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    x += a[i] ** 2;
    y += b[i] ** 2;
  }
  return x > 0 && y > 0 ? d / Math.sqrt(x * y) : 0;
}
