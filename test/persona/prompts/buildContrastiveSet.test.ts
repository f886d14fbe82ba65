import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { buildContrastiveSet } from '../../../src/persona/prompts/buildContrastiveSet.js';
import { describePersona } from '../../../src/persona/prompts/describePersona.js';
import { QUESTION_BANK } from '../../../src/persona/prompts/questionBank.js';
import { seededShuffle } from '../../../src/util/random.js';

describe('buildContrastiveSet', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 3, heldOut: 16 });
    const b = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 3, heldOut: 16 });
    const c = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 4, heldOut: 16 });
    expect(b).toEqual(a);
    expect(c.positive.map((p) => p.user)).not.toEqual(a.positive.map((p) => p.user));
  });

  it('is row-aligned: the same question on both sides, under a paired positive and negative system prompt', () => {
    const set = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 1, preferStylePhrasings: false });
    const d = describePersona('formal and professional');
    expect(set.positive).toHaveLength(20);
    expect(set.negative).toHaveLength(20);
    set.positive.forEach((p, i) => {
      expect(set.negative[i].user).toBe(p.user);
      expect(d.pairs).toContainEqual({ pos: p.system, neg: set.negative[i].system });
    });
    expect(set).toMatchObject({ description: 'formal and professional', opposite: 'casual and laid-back' });
  });

  it("uses only the stylist's exact phrasings by default when the description has them, and every template otherwise", () => {
    const style = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 1 });
    expect(new Set(style.positive.map((p) => p.system))).toEqual(new Set(['You are a formal and professional assistant.']));
    expect(new Set(style.negative.map((p) => p.system))).toEqual(new Set(['You are a casual, laid-back buddy.']));
    const all = buildContrastiveSet({ description: 'formal and professional', numPrompts: 20, seed: 1, preferStylePhrasings: false });
    expect(all.positive.map((p) => p.user)).toEqual(style.positive.map((p) => p.user));
    expect(all.positive[0]).toEqual(style.positive[0]);
    expect(all.negative[0]).toEqual(style.negative[0]);
    expect(new Set(all.positive.map((p) => p.system)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(all.negative.map((p) => p.system)).size).toBeGreaterThanOrEqual(5);
    const optimistic = buildContrastiveSet({ description: 'optimistic', numPrompts: 20, seed: 1 });
    expect(new Set(optimistic.positive.map((p) => p.system)).size).toBeGreaterThanOrEqual(5);
    expect(buildContrastiveSet({ description: 'optimistic', numPrompts: 20, seed: 1, maxInstructions: 2 }).positive.map((p) => p.system)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'You are an optimistic assistant.' : 'Answer in an optimistic way.')),
    );
  });

  it('keeps held-out questions from the bank, distinct from the extraction ones', () => {
    const set = buildContrastiveSet({ description: 'vivid and creative', numPrompts: 40, seed: 9, heldOut: 24 });
    const used = new Set(set.positive.map((p) => p.user));
    expect(used.size).toBe(40);
    expect(set.questionsHeldOut).toHaveLength(24);
    expect(new Set(set.questionsHeldOut).size).toBe(24);
    for (const q of set.questionsHeldOut ?? []) {
      expect(used.has(q)).toBe(false);
      expect(QUESTION_BANK).toContain(q);
    }
  });

  it('reuses questions with another instruction pair when more prompts are asked than questions are left', () => {
    const questions = ['Q1?', 'Q2?', 'Q3?', 'Q4?'];
    const set = buildContrastiveSet({ description: 'polite', numPrompts: 9, seed: 0, heldOut: 1, questions });
    expect(set.positive).toHaveLength(9);
    expect(set.questionsHeldOut).toHaveLength(1);
    expect(set.positive.map((p) => p.user)).not.toContain(set.questionsHeldOut?.[0]);
    const rows = set.positive.map((p, i) => `${p.system}|${set.negative[i].system}|${p.user}`);
    expect(new Set(rows).size).toBe(9);
  });

  it('rejects bad counts with a clear error', () => {
    expect(() => buildContrastiveSet({ description: 'formal', numPrompts: 0 })).toThrow(InvalidArgumentError);
    expect(() => buildContrastiveSet({ description: 'formal', heldOut: -1 })).toThrow(/heldOut must be an integer/);
    expect(() => buildContrastiveSet({ description: 'formal', heldOut: 3, questions: ['a', 'b', 'c'] })).toThrow(/3 distinct questions/);
  });
});

describe('seededShuffle', () => {
  it('returns a permutation, the same for the same seed, without touching its input', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s = seededShuffle(items, 7);
    expect(s).toEqual(seededShuffle(items, 7));
    expect([...s].sort((a, b) => a - b)).toEqual(items);
    expect(s).not.toEqual(items);
    expect(items[0]).toBe(0);
  });
});
