import { InvalidArgumentError } from '../../errors.js';
import { endOfTurnRate } from '../scorers/coherenceScorers.js';
import type { ScoreValue } from '../scorers/Scorer.js';
import { meanCI, std, summarize, type MetricSummary } from '../stats.js';

/**
 * The end-of-turn rate of a group of answers with its Wilson interval.
 *
 * @example const e: EndedSummary = { ended: 28, n: 32, rate: 0.875, lo: 0.719, hi: 0.950, level: 0.95 };
 */
export interface EndedSummary {
  /** Answers that closed their turn within the token budget. */
  ended: number;
  n: number;
  rate: number;
  lo: number;
  hi: number;
  level: number;
}

/**
 * Every metric of one group of answers (one alpha, one condition): mean, t interval, and the end-of-turn rate.
 *
 * @example const s: ConditionSummary = summarizeCondition(scores, ended, tokens, ['formality']); s.metrics.formality.mean;
 */
export interface ConditionSummary {
  n: number;
  metrics: Record<string, MetricSummary>;
  ended: EndedSummary;
  /** Mean number of generated tokens. */
  meanTokens: number;
}

/**
 * Summarises a group of scored answers: each metric's mean with a Student-t interval (`null` scores
 * counted as missing), and the end-of-turn rate with a Wilson interval.
 *
 * @example summarizeCondition([{ formality: 1 }, { formality: 0.5 }], [true, false], [12, 48], ['formality']);
 */
export function summarizeCondition(
  scores: Array<Record<string, ScoreValue>>,
  ended: boolean[],
  tokens: number[],
  metrics: string[],
  level = 0.95,
): ConditionSummary {
  if (scores.length === 0 || scores.length !== ended.length || tokens.length !== ended.length)
    throw new InvalidArgumentError(
      `a condition needs as many scores, ended flags and token counts as answers (≥ 1); got ${scores.length}, ${ended.length}, ${tokens.length}`,
    );
  const ci = endOfTurnRate(ended, level);
  return {
    n: scores.length,
    metrics: Object.fromEntries(
      metrics.map((m) => [
        m,
        summarize(
          scores.map((s) => s[m] ?? null),
          level,
        ),
      ]),
    ),
    ended: { ended: ended.filter(Boolean).length, n: ended.length, rate: ci.estimate, lo: ci.lo, hi: ci.hi, level },
    meanTokens: tokens.reduce((a, b) => a + b, 0) / tokens.length,
  };
}

/**
 * A paired difference: mean of (a − b) over the pairs both scored, with its t interval.
 *
 * @example const d: PairedDelta = pairedDelta(steered, unsteered); d.lo > 0; // a reliable increase
 */
export interface PairedDelta {
  n: number;
  mean: number;
  lo: number;
  hi: number;
  level: number;
  /** The standard deviation the mean is measured against (of the baseline, or of `scale`); NaN when unknown. */
  sd: number;
  /** mean / sd (`null` when sd is 0 or unknown). */
  standardized: number | null;
}

/**
 * The paired difference of a metric between two conditions answered with the same questions and
 * seeds (row i of `a` pairs with row i of `b`): mean and t interval of a_i − b_i; pairs with a `null`
 * are left out. `standardized` divides the mean by the standard deviation of `b` (or of `scale` when
 * given), so metrics on different scales compare.
 *
 * @example pairedDelta([0.5, 1, 0.2], [0, 0.5, -0.1]); // { n: 3, mean: 0.433…, … }
 */
export function pairedDelta(a: ScoreValue[], b: ScoreValue[], level = 0.95, scale?: ScoreValue[]): PairedDelta {
  if (a.length !== b.length) throw new InvalidArgumentError(`paired difference needs rows that pair up; got ${a.length} and ${b.length}`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (x !== null && y !== null && x !== undefined && y !== undefined) d.push(x - y);
  }
  if (d.length === 0) return { n: 0, mean: NaN, lo: NaN, hi: NaN, level, sd: NaN, standardized: null };
  const ci = meanCI(d, level);
  const base = (scale ?? b).filter((v): v is number => v !== null && v !== undefined);
  const sd = base.length >= 2 ? std(base) : NaN;
  return { n: d.length, mean: ci.estimate, lo: ci.lo, hi: ci.hi, level, sd, standardized: sd > 0 ? ci.estimate / sd : null };
}
