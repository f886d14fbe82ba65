import type { LanguageModel } from '../engine/LanguageModel.js';
import type { ProgressCallback } from '../util/progress.js';
import { buildContrastiveSet } from './prompts/buildContrastiveSet.js';
import { generateArtifacts, type ChatGenerator } from './prompts/generateArtifacts.js';
import { openAIChatGenerator } from './prompts/openAIChatGenerator.js';
import type { ContrastiveSet } from './prompts/PromptSet.js';
import { DEFAULTS } from '../engine/defaults.js';

/** The loaded model as a chat generator (for `--generator local`). */
export function localChatGenerator(model: LanguageModel, seed = 0): ChatGenerator {
  return async (messages, opts) => {
    const [r] = await model.generate([messages], {
      maxNewTokens: Math.min(opts.maxTokens ?? 2048, model.config.maxPositionEmbeddings - 64),
      sampling: { temperature: opts.temperature ?? 0.7, seed },
      ignoreHooks: true,
    });
    return r.text;
  };
}

export interface CreatePromptSetOptions {
  personality: string;
  numPrompts?: number;
  seed?: number;
  /** `local` (the model itself), an OpenAI-compatible base URL, or absent for the built-in bank. */
  generator?: string;
  generatorModel?: string;
  apiKey?: string;
  model?: LanguageModel;
  onProgress?: ProgressCallback;
}

/**
 * The contrastive set for a one-line description: system-prompt pairs over the built-in question
 * bank, or — with a generator — the persona_vectors paper's artefact (instruction pairs, questions,
 * evaluation prompt), validated and retried when malformed.
 *
 * @example const set = await createPromptSet({ personality: 'formal and professional', numPrompts: 64 });
 */
export async function createPromptSet(o: CreatePromptSetOptions): Promise<ContrastiveSet> {
  if (!o.generator) return buildContrastiveSet({ description: o.personality, numPrompts: o.numPrompts ?? DEFAULTS.prompts.numPrompts, seed: o.seed ?? 0 });
  let gen: ChatGenerator;
  if (o.generator === 'local') {
    if (!o.model) throw new Error('--generator local needs the model loaded');
    gen = localChatGenerator(o.model, o.seed);
  } else {
    gen = openAIChatGenerator({ baseURL: o.generator, apiKey: o.apiKey ?? process.env.OPENAI_API_KEY, model: o.generatorModel ?? 'default' });
  }
  const { set } = await generateArtifacts(gen, { trait: o.personality, onProgress: o.onProgress });
  return set;
}
