import { createHash } from 'node:crypto';
import type { LanguageModel, Prompt } from '../engine/LanguageModel.js';
import type { SamplingOptions } from '../engine/generate/sampling.js';
import { InvalidArgumentError } from '../errors.js';
import { PersonaVector, type ExtractionMethod, type LayerStats, type PairFilterRecord, type Reading } from '../steering/PersonaVector.js';
import { tokenProgress, type ProgressCallback } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import { lenientCohensD } from '../util/effectSize.js';
import { AGGREGATORS } from './aggregators.js';
import { dot } from '../util/numerics.js';
import { applyPairFilter, promptQuestion, type PairFilter } from './pairFilter.js';
import type { ContrastPrompt } from './prompts/PromptSet.js';
import { extractActivations } from '../engine/extractActivations.js';
import { DEFAULTS } from '../engine/defaults.js';

export interface ComputePersonaOptions {
  model: LanguageModel;
  positivePrompts: Prompt[];
  negativePrompts: Prompt[];
  name?: string;
  description?: string;
  /** How pair activations become a direction (default `mean-diff`; see docs/methods.md). */
  method?: ExtractionMethod;
  /** Where activations are read (default `response-mean`; `answer-token` needs given A/B prefixes). */
  read?: Reading;
  /**
   * `generated` (default when no prompt carries an `assistant` text): the model answers each prompt;
   * `given`: every prompt carries its answer (`assistant`), read as it is, with no generation.
   */
  source?: 'generated' | 'given';
  /** Answers sampled per prompt (generated source; default 1). */
  samplesPerQuestion?: number;
  /** Answer length in tokens (default 48). */
  maxNewTokens?: number;
  /** Answer sampling (default T=0.8, seed 0). */
  sampling?: SamplingOptions;
  /** Rows per batch of answers and activation reads (default `DEFAULTS.train.batchSize`, 32): speed and memory only, the answers do not depend on it. */
  batchSize?: number;
  /**
   * Keep only the answer pairs this filter passes — persona_vectors' judge filter is
   * `judgePairFilter` (positive trait ≥ 50, negative < 50, coherence ≥ 50 on both). Pairs are rows:
   * it needs as many positive as negative prompts. The outcome is recorded in `meta.prompts.filter`.
   */
  pairFilter?: PairFilter;
  /** With a filter: the fewest kept pairs that are not an error (default 10% of the pairs, at least 2). */
  filterMinPairs?: number;
  /** Keep only pairs where this returns true, one pair at a time (a simpler form of `pairFilter`). */
  filterPair?: (pos: string, neg: string, index: number) => boolean | Promise<boolean>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** System prompt recorded as the persona's "prompted" baseline. */
  systemPrompt?: string;
  /**
   * Let a thinking model think before answering (the template's `enable_thinking`; default off).
   * The thinking is read as context, not as the answer, unless `includeReasoning`.
   */
  thinking?: boolean;
  /** With `thinking`: pool the thinking tokens with the answer's (default false). */
  includeReasoning?: boolean;
}

export interface PersonaComputation {
  persona: PersonaVector;
  positiveAnswers: string[];
  negativeAnswers: string[];
  keptPairs: number;
  /** What the pair filter kept and dropped (with `pairFilter` or `filterPair`). */
  filter?: PairFilterRecord;
}

/**
 * Learns a persona vector: the model answers each positive and negative prompt (batched, seeded
 * sampling; or the prompts carry given answers, `source: 'given'`), the residual stream of every
 * layer is read in one pooled pass — over the answer tokens (`response-mean`, the persona-vectors
 * paper's response_avg_diff), the prompt tokens (`prompt-mean`, prompt_avg_diff), the last prompt
 * token (`prompt-last`, prompt_last_diff) or the answer token of an A/B prefix (`answer-token`, CAA)
 * — and each layer's vector is aggregated by `method`: mean difference, uncentred PCA of the pair
 * differences (`pca`), repeng's centred `pca-centred`, or a logistic probe's direction (`probe`);
 * docs/methods.md lists the sources and what each does on the stylist. The seed API `compute_persona_vector`.
 *
 * @example
 * const { persona } = await computePersonaVector({ model, positivePrompts, negativePrompts, name: 'formal' });
 * @example
 * const caa = await computePersonaVector({ model, positivePrompts: abPos, negativePrompts: abNeg, read: 'answer-token' }); // lines carry an assistant prefix
 */
export async function computePersonaVector(o: ComputePersonaOptions): Promise<PersonaComputation> {
  const { model } = o;
  if (o.positivePrompts.length === 0 || o.negativePrompts.length === 0) {
    throw new InvalidArgumentError('Both the positive and the negative prompt sets need at least one prompt.');
  }
  const method = o.method ?? 'mean-diff';
  const aggregate = AGGREGATORS[method];
  if (!aggregate) throw new InvalidArgumentError(`Unknown extraction method "${method}"; choose one of ${Object.keys(AGGREGATORS).join(', ')}.`);
  const read = o.read ?? 'response-mean';
  if (!['response-mean', 'prompt-mean', 'prompt-last', 'answer-token'].includes(read))
    throw new InvalidArgumentError(`Unknown reading "${read}"; choose response-mean, prompt-mean, prompt-last or answer-token.`);
  const paired = method !== 'mean-diff';
  if (o.pairFilter && o.filterPair) throw new InvalidArgumentError('Give one pair filter: pairFilter or filterPair, not both.');
  if ((o.pairFilter || o.filterPair) && o.positivePrompts.length !== o.negativePrompts.length) {
    throw new InvalidArgumentError(
      `The pair filter judges prompts row by row, but there are ${o.positivePrompts.length} positive and ${o.negativePrompts.length} negative prompts.`,
    );
  }
  if (paired && o.positivePrompts.length !== o.negativePrompts.length) {
    throw new InvalidArgumentError(
      `--method ${method} pairs prompts row by row, but there are ${o.positivePrompts.length} positive and ${o.negativePrompts.length} negative prompts.`,
    );
  }
  const all = [...o.positivePrompts, ...o.negativePrompts];
  const given = all.filter((p) => typeof givenAnswer(p) === 'string').length;
  const source = o.source ?? (given > 0 ? 'given' : 'generated');
  if (source === 'given' && given !== all.length)
    throw new InvalidArgumentError(`Given-text training needs an "assistant" answer on every prompt line; ${all.length - given} of ${all.length} have none.`);
  if (source === 'generated' && given > 0)
    throw new InvalidArgumentError(
      `${given} prompt lines carry an "assistant" answer, but the source is "generated": use source "given" (--source given) to read them, or remove the answers.`,
    );
  if (read === 'answer-token' && source !== 'given')
    throw new InvalidArgumentError(
      'The answer-token reading (CAA A/B) reads given assistant prefixes such as "(A": give prompt lines with an "assistant" field (source "given").',
    );
  const samples = o.samplesPerQuestion ?? 1;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new InvalidArgumentError(`samples per question must be an integer ≥ 1; got ${samples}.`);
  if (source === 'given' && samples !== 1)
    throw new InvalidArgumentError('samples per question applies to generated answers; given answers are read once each.');
  const sampling = o.sampling ?? { temperature: DEFAULTS.sampling.temperature, seed: DEFAULTS.sampling.seed };
  const maxNewTokens = o.maxNewTokens ?? DEFAULTS.train.maxNewTokens;
  const batchSize = o.batchSize ?? DEFAULTS.train.batchSize;
  for (const p of all) {
    const n = model.encodePrompt(promptOnly(p), undefined, { thinking: o.thinking }).length;
    if (source === 'generated' && n + maxNewTokens > model.config.maxPositionEmbeddings) {
      throw new InvalidArgumentError(
        `A prompt has ${n} tokens; with ${maxNewTokens} answer tokens that exceeds the model's context of ${model.config.maxPositionEmbeddings}. Shorten it.`,
      );
    }
  }
  // Rows: every prompt, `samples` times (sample s of prompt i is row s·N + i, its own seed).
  const rowsOf = (ps: Prompt[]) => Array.from({ length: samples }, () => ps).flat();
  const posRows = rowsOf(o.positivePrompts);
  const negRows = rowsOf(o.negativePrompts);
  const rows = [...posRows, ...negRows];
  let answers: Array<{ text: string; promptIds: number[]; tokens: number[]; contentStart?: number }>;
  if (source === 'given') {
    answers = rows.map((p) => {
      const text = givenAnswer(p)!;
      return { text, promptIds: model.encodePrompt(promptOnly(p)), tokens: model.tokenizer.encode(text) };
    });
  } else {
    // Progress in answer tokens (an upper bound: rows that end early leave the total unreached until the end).
    const total = rows.length * maxNewTokens;
    answers = await model.generate(rows, {
      maxNewTokens,
      sampling,
      batchSize,
      signal: o.signal,
      ignoreHooks: true,
      thinking: o.thinking,
      onToken: tokenProgress(o.onProgress, 'answers', total, 64).onToken,
    });
    if (o.signal?.aborted) throw new InvalidArgumentError('Interrupted: no persona file was written.');
    o.onProgress?.({ phase: 'answers', done: total, total, unit: 'tokens' });
  }
  const nPos = posRows.length;
  let posIdx = Array.from({ length: nPos }, (_, i) => i);
  let negIdx = Array.from({ length: negRows.length }, (_, i) => nPos + i);
  let filterRecord: PairFilterRecord | undefined;
  const filter: PairFilter | undefined =
    o.pairFilter ??
    (o.filterPair
      ? {
          description: 'a filterPair callback',
          keep: async (pairs) => {
            const keep: boolean[] = [];
            for (let i = 0; i < pairs.length; i++) keep.push(await o.filterPair!(pairs[i].positive, pairs[i].negative, i));
            return { keep };
          },
        }
      : undefined);
  if (filter) {
    // Pair k is positive row k and negative row k (the same prompt and sample under the two sides).
    o.onProgress?.({ phase: 'pair filter', done: 0, total: posIdx.length, unit: 'pairs' });
    const pairs = posIdx.map((pi, k) => ({ question: promptQuestion(promptOnly(posRows[k])), positive: answers[pi].text, negative: answers[negIdx[k]].text }));
    const { kept, record } = await applyPairFilter(filter, pairs, { minPairs: o.filterMinPairs, signal: o.signal });
    o.onProgress?.({ phase: 'pair filter', done: posIdx.length, total: posIdx.length, unit: 'pairs' });
    filterRecord = record;
    posIdx = kept.map((i) => posIdx[i]);
    negIdx = kept.map((i) => negIdx[i]);
  }
  const seqs = [...posIdx, ...negIdx].map((i) => {
    const a = answers[i];
    if (read === 'answer-token') {
      // Read at the answer token: the prefix's last token is the one "answer" position pooled.
      if (a.tokens.length === 0)
        throw new InvalidArgumentError(`The answer-token reading needs a non-empty assistant prefix (e.g. "(A"); prompt ${i + 1} has none.`);
      return { promptIds: [...a.promptIds, ...a.tokens.slice(0, -1)], answerIds: a.tokens.slice(-1) };
    }
    if (source === 'generated' && a.contentStart && !o.includeReasoning) {
      // A thinking answer: the thinking is context (read with the prompt), the answer is pooled.
      const answer = answerTokens(a.tokens.slice(a.contentStart), model.stopTokenIds);
      return { promptIds: [...a.promptIds, ...a.tokens.slice(0, a.contentStart)], answerIds: answer.length ? answer : [model.stopTokenIds[0] ?? 0] };
    }
    return {
      promptIds: a.promptIds,
      answerIds: source === 'given' ? (a.tokens.length ? a.tokens : [model.stopTokenIds[0] ?? 0]) : answerTokens(a.tokens, model.stopTokenIds),
    };
  });
  const acts = await extractActivations(model, seqs, { batchSize, onProgress: o.onProgress, signal: o.signal });
  const feats = read === 'prompt-last' ? acts.promptLast : read === 'prompt-mean' ? acts.promptMean : acts.responseMean;
  const P = posIdx.length;
  const L = model.numLayers;
  const vectors: Float32Array[] = [];
  const layers: LayerStats[] = [];
  for (let l = 0; l < L; l++) {
    const pos = feats.slice(0, P).map((f) => f[l]);
    const neg = feats.slice(P).map((f) => f[l]);
    const v = aggregate(pos, neg);
    vectors.push(v);
    const norm = Math.hypot(...v);
    const u = norm > 0 ? v.map((x) => x / norm) : v;
    layers.push({
      layer: l,
      norm,
      residNorm: acts.residNorm[l],
      separation: lenientCohensD(
        pos.map((a) => dot(a, u)),
        neg.map((a) => dot(a, u)),
      ),
    });
  }
  const best = layers.reduce((a, b) => (b.separation > a.separation ? b : a));
  const hash = createHash('sha256')
    .update(JSON.stringify([o.positivePrompts, o.negativePrompts]))
    .digest('hex');
  const sysOf = (ps: Prompt[]) => [
    ...new Set(ps.map((p) => (typeof p === 'object' && !Array.isArray(p) ? p.system : undefined)).filter((s): s is string => !!s)),
  ];
  const persona = new PersonaVector(vectors, {
    name: o.name ?? 'persona',
    description: o.description,
    model: { id: model.id, revision: model.revision, modelType: model.config.modelType, hiddenSize: model.hiddenSize, numLayers: L },
    method,
    read,
    // Provisional: separation is not steerability; the steering check (recommendSteering) replaces it by a measured choice.
    recommendedLayer: best.layer,
    alphaRange: [-4, 4],
    layers,
    prompts: {
      positive: o.positivePrompts.length,
      negative: o.negativePrompts.length,
      sha256: hash,
      systemPositive: sysOf(o.positivePrompts),
      systemNegative: sysOf(o.negativePrompts),
      ...(samples > 1 ? { samplesPerQuestion: samples } : {}),
      ...(filterRecord ? { filter: filterRecord } : {}),
    },
    // SOURCE_DATE_EPOCH (the reproducible-builds convention) pins the date, so a regeneration is byte-identical.
    createdAt: (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date()).toISOString(),
    toolVersion: TOOL_VERSION,
    systemPrompt: o.systemPrompt ?? sysOf(o.positivePrompts)[0],
  });
  return {
    persona,
    positiveAnswers: posIdx.map((i) => answers[i].text),
    negativeAnswers: negIdx.map((i) => answers[i].text),
    keptPairs: P,
    ...(filterRecord ? { filter: filterRecord } : {}),
  };
}

/** A prompt's given answer (`assistant` on a {system, user} prompt), if any. */
function givenAnswer(p: Prompt): string | undefined {
  return typeof p === 'object' && !Array.isArray(p) ? (p as ContrastPrompt).assistant : undefined;
}

/** The prompt without its given answer (what the chat template renders before the answer). */
function promptOnly(p: Prompt): Prompt {
  if (typeof p !== 'object' || Array.isArray(p) || (p as ContrastPrompt).assistant === undefined) return p;
  const { assistant: _, ...rest } = p as ContrastPrompt;
  return rest as Prompt;
}

/** The answer's tokens without the closing end-of-turn token (at least one token is kept). */
export function answerTokens(tokens: number[], stopIds: number[]): number[] {
  const t = tokens.length && stopIds.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
  return t.length ? t : tokens.length ? tokens : [stopIds[0] ?? 0];
}
