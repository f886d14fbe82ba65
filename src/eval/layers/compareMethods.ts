import type { LanguageModel, Prompt } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { AGGREGATORS } from '../../persona/aggregators.js';
import { computePersonaVector } from '../../persona/computePersonaVector.js';
import type { ContrastPrompt } from '../../persona/prompts/PromptSet.js';
import type { ExtractionMethod, PersonaVector } from '../../steering/PersonaVector.js';
import type { ProgressCallback } from '../../util/progress.js';
import { TOOL_VERSION } from '../../version.js';
import { heatmap } from '../plots/heatmap.js';
import type { HtmlReportSpec, ReportSection } from '../report/htmlReport.js';
import { fmtAlpha } from '../evaluate/evaluatePersonas.js';
import { buildTraitScoring, defaultScorerSpec, type ScorerSpec } from '../evaluate/traitScoring.js';
import { recommendSteering, steeringSummary, type RecommendOptions, type SteeringCheck } from './recommendSteering.js';
import { DEFAULTS } from '../../engine/defaults.js';
import { cosine } from '../../util/numerics.js';

/**
 * Options of {@link compareMethods}: the prompts, the methods, and the recommender's options.
 *
 * @example const o: CompareMethodsOptions = { positivePrompts, negativePrompts, methods: ['mean-diff', 'pca', 'probe'], name: 'formal' };
 */
export interface CompareMethodsOptions extends Omit<RecommendOptions, 'onProgress'> {
  positivePrompts: Prompt[];
  negativePrompts: Prompt[];
  methods: ExtractionMethod[];
  name?: string;
  description?: string;
  /** Without `traitScoring`: the scorer built for the persona (default: the model folder's, `defaultScorerSpec`), and metric overrides. */
  scorer?: ScorerSpec;
  traitMetricOverrides?: Record<string, string>;
  onProgress?: ProgressCallback;
}

/**
 * Every method's vector, steering check and recommendation, the cosine between each pair of
 * methods' directions per layer, and the overall recommendation.
 *
 * @example const c: MethodComparison = await compareMethods(model, o); c.overall?.method;
 */
export interface MethodComparison {
  format: 'persona-vectors/method-comparison@1';
  toolVersion: string;
  model: { id: string; numLayers: number; hiddenSize: number };
  persona: string;
  methods: Array<{ method: ExtractionMethod; check: SteeringCheck }>;
  /** cosines[l][i][j]: cosine between method i's and method j's direction at layer l. */
  cosines: number[][][];
  /** The method whose recommendation has the largest effect (null: no method steers). */
  overall: { method: ExtractionMethod; layer: number; alpha: number; alphaRange: [number, number]; effect: { mean: number; lo: number; hi: number } } | null;
}

/**
 * Compares extraction methods on the same answers: the model answers the prompts once (generated
 * source, as `train`), every method aggregates those same answers (given-text path, so the methods
 * differ only in the aggregator), and each vector goes through the one recommender with the same
 * settings. Returns each method's check and recommendation, per-layer cosines between the methods'
 * directions, and the overall recommendation (the steering method with the largest effect).
 *
 * @example const c = await compareMethods(model, { positivePrompts, negativePrompts, methods: ['mean-diff', 'pca-centred'], traitScoring });
 */
export async function compareMethods(model: LanguageModel, o: CompareMethodsOptions): Promise<MethodComparison> {
  const methods = [...new Set(o.methods)];
  if (methods.length < 1) throw new InvalidArgumentError('--methods needs at least one method.');
  for (const m of methods)
    if (!(m in AGGREGATORS)) throw new InvalidArgumentError(`Unknown method "${m}" in --methods; choose from ${Object.keys(AGGREGATORS).join(', ')}.`);
  const base = {
    model,
    name: o.name ?? 'persona',
    description: o.description,
    maxNewTokens: DEFAULTS.train.maxNewTokens,
    sampling: { ...DEFAULTS.sampling, seed: o.seed ?? DEFAULTS.sampling.seed },
    batchSize: DEFAULTS.train.batchSize,
    signal: o.signal,
  };
  const generated = await computePersonaVector({ ...base, positivePrompts: o.positivePrompts, negativePrompts: o.negativePrompts, onProgress: o.onProgress });
  const withAnswer = (ps: Prompt[], answers: string[]): ContrastPrompt[] =>
    ps.map((p, i) => ({ ...(typeof p === 'string' ? { user: p } : (p as ContrastPrompt)), assistant: answers[i] }));
  const givenPos = withAnswer(o.positivePrompts, generated.positiveAnswers);
  const givenNeg = withAnswer(o.negativePrompts, generated.negativeAnswers);
  const personas: PersonaVector[] = [];
  for (const method of methods)
    personas.push(
      method === 'mean-diff'
        ? generated.persona
        : (await computePersonaVector({ ...base, method, positivePrompts: givenPos, negativePrompts: givenNeg })).persona,
    );
  const traitScoring = o.traitScoring ?? (await buildTraitScoring(o.scorer ?? defaultScorerSpec(model.dir), [generated.persona], o.traitMetricOverrides));
  const results: MethodComparison['methods'] = [];
  for (const [i, method] of methods.entries())
    results.push({ method, check: await recommendSteering(model, personas[i], { ...o, skipBeyondIncoherent: false, traitScoring, onProgress: o.onProgress }) });
  const L = model.numLayers;
  const cosines = Array.from({ length: L }, (_, l) => personas.map((a) => personas.map((b) => cosine(a.layer(l), b.layer(l)))));
  const steering = results
    .filter((r) => r.check.recommendation.verdict === 'steers')
    .sort((a, b) => b.check.recommendation.effect!.mean - a.check.recommendation.effect!.mean);
  const best = steering[0]?.check.recommendation;
  return {
    format: 'persona-vectors/method-comparison@1',
    toolVersion: TOOL_VERSION,
    model: { id: model.id, numLayers: L, hiddenSize: model.hiddenSize },
    persona: base.name,
    methods: results,
    cosines,
    overall:
      best && best.verdict === 'steers'
        ? {
            method: steering[0].method,
            layer: best.layer,
            alpha: best.alpha,
            alphaRange: best.alphaRange,
            effect: { mean: best.effect.mean, lo: best.effect.lo, hi: best.effect.hi },
          }
        : null,
  };
}

/**
 * The lines `analyze-layers --methods` prints: one recommendation (or verdict) per method, then the overall one.
 *
 * @example for (const line of comparisonSummary(c)) console.log(line);
 */
export function comparisonSummary(c: MethodComparison): string[] {
  const lines = c.methods.flatMap((m) =>
    steeringSummary(m.check.recommendation)
      .filter((l) => !l.startsWith('steer with'))
      .map((l) => `${m.method}: ${l}`),
  );
  lines.push(
    c.overall
      ? `overall: ${c.overall.method} at layer ${c.overall.layer}, alpha ${fmtAlpha(c.overall.alpha)} (range [${c.overall.alphaRange.map(fmtAlpha).join(', ')}])\nsteer with: --layer ${c.overall.layer} --alpha ${c.overall.alpha}`
      : 'overall: no method gives a vector that measurably steers this model',
  );
  return lines;
}

/**
 * The HTML report of a comparison: per method, the effect and coherence heat maps (layer × alpha,
 * screened-out cells blank) and its recommendation; per layer, the cosines between the methods.
 *
 * @example await writeHtmlReport('methods.html', comparisonReport(c));
 */
export function comparisonReport(c: MethodComparison): HtmlReportSpec {
  const sections: ReportSection[] = [{ kind: 'text', title: 'Recommendations', paragraphs: comparisonSummary(c) }];
  for (const m of c.methods) {
    const s = m.check.settings;
    const alphas = s.alphas;
    const cell = (l: number, a: number) => m.check.layers.find((x) => x.layer === l)?.cells.find((x) => x.alpha === a);
    const layers = m.check.layers.map((l) => l.layer);
    const rec = m.check.recommendation;
    const fin = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);
    sections.push({
      kind: 'figure',
      title: `${m.method}: effect`,
      svg: heatmap({
        title: `${m.method}: change in ${rec.metric} by layer and alpha`,
        rows: layers.map((l) => `layer ${l}`),
        cols: alphas.map(fmtAlpha),
        values: layers.map((l) => alphas.map((a) => fin(cell(l, a)?.effect.mean))),
        xLabel: `alpha (${s.units} units)`,
        yLabel: 'steered layer',
        colorLabel: `Δ ${rec.metric} vs unsteered`,
        highlight:
          rec.verdict === 'steers'
            ? { row: layers.indexOf(rec.layer), col: alphas.indexOf(rec.alpha), label: `recommended: layer ${rec.layer}, α=${fmtAlpha(rec.alpha)}` }
            : undefined,
        dimmed: layers.map((l) => alphas.map((a) => !(cell(l, a)?.coherent ?? true))),
        dimmedLabel: 'incoherent (–: screened out)',
      }),
      caption: rec.reason,
    });
    sections.push({
      kind: 'figure',
      title: `${m.method}: coherence`,
      svg: heatmap({
        title: `${m.method}: end-of-turn rate by layer and alpha`,
        rows: layers.map((l) => `layer ${l}`),
        cols: alphas.map(fmtAlpha),
        values: layers.map((l) => alphas.map((a) => fin(cell(l, a)?.ended.rate))),
        xLabel: `alpha (${s.units} units)`,
        yLabel: 'steered layer',
        colorLabel: `end-of-turn rate (centre = floor ${s.coherenceFloor})`,
        center: s.coherenceFloor,
        domain: [0, 1],
        dimmed: layers.map((l) => alphas.map((a) => !(cell(l, a)?.coherent ?? true))),
        dimmedLabel: 'incoherent',
      }),
    });
  }
  const names = c.methods.map((m) => m.method);
  sections.push({
    kind: 'table',
    title: 'Cosine between the methods, per layer',
    header: ['layer', ...names.flatMap((a, i) => names.slice(i + 1).map((b) => `${a} · ${b}`))],
    rows: c.cosines.map((m, l) => [l, ...names.flatMap((_, i) => names.slice(i + 1).map((__, k) => m[i][i + 1 + k]))]),
    digits: 3,
  });
  return {
    title: `Extraction methods compared: ${c.persona} on ${c.model.id}`,
    subtitle: `persona analyze-layers --methods ${names.join(',')}`,
    summary: [['overall', c.overall ? `${c.overall.method}, layer ${c.overall.layer}, alpha ${fmtAlpha(c.overall.alpha)}` : 'no method steers']],
    sections,
  };
}
