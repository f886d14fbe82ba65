/**
 * Coherence proxies that need no judge: repetition (distinct-n), end-of-turn rate, and — through a
 * source the engine provides — perplexity of the answer under the unsteered model.
 */
import { InvalidArgumentError } from '../../errors.js';
import { wilsonCI, type Interval } from '../stats.js';
import type { Scorer, ScoreItem, ScoreValue } from './Scorer.js';

/**
 * The answer's words: lower-cased runs of letters, digits and apostrophes (punctuation and
 * whitespace separate words).
 *
 * @example words("Hey, it's   fine!!"); // ['hey', "it's", 'fine']
 */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}'’]+/gu) ?? [];
}

/**
 * distinct-n: distinct word n-grams / all word n-grams of one answer, in (0, 1]; 1 = no repetition,
 * near 0 = a loop. `null` when the answer has fewer than n words.
 *
 * @example distinctN('the cat the cat the cat', 2); // 2 distinct of 5 bigrams = 0.4
 */
export function distinctN(text: string, n: number): number | null {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`distinct-n needs an integer n ≥ 1, got ${n}`);
  const w = words(text);
  const total = w.length - n + 1;
  if (total < 1) return null;
  const seen = new Set<string>();
  for (let i = 0; i < total; i++) seen.add(w.slice(i, i + n).join('\u0000'));
  return seen.size / total;
}

/**
 * A scorer of repetition: metrics `distinct1`, `distinct2`, `distinct3` (or the `ns` given).
 *
 * @example const [row] = await distinctNScorer().score([{ question: 'q', answer: 'a b a b' }]); // { distinct1: 0.5, distinct2: 0.667, distinct3: 1 }
 */
export function distinctNScorer(ns: number[] = [1, 2, 3]): Scorer {
  for (const n of ns) if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`distinct-n needs integers n ≥ 1, got ${n}`);
  return {
    name: 'distinct-n',
    metrics: ns.map((n) => `distinct${n}`),
    async score(items: ScoreItem[]) {
      return items.map((it) => Object.fromEntries(ns.map((n) => [`distinct${n}`, distinctN(it.answer, n)])));
    },
  };
}

/**
 * End-of-turn rate: the share of answers that closed their turn (emitted the end-of-turn token)
 * within the token budget, with a Wilson interval. Answers that stop ending are the first sign of
 * steering too hard.
 *
 * @example endOfTurnRate([true, true, false, true]); // { estimate: 0.75, lo: 0.30…, hi: 0.95…, level: 0.95 }
 */
export function endOfTurnRate(ended: readonly boolean[], level = 0.95): Interval {
  if (ended.length === 0) throw new InvalidArgumentError('end-of-turn rate needs at least one answer');
  return wilsonCI(ended.filter(Boolean).length, ended.length, level);
}

/** Log-probability of an answer's tokens given its prompt, as the engine reports it. */
export interface AnswerLogProb {
  /** Sum of natural-log probabilities of the answer tokens. */
  sumLogProb: number;
  /** Number of answer tokens scored. */
  tokens: number;
}

/**
 * What a perplexity scorer needs from the engine: the unsteered model's log-probabilities of each
 * answer given its question (teacher-forced, steering off). The engine side implements it.
 */
export interface AnswerLogProbSource {
  answerLogProbs(items: ScoreItem[]): Promise<AnswerLogProb[]>;
}

/**
 * Perplexity of an answer under the unsteered model: exp(−sumLogProb / tokens); `null` for an
 * empty answer.
 *
 * @example perplexity({ sumLogProb: -2 * Math.LN2, tokens: 2 }); // 2
 */
export function perplexity(lp: AnswerLogProb): number | null {
  if (lp.tokens <= 0 || !Number.isFinite(lp.sumLogProb)) return null;
  return Math.exp(-lp.sumLogProb / lp.tokens);
}

/**
 * A scorer with metric `perplexity` backed by an engine-provided {@link AnswerLogProbSource}.
 *
 * @example const ppl = perplexityScorer({ answerLogProbs: (items) => engine.answerLogProbs(items) });
 */
export function perplexityScorer(source: AnswerLogProbSource): Scorer {
  return {
    name: 'perplexity',
    metrics: ['perplexity'],
    async score(items: ScoreItem[]) {
      const lps = await source.answerLogProbs(items);
      if (lps.length !== items.length) throw new InvalidArgumentError(`perplexity source returned ${lps.length} results for ${items.length} answers`);
      return lps.map((lp): Record<string, ScoreValue> => ({ perplexity: perplexity(lp) }));
    },
  };
}
