import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LanguageModel } from '../../../src/engine/LanguageModel.js';
import { scoreContinuations } from '../../helpers/scoreContinuations.js';
import { projectionScorer } from '../../../src/eval/evaluate/projectionScorer.js';
import { unsteeredLogProbSource } from '../../../src/eval/evaluate/unsteeredLogProbSource.js';
import { unsteeredReader } from '../../../src/eval/evaluate/unsteeredReader.js';
import type { TokenizedItem } from '../../../src/eval/evaluate/tokenizedItems.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

let model: LanguageModel;
beforeAll(async () => {
  model = await stylist();
});
afterAll(async () => {
  await model.dispose();
});

describe('the unsteered reader shared by the projection and perplexity scorers', () => {
  it('scores generated answers from one pass: the same projections as a separate pass, and the teacher-forced log-probs', async () => {
    const questions = ['Invite Sam to lunch.', 'Describe a windy hill.', 'Decline a meeting politely.'];
    const answers = await model.generate(questions, { maxNewTokens: 24 });
    const items: TokenizedItem[] = answers.map((a, i) => ({ question: questions[i], answer: a.text, promptIds: a.promptIds, answerIds: a.tokens }));
    items.push({ question: 'Say hi.', answer: 'Hello there, friend.' }); // text only: encoded by the reader
    const formal = await shippedPersona('formal');
    const reader = unsteeredReader(model, { batchSize: 2 });
    expect(reader.read(items)).toBe(reader.read(items));

    const shared = await projectionScorer(model, [{ persona: formal, layer: 1 }], { reader }).score(items);
    const alone = await projectionScorer(model, [{ persona: formal, layer: 1 }]).score(items);
    shared.forEach((row, i) => expect(row['projection:formal']!).toBeCloseTo(alone[i]['projection:formal']!, 4));

    const got = await unsteeredLogProbSource(model, { reader }).answerLogProbs(items);
    const seqs = items.map((it) => ({
      promptIds: it.promptIds ?? model.encodePrompt(it.question),
      answerIds: it.answerIds ?? model.tokenizer.encode(it.answer),
    }));
    const expected = await scoreContinuations(model.session, seqs, { padTokenId: model.padTokenId });
    got.forEach((s, i) => {
      expect(s.tokens).toBe(seqs[i].answerIds.length);
      expect(s.sumLogProb).toBeCloseTo(expected[i].sumLogProb, 3);
    });
    // Greedy answers are the model's own likeliest tokens: a mean log-prob near 0, far above a text it did not write.
    expect(got[0].sumLogProb / got[0].tokens).toBeGreaterThan(got[3].sumLogProb / got[3].tokens);
  });
});
