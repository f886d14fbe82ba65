import type { LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { answerTokens } from '../../persona/computePersonaVector.js';
import { dot } from '../../util/numerics.js';
import { extractActivations } from '../../engine/extractActivations.js';
import { normalizeLayer, type PersonaVector } from '../../steering/PersonaVector.js';
import type { ProgressCallback } from '../../util/progress.js';
import { TOOL_VERSION } from '../../version.js';
import { cohensD, type MetricSummary } from '../stats.js';
import { sweepSettings, type SweepOptions, type SweepSettings } from '../evaluate/sweepOptions.js';
import type { EndedSummary } from '../evaluate/conditionSummary.js';
import { generateSweep, type SweepRow } from '../evaluate/generateSweep.js';
import type { ContrastPairs } from '../../persona/contrastPrompts.js';
import { probeAccuracy } from './linearProbe.js';
import {
  coherentRange,
  RECOMMENDER_DEFAULTS,
  recommendSteering,
  type SteeringCell,
  type SteeringCheck,
  type SteeringLayer,
  type SteeringRecommendation,
} from './recommendSteering.js';
import { DEFAULTS } from '../../engine/defaults.js';

/**
 * Options of {@link analyzeLayers}. `traitScoring`: the persona's own metric is the steering effect;
 * without one, its projection at the most separable layer.
 *
 * @example const o: AnalyzeLayersOptions = { questions, contrast, alphas: [-8, -4, 4, 8], coherenceFloor: 0.8 };
 */
export interface AnalyzeLayersOptions extends SweepOptions {
  /** Held-out questions the steered model answers (no system prompt; default: the recommender's, `recommendSteering`). */
  questions?: string[];
  /** Row-aligned contrastive prompts whose answers measure separation (see `contrastFromPersona`). */
  contrast: ContrastPairs;
  /** Steering strengths of the sweep (default: the recommender's grid; 0 is the shared baseline). */
  alphas?: number[];
  /** Layers to analyse (default all). */
  layers?: number[];
  /** Lowest end-of-turn rate of a coherent cell (default: the recommender's, 0.8). */
  coherenceFloor?: number;
  /** Lowest distinct-2 of a coherent cell as a share of the unsteered one (default 0.85). */
  repetitionFloor?: number;
  /** Highest perplexity of a coherent cell as a multiple of the unsteered one (default 2). */
  perplexityCeiling?: number;
  /** Screening alpha (default 4) and layers kept for the whole grid (default 3; Infinity = every layer). */
  screenAlpha?: number;
  keepLayers?: number;
  /** Most layers screened in one pass before the screen goes coarse to fine (default 8, as `train`; Infinity = every layer). */
  maxScreenLayers?: number;
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
 * One layer × alpha cell of the steering sweep (see `recommendSteering`).
 *
 * @example analysis.layers[2].cells.filter((c: LayerCell) => c.coherent).map((c) => c.effect.mean);
 */
export type LayerCell = SteeringCell;

/**
 * Everything measured at one layer: separation and norms, and the steering cells the recommender
 * measured there (the screen's ±alpha for every layer, the whole grid for the layers it kept).
 *
 * @example analysis.layers.map((l: LayerResult) => [l.layer, l.cohensD, l.bestEffect?.mean]);
 */
export interface LayerResult extends SteeringLayer {
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
  /** Present (false) on a layer the coarse-to-fine screen did not reach: separation only, no steering cells, screen score NaN. */
  screened?: false;
}

/**
 * The recommended layer and alpha range, or the verdict that the vector does not steer (see `recommendSteering`).
 *
 * @example const { verdict, layer, alpha }: LayerRecommendation = analysis.recommendation;
 */
export type LayerRecommendation = SteeringRecommendation;

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
  settings: SweepSettings & {
    alphas: number[];
    layers: number[];
    coherenceFloor: number;
    repetitionFloor: number;
    perplexityCeiling: number;
    screenAlpha: number;
    keepLayers: number;
    maxScreenLayers: number;
    level: number;
    scorer: string;
    probeFolds: number;
    contrastPairs: number;
    questions: number;
    batchSize: number;
  };
  /** What the steering effect is measured in: the persona's trait metric, or `projection:NAME`. */
  metric: string;
  /** With a projection metric: the layer it is read at (the most separable one). */
  projectionLayer?: number;
  /** Set when the screen ran coarse to fine (more layers than `maxScreenLayers`); see `recommendSteering`. */
  coarseScreen?: SteeringCheck['coarseScreen'];
  questions: string[];
  baseline: { metric: MetricSummary; ended: EndedSummary; distinct2: MetricSummary; perplexity: number };
  layers: LayerResult[];
  recommendation: LayerRecommendation;
  timing: { seconds: number; generatedTokens: number };
}

/**
 * Analyses every layer of a persona vector (persona_vectors picks a layer by steering sweeps,
 * `scripts/eval_steering.sh`; this measures every layer in one run): separation of
 * positive and negative answers (Cohen's d along the vector, held-out linear-probe accuracy, from
 * re-answered contrastive prompts), the vector's norm against the layer's residual norm, and the
 * steering effect and coherence over an alpha grid, measured and chosen by `recommendSteering` (the
 * same recommender `train` and `create` use, with the same defaults, so they name the same layer and
 * range): every layer screened at ±4 in one batched sweep (coarse to fine past 8 layers: 8 evenly
 * spaced, then those around the best; the others get separation only), the best three over the whole grid, every
 * row paired with the unsteered answer to the same question and seed. Separation is reported, not
 * used: the most separable layer often steers worst.
 *
 * @example
 * const analysis = await analyzeLayers(model, formal, {
 *   questions: qs.evaluation, contrast: contrastFromPersona(formal, qs.extraction),
 *   traitScoring: await buildTraitScoring({ kind: 'markers', file: 'models/stylist/style_markers.json' }, [formal]),
 * });
 * analysis.recommendation; // { verdict: 'steers', layer: 4, alpha: 4, alphaRange: [-4, 4], effect: { mean: 0.41, lo: 0.15, … }, … }
 */
export async function analyzeLayers(model: LanguageModel, persona: PersonaVector, o: AnalyzeLayersOptions): Promise<LayerAnalysis> {
  const t0 = performance.now();
  persona.assertFits(model);
  const L = model.numLayers;
  const layers = [...new Set((o.layers ?? Array.from({ length: L }, (_, l) => l)).map((l) => normalizeLayer(l, L)))].sort((a, b) => a - b);
  const P = Math.min(o.contrast.positive.length, o.contrast.negative.length);
  if (P < 2) throw new InvalidArgumentError(`Separation needs at least 2 contrastive pairs; got ${P}.`);
  const sweep = sweepSettings({ ...o, maxNewTokens: o.maxNewTokens ?? RECOMMENDER_DEFAULTS.maxNewTokens });
  const { maxNewTokens, temperature, topK, seed } = sweep;
  const batchSize = o.batchSize ?? DEFAULTS.sweep.batchSize;
  const probeFolds = o.probeFolds ?? 4;

  // ---- the steering sweep and the recommendation: the one recommender ----------------------------
  const check = await recommendSteering(model, persona, {
    ...o,
    // The heat maps show every alpha of the kept layers (the choice is the same either way).
    skipBeyondIncoherent: false,
    layers,
    alphas: o.alphas?.filter((a) => a !== 0),
    maxNewTokens,
    batchSize,
  });

  // ---- separation: re-answer the contrastive pairs, read every layer -----------------------------
  const contrastRows: SweepRow[] = [...o.contrast.positive.slice(0, P), ...o.contrast.negative.slice(0, P)].map((p, i) => ({
    prompt: p,
    intervention: null,
    seed: seed + (i % P),
  }));
  const contrastAnswers = await generateSweep(model, contrastRows, {
    maxNewTokens,
    sampling: { temperature, topK },
    batchSize,
    onProgress: o.onProgress,
    phase: 'contrastive answers',
    signal: o.signal,
  });
  const generatedTokens = check.generatedTokens + contrastAnswers.reduce((n, a) => n + a.tokens.length, 0);
  const acts = await extractActivations(
    model,
    contrastAnswers.map((a) => ({ promptIds: a.promptIds, answerIds: answerTokens(a.tokens, model.stopTokenIds) })),
    { batchSize, onProgress: o.onProgress, signal: o.signal },
  );
  // Layers the coarse-to-fine screen did not reach keep their separation, with no steering cells.
  const notScreened = (layer: number): SteeringLayer & { screened: false } => ({
    layer,
    screened: false,
    measured: false,
    screenScore: NaN,
    cells: [],
    coherentRange: null,
    bestAlpha: null,
    bestEffect: null,
  });
  const results: LayerResult[] = layers.map((layer) => {
    const c = check.layers.find((x) => x.layer === layer) ?? notScreened(layer);
    const l = c.layer;
    const u = persona.unit(l);
    const pos = acts.responseMean.slice(0, P).map((a) => a[l]);
    const neg = acts.responseMean.slice(P).map((a) => a[l]);
    const norm = persona.norm(l);
    const residNorm = acts.residNorm[l];
    return {
      ...c,
      norm,
      residNorm,
      normRatio: residNorm > 0 ? norm / residNorm : NaN,
      cohensD: cohensD(
        pos.map((a) => dot(a, u)),
        neg.map((a) => dot(a, u)),
      ),
      probeAccuracy: probeAccuracy(pos, neg, { folds: probeFolds }).accuracy,
    };
  });
  const s = check.settings;
  return {
    format: 'persona-vectors/layer-analysis@1',
    toolVersion: TOOL_VERSION,
    model: { id: model.id, ...(model.revision ? { revision: model.revision } : {}), precision: model.precision, numLayers: L, hiddenSize: model.hiddenSize },
    persona: {
      name: persona.name,
      ...(persona.meta.description ? { description: persona.meta.description } : {}),
      ...(o.source ? { source: o.source } : {}),
      recordedLayer: persona.meta.recommendedLayer,
    },
    settings: {
      alphas: [...s.alphas, 0].sort((a, b) => a - b),
      layers,
      coherenceFloor: s.coherenceFloor,
      repetitionFloor: s.repetitionFloor,
      perplexityCeiling: s.perplexityCeiling,
      screenAlpha: s.screenAlpha,
      keepLayers: s.keepLayers,
      maxScreenLayers: s.maxScreenLayers,
      ...sweep,
      level: s.level,
      scorer: s.scorer,
      probeFolds,
      contrastPairs: P,
      questions: check.questions.length,
      batchSize,
    },
    metric: check.recommendation.metric,
    ...(check.projectionLayer !== undefined ? { projectionLayer: check.projectionLayer } : {}),
    ...(check.coarseScreen ? { coarseScreen: check.coarseScreen } : {}),
    questions: check.questions,
    baseline: check.baseline,
    layers: results,
    recommendation: check.recommendation,
    timing: { seconds: (performance.now() - t0) / 1000, generatedTokens },
  };
}

export { coherentRange };
