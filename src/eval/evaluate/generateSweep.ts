import type { GeneratedText, LanguageModel, Prompt } from '../../engine/LanguageModel.js';
import type { Intervention } from '../../engine/generate/Intervention.js';
import type { SamplingOptions } from '../../engine/generate/sampling.js';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { tokenProgress, type ProgressCallback } from '../../util/progress.js';
import { splitAnswerTokens } from '../../model/tokenizer/splitReasoning.js';
import { DEFAULTS } from '../../engine/defaults.js';

/**
 * One row of a sweep: a prompt, its steering (null = none) and its sampling seed.
 *
 * @example const row: SweepRow = { prompt: 'Invite Sam to lunch.', intervention: resolveSteering(model, [{ persona, alpha: 4 }]), seed: 7 };
 */
export interface SweepRow {
  prompt: Prompt;
  intervention: Intervention | null;
  seed: number;
}

/**
 * Options of {@link generateSweep}.
 *
 * @example const o: GenerateSweepOptions = { maxNewTokens: 48, sampling: { temperature: 0.8, topK: 50 }, batchSize: 64 };
 */
export interface GenerateSweepOptions {
  maxNewTokens: number;
  /** Sampling without the seed (each row has its own); temperature 0 is greedy. */
  sampling: Omit<SamplingOptions, 'seed'>;
  /** Rows per forward batch (default 64). */
  batchSize?: number;
  onProgress?: ProgressCallback;
  /** Progress phase name (default `answers`). */
  phase?: string;
  signal?: AbortSignal;
  /** Let a thinking model think (`enable_thinking`); the thinking is split off each answer (`reasoning`, `contentStart`). */
  thinking?: boolean;
}

/**
 * Generates every row of a sweep in batches where each row carries its own intervention (an alpha
 * sweep, several layers, prompted baselines) and its own seed — rows for the same question and sample
 * share a seed across alphas, so differences between alphas are paired (common random numbers).
 * Hooks installed on the model are ignored: the sweep says exactly what is steered.
 *
 * @example
 * const rows = alphas.flatMap((a) => questions.map((q, i) => ({ prompt: q, intervention: resolveSteering(model, [{ persona, alpha: a }]), seed: i })));
 * const answers = await generateSweep(model, rows, { maxNewTokens: 48, sampling: { temperature: 0.8, topK: 50 } });
 */
export async function generateSweep(model: LanguageModel, rows: SweepRow[], o: GenerateSweepOptions): Promise<GeneratedText[]> {
  const bs = o.batchSize ?? DEFAULTS.sweep.batchSize;
  if (!(Number.isInteger(bs) && bs >= 1)) throw new InvalidArgumentError(`batch size must be an integer ≥ 1; got ${bs}`);
  const total = rows.length * o.maxNewTokens;
  const phase = o.phase ?? 'answers';
  const progress = tokenProgress(o.onProgress, phase, total, 256);
  const out: GeneratedText[] = [];
  for (let start = 0; start < rows.length; start += bs) {
    if (o.signal?.aborted) throw new PersonaError('Interrupted: no result was written.');
    const chunk = rows.slice(start, start + bs);
    const done = await model.generateRows(
      chunk.map((r) => ({
        prompt: r.prompt,
        maxNewTokens: o.maxNewTokens,
        sampling: { ...o.sampling, seed: r.seed },
        intervention: r.intervention,
        thinking: o.thinking,
      })),
      {
        ignoreHooks: true,
        signal: o.signal,
        onToken: progress.onToken,
      },
    );
    out.push(...(o.thinking ? done.map((r) => ({ ...r, ...splitAnswerTokens(model.tokenizer, r.tokens, r.text) })) : done));
    // Rows that end early leave their budget unspent: count it as done.
    progress.reach((start + chunk.length) * o.maxNewTokens);
  }
  if (o.signal?.aborted) throw new PersonaError('Interrupted: no result was written.');
  o.onProgress?.({ phase, done: total, total, unit: 'tokens' });
  return out;
}
