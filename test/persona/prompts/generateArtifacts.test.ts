import { describe, expect, it } from 'vitest';
import {
  artifactToContrastiveSet,
  extractJson,
  generateArtifacts,
  GeneratorError,
  validateArtifact,
  type ChatGenerator,
  type ChatMessage,
} from '../../../src/persona/prompts/generateArtifacts.js';
import { validArtifact } from './artifactFixture.js';

describe('extractJson', () => {
  it('finds the object in a fenced block, after leading prose, or bare', () => {
    expect(extractJson('Here you go:\n```json\n{"a": 1}\n```\nEnjoy.')).toEqual({ a: 1 });
    expect(extractJson('Sure, the artefact is {"a": {"b": "}"}} as asked.')).toEqual({ a: { b: '}' } });
    expect(extractJson('  {"a": [1, 2]}  ')).toEqual({ a: [1, 2] });
    expect(extractJson('<think>maybe {"draft": 1</think>\n{"final": true}')).toEqual({ final: true });
  });

  it('does not return a fragment of a malformed object, and says what went wrong', () => {
    expect(() => extractJson('{"instruction": [{"pos": "a", "neg": "b"},], }')).toThrow(GeneratorError);
    expect(() => extractJson('{"questions": ["one", "two"')).toThrow(/not closed/);
    expect(() => extractJson('I cannot help with that.')).toThrow(/no valid JSON object/);
  });
});

describe('validateArtifact', () => {
  it("accepts the paper's shape and cleans it", () => {
    const a = validArtifact();
    a.questions.push(' Question number 1? ');
    const v = validateArtifact(a);
    expect(v.instruction).toHaveLength(5);
    expect(v.questions).toHaveLength(40);
  });

  it('lists every problem of an invalid artefact', () => {
    const bad = { instruction: [{ pos: 'x', neg: '' }], questions: ['only one'], eval_prompt: 'Score {answer}.' };
    let message = '';
    try {
      validateArtifact(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/instruction\[0\] needs non-empty "pos" and "neg"/);
    expect(message).toMatch(/"questions" has 1 distinct questions; 40 are needed/);
    expect(message).toMatch(/placeholder \{question\}/);
    expect(() => validateArtifact([1])).toThrow(/must be a JSON object/);
  });
});

describe('artifactToContrastiveSet', () => {
  it('pairs every extraction question with every instruction, "You are a {trait} assistant." prefixed, and holds out the rest', () => {
    const set = artifactToContrastiveSet(validateArtifact(validArtifact()), { name: 'optimistic' });
    expect(set.positive).toHaveLength(100);
    expect(set.negative).toHaveLength(100);
    expect(set.questionsHeldOut).toHaveLength(20);
    expect(set.positive[0].system).toBe('You are an optimistic assistant. Look on the bright side, way 1.');
    expect(set.negative[0].system).toBe('You are a pessimistic assistant. Expect the worst, way 1.');
    set.positive.forEach((p, i) => expect(set.negative[i].user).toBe(p.user));
    const extract = new Set(set.positive.map((p) => p.user));
    expect(extract.size).toBe(20);
    for (const q of set.questionsHeldOut ?? []) expect(extract.has(q)).toBe(false);
    expect(set.evalPrompt).toContain('{answer}');
  });

  it('uses "helpful" on the negative side when the trait has no known antonym, as the paper does', () => {
    const set = artifactToContrastiveSet(validateArtifact(validArtifact()), { name: 'pirate-themed', rowsPerQuestion: 1 });
    expect(set.positive).toHaveLength(20);
    expect(set.negative[0].system).toMatch(/^You are a helpful assistant\. /);
  });
});

describe('generateArtifacts', () => {
  it('retries a malformed reply with the validation error fed back, then returns the validated set', async () => {
    const calls: ChatMessage[][] = [];
    const replies = [
      'Here is the JSON:\n```json\n{"instruction": [{"pos": "a", "neg": "b"}], "questions": ["q1"], ',
      `Apologies. Corrected:\n\`\`\`json\n${JSON.stringify(validArtifact(), null, 2)}\n\`\`\``,
    ];
    const gen: ChatGenerator = async (messages) => {
      calls.push(messages.map((m) => ({ ...m })));
      return replies[calls.length - 1];
    };
    const events: number[] = [];
    const { artifact, set, attempts } = await generateArtifacts(gen, {
      trait: 'optimistic',
      description: 'expects good outcomes',
      onProgress: (e) => events.push(e.done),
    });
    expect(attempts).toBe(2);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toHaveLength(1);
    expect(calls[0][0].content).toContain('optimistic');
    expect(calls[0][0].content).toContain('expects good outcomes');
    expect(calls[1].map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(calls[1][1].content).toBe(replies[0]);
    expect(calls[1][2].content).toMatch(/not closed/);
    expect(artifact.questions).toHaveLength(40);
    expect(set.positive).toHaveLength(100);
    expect(set.questionsHeldOut).toHaveLength(20);
    expect(set).toMatchObject({ name: 'optimistic', description: 'expects good outcomes', opposite: 'pessimistic' });
    expect(events.at(-1)).toBe(3);
  });

  it('feeds back what is invalid in a well-formed but incomplete artefact', async () => {
    const incomplete = { ...validArtifact(), questions: ['just one?'] };
    const seen: string[] = [];
    const gen: ChatGenerator = async (messages) => {
      seen.push(messages.at(-1)?.content ?? '');
      return JSON.stringify(seen.length === 1 ? incomplete : validArtifact());
    };
    const { attempts } = await generateArtifacts(gen, { trait: 'humorous' });
    expect(attempts).toBe(2);
    expect(seen[1]).toMatch(/"questions" has 1 distinct questions; 40 are needed/);
  });

  it('gives up after maxAttempts with every error in the message', async () => {
    let n = 0;
    const gen: ChatGenerator = async () => {
      n++;
      return 'no JSON here';
    };
    await expect(generateArtifacts(gen, { trait: 'evil', maxAttempts: 2 })).rejects.toThrow(/no valid trait artefact in 2 tries: try 1: .* \| try 2: /);
    expect(n).toBe(2);
  });

  it("passes the generator's own errors through without retrying", async () => {
    let n = 0;
    const gen: ChatGenerator = async () => {
      n++;
      throw new Error('connection refused');
    };
    await expect(generateArtifacts(gen, { trait: 'evil' })).rejects.toThrow('connection refused');
    expect(n).toBe(1);
  });
});
