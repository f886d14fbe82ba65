import { describe, expect, it } from 'vitest';
import { QUESTION_BANK } from '../../../src/persona/prompts/questionBank.js';

describe('the built-in question bank', () => {
  it('holds at least 120 questions, all distinct ignoring case and spacing', () => {
    expect(QUESTION_BANK.length).toBeGreaterThanOrEqual(120);
    const keys = new Set(QUESTION_BANK.map((q) => q.toLowerCase().replace(/\s+/g, ' ').trim()));
    expect(keys.size).toBe(QUESTION_BANK.length);
  });

  it('has short single-line requests that do not ask for a style', () => {
    for (const q of QUESTION_BANK) {
      expect(q).toMatch(/^\S.*[.?!]$/);
      expect(q).not.toMatch(/\n/);
      expect(q.length).toBeLessThan(100);
      expect(q).not.toMatch(/\b(formal|casual|polite|vivid|funny|plainly|professional)/i);
    }
  });

  it('covers varied kinds of request', () => {
    const kinds: Record<string, RegExp> = {
      advice: /advice|tips|what should i/i,
      explanation: /^(explain|why|how does|what causes|can you tell me how)/i,
      place: /^(describe|what is an? .* like\?)/i,
      invitation: /invit|ask .* to (come|join)|wants to see/i,
      apology: /apolog|sorry/i,
      thanks: /thank/i,
      complaint: /complain|upset|unhappy/i,
      decline: /decline|can't|turn down|say no/i,
      howTo: /^how do i/i,
      opinion: /what do you think|opinion|is it better|are .* better|should/i,
      story: /story/i,
      planning: /plan|organise/i,
      comparison: /compare|difference/i,
    };
    for (const [kind, re] of Object.entries(kinds)) {
      expect(QUESTION_BANK.filter((q) => re.test(q)).length, kind).toBeGreaterThanOrEqual(5);
    }
  });

  it('cannot be modified', () => {
    expect(Object.isFrozen(QUESTION_BANK)).toBe(true);
  });
});
