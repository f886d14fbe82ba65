import type { LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { normalizeLayer, PersonaVector, type SteeringVerdict } from '../../steering/PersonaVector.js';
import { resolveSteering } from '../../steering/resolveSteering.js';
import type { SteeringRecorder } from '../../persona/trainPersona.js';
import type { ProgressCallback } from '../../util/progress.js';
import { pairedDelta, summarizeCondition, type EndedSummary, type PairedDelta } from '../evaluate/conditionSummary.js';
import { generateSweep, type SweepRow } from '../evaluate/generateSweep.js';
import { projectionScorer } from '../evaluate/projectionScorer.js';
import { defaultQuestionSet } from '../evaluate/questionSets.js';
import { sweepSettings, type SweepOptions, type SweepSettings } from '../evaluate/sweepOptions.js';
import type { TokenizedItem } from '../evaluate/tokenizedItems.js';
import { buildTraitScoring, defaultScorerSpec, NO_TRAIT_SCORING, type ScorerSpec } from '../evaluate/traitScoring.js';
import { distinctNScorer, perplexityScorer } from '../scorers/coherenceScorers.js';
import { unsteeredLogProbSource } from '../evaluate/unsteeredLogProbSource.js';
import { unsteeredReader } from '../evaluate/unsteeredReader.js';
import type { Scorer, ScoreValue } from '../scorers/Scorer.js';
import type { MetricSummary } from '../stats.js';
import { DEFAULTS } from '../../engine/defaults.js';

/**
 * The recommendation rule's defaults, one set for `train`, `create`, `analyze-layers` and the library:
 * the alpha grid (gap units), the screening alpha, how many layers the screen keeps, the coherence
 * bounds, and how many of the model's held-out requests are asked.
 *
 * @example RECOMMENDER_DEFAULTS.coherenceFloor; // 0.8
 */
export const RECOMMENDER_DEFAULTS = Object.freeze({
  alphas: Object.freeze([-8, -4, -2, 2, 4, 8]) as readonly number[],
  screenAlpha: 4,
  keepLayers: 3,
  /**
   * Most layers screened in one pass: a model with more candidate layers is screened coarse to fine
   * (this many evenly spaced layers, then every layer between the best one's coarse neighbours).
   */
  maxScreenLayers: 8,
  /** Lowest end-of-turn rate of a coherent cell. */
  coherenceFloor: 0.8,
  /** Lowest mean distinct-2 of a coherent cell, as a share of the unsteered answers' mean distinct-2. */
  repetitionFloor: 0.85,
  /** Highest perplexity (geometric mean, under the unsteered model) of a coherent cell, as a multiple of the unsteered answers'. */
  perplexityCeiling: 4,
  numQuestions: 32,
  /** Answer length: long enough that unsteered answers end their turn, so the end-of-turn rate measures steering. */
  maxNewTokens: 64,
  level: 0.95,
});

/**
 * Options of {@link recommendSteering}; every default is in {@link RECOMMENDER_DEFAULTS} and `sweepSettings`
 * (T = 0.8, top-k 50, seed 0, gap units, all positions).
 *
 * @example const o: RecommendOptions = { traitScoring, seed: 0 };
 */
export interface RecommendOptions extends SweepOptions {
  /** Held-out requests (default: the first 32 of the model's own evaluation set, `defaultQuestionSet`). */
  questions?: string[];
  /** The alpha grid (0, the shared baseline, is added). */
  alphas?: number[];
  /** Candidate layers (default all). */
  layers?: number[];
  /** The alpha every candidate layer is screened at (±; default 4). */
  screenAlpha?: number;
  /** Layers measured on the whole grid after the screen (default 3; Infinity = all). */
  keepLayers?: number;
  /**
   * Most candidate layers screened in one pass (default 8; Infinity = screen every candidate). With
   * more candidates the screen runs coarse to fine: `maxScreenLayers` evenly spaced layers first, then
   * the unscreened layers between the best coarse layer's two coarse neighbours. Layers outside both
   * are reported as not screened.
   */
  maxScreenLayers?: number;
  /**
   * Leave out the grid cells beyond an incoherent screen cell on their side (e.g. +8 when +4 broke
   * the answers): they cannot change the coherent range or the choice (default true; false measures
   * the whole grid for the heat maps, as `analyze-layers` does).
   */
  skipBeyondIncoherent?: boolean;
  coherenceFloor?: number;
  repetitionFloor?: number;
  perplexityCeiling?: number;
  level?: number;
  batchSize?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * One layer × alpha cell, paired with the unsteered answers to the same requests and seeds.
 *
 * @example cell.effect.lo > 0 && cell.coherent; // steers toward the persona and stays coherent
 */
export interface SteeringCell {
  alpha: number;
  metric: MetricSummary;
  effect: PairedDelta;
  ended: EndedSummary;
  distinct2: MetricSummary;
  /** Geometric mean perplexity of the answers under the unsteered model. */
  perplexity: number;
  /** End-of-turn rate at or above the floor, distinct-2 at or above the repetition bound, perplexity under the ceiling. */
  coherent: boolean;
}

/**
 * A candidate layer: the screened cells (±screenAlpha) and, when the screen kept it, the whole grid.
 *
 * @example layer.measured ? layer.coherentRange : 'pruned after the screen';
 */
export interface SteeringLayer {
  layer: number;
  /** Kept by the screen and measured over the whole grid. */
  measured: boolean;
  /** (effect at +screenAlpha − effect at −screenAlpha) / 2, an incoherent side counting 0: the screen's ranking score. */
  screenScore: number;
  cells: SteeringCell[];
  /** The widest alpha interval around 0 whose every measured cell is coherent (measured layers only). */
  coherentRange: [number, number] | null;
  /** The positive alpha in the coherent range whose effect is largest, among those whose interval lies above 0. */
  bestAlpha: number | null;
  bestEffect: PairedDelta | null;
}

/**
 * The recommendation: a layer, an alpha and the coherent alpha range, with the effect measured there;
 * or the verdict that this vector does not measurably steer this model.
 *
 * @example rec.verdict === 'steers' ? `--layer ${rec.layer} --alpha ${rec.alpha}` : rec.reason;
 */
export type SteeringRecommendation =
  | {
      verdict: 'steers';
      metric: string;
      metricSource: 'scorer' | 'projection';
      layer: number;
      alpha: number;
      alphaRange: [number, number];
      effect: PairedDelta;
      ended: EndedSummary;
      reason: string;
    }
  | {
      verdict: 'does-not-steer';
      metric: string;
      metricSource: 'scorer' | 'projection';
      layer: null;
      alpha: null;
      alphaRange: null;
      effect: null;
      ended: null;
      reason: string;
    };

/**
 * Everything the steering check measured.
 *
 * @example const { recommendation, layers, baseline } = await recommendSteering(model, persona);
 */
export interface SteeringCheck {
  recommendation: SteeringRecommendation;
  layers: SteeringLayer[];
  baseline: { metric: MetricSummary; ended: EndedSummary; distinct2: MetricSummary; perplexity: number };
  /** With a projection metric: the layer it is read at (the persona's most separable one). */
  projectionLayer?: number;
  /**
   * Set when the candidates outnumbered `maxScreenLayers`: the evenly spaced layers screened first,
   * the best of them the fine screen was centred on (null when no coarse layer moved the metric, so
   * there was nothing to refine toward), and the layers the fine screen added.
   */
  coarseScreen?: { candidates: number; coarse: number[]; refinedAround: number | null; fine: number[] };
  questions: string[];
  settings: SweepSettings & {
    alphas: number[];
    screenAlpha: number;
    keepLayers: number;
    maxScreenLayers: number;
    coherenceFloor: number;
    repetitionFloor: number;
    perplexityCeiling: number;
    level: number;
    scorer: string;
  };
  generatedTokens: number;
  /** Answers read back unsteered (perplexity, projection): cells already incoherent by end-of-turn rate or distinct-2 are not read back (their perplexity is left unmeasured). */
  readBackAnswers: number;
}

/**
 * The one recommender of a layer and alpha range (`train`, `create`, `analyze-layers`, the library).
 * On held-out requests, each answered unsteered once (the paired baseline): (1) every candidate layer
 * is steered at ±screenAlpha, all layers in one batched sweep (each row carries its own layer and
 * alpha) — with more than `maxScreenLayers` candidates (default 8), coarse to fine: that many evenly
 * spaced layers, then the layers between the best one's coarse neighbours; (2) the `keepLayers` layers with the largest screen score are measured over the whole alpha
 * grid, again in one sweep. A cell is coherent when its end-of-turn rate is at least `coherenceFloor`,
 * its mean distinct-2 at least `repetitionFloor` × the unsteered one, and the perplexity of its
 * answers under the unsteered model (geometric mean) at most `perplexityCeiling` × the unsteered one. A layer's coherent range is
 * the widest interval around 0 whose every cell is coherent. The recommended layer and alpha are the
 * coherent positive cell with the largest mean effect among cells whose interval excludes 0 toward the
 * persona; the range is that layer's coherent range. When no cell qualifies, the verdict is
 * `does-not-steer`. The effect is the trait scorer's metric, or — with none — the persona's own
 * projection at its most separable layer, which the result says (weaker evidence).
 *
 * @example
 * const { recommendation: r } = await recommendSteering(model, formal, { traitScoring });
 * // r = { verdict: 'steers', layer: 4, alpha: 4, alphaRange: [-4, 4], effect: { mean: 0.41, lo: 0.15, … }, … }
 */
export async function recommendSteering(model: LanguageModel, persona: PersonaVector, o: RecommendOptions = {}): Promise<SteeringCheck> {
  persona.assertFits(model);
  const L = model.numLayers;
  const layers = [...new Set((o.layers ?? Array.from({ length: L }, (_, l) => l)).map((l) => normalizeLayer(l, L)))].sort((a, b) => a - b);
  if (layers.length === 0) throw new InvalidArgumentError('The steering check needs at least one candidate layer.');
  const alphas = [...new Set((o.alphas ?? RECOMMENDER_DEFAULTS.alphas).filter((a) => a !== 0))].sort((a, b) => a - b);
  for (const a of alphas) if (!Number.isFinite(a)) throw new InvalidArgumentError(`alphas must be finite numbers; got ${a}.`);
  if (!alphas.some((a) => a > 0))
    throw new InvalidArgumentError(`The alpha grid needs a positive alpha to steer toward the persona; got [${alphas.join(', ')}].`);
  const screenAlpha = o.screenAlpha ?? RECOMMENDER_DEFAULTS.screenAlpha;
  if (!(screenAlpha > 0)) throw new InvalidArgumentError(`The screening alpha must be positive; got ${screenAlpha}.`);
  const skipBeyondIncoherent = o.skipBeyondIncoherent ?? true;
  const keepLayers = o.keepLayers ?? RECOMMENDER_DEFAULTS.keepLayers;
  if (!(keepLayers >= 1)) throw new InvalidArgumentError(`keepLayers must be at least 1; got ${keepLayers}.`);
  const maxScreenLayers = o.maxScreenLayers ?? RECOMMENDER_DEFAULTS.maxScreenLayers;
  if (!(maxScreenLayers === Infinity || (Number.isInteger(maxScreenLayers) && maxScreenLayers >= 2)))
    throw new InvalidArgumentError(`maxScreenLayers must be an integer of at least 2, or Infinity to screen every layer; got ${maxScreenLayers}.`);
  const floor = o.coherenceFloor ?? RECOMMENDER_DEFAULTS.coherenceFloor;
  if (!(floor >= 0 && floor <= 1)) throw new InvalidArgumentError(`The coherence floor is an end-of-turn rate in [0, 1]; got ${floor}.`);
  const repetitionFloor = o.repetitionFloor ?? RECOMMENDER_DEFAULTS.repetitionFloor;
  if (!(repetitionFloor >= 0 && repetitionFloor <= 1))
    throw new InvalidArgumentError(`The repetition floor is a share of the unsteered distinct-2 in [0, 1]; got ${repetitionFloor}.`);
  const perplexityCeiling = o.perplexityCeiling ?? RECOMMENDER_DEFAULTS.perplexityCeiling;
  if (!(perplexityCeiling >= 1))
    throw new InvalidArgumentError(`The perplexity ceiling is a multiple of the unsteered perplexity, at least 1; got ${perplexityCeiling}.`);
  const level = o.level ?? RECOMMENDER_DEFAULTS.level;
  const sweep = sweepSettings({ ...o, maxNewTokens: o.maxNewTokens ?? RECOMMENDER_DEFAULTS.maxNewTokens });
  const { maxNewTokens, temperature, topK, seed, units, positions } = sweep;
  const questions = o.questions ?? defaultQuestionSet(model.dir, RECOMMENDER_DEFAULTS.numQuestions, seed).evaluation;
  if (questions.length < 2) throw new InvalidArgumentError(`The steering check needs at least 2 held-out requests for an interval; got ${questions.length}.`);
  const batchSize = o.batchSize ?? DEFAULTS.sweep.batchSize;
  const sampling = { temperature, topK };
  const traits = o.traitScoring ?? NO_TRAIT_SCORING;
  const Q = questions.length;
  let generatedTokens = 0;

  // ---- the effect metric: the persona's trait metric, else its own projection ---------------------
  let metric = traits.traitMetric[persona.name];
  let projectionLayer: number | undefined;
  // One unsteered read-back per list of answers gives the perplexity (and the projection, when it is the metric).
  const reader = unsteeredReader(model, { batchSize });
  // Scorers read from the text (trait, distinct-2), and those that need the unsteered read-back.
  const textScorers: Scorer[] = [...traits.scorers, distinctNScorer([2])];
  const readBackScorers: Scorer[] = [perplexityScorer(unsteeredLogProbSource(model, { reader }))];
  if (!metric) {
    projectionLayer = persona.meta.layers.reduce((a, b) => (b.separation > a.separation ? b : a)).layer;
    metric = `projection:${persona.name}`;
    readBackScorers.push(projectionScorer(model, [{ persona, layer: projectionLayer }], { reader }));
  }
  const metricSource: 'scorer' | 'projection' = projectionLayer === undefined ? 'scorer' : 'projection';
  let readBackItems = 0;
  /**
   * Scores a sweep's answers, `Q` rows per cell. The read-back (perplexity under the unsteered model)
   * is skipped for cells that `decided` says are incoherent already from their end-of-turn rate or
   * distinct-2: their perplexity cannot change the verdict, so it is left unmeasured (null). With the
   * projection metric every cell is read back (the effect needs it).
   */
  const score = async (items: TokenizedItem[], ended: boolean[], decided?: (part: Array<Record<string, ScoreValue>>, ended: boolean[]) => boolean) => {
    const rows: Array<Record<string, ScoreValue>> = items.map(() => ({}));
    for (const s of textScorers) (await s.score(items)).forEach((r, i) => Object.assign(rows[i], r));
    const read: number[] = [];
    for (let k = 0; k * Q < items.length; k++) {
      const cell = Array.from({ length: Math.min(Q, items.length - k * Q) }, (_, i) => k * Q + i);
      if (
        metricSource === 'projection' ||
        !decided?.(
          cell.map((i) => rows[i]),
          cell.map((i) => ended[i]),
        )
      )
        read.push(...cell);
    }
    const subset = read.map((i) => items[i]);
    readBackItems += subset.length;
    for (const s of readBackScorers) {
      const got = subset.length ? await s.score(subset) : [];
      const none = Object.fromEntries(s.metrics.map((m) => [m, null]));
      rows.forEach((r) => Object.assign(r, none));
      got.forEach((r, j) => Object.assign(rows[read[j]], r));
    }
    return rows;
  };
  const run = async (rows: SweepRow[], phase: string, decided?: Parameters<typeof score>[2]) => {
    const answers = await generateSweep(model, rows, { maxNewTokens, sampling, batchSize, onProgress: o.onProgress, phase, signal: o.signal });
    generatedTokens += answers.reduce((n, a) => n + a.tokens.length, 0);
    const items = answers.map((a, i) => ({ question: questions[i % Q], answer: a.text, promptIds: a.promptIds, answerIds: a.tokens }));
    const scores = await score(
      items,
      answers.map((a) => a.ended),
      decided,
    );
    return { answers, scores };
  };

  // ---- the unsteered baseline ---------------------------------------------------------------------
  const base = await run(
    questions.map((q, i) => ({ prompt: q, intervention: null, seed: seed + i })),
    'unsteered answers',
  );
  const baseValues = base.scores.map((s) => s[metric] ?? null);
  const baseSummary = summarizeCondition(
    base.scores,
    base.answers.map((a) => a.ended),
    base.answers.map((a) => a.tokens.length),
    [metric, 'distinct2'],
    level,
  );
  const minDistinct2 = repetitionFloor * (Number.isFinite(baseSummary.metrics.distinct2.mean) ? baseSummary.metrics.distinct2.mean : 0);
  const basePerplexity = geometricMean(base.scores.map((r) => r.perplexity ?? null));
  const maxPerplexity = perplexityCeiling * basePerplexity;

  // Cells of (layer, alpha) pairs, all in one batched sweep: rows carry their own layer and alpha.
  const measure = async (pairs: Array<{ layer: number; alpha: number }>, phase: string): Promise<SteeringCell[]> => {
    if (pairs.length === 0) return [];
    const rows = pairs.flatMap(({ layer, alpha }) => {
      const iv = resolveSteering(model, [{ persona, alpha, layer, units, positions }]);
      return questions.map((q, i) => ({ prompt: q, intervention: iv, seed: seed + i }));
    });
    // Incoherent whatever its perplexity: too few answers end their turn, or too repetitive.
    const decided = (part: Array<Record<string, ScoreValue>>, ended: boolean[]) => {
      const s = summarizeCondition(
        part,
        ended,
        ended.map(() => 0),
        ['distinct2'],
        level,
      );
      const d2 = s.metrics.distinct2.mean;
      return !(s.ended.rate >= floor && (Number.isFinite(d2) ? d2 : 0) >= minDistinct2);
    };
    const { answers, scores } = await run(rows, phase, decided);
    return pairs.map(({ alpha }, k) => {
      const part = scores.slice(k * Q, (k + 1) * Q);
      const ans = answers.slice(k * Q, (k + 1) * Q);
      const s = summarizeCondition(
        part,
        ans.map((a) => a.ended),
        ans.map((a) => a.tokens.length),
        [metric, 'distinct2'],
        level,
      );
      const d2 = s.metrics.distinct2.mean;
      const ppl = geometricMean(part.map((r) => r.perplexity ?? null));
      // An unmeasured perplexity (NaN) never passes the bound; only an unmeasurable baseline leaves it unapplied.
      const pplOk = Number.isFinite(maxPerplexity) ? Number.isFinite(ppl) && ppl <= maxPerplexity : true;
      const coherent = s.ended.rate >= floor && (Number.isFinite(d2) ? d2 : 0) >= minDistinct2 && pplOk;
      return {
        alpha,
        metric: s.metrics[metric],
        effect: pairedDelta(
          part.map((r) => r[metric] ?? null),
          baseValues,
          level,
        ),
        ended: s.ended,
        distinct2: s.metrics.distinct2,
        perplexity: ppl,
        coherent,
      };
    });
  };

  // ---- (1) the screen: candidate layers at ±screenAlpha, coarse to fine when there are many --------
  const screen = async (of: number[], phase: string): Promise<SteeringLayer[]> => {
    const cells = await measure(
      of.flatMap((layer) => [
        { layer, alpha: -screenAlpha },
        { layer, alpha: screenAlpha },
      ]),
      phase,
    );
    return of.map((layer, i) => {
      const [minus, plus] = [cells[2 * i], cells[2 * i + 1]];
      // An incoherent screen cell counts as no movement: that side's coherent range stops short of the screen.
      const moved = (c: SteeringCell, sign: number) => (c.coherent && Number.isFinite(c.effect.mean) ? sign * c.effect.mean : 0);
      const screenScore = (moved(plus, 1) + moved(minus, -1)) / 2;
      return { layer, measured: false, screenScore, cells: [minus, plus], coherentRange: null, bestAlpha: null, bestEffect: null };
    });
  };
  const byScore = (a: SteeringLayer, b: SteeringLayer) => b.screenScore - a.screenScore || a.layer - b.layer;
  let result: SteeringLayer[];
  let coarseScreen: SteeringCheck['coarseScreen'];
  if (layers.length <= maxScreenLayers) {
    result = await screen(layers, `screen of ${layers.length} layers at ±${screenAlpha}`);
  } else {
    const coarse = evenlySpaced(layers, maxScreenLayers);
    const first = await screen(coarse, `coarse screen of ${coarse.length} of ${layers.length} layers at ±${screenAlpha}`);
    const best = [...first].sort(byScore)[0];
    // Nothing to refine toward when no coarse layer moved the metric.
    const around = best.screenScore > 0 ? best.layer : null;
    const k = around === null ? -1 : coarse.indexOf(around);
    const fine = k < 0 ? [] : layers.filter((l) => l > (coarse[k - 1] ?? -Infinity) && l < (coarse[k + 1] ?? Infinity) && !coarse.includes(l));
    const second = fine.length ? await screen(fine, `fine screen of ${fine.length} layers around layer ${around} at ±${screenAlpha}`) : [];
    result = [...first, ...second].sort((a, b) => a.layer - b.layer);
    coarseScreen = { candidates: layers.length, coarse, refinedAround: around, fine };
  }

  // ---- (2) the whole grid for the layers the screen ranks highest ---------------------------------
  const kept = [...result].sort(byScore).slice(0, Math.min(keepLayers, result.length));
  const rest = alphas.filter((a) => a !== screenAlpha && a !== -screenAlpha);
  // A coherent range walks out from 0 and stops at the first incoherent cell, and the choice looks
  // inside it only: an alpha beyond an incoherent screen cell on its side cannot change either.
  const beyondIncoherent = (r: SteeringLayer, a: number) =>
    skipBeyondIncoherent && Math.abs(a) > screenAlpha && !r.cells.find((c) => c.alpha === Math.sign(a) * screenAlpha)!.coherent;
  const gridAlphas = kept.map((r) => rest.filter((a) => !beyondIncoherent(r, a)));
  const gridPairs = kept.flatMap((r, k) => gridAlphas[k].map((alpha) => ({ layer: r.layer, alpha })));
  const skipped = kept.length * rest.length - gridPairs.length;
  const gridCells = await measure(
    gridPairs,
    `grid of ${kept.length} layers × ${rest.length} alphas${skipped ? ` (${skipped} cells beyond an incoherent one skipped)` : ''}`,
  );
  let at = 0;
  kept.forEach((r, k) => {
    const own = gridCells.slice(at, (at += gridAlphas[k].length));
    // Screen cells outside the grid are reported but take no part in the range.
    r.cells = [...own, ...r.cells.filter((c) => alphas.includes(c.alpha))].sort((a, b) => a.alpha - b.alpha);
    r.measured = true;
    r.coherentRange = coherentRange(r.cells);
    const [, hi] = r.coherentRange;
    const ok = r.cells.filter((c) => c.alpha > 0 && c.alpha <= hi && c.effect.lo > 0);
    const best = ok.reduce<SteeringCell | null>((a, c) => (a === null || c.effect.mean > a.effect.mean ? c : a), null);
    r.bestAlpha = best?.alpha ?? null;
    r.bestEffect = best?.effect ?? null;
  });
  o.onProgress?.({ phase: 'steering check', done: 1, total: 1, unit: 'checks' });

  // ---- the choice ---------------------------------------------------------------------------------
  const winner = result.filter((r) => r.bestEffect).sort((a, b) => b.bestEffect!.mean - a.bestEffect!.mean || a.layer - b.layer)[0];
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const fmt = (d: PairedDelta) => `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} [${d.lo.toFixed(2)}, ${d.hi.toFixed(2)}]`;
  const evidence =
    metricSource === 'projection'
      ? ` (measured as the persona's own projection at layer ${projectionLayer}: no independent trait scorer, weaker evidence)`
      : '';
  let recommendation: SteeringRecommendation;
  if (winner) {
    const cell = winner.cells.find((c) => c.alpha === winner.bestAlpha)!;
    const range = winner.coherentRange!;
    recommendation = {
      verdict: 'steers',
      metric,
      metricSource,
      layer: winner.layer,
      alpha: cell.alpha,
      alphaRange: range,
      effect: cell.effect,
      ended: cell.ended,
      reason: `Layer ${winner.layer} at alpha ${cell.alpha} moves ${metric} by ${fmt(cell.effect)} (${pct(level)} CI) on ${Q} held-out requests while ${pct(cell.ended.rate)} of answers end their turn${evidence}; every alpha in [${range.join(', ')}] stays coherent there (end-of-turn ≥ ${pct(floor)}, distinct-2 ≥ ${pct(repetitionFloor)} and perplexity ≤ ${perplexityCeiling}× of unsteered).`,
    };
  } else {
    const measured = result
      .filter((r) => r.measured)
      .map((r) => {
        const c = r.cells.filter((x) => x.alpha > 0).reduce((a, b) => (b.effect.mean > a.effect.mean ? b : a));
        return `layer ${r.layer}: ${fmt(c.effect)} at ${c.alpha}${c.coherent ? '' : ' (incoherent)'}`;
      });
    recommendation = {
      verdict: 'does-not-steer',
      metric,
      metricSource,
      layer: null,
      alpha: null,
      alphaRange: null,
      effect: null,
      ended: null,
      reason: `This vector does not measurably steer this model: at no layer does a coherent positive alpha move ${metric} with an interval above zero on ${Q} held-out requests${evidence} (${measured.join('; ')}).`,
    };
  }
  return {
    recommendation,
    layers: result,
    baseline: { metric: baseSummary.metrics[metric], ended: baseSummary.ended, distinct2: baseSummary.metrics.distinct2, perplexity: basePerplexity },
    ...(projectionLayer !== undefined ? { projectionLayer } : {}),
    ...(coarseScreen ? { coarseScreen } : {}),
    questions: [...questions],
    settings: {
      alphas,
      screenAlpha,
      keepLayers: Math.min(keepLayers, layers.length),
      maxScreenLayers: Math.min(maxScreenLayers, layers.length),
      coherenceFloor: floor,
      repetitionFloor,
      perplexityCeiling,
      level,
      ...sweep,
      scorer: traits.scorers.length ? traits.description : 'none (projection)',
    },
    generatedTokens,
    readBackAnswers: readBackItems,
  };
}

/**
 * A persona with the check's verdict recorded: the recommended layer and range (when it steers), each
 * layer's measured steerability (screen score) and coherence, and `meta.steering`.
 *
 * @example const recorded = withRecommendation(persona, await recommendSteering(model, persona, { traitScoring })); // or an analyzeLayers result
 */
export function withRecommendation(
  persona: PersonaVector,
  check: Pick<SteeringCheck, 'recommendation' | 'layers' | 'questions'> & { settings: { screenAlpha: number; seed: number } },
): PersonaVector {
  const r = check.recommendation;
  const layers = persona.meta.layers.map((s) => {
    const c = check.layers.find((x) => x.layer === s.layer);
    if (!c) return s;
    const plus = c.cells.find((x) => x.alpha === check.settings.screenAlpha);
    return { ...s, steerability: c.screenScore, ...(plus ? { coherence: plus.ended.rate } : {}) };
  });
  const steering: SteeringVerdict = {
    verdict: r.verdict,
    metric: r.metric,
    metricSource: r.metricSource,
    ...(r.layer !== null ? { layer: r.layer } : {}),
    ...(r.alpha !== null ? { alpha: r.alpha } : {}),
    ...(r.effect ? { effect: { mean: r.effect.mean, lo: r.effect.lo, hi: r.effect.hi, level: r.effect.level } } : {}),
    ...(r.ended ? { ended: r.ended.rate } : {}),
    questions: check.questions.length,
    seed: check.settings.seed,
    reason: r.reason,
  };
  return new PersonaVector(persona.vectors, {
    ...persona.meta,
    ...(r.verdict === 'steers' ? { recommendedLayer: r.layer, alphaRange: r.alphaRange } : { alphaRange: [0, 0] as [number, number] }),
    layers,
    steering,
  });
}

/**
 * The steering check as `trainPersona`'s `recommend` step: runs {@link recommendSteering} with these
 * options and records the result ({@link withRecommendation}). The trait scorer is `traitScoring`,
 * else one built for the persona from `scorer`, else the model folder's default (`defaultScorerSpec`:
 * the stylist's markers), else none (the persona's own projection).
 *
 * @example await trainPersona({ model, positivePrompts, negativePrompts, recommend: recordSteering({ seed: 0 }) });
 */
export function recordSteering(o: RecommendOptions & { scorer?: ScorerSpec; questionsFrom?: string } = {}): SteeringRecorder {
  const { questionsFrom, scorer, ...rest } = o;
  if (questionsFrom && !o.questions) throw new InvalidArgumentError('questionsFrom names where the held-out requests came from; give the questions too.');
  return async (model, persona, onProgress, signal) => {
    const traitScoring = o.traitScoring ?? (await buildTraitScoring(scorer ?? defaultScorerSpec(model.dir), [persona]));
    const recorded = withRecommendation(persona, await recommendSteering(model, persona, { onProgress, signal, ...rest, traitScoring }));
    // Held-out requests other than the model's own set (a trait artefact's eval file) are named in the file.
    return questionsFrom ? new PersonaVector(recorded.vectors, { ...recorded.meta, steering: { ...recorded.meta.steering!, questionsFrom } }) : recorded;
  };
}

/**
 * The lines every command prints about a recommendation: the layer, alpha, range and measured effect
 * with its interval and a "steer with" line; or, for `does-not-steer`, that verdict plainly and no
 * "steer with" line. Says so when the effect is only the persona's own projection.
 *
 * @example steeringSummary(persona.meta.steering!, persona.meta.alphaRange); // ['recommended: layer 1, alpha +8, range [-4, 8]: formality +0.85 [0.51, 1.20] …', 'steer with: --layer 1 --alpha 8']
 */
export function steeringSummary(v: SteeringVerdict | SteeringRecommendation, alphaRange?: [number, number] | null): string[] {
  const from = 'questionsFrom' in v && v.questionsFrom ? [`the check asked ${v.questions} held-out requests from ${v.questionsFrom}`] : [];
  const weak =
    v.metricSource === 'projection'
      ? [`note: the only trait measure was the persona's own projection (${v.metric}), weaker evidence than an independent scorer; give --scorer for one.`]
      : [];
  if (v.verdict === 'does-not-steer') {
    // The recorded reason states the verdict itself; print it once.
    const why = v.reason.replace(/^This vector does not measurably steer this model:\s*/, '');
    return [`verdict: this vector does not measurably steer this model. ${why.charAt(0).toUpperCase()}${why.slice(1)}`, ...from, ...weak];
  }
  const e = v.effect!;
  const range = ('alphaRange' in v ? v.alphaRange : alphaRange) ?? null;
  const ended = typeof v.ended === 'number' ? v.ended : v.ended?.rate;
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x}`;
  return [
    `recommended: layer ${v.layer}, alpha ${sign(v.alpha!)}${range ? `, coherent range [${range.map(sign).join(', ')}]` : ''}: ${v.metric} ${e.mean >= 0 ? '+' : ''}${e.mean.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}] (${Math.round(e.level * 100)}% CI)${ended !== undefined ? `, ${(ended * 100).toFixed(0)}% of answers end their turn` : ''}`,
    ...from,
    ...weak,
    `steer with: --layer ${v.layer} --alpha ${v.alpha}`,
  ];
}

/**
 * `k` of the sorted candidates, evenly spaced: the middle one of each of `k` equal runs.
 *
 * @example evenlySpaced([0, 1, …, 27], 8); // [1, 5, 8, 12, 15, 19, 22, 26]
 */
export function evenlySpaced(sorted: readonly number[], k: number): number[] {
  if (k >= sorted.length) return [...sorted];
  return Array.from({ length: k }, (_, i) => sorted[Math.floor(((i + 0.5) * sorted.length) / k)]);
}

/** exp(mean log x) over the scored values (NaN when none). */
function geometricMean(xs: ReadonlyArray<ScoreValue | undefined>): number {
  const v = xs.filter((x): x is number => typeof x === 'number' && x > 0 && Number.isFinite(x));
  return v.length ? Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length) : NaN;
}

/**
 * The widest alpha interval around 0 whose every cell is coherent: walking out from 0 on each side,
 * it stops before the first cell that is not ([0, 0] when both neighbours of 0 fail).
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
