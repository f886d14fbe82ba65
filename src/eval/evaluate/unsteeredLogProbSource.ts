import type { LanguageModel } from '../../engine/LanguageModel.js';
import { scoreContinuations } from '../../engine/generate/scoreContinuations.js';
import type { AnswerLogProb, AnswerLogProbSource } from '../scorers/coherenceScorers.js';
import type { ScoreItem } from '../scorers/Scorer.js';
import { itemIds } from './tokenizedItems.js';

/**
 * Log-probabilities of answers under the model with steering off (no hooks, no intervention),
 * teacher-forced in batches: the source of `perplexityScorer`. Items that carry `promptIds` and
 * `answerIds` (see `TokenizedItem`) are scored on exactly those tokens, the closing end-of-turn token
 * included — a steered answer that never ends pays for it.
 *
 * @example const ppl = perplexityScorer(unsteeredLogProbSource(model));
 */
export function unsteeredLogProbSource(model: LanguageModel, opts: { batchSize?: number } = {}): AnswerLogProbSource {
  return {
    async answerLogProbs(items: ScoreItem[]): Promise<AnswerLogProb[]> {
      const seqs = items.map((it) => itemIds(model, it));
      const scorable = seqs.map((s, i) => ({ ...s, i })).filter((s) => s.answerIds.length > 0);
      const out: AnswerLogProb[] = items.map(() => ({ sumLogProb: 0, tokens: 0 }));
      const scores = await scoreContinuations(model.session, scorable, { padTokenId: model.padTokenId, intervention: null, batchSize: opts.batchSize ?? 128 });
      scores.forEach((s, k) => (out[scorable[k].i] = s));
      return out;
    },
  };
}
