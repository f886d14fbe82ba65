/**
 * One side of a contrastive pair: an optional system prompt (the persona instruction) and the user
 * request. The model answers it; activations over the answer feed the persona vector.
 *
 * @example const p: ContrastPrompt = { system: 'You are a formal and professional assistant.', user: 'Describe a harbour at sunrise.' };
 */
export interface ContrastPrompt {
  system?: string;
  user: string;
  /** A given answer (or answer prefix such as "(A" for CAA A/B), read instead of generating one. */
  assistant?: string;
}

/**
 * Positive and negative prompts, row-aligned: `positive[i]` and `negative[i]` are one pair (usually
 * the same request under the persona's and the opposite persona's system prompt), as in the
 * persona_vectors paper's extraction step. `questionsHeldOut` are requests kept out of extraction
 * for evaluation and layer choice; `evalPrompt` is a judge template with `{question}` and `{answer}`.
 *
 * @example
 * const set: ContrastiveSet = {
 *   positive: [{ system: 'Use vivid, creative imagery.', user: 'Describe an old bookshop.' }],
 *   negative: [{ system: 'Speak plainly and conventionally.', user: 'Describe an old bookshop.' }],
 *   questionsHeldOut: ['What is a night market like?'],
 *   description: 'vivid and creative',
 * };
 */
export interface ContrastiveSet {
  positive: ContrastPrompt[];
  negative: ContrastPrompt[];
  questionsHeldOut?: string[];
  evalPrompt?: string;
  description?: string;
  /** The opposite persona in words, e.g. "casual and laid-back". */
  opposite?: string;
  name?: string;
}

/**
 * The files of a prompt-set folder, as `persona generate-prompts --out-dir D` writes them and
 * `persona train` reads them back (see `writePromptFiles` / `readPromptDir`).
 *
 * @example path.join(dir, PROMPT_SET_FILES.positive) // → D/positive.jsonl
 */
export const PROMPT_SET_FILES = {
  positive: 'positive.jsonl',
  negative: 'negative.jsonl',
  heldOut: 'questions-heldout.txt',
  meta: 'persona.json',
} as const;
