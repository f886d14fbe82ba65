import type { LanguageModel } from '../../engine/LanguageModel.js';
import { extractActivations } from '../../engine/extractActivations.js';
import type { AnswerLogProb } from '../scorers/coherenceScorers.js';
import type { ScoreItem } from '../scorers/Scorer.js';
import { contentIds, itemIds } from './tokenizedItems.js';
import { DEFAULTS } from '../../engine/defaults.js';

/**
 * What the unsteered model reads in a list of answers: per answer, the mean residual of every layer
 * over its content tokens (the closing end-of-turn token left out) and the log-probability of all its
 * tokens (that one included: a steered answer that never ends pays for it).
 */
export interface UnsteeredReading {
  responseMean: Float32Array[][];
  answerLogProbs: AnswerLogProb[];
}

/** Reads a list of answers once; the same array read again returns the same reading. */
export interface UnsteeredReader {
  read(items: ScoreItem[]): Promise<UnsteeredReading>;
}

/**
 * Reads answers back with steering off, one teacher-forced pass per list of items, shared by the
 * scorers that need it: `projectionScorer` and `unsteeredLogProbSource` given the same reader score
 * the same items from one prefill instead of two passes (the log-probabilities used to take a decode
 * step per answer token). Memoised by the items array the scorers are handed.
 *
 * @example
 * const reader = unsteeredReader(model);
 * const scorers = [projectionScorer(model, targets, { reader }), perplexityScorer(unsteeredLogProbSource(model, { reader }))];
 */
export function unsteeredReader(model: LanguageModel, opts: { batchSize?: number } = {}): UnsteeredReader {
  const memo = new WeakMap<ScoreItem[], Promise<UnsteeredReading>>();
  const readAll = async (items: ScoreItem[]): Promise<UnsteeredReading> => {
    const seqs = items.map((it) => {
      const { promptIds, answerIds } = itemIds(model, it);
      const content = contentIds(model, answerIds);
      // An empty answer is pooled over a stand-in end-of-turn token and scores 0 over 0 tokens.
      return answerIds.length ? { promptIds, answerIds, pooledAnswerTokens: content.length } : { promptIds, answerIds: content };
    });
    const acts = await extractActivations(model, seqs, { batchSize: opts.batchSize ?? DEFAULTS.sweep.batchSize, answerLogProbs: true });
    const answerLogProbs = acts.answerLogProbs!.map((s, i) => (itemIds(model, items[i]).answerIds.length ? s : { sumLogProb: 0, tokens: 0 }));
    return { responseMean: acts.responseMean, answerLogProbs };
  };
  return {
    read(items) {
      let p = memo.get(items);
      if (!p) memo.set(items, (p = readAll(items)));
      return p;
    },
  };
}
