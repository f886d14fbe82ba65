/** One answer to score, with the question that produced it. */
export interface ScoreItem {
  question: string;
  answer: string;
}

/** A metric value for one answer; `null` means the answer could not be scored (counted, not dropped). */
export type ScoreValue = number | null;

/**
 * A pluggable scorer: turns answers into named metrics. Scorers are small factories
 * (`loadMarkersScorer`, `distinctNScorer`, `createJudgeScorer`, `perplexityScorer`) returning this shape.
 *
 * @example
 * const rows = await scorer.score([{ question: 'Invite Sam.', answer: 'Dear Sam, …' }]);
 * rows[0].formality; // one value per name in scorer.metrics
 */
export interface Scorer {
  /** Short identifier, e.g. `markers`, `judge`, `distinct-n`. */
  name: string;
  /** The metric names every row of `score` carries, in display order. */
  metrics: string[];
  /** One row per item, in order; each row has every name in `metrics`. */
  score(items: ScoreItem[]): Promise<Array<Record<string, ScoreValue>>>;
}
