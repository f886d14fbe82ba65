import type { LanguageModel } from '../../engine/LanguageModel.js';
import { answerTokens } from '../../persona/computePersonaVector.js';
import type { ScoreItem } from '../scorers/Scorer.js';

/**
 * An answer to score with the exact token ids the model saw and wrote, so engine-side scorers
 * (perplexity, projection) need not re-tokenize text. `answerIds` may end with the end-of-turn token.
 *
 * @example const item: TokenizedItem = { question: 'Invite Sam.', answer: row.text, promptIds: row.promptIds, answerIds: row.tokens };
 */
export interface TokenizedItem extends ScoreItem {
  promptIds?: number[];
  answerIds?: number[];
}

/**
 * The prompt and answer ids of an item: the ones it carries, or the question under the chat template
 * (no system prompt) and the answer's text encoded.
 *
 * @example const { promptIds, answerIds } = itemIds(model, { question: 'Invite Sam.', answer: 'Dear Sam, …' });
 */
export function itemIds(model: LanguageModel, item: ScoreItem): { promptIds: number[]; answerIds: number[] } {
  const t = item as TokenizedItem;
  return {
    promptIds: t.promptIds ?? model.encodePrompt(item.question),
    answerIds: t.answerIds ?? model.tokenizer.encode(item.answer),
  };
}

/**
 * The answer tokens whose activations are read: without the closing end-of-turn token, at least one.
 *
 * @example contentIds(model, [5, 9, 2]); // [5, 9] on the stylist (2 = <|im_end|>)
 */
export function contentIds(model: LanguageModel, answerIds: number[]): number[] {
  return answerTokens(answerIds, model.stopTokenIds);
}
