import { describe, expect, it } from 'vitest';
import { ANTONYM_GROUPS, describePersona, indefiniteArticle, oppositeTrait, TEMPLATE_COUNT } from '../../../src/persona/prompts/describePersona.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('describePersona', () => {
  it('gives "formal and professional" the stylist\'s exact system prompts on both sides, as the first pair', () => {
    const d = describePersona('formal and professional');
    expect(d.opposite).toBe('casual and laid-back');
    expect(d.pairs[0]).toEqual({ pos: 'You are a formal and professional assistant.', neg: 'You are a casual, laid-back buddy.' });
    expect(d.positive).toContain('You are a formal and professional assistant.');
    expect(d.negative).toContain('You are a casual, laid-back buddy.');
    expect(d.stylePairs).toEqual([d.pairs[0]]);
    expect(describePersona('optimistic').stylePairs).toEqual([]);
  });

  it('gives "vivid and creative" the stylist\'s exact imagery prompts on both sides', () => {
    const d = describePersona('vivid and creative');
    expect(d.opposite).toBe('plain and conventional');
    expect(d.pairs[0]).toEqual({ pos: 'Use vivid, creative imagery.', neg: 'Speak plainly and conventionally.' });
  });

  it('uses the stylist phrasings for single words and the reverse direction too', () => {
    expect(describePersona('formal').pairs[0]).toEqual({ pos: 'You are a formal and professional assistant.', neg: 'You are a casual, laid-back buddy.' });
    expect(describePersona('casual').pairs[0]).toEqual({ pos: 'You are a casual, laid-back buddy.', neg: 'You are a formal and professional assistant.' });
    expect(describePersona('plain').pairs[0]).toEqual({ pos: 'Speak plainly and conventionally.', neg: 'Use vivid, creative imagery.' });
  });

  it('builds at least five distinct instruction templates per side, row-aligned in pairs', () => {
    for (const desc of ['formal and professional', 'evil', 'optimistic', 'pirate-themed', 'friendly, not verbose']) {
      const d = describePersona(desc);
      expect(d.positive.length, desc).toBeGreaterThanOrEqual(5);
      expect(d.negative.length, desc).toBeGreaterThanOrEqual(5);
      expect(d.pairs.length).toBeGreaterThanOrEqual(TEMPLATE_COUNT);
      for (const p of d.pairs) expect(p.pos).not.toBe(p.neg);
    }
    const evil = describePersona('evil');
    expect(evil.positive).toEqual(expect.arrayContaining(['You are an evil assistant.', 'Answer in an evil way.', 'Your replies are always evil.']));
    expect(evil.negative).toContain('You are a good assistant.');
  });

  it('falls back to "not …" phrasing for a trait it has no antonym for', () => {
    const d = describePersona('pirate-themed');
    expect(d.oppositeKnown).toBe(false);
    expect(d.opposite).toBe('not pirate-themed');
    expect(d.negative).toEqual(expect.arrayContaining(['Answer in a way that is not pirate-themed.', 'Your replies are never pirate-themed.']));
    const mixed = describePersona('formal and zorby');
    expect(mixed.opposite).toBe('casual and not zorby');
    expect(mixed.negative).toContain('You are a casual assistant. Never be zorby.');
  });

  it('turns "not X" in a description into X on the opposite side', () => {
    const d = describePersona('friendly, not verbose');
    expect(d.opposite).toBe('cold and verbose');
    expect(d.positive).toContain('You are a friendly assistant. Never be verbose.');
  });

  it('rejects an empty description', () => {
    expect(() => describePersona('  ')).toThrow(InvalidArgumentError);
  });
});

describe('the antonym table', () => {
  it('has at least 25 pairs, including the common style and character traits, both ways', () => {
    expect(ANTONYM_GROUPS.length).toBeGreaterThanOrEqual(25);
    const pairs: [string, string][] = [
      ['formal', 'casual'],
      ['professional', 'laid-back'],
      ['vivid', 'plain'],
      ['creative', 'conventional'],
      ['polite', 'rude'],
      ['optimistic', 'pessimistic'],
      ['humorous', 'serious'],
      ['concise', 'verbose'],
      ['enthusiastic', 'apathetic'],
      ['confident', 'uncertain'],
      ['friendly', 'cold'],
      ['evil', 'good'],
      ['sycophantic', 'candid'],
    ];
    for (const [a, b] of pairs) {
      expect(oppositeTrait(a)).toBe(b);
      expect(oppositeTrait(b)).toBe(a);
    }
    expect(oppositeTrait('informal')).toBe('formal');
    expect(oppositeTrait('unprofessional')).toBe('professional');
    expect(oppositeTrait('impolite')).toBe('polite');
  });

  it('keeps modifiers, accepts spaced and capitalised forms, and says when it does not know', () => {
    expect(oppositeTrait('very formal')).toBe('very casual');
    expect(oppositeTrait('Laid back')).toBe('professional');
    expect(oppositeTrait('zorby')).toBeUndefined();
  });
});

describe('indefiniteArticle', () => {
  it('follows the sound of common exceptions', () => {
    expect(['evil', 'honest', 'formal', 'useful', 'unimaginative', 'uncertain'].map(indefiniteArticle)).toEqual(['an', 'an', 'a', 'a', 'an', 'an']);
  });
});
