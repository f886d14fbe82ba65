/**
 * Cohen's d, the standardised difference of two samples' means, shared by persona extraction (a
 * layer's separation) and evaluation statistics. It lives here because src/persona may not import
 * src/eval.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * (mean(a) − mean(b)) and the pooled standard deviation. Groups of fewer than two values count as
 * having no variance (each n − 1, and n_a + n_b − 2, is floored at 1); with two or more values in
 * each group this is exactly s_pooled² = ((n_a − 1)·var(a) + (n_b − 1)·var(b)) / (n_a + n_b − 2).
 */
function pooledDifference(a: readonly number[], b: readonly number[]): { difference: number; pooled: number } {
  const mean = (x: readonly number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(a);
  const mb = mean(b);
  const va = a.reduce((s, v) => s + (v - ma) ** 2, 0) / Math.max(1, a.length - 1);
  const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0) / Math.max(1, b.length - 1);
  const pooled = Math.sqrt(((a.length - 1) * va + (b.length - 1) * vb) / Math.max(1, a.length + b.length - 2));
  return { difference: ma - mb, pooled };
}

/**
 * Cohen's d with the pooled standard deviation: (mean(a) − mean(b)) / s_pooled, where
 * s_pooled² = ((n_a − 1)·var(a) + (n_b − 1)·var(b)) / (n_a + n_b − 2). Strict: each group needs at
 * least two values, all finite (else InvalidArgumentError); a zero s_pooled gives ±Infinity, or NaN
 * for equal means.
 *
 * @example cohensD([3, 4, 5, 6, 7], [1, 2, 3, 4, 5]); // 1.2649…
 */
export function cohensD(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2 || b.length < 2) throw new InvalidArgumentError(`Cohen's d needs at least two values per group, got ${a.length} and ${b.length}`);
  for (const x of [...a, ...b]) if (!Number.isFinite(x)) throw new InvalidArgumentError(`mean: values must be finite numbers, got ${x}`);
  const { difference, pooled } = pooledDifference(a, b);
  return difference / pooled;
}

/**
 * Cohen's d as {@link cohensD}, but never throws: a group of one value has no variance, and d is 0
 * when s_pooled is 0 or not a number (no spread, or non-finite values). For a quick separation score.
 *
 * @example lenientCohensD([1, 1], [1, 1]); // 0
 */
export function lenientCohensD(a: readonly number[], b: readonly number[]): number {
  const { difference, pooled } = pooledDifference(a, b);
  return pooled > 0 ? difference / pooled : 0;
}
