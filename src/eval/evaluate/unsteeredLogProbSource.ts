import type { LanguageModel } from '../../engine/LanguageModel.js';
import type { AnswerLogProb, AnswerLogProbSource } from '../scorers/coherenceScorers.js';
import type { ScoreItem } from '../scorers/Scorer.js';
import { unsteeredReader, type UnsteeredReader } from './unsteeredReader.js';

/**
 * Log-probabilities of answers under the model with steering off (no hooks, no intervention),
 * teacher-forced in one batched prefill per answer list: the source of `perplexityScorer`. Items that
 * carry `promptIds` and `answerIds` (see `TokenizedItem`) are scored on exactly those tokens, the
 * closing end-of-turn token included — a steered answer that never ends pays for it. Pass the reader
 * a `projectionScorer` uses, and both come from the same pass.
 *
 * @example const ppl = perplexityScorer(unsteeredLogProbSource(model));
 */
export function unsteeredLogProbSource(model: LanguageModel, opts: { batchSize?: number; reader?: UnsteeredReader } = {}): AnswerLogProbSource {
  const reader = opts.reader ?? unsteeredReader(model, opts);
  return {
    async answerLogProbs(items: ScoreItem[]): Promise<AnswerLogProb[]> {
      return (await reader.read(items)).answerLogProbs;
    },
  };
}
