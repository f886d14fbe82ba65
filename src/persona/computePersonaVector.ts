import { createHash } from 'node:crypto';
import type { LanguageModel, Prompt } from '../engine/LanguageModel.js';
import type { SamplingOptions } from '../engine/generate/sampling.js';
import { InvalidArgumentError } from '../errors.js';
import { PersonaVector, type ExtractionMethod, type LayerStats, type ReadPositions } from '../steering/PersonaVector.js';
import type { ProgressCallback } from '../util/progress.js';
import { TOOL_VERSION } from '../version.js';
import { lenientCohensD } from '../util/effectSize.js';
import { dot, meanDifference, pcaOfDifferences } from './aggregators.js';
import { extractActivations } from './extractActivations.js';

export interface ComputePersonaOptions {
  model: LanguageModel;
  positivePrompts: Prompt[];
  negativePrompts: Prompt[];
  name?: string;
  description?: string;
  method?: ExtractionMethod;
  positions?: ReadPositions;
  /** Answer length in tokens (default 48). */
  maxNewTokens?: number;
  /** Answer sampling (default T=0.8, seed 0). */
  sampling?: SamplingOptions;
  batchSize?: number;
  /** Keep only pairs where this returns true (e.g. a scorer says the answers show the persona). */
  filterPair?: (pos: string, neg: string, index: number) => boolean | Promise<boolean>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** System prompt recorded as the persona's "prompted" baseline. */
  systemPrompt?: string;
}

export interface PersonaComputation {
  persona: PersonaVector;
  positiveAnswers: string[];
  negativeAnswers: string[];
  keptPairs: number;
}

/**
 * Learns a persona vector: the model answers each positive and negative prompt (batched, seeded
 * sampling), the residual stream of every layer is read over the answer tokens (and at the last
 * prompt token) in one pooled pass, and each layer's vector is mean(pos) − mean(neg)
 * (`mean-diff`, the persona-vectors paper's response_avg_diff) or the signed first principal
 * component of pair differences (`pca`, as repeng). The seed API `compute_persona_vector`.
 *
 * @example
 * const { persona } = await computePersonaVector({ model, positivePrompts, negativePrompts, name: 'formal' });
 */
export async function computePersonaVector(o: ComputePersonaOptions): Promise<PersonaComputation> {
  const { model } = o;
  if (o.positivePrompts.length === 0 || o.negativePrompts.length === 0) {
    throw new InvalidArgumentError('Both the positive and the negative prompt sets need at least one prompt.');
  }
  const method = o.method ?? 'mean-diff';
  if (method === 'pca' && o.positivePrompts.length !== o.negativePrompts.length) {
    throw new InvalidArgumentError(`PCA pairs prompts row by row, but there are ${o.positivePrompts.length} positive and ${o.negativePrompts.length} negative prompts.`);
  }
  const sampling = o.sampling ?? { temperature: 0.8, seed: 0 };
  const maxNewTokens = o.maxNewTokens ?? 48;
  const all = [...o.positivePrompts, ...o.negativePrompts];
  for (const p of all) {
    const n = model.encodePrompt(p).length;
    if (n + maxNewTokens > model.config.maxPositionEmbeddings) {
      throw new InvalidArgumentError(`A prompt has ${n} tokens; with ${maxNewTokens} answer tokens that exceeds the model's context of ${model.config.maxPositionEmbeddings}. Shorten it.`);
    }
  }
  // Progress in answer tokens (an upper bound: rows that end early leave the total unreached until the end).
  const total = all.length * maxNewTokens;
  let tokens = 0;
  let last = 0;
  const answers = await model.generate(all, {
    maxNewTokens,
    sampling,
    batchSize: o.batchSize,
    signal: o.signal,
    ignoreHooks: true,
    onToken: o.onProgress
      ? () => {
          tokens++;
          if (tokens - last >= 64) {
            last = tokens;
            o.onProgress!({ phase: 'answers', done: tokens, total, unit: 'tokens' });
          }
        }
      : undefined,
  });
  if (o.signal?.aborted) throw new InvalidArgumentError('Interrupted: no persona file was written.');
  o.onProgress?.({ phase: 'answers', done: total, total, unit: 'tokens' });
  const nPos = o.positivePrompts.length;
  let posIdx = Array.from({ length: nPos }, (_, i) => i);
  let negIdx = Array.from({ length: o.negativePrompts.length }, (_, i) => nPos + i);
  if (o.filterPair) {
    const keep: number[] = [];
    const n = Math.min(posIdx.length, negIdx.length);
    for (let i = 0; i < n; i++) if (await o.filterPair(answers[posIdx[i]].text, answers[negIdx[i]].text, i)) keep.push(i);
    if (keep.length === 0) throw new InvalidArgumentError('The pair filter rejected every pair: no answers showed the persona. Check the prompts or the scorer.');
    posIdx = keep.map((i) => posIdx[i]);
    negIdx = keep.map((i) => negIdx[i]);
  }
  const seqs = [...posIdx, ...negIdx].map((i) => ({ promptIds: answers[i].promptIds, answerIds: answerTokens(answers[i].tokens, model.stopTokenIds) }));
  const acts = await extractActivations(model, seqs, { batchSize: o.batchSize, onProgress: o.onProgress, signal: o.signal });
  const positions = o.positions ?? 'response-mean';
  const feats = positions === 'response-mean' ? acts.responseMean : acts.promptLast;
  const P = posIdx.length;
  const aggregate = method === 'pca' ? pcaOfDifferences : meanDifference;
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
    layers.push({ layer: l, norm, residNorm: acts.residNorm[l], separation: lenientCohensD(pos.map((a) => dot(a, u)), neg.map((a) => dot(a, u))) });
  }
  const best = layers.reduce((a, b) => (b.separation > a.separation ? b : a));
  const hash = createHash('sha256').update(JSON.stringify([o.positivePrompts, o.negativePrompts])).digest('hex');
  const sysOf = (ps: Prompt[]) => [...new Set(ps.map((p) => (typeof p === 'object' && !Array.isArray(p) ? p.system : undefined)).filter((s): s is string => !!s))];
  const persona = new PersonaVector(vectors, {
    name: o.name ?? 'persona',
    description: o.description,
    model: { id: model.id, revision: model.revision, modelType: model.config.modelType, hiddenSize: model.hiddenSize, numLayers: L },
    method,
    positions,
    // Provisional: separation is not steerability; recommendLayer() replaces it by a measured choice.
    recommendedLayer: best.layer,
    alphaRange: [-4, 4],
    layers,
    prompts: { positive: o.positivePrompts.length, negative: o.negativePrompts.length, sha256: hash, systemPositive: sysOf(o.positivePrompts), systemNegative: sysOf(o.negativePrompts) },
    createdAt: new Date().toISOString(),
    toolVersion: TOOL_VERSION,
    systemPrompt: o.systemPrompt ?? sysOf(o.positivePrompts)[0],
  });
  return { persona, positiveAnswers: posIdx.map((i) => answers[i].text), negativeAnswers: negIdx.map((i) => answers[i].text), keptPairs: P };
}

/** The answer's tokens without the closing end-of-turn token (at least one token is kept). */
export function answerTokens(tokens: number[], stopIds: number[]): number[] {
  const t = tokens.length && stopIds.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
  return t.length ? t : tokens.length ? tokens : [stopIds[0] ?? 0];
}
