import type { LanguageModel } from '../engine/LanguageModel.js';
import { InvalidArgumentError } from '../errors.js';
import { computePersonaVector } from './computePersonaVector.js';
import type { ContrastPrompt } from './prompts/PromptSet.js';
import { createPromptSet } from './createPromptSet.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import type { ProgressCallback } from '../util/progress.js';
import { DEFAULTS } from '../engine/defaults.js';

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
    throw new InvalidArgumentError(
      `Persona ${persona.name} records no positive and negative system prompts, so its contrastive answers cannot be recomputed; give --positive-prompts and --negative-prompts files.`,
    );
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
  /** Contrastive pairs for the vector (default 64, as `persona create`). */
  numPrompts?: number;
  seed?: number;
  name?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * A persona vector from a one-line description, made exactly as `persona create` makes it (the
 * built-in contrastive set for the description, 64 pairs, answers of 48 tokens at T = 0.8, top-k 50,
 * the seed), so `analyze-layers --personality` and `evaluate --personality` judge the same vector
 * `create` writes; the separation pairs are the persona's own system prompts over `questions`.
 *
 * @example const { persona, separation } = await personaFromDescription(model, 'formal and professional', questionSet.extraction);
 */
export async function personaFromDescription(
  model: LanguageModel,
  description: string,
  questions: readonly string[],
  o: DescriptionPersonaOptions = {},
): Promise<{ persona: PersonaVector; separation: ContrastPairs }> {
  const unique = [...new Set(questions)];
  if (unique.length < 2) throw new InvalidArgumentError(`Separation needs at least 2 distinct questions; got ${unique.length}.`);
  const seed = o.seed ?? 0;
  const set = await createPromptSet({ personality: description, numPrompts: o.numPrompts ?? DEFAULTS.prompts.numPrompts, seed });
  const { persona } = await computePersonaVector({
    model,
    positivePrompts: set.positive,
    negativePrompts: set.negative,
    name: o.name ?? (description.split(/\s+/)[0].replace(/[^A-Za-z0-9_-]/g, '') || 'persona'),
    description,
    maxNewTokens: 48,
    sampling: { temperature: DEFAULTS.sampling.temperature, topK: DEFAULTS.sampling.topK, seed },
    onProgress: o.onProgress,
    signal: o.signal,
  });
  return { persona, separation: contrastFromPersona(persona, unique, Math.min(64, unique.length)) };
}
