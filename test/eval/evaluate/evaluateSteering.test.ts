import { describe, expect, it } from 'vitest';
import { evaluatePersonas } from '../../../src/eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { resolveSteering } from '../../../src/steering/resolveSteering.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

describe('evaluate with layer lists and operators', () => {
  it('steers every given layer with the given operator, exactly as the same steering value in generate', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const questions = defaultQuestionSet(model.dir, 3).evaluation;
    const settings = { maxNewTokens: 16, temperature: 0, engineScores: { projection: false, perplexity: false } } as const;
    const r = await evaluatePersonas(model, { personas: [formal], questions, alphas: [0, 3], layer: [1, 2], operator: 'ablate-add', ...settings });
    expect(r.personas[0].layers).toEqual([1, 2]);
    expect(r.personas[0].operator).toBe('ablate-add');
    const steered = r.answers
      .filter((a) => a.alpha === 3)
      .sort((a, b) => a.question - b.question)
      .map((a) => a.text);
    const direct = await model.generate(questions, {
      maxNewTokens: 16,
      intervention: resolveSteering(model, [{ persona: formal, alpha: 3, layers: [1, 2], operator: 'ablate-add' }]),
      sampling: { temperature: 0 },
    });
    expect(steered).toEqual(direct.map((d) => d.text));
    await expect(evaluatePersonas(model, { personas: [formal], questions, alphas: [0, 3], operator: 'ablate' as 'add', ...settings })).rejects.toThrow(
      /operator is add or ablate-add/,
    );
  });
});
