import { describe, expect, it } from 'vitest';
import { distinctN, distinctNScorer, endOfTurnRate, perplexity, perplexityScorer, words } from '../../../src/eval/scorers/coherenceScorers.js';

describe('coherence scorers', () => {
  it('splits answers into lower-cased words, ignoring punctuation', () => {
    expect(words("Hey, it's   FINE!! ok.")).toEqual(['hey', "it's", 'fine', 'ok']);
    expect(words('!!! ...')).toEqual([]);
  });

  it('computes distinct-n as distinct over all word n-grams', () => {
    expect(distinctN('the cat the cat the cat', 1)).toBeCloseTo(2 / 6, 12);
    expect(distinctN('the cat the cat the cat', 2)).toBeCloseTo(2 / 5, 12);
    expect(distinctN('the cat the cat the cat', 3)).toBeCloseTo(2 / 4, 12);
    expect(distinctN('a b c d', 2)).toBe(1);
    expect(distinctN('one', 2)).toBeNull();
    expect(distinctN('', 1)).toBeNull();
  });

  it('scores repetition as distinct1..3 per answer, null when too short', async () => {
    const s = distinctNScorer();
    expect(s.metrics).toEqual(['distinct1', 'distinct2', 'distinct3']);
    const rows = await s.score([
      { question: 'q', answer: 'a b a b' },
      { question: 'q', answer: 'hi' },
    ]);
    expect(rows[0]).toEqual({ distinct1: 0.5, distinct2: 2 / 3, distinct3: 1 });
    expect(rows[1]).toEqual({ distinct1: 1, distinct2: null, distinct3: null });
  });

  it('reports the end-of-turn rate with a Wilson interval', () => {
    const r = endOfTurnRate([true, true, false, true]);
    expect(r.estimate).toBe(0.75);
    expect(r.lo).toBeGreaterThan(0.2);
    expect(r.hi).toBeLessThan(1);
    expect(() => endOfTurnRate([])).toThrow(/at least one/);
  });

  it('turns engine log-probabilities into perplexity through the source interface', async () => {
    expect(perplexity({ sumLogProb: -2 * Math.LN2, tokens: 2 })).toBeCloseTo(2, 12);
    expect(perplexity({ sumLogProb: 0, tokens: 0 })).toBeNull();
    const s = perplexityScorer({ answerLogProbs: async (items) => items.map((it) => ({ sumLogProb: -it.answer.length, tokens: it.answer.length })) });
    expect(
      await s.score([
        { question: 'q', answer: 'abc' },
        { question: 'q', answer: '' },
      ]),
    ).toEqual([{ perplexity: Math.E }, { perplexity: null }]);
    const broken = perplexityScorer({ answerLogProbs: async () => [] });
    await expect(broken.score([{ question: 'q', answer: 'a' }])).rejects.toThrow(/0 results for 1/);
  });
});
