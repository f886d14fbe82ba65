import type { LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { computePersonaVector } from '../../persona/computePersonaVector.js';
import type { ContrastPrompt } from '../../persona/prompts/PromptSet.js';
import { buildContrastiveSet } from '../../persona/prompts/buildContrastiveSet.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import type { ProgressCallback } from '../../util/progress.js';

/**
 * Row-aligned positive and negative prompts: pair i is one question under the two system prompts.
 *
 * @example const pairs: ContrastPairs = { positive: [{ system: 'Be formal.', user: 'Hi' }], negative: [{ system: 'Be casual.', user: 'Hi' }] };
 */
export interface ContrastPairs {
  positive: ContrastPrompt[];
  negative: ContrastPrompt[];
}

/**
 * Contrastive pairs from the system prompts a persona file records (`prompts.systemPositive` /
 * `systemNegative`, cycled) over the given questions: what the layer analysis re-answers to measure
 * separation. A persona without recorded system prompts needs prompt files instead.
 *
 * @example const pairs = contrastFromPersona(formal, questionSet.extraction); // pairs.positive[0].system === 'You are a formal and professional assistant.'
 */
export function contrastFromPersona(persona: PersonaVector, questions: readonly string[], numPairs = questions.length): ContrastPairs {
  const pos = persona.meta.prompts?.systemPositive?.length ? persona.meta.prompts.systemPositive : persona.meta.systemPrompt ? [persona.meta.systemPrompt] : [];
  const neg = persona.meta.prompts?.systemNegative ?? [];
  if (pos.length === 0 || neg.length === 0) {
    throw new InvalidArgumentError(`Persona ${persona.name} records no positive and negative system prompts, so its contrastive answers cannot be recomputed; give --positive-prompts and --negative-prompts files.`);
  }
  if (questions.length === 0) throw new InvalidArgumentError('Contrastive pairs need at least one question.');
  const n = Math.max(1, Math.min(numPairs, questions.length));
  const positive: ContrastPrompt[] = [];
  const negative: ContrastPrompt[] = [];
  for (let i = 0; i < n; i++) {
    positive.push({ system: pos[i % pos.length], user: questions[i] });
    negative.push({ system: neg[i % neg.length], user: questions[i] });
  }
  return { positive, negative };
}

/**
 * Options of {@link personaFromDescription}.
 *
 * @example await personaFromDescription(model, 'vivid and creative', questions, { numPrompts: 32, seed: 1 });
 */
export interface DescriptionPersonaOptions {
  /** Contrastive pairs for the vector (default 32); as many other pairs are kept for separation. */
  numPrompts?: number;
  seed?: number;
  maxNewTokens?: number;
  name?: string;
  batchSize?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * A persona vector from a one-line description, for the layer analysis: instruction pairs from
 * `describePersona` over the first half of `questions` make the vector (as `persona create` does),
 * and the same instruction pairs over the other half give fresh contrastive pairs for separation, so
 * separation is measured on answers the vector never saw.
 *
 * @example const { persona, separation } = await personaFromDescription(model, 'formal and professional', questionSet.extraction);
 */
export async function personaFromDescription(model: LanguageModel, description: string, questions: readonly string[], o: DescriptionPersonaOptions = {}): Promise<{ persona: PersonaVector; separation: ContrastPairs }> {
  const unique = [...new Set(questions)];
  if (unique.length < 4) throw new InvalidArgumentError(`A persona from a description needs at least 4 distinct questions (half for the vector, half for separation); got ${unique.length}.`);
  const half = Math.floor(unique.length / 2);
  const numPrompts = o.numPrompts ?? Math.min(32, half);
  const build = (qs: string[]) => buildContrastiveSet({ description, numPrompts, seed: o.seed ?? 0, heldOut: 0, questions: qs });
  const train = build(unique.slice(0, half));
  const held = build(unique.slice(half));
  const { persona } = await computePersonaVector({
    model,
    positivePrompts: train.positive,
    negativePrompts: train.negative,
    name: o.name ?? (description.split(/\s+/)[0].replace(/[^A-Za-z0-9_-]/g, '') || 'persona'),
    description,
    maxNewTokens: o.maxNewTokens ?? 48,
    sampling: { temperature: 0.8, topK: 50, seed: o.seed ?? 0 },
    batchSize: o.batchSize,
    onProgress: o.onProgress,
    signal: o.signal,
  });
  return { persona, separation: { positive: held.positive, negative: held.negative } };
}
