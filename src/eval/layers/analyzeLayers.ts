import type { LanguageModel } from '../../engine/LanguageModel.js';
import type { Positions } from '../../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../../errors.js';
import { answerTokens } from '../../persona/computePersonaVector.js';
import { dot } from '../../persona/aggregators.js';
import { extractActivations } from '../../persona/extractActivations.js';
import { normalizeLayer, type PersonaVector } from '../../steering/PersonaVector.js';
import { resolveSteering, type Units } from '../../steering/resolveSteering.js';
import type { ProgressCallback } from '../../util/progress.js';
import { TOOL_VERSION } from '../../version.js';
import { distinctNScorer } from '../scorers/coherenceScorers.js';
import type { Scorer, ScoreValue } from '../scorers/Scorer.js';
import { cohensD, type MetricSummary } from '../stats.js';
import { sweepSettings, type SweepOptions } from '../evaluate/sweepOptions.js';
import { pairedDelta, summarizeCondition, type EndedSummary, type PairedDelta } from '../evaluate/conditionSummary.js';
import { DEFAULT_ALPHAS } from '../evaluate/evaluatePersonas.js';
import { generateSweep, type SweepRow } from '../evaluate/generateSweep.js';
import { projectionScorer } from '../evaluate/projectionScorer.js';
import type { TokenizedItem } from '../evaluate/tokenizedItems.js';
import { NO_TRAIT_SCORING } from '../evaluate/traitScoring.js';
import type { ContrastPairs } from './contrastPrompts.js';
import { probeAccuracy } from './linearProbe.js';

/**
 * Options of {@link analyzeLayers}.
 *
 * @example const o: AnalyzeLayersOptions = { questions, contrast, alphas: [-8, -4, 4, 8], coherenceFloor: 0.8 };
 */
/** `traitScoring`: the persona's own metric is the steering effect; without one, its projection at the most separable layer. */
export interface AnalyzeLayersOptions extends SweepOptions {
  /** Held-out questions the steered model answers (no system prompt). */
  questions: string[];
  /** Row-aligned contrastive prompts whose answers measure separation (see `contrastFromPersona`). */
  contrast: ContrastPairs;
  /** Steering strengths of the sweep (default −8…8; 0 is the shared baseline). */
  alphas?: number[];
  /** Layers to analyse (default all). */
  layers?: number[];
  /** Lowest end-of-turn rate a recommended cell may have (default 0.7). */
  coherenceFloor?: number;
  /** Cross-validation folds of the probe (default 4). */
  probeFolds?: number;
  batchSize?: number;
  level?: number;
  /** Where the persona came from, kept in the result (a file path or `description: …`). */
  source?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * One layer × alpha cell of the steering sweep.
 *
 * @example analysis.layers[2].cells.filter((c: LayerCell) => c.coherent).map((c) => c.effect.mean);
 */
export interface LayerCell {
  alpha: number;
  /** The effect metric of the steered answers. */
  metric: MetricSummary;
  /** Paired difference of the effect metric against the unsteered answers (same question and seed). */
  effect: PairedDelta;
  ended: EndedSummary;
  distinct2: MetricSummary;
  /** At or above the coherence floor. */
  coherent: boolean;
}

/**
 * Everything measured at one layer.
 *
 * @example analysis.layers.map((l: LayerResult) => [l.layer, l.cohensD, l.bestEffect]);
 */
export interface LayerResult {
  layer: number;
  /** ‖v_l‖, the raw positive−negative difference. */
  norm: number;
  /** Mean ‖answer-mean residual‖ at the layer over the contrastive answers. */
  residNorm: number;
  /** norm / residNorm: how big one gap-unit of alpha is against the stream it is added to. */
  normRatio: number;
  /** Cohen's d of positive vs negative answers projected on the layer's unit direction. */
  cohensD: number;
  /** Held-out accuracy of a logistic probe on the layer's activations (cross-validated by question). */
  probeAccuracy: number;
  cells: LayerCell[];
  /** The widest alpha interval around 0 whose every cell is coherent. */
  coherentRange: [number, number];
  /** The positive alpha inside the coherent range with the largest effect, and that effect (null: none). */
  bestAlpha: number | null;
  bestEffect: number | null;
}

/**
 * The recommended layer and alpha range.
 *
 * @example const { layer, alpha }: LayerRecommendation = analysis.recommendation!;
 */
export interface LayerRecommendation {
  layer: number;
  /** The alpha of the largest coherent effect at that layer. */
  alpha: number;
  alphaRange: [number, number];
  effect: PairedDelta;
  ended: EndedSummary;
  reason: string;
}

/**
 * Everything `persona analyze-layers` writes as JSON.
 *
 * @example const a: LayerAnalysis = JSON.parse(await fs.readFile('results/formal.layers.json', 'utf8'));
 */
export interface LayerAnalysis {
  format: 'persona-vectors/layer-analysis@1';
  toolVersion: string;
  model: { id: string; revision?: string; precision: string; numLayers: number; hiddenSize: number };
  persona: { name: string; description?: string; source?: string; recordedLayer: number };
  settings: { alphas: number[]; layers: number[]; coherenceFloor: number; maxNewTokens: number; temperature: number; topK: number; seed: number; units: Units; positions: Positions; level: number; scorer: string; probeFolds: number; contrastPairs: number; questions: number; batchSize: number };
  /** What the steering effect is measured in: the persona's trait metric, or `projection:NAME`. */
  metric: string;
  /** With a projection metric: the layer it is read at (the most separable one). */
  projectionLayer?: number;
  questions: string[];
  baseline: { metric: MetricSummary; ended: EndedSummary; distinct2: MetricSummary };
  layers: LayerResult[];
  recommendation: LayerRecommendation | null;
  timing: { seconds: number; generatedTokens: number };
}

/**
 * Analyses every layer of a persona vector (the seed's `analyze_persona_layers.py`): separation of
 * positive and negative answers (Cohen's d along the vector, held-out linear-probe accuracy, from
 * re-answered contrastive prompts), the vector's norm against the layer's residual norm, and the
 * steering effect and coherence over an alpha grid — one batched sweep per layer, every row paired
 * with the unsteered answer to the same question and seed. Recommends the layer whose largest
 * effect toward the persona, at a positive alpha inside its coherent range (every cell from 0 out to
 * it at or above the end-of-turn floor), is the largest; the range is that coherent interval.
 * Separation is reported, not used: the most separable layer often steers worst.
 *
 * @example
 * const analysis = await analyzeLayers(model, formal, {
 *   questions: qs.evaluation, contrast: contrastFromPersona(formal, qs.extraction),
 *   traitScoring: await buildTraitScoring({ kind: 'markers', file: 'models/stylist/style_markers.json' }, [formal]),
 * });
 * analysis.recommendation; // { layer: 1, alpha: 8, alphaRange: [-8, 8], effect: { mean: 0.6, … }, … }
 */
export async function analyzeLayers(model: LanguageModel, persona: PersonaVector, o: AnalyzeLayersOptions): Promise<LayerAnalysis> {
  const t0 = performance.now();
  persona.assertFits(model);
  const L = model.numLayers;
  const layers = [...new Set((o.layers ?? Array.from({ length: L }, (_, l) => l)).map((l) => normalizeLayer(l, L)))].sort((a, b) => a - b);
  const alphas = [...new Set([...(o.alphas ?? DEFAULT_ALPHAS), 0])].sort((a, b) => a - b);
  for (const a of alphas) if (!Number.isFinite(a)) throw new InvalidArgumentError(`alphas must be finite numbers; got ${a}.`);
  const steered = alphas.filter((a) => a !== 0);
  if (steered.length === 0) throw new InvalidArgumentError('The alpha grid needs at least one non-zero alpha.');
  const floor = o.coherenceFloor ?? 0.7;
  if (!(floor >= 0 && floor <= 1)) throw new InvalidArgumentError(`The coherence floor is an end-of-turn rate in [0, 1]; got ${floor}.`);
  const questions = o.questions;
  if (questions.length === 0) throw new InvalidArgumentError('analyze-layers needs at least one question.');
  const P = Math.min(o.contrast.positive.length, o.contrast.negative.length);
  if (P < 2) throw new InvalidArgumentError(`Separation needs at least 2 contrastive pairs; got ${P}.`);
  const { maxNewTokens, temperature, topK, seed, units, positions } = sweepSettings(o);
  const level = o.level ?? 0.95;
  const batchSize = o.batchSize ?? 64;
  const probeFolds = o.probeFolds ?? 4;
  const traits = o.traitScoring ?? NO_TRAIT_SCORING;
  const sampling = { temperature, topK };
  let generatedTokens = 0;

  // ---- separation: re-answer the contrastive pairs, read every layer -----------------------------
  const contrastRows: SweepRow[] = [...o.contrast.positive.slice(0, P), ...o.contrast.negative.slice(0, P)].map((p, i) => ({ prompt: p, intervention: null, seed: seed + (i % P) }));
  const contrastAnswers = await generateSweep(model, contrastRows, { maxNewTokens, sampling, batchSize, onProgress: o.onProgress, phase: 'contrastive answers', signal: o.signal });
  generatedTokens += contrastAnswers.reduce((n, a) => n + a.tokens.length, 0);
  const acts = await extractActivations(model, contrastAnswers.map((a) => ({ promptIds: a.promptIds, answerIds: answerTokens(a.tokens, model.stopTokenIds) })), { batchSize, onProgress: o.onProgress, signal: o.signal });
  const separation = layers.map((l) => {
    const u = persona.unit(l);
    const pos = acts.responseMean.slice(0, P).map((a) => a[l]);
    const neg = acts.responseMean.slice(P).map((a) => a[l]);
    return {
      cohensD: cohensD(pos.map((a) => dot(a, u)), neg.map((a) => dot(a, u))),
      probeAccuracy: probeAccuracy(pos, neg, { folds: probeFolds }).accuracy,
      residNorm: acts.residNorm[l],
    };
  });

  // ---- the effect metric ------------------------------------------------------------------------
  let metric = traits.traitMetric[persona.name];
  let projectionLayer: number | undefined;
  const scorers: Scorer[] = [...traits.scorers, distinctNScorer([2])];
  if (!metric) {
    // No trait scorer: read every answer's projection at one fixed layer (the most separable), so
    // the effects of steering different layers compare.
    projectionLayer = layers[separation.reduce((best, s, i) => (s.cohensD > separation[best].cohensD ? i : best), 0)];
    metric = `projection:${persona.name}`;
    scorers.push(projectionScorer(model, [{ persona, layer: projectionLayer }], { batchSize }));
  }
  const score = async (items: TokenizedItem[]) => {
    const rows: Array<Record<string, ScoreValue>> = items.map(() => ({}));
    for (const s of scorers) (await s.score(items)).forEach((r, i) => Object.assign(rows[i], r));
    return rows;
  };

  // ---- the sweep: a shared unsteered baseline, then one batched call per layer -------------------
  const Q = questions.length;
  const baselineRows: SweepRow[] = questions.map((q, i) => ({ prompt: q, intervention: null, seed: seed + i }));
  const baseAnswers = await generateSweep(model, baselineRows, { maxNewTokens, sampling, batchSize, onProgress: o.onProgress, phase: 'unsteered answers', signal: o.signal });
  generatedTokens += baseAnswers.reduce((n, a) => n + a.tokens.length, 0);
  const toItems = (answers: typeof baseAnswers, qIndex: (i: number) => number): TokenizedItem[] => answers.map((a, i) => ({ question: questions[qIndex(i)], answer: a.text, promptIds: a.promptIds, answerIds: a.tokens }));
  const baseScores = await score(toItems(baseAnswers, (i) => i));
  const baseValues = baseScores.map((s) => s[metric] ?? null);
  const base = summarizeCondition(baseScores, baseAnswers.map((a) => a.ended), baseAnswers.map((a) => a.tokens.length), [metric, 'distinct2'], level);

  const results: LayerResult[] = [];
  for (const [li, l] of layers.entries()) {
    const rows: SweepRow[] = steered.flatMap((alpha) => {
      const iv = resolveSteering(model, [{ persona, alpha, layer: l, units, positions }]);
      return questions.map((q, i) => ({ prompt: q, intervention: iv, seed: seed + i }));
    });
    const answers = await generateSweep(model, rows, { maxNewTokens, sampling, batchSize, onProgress: o.onProgress, phase: `sweep of layer ${l}`, signal: o.signal });
    generatedTokens += answers.reduce((n, a) => n + a.tokens.length, 0);
    const scores = await score(toItems(answers, (i) => i % Q));
    const cells: LayerCell[] = steered.map((alpha, k) => {
      const part = scores.slice(k * Q, (k + 1) * Q);
      const ans = answers.slice(k * Q, (k + 1) * Q);
      const s = summarizeCondition(part, ans.map((a) => a.ended), ans.map((a) => a.tokens.length), [metric, 'distinct2'], level);
      return { alpha, metric: s.metrics[metric], effect: pairedDelta(part.map((r) => r[metric] ?? null), baseValues, level), ended: s.ended, distinct2: s.metrics.distinct2, coherent: s.ended.rate >= floor };
    });
    const range = coherentRange(cells);
    const candidates = cells.filter((c) => c.alpha > 0 && c.alpha <= range[1] && Number.isFinite(c.effect.mean));
    const best = candidates.reduce<LayerCell | null>((a, c) => (a === null || c.effect.mean > a.effect.mean ? c : a), null);
    const norm = persona.norm(l);
    results.push({
      layer: l,
      norm,
      residNorm: separation[li].residNorm,
      normRatio: separation[li].residNorm > 0 ? norm / separation[li].residNorm : NaN,
      cohensD: separation[li].cohensD,
      probeAccuracy: separation[li].probeAccuracy,
      cells,
      coherentRange: range,
      bestAlpha: best?.alpha ?? null,
      bestEffect: best?.effect.mean ?? null,
    });
    o.onProgress?.({ phase: 'layers', done: li + 1, total: layers.length, unit: 'layers' });
  }

  const ranked = results.filter((r) => r.bestEffect !== null).sort((a, b) => (b.bestEffect as number) - (a.bestEffect as number));
  let recommendation: LayerRecommendation | null = null;
  if (ranked.length) {
    const r = ranked[0];
    const cell = r.cells.find((c) => c.alpha === r.bestAlpha)!;
    recommendation = {
      layer: r.layer,
      alpha: cell.alpha,
      alphaRange: r.coherentRange,
      effect: cell.effect,
      ended: cell.ended,
      reason: `Layer ${r.layer} moves ${metric} by ${cell.effect.mean.toFixed(2)} at alpha ${cell.alpha} while ${(cell.ended.rate * 100).toFixed(0)}% of answers still end their turn (floor ${(floor * 100).toFixed(0)}%); every alpha in [${r.coherentRange.join(', ')}] stays above the floor there.`,
    };
  }

  const seconds = (performance.now() - t0) / 1000;
  return {
    format: 'persona-vectors/layer-analysis@1',
    toolVersion: TOOL_VERSION,
    model: { id: model.id, ...(model.revision ? { revision: model.revision } : {}), precision: model.precision, numLayers: L, hiddenSize: model.hiddenSize },
    persona: { name: persona.name, ...(persona.meta.description ? { description: persona.meta.description } : {}), ...(o.source ? { source: o.source } : {}), recordedLayer: persona.meta.recommendedLayer },
    settings: { alphas, layers, coherenceFloor: floor, maxNewTokens, temperature, topK, seed, units, positions, level, scorer: traits.scorers.length ? traits.description : 'none (projection)', probeFolds, contrastPairs: P, questions: Q, batchSize },
    metric,
    ...(projectionLayer !== undefined ? { projectionLayer } : {}),
    questions: [...questions],
    baseline: { metric: base.metrics[metric], ended: base.ended, distinct2: base.metrics.distinct2 },
    layers: results,
    recommendation,
    timing: { seconds, generatedTokens },
  };
}

/**
 * The widest alpha interval around 0 whose every cell is coherent: walking out from 0 on each side,
 * it stops before the first cell under the floor ([0, 0] when both neighbours of 0 fail).
 *
 * @example coherentRange([{ alpha: -8, coherent: false }, { alpha: -4, coherent: true }, { alpha: 4, coherent: true }]); // [-4, 4]
 */
export function coherentRange(cells: ReadonlyArray<{ alpha: number; coherent: boolean }>): [number, number] {
  const sorted = [...cells].sort((a, b) => a.alpha - b.alpha);
  let hi = 0;
  for (const c of sorted.filter((x) => x.alpha > 0)) {
    if (!c.coherent) break;
    hi = c.alpha;
  }
  let lo = 0;
  for (const c of sorted.filter((x) => x.alpha < 0).reverse()) {
    if (!c.coherent) break;
    lo = c.alpha;
  }
  return [lo, hi];
}
