import { describe, expect, it } from 'vitest';
import { ReasoningSplitter, splitReasoning } from '../../../src/model/tokenizer/splitReasoning.js';

function streamed(text: string, size: number, opts = {}): { reasoning: string; content: string } {
  const s = new ReasoningSplitter(opts);
  let reasoning = '';
  let content = '';
  for (let i = 0; i < text.length; i += size) {
    const p = s.push(text.slice(i, i + size));
    reasoning += p.reasoning;
    content += p.content;
  }
  const f = s.flush();
  return { reasoning: reasoning + f.reasoning, content: content + f.content };
}

describe('splitReasoning', () => {
  it('takes the thinking out of a Qwen3 answer, without its tags and surrounding newlines', () => {
    expect(splitReasoning('<think>\nThe user wants a note.\nBe brief.\n</think>\n\nDear Sam, thank you.')).toEqual({
      reasoning: 'The user wants a note.\nBe brief.',
      content: 'Dear Sam, thank you.',
    });
  });

  it('leaves an answer without thinking as content, and reports no reasoning', () => {
    expect(splitReasoning('Dear Sam, <think> is a tag.')).toEqual({ reasoning: null, content: 'Dear Sam, <think> is a tag.' });
  });

  it('gives an empty reasoning for the empty block a thinking-off prompt would hold', () => {
    expect(splitReasoning('<think>\n\n</think>\n\nHi')).toEqual({ reasoning: '', content: 'Hi' });
  });

  it('keeps an unfinished thought as reasoning (the answer was cut by max tokens)', () => {
    expect(splitReasoning('<think>\nStill thinking')).toEqual({ reasoning: 'Still thinking', content: '' });
  });

  it('reads text that starts inside the thinking when the prompt opened it', () => {
    expect(splitReasoning('Plan.</think>Answer', { startInside: true })).toEqual({ reasoning: 'Plan.', content: 'Answer' });
  });
});

describe('ReasoningSplitter', () => {
  const answers = [
    '<think>\nThe user wants a note.\n\nBe brief </ok>.\n</think>\n\nDear Sam,\n\nthank you.',
    '  <think>x</think>y',
    'No thinking here </think> at all.',
    '<think>\nunfinished <',
    '<thinking is not the tag',
  ];
  it.each([1, 2, 3, 7])('gives the same split streamed in pieces of %i characters as on the whole text', (size) => {
    for (const a of answers) {
      const whole = splitReasoning(a);
      expect(streamed(a, size)).toEqual({ reasoning: whole.reasoning ?? '', content: whole.content });
    }
  });

  it('holds back only a possible tag start, so content streams as it comes', () => {
    const s = new ReasoningSplitter();
    expect(s.push('<th')).toEqual({ reasoning: '', content: '' });
    expect(s.push('ink>Plan')).toEqual({ reasoning: 'Plan', content: '' });
    expect(s.push('.</thi')).toEqual({ reasoning: '.', content: '' });
    expect(s.push('nk>\n\nHel')).toEqual({ reasoning: '', content: 'Hel' });
    expect(s.push('lo')).toEqual({ reasoning: '', content: 'lo' });
  });
});
