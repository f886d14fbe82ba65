import { heatmap } from '../plots/heatmap.js';
import { lineChart } from '../plots/lineChart.js';
import type { HtmlReportSpec, ReportCell, ReportSection } from '../report/htmlReport.js';
import type { NamedFigure } from '../evaluate/evaluationReport.js';
import { fmtAlpha } from '../evaluate/evaluatePersonas.js';
import type { LayerAnalysis } from './analyzeLayers.js';

/**
 * The layer × alpha heat map of the steering effect: colour and label = paired change of the effect
 * metric against the unsteered answers; hatched = end-of-turn rate under the coherence floor;
 * outlined = the recommendation.
 *
 * @example const svg = effectHeatmap(analysis);
 */
export function effectHeatmap(a: LayerAnalysis): string {
  const alphas = a.settings.alphas.filter((x) => x !== 0);
  const rec = a.recommendation.verdict === 'steers' ? a.recommendation : null;
  return heatmap({
    title: `${a.persona.name}: change in ${a.metric} by layer and alpha${rec ? '' : ' (does not measurably steer)'}`,
    rows: a.layers.map((l) => `layer ${l.layer}`),
    cols: alphas.map(fmtAlpha),
    values: a.layers.map((l) => alphas.map((x) => finite(l.cells.find((c) => c.alpha === x)?.effect.mean))),
    xLabel: `alpha (${a.settings.units} units)`,
    yLabel: 'steered layer',
    colorLabel: `Δ ${a.metric} vs unsteered`,
    meaning: { high: `toward ${a.persona.name} (${a.metric} up)`, low: `away from ${a.persona.name} (${a.metric} down)` },
    highlight: rec
      ? {
          row: a.layers.findIndex((l) => l.layer === rec.layer),
          col: alphas.indexOf(rec.alpha),
          label: `recommended: layer ${rec.layer}, α=${fmtAlpha(rec.alpha)}`,
        }
      : undefined,
    dimmed: a.layers.map((l) => alphas.map((x) => !(l.cells.find((c) => c.alpha === x)?.coherent ?? true))),
    dimmedLabel: `incoherent: end-of-turn rate under ${a.settings.coherenceFloor}, distinct-2 under ${a.settings.repetitionFloor} × or perplexity over ${a.settings.perplexityCeiling} × unsteered (–: screened out)`,
  });
}

/**
 * The layer × alpha heat map of coherence (end-of-turn rate), centred on the floor: blue cells are
 * at or above it (coherent, blue = good as on the effect map), red cells under it.
 *
 * @example const svg = coherenceHeatmap(analysis);
 */
export function coherenceHeatmap(a: LayerAnalysis): string {
  const alphas = a.settings.alphas.filter((x) => x !== 0);
  const f = a.settings.coherenceFloor;
  return heatmap({
    title: `${a.persona.name}: end-of-turn rate by layer and alpha (unsteered ${a.baseline.ended.rate.toFixed(2)})`,
    rows: a.layers.map((l) => `layer ${l.layer}`),
    cols: alphas.map(fmtAlpha),
    values: a.layers.map((l) => alphas.map((x) => finite(l.cells.find((c) => c.alpha === x)?.ended.rate))),
    xLabel: `alpha (${a.settings.units} units)`,
    yLabel: 'steered layer',
    colorLabel: `end-of-turn rate (centre = floor ${f})`,
    meaning: { high: `at or above the floor ${f}: coherent`, low: `under the floor ${f}` },
    center: f,
    domain: [0, 1],
    dimmed: a.layers.map((l) => alphas.map((x) => !(l.cells.find((c) => c.alpha === x)?.coherent ?? true))),
    dimmedLabel: `under the floor ${f}`,
  });
}

/**
 * Separation per layer: Cohen's d along the vector (left) and held-out probe accuracy (right).
 *
 * @example const svg = separationChart(analysis);
 */
export function separationChart(a: LayerAnalysis): string {
  return lineChart({
    title: `${a.persona.name}: separation of positive and negative answers`,
    xLabel: 'layer',
    yLabel: "Cohen's d along the vector",
    rightLabel: 'probe accuracy (held out)',
    series: [
      { name: "Cohen's d", points: a.layers.map((l) => ({ x: l.layer, y: finite(l.cohensD) })) },
      { name: 'linear probe accuracy', axis: 'right', errorStyle: 'none', points: a.layers.map((l) => ({ x: l.layer, y: finite(l.probeAccuracy) })) },
    ],
    zeroLines: false,
  });
}

/**
 * Vector norm against the layer's residual norm (left) and their ratio (right).
 *
 * @example const svg = normChart(analysis);
 */
export function normChart(a: LayerAnalysis): string {
  const maxRatio = Math.max(1, ...a.layers.map((l) => (Number.isFinite(l.normRatio) ? l.normRatio : 0)));
  return lineChart({
    title: `${a.persona.name}: vector norm against the residual stream`,
    xLabel: 'layer',
    yLabel: 'norm',
    rightLabel: '‖v‖ / ‖residual‖',
    rightDomain: [0, Math.ceil(maxRatio * 10) / 10],
    series: [
      { name: '‖v‖ (one gap)', points: a.layers.map((l) => ({ x: l.layer, y: finite(l.norm) })) },
      { name: '‖residual‖', points: a.layers.map((l) => ({ x: l.layer, y: finite(l.residNorm) })) },
      { name: 'ratio', axis: 'right', errorStyle: 'none', points: a.layers.map((l) => ({ x: l.layer, y: finite(l.normRatio) })) },
    ],
    zeroLines: false,
  });
}

/**
 * The figures of a layer report: effect heat map, coherence heat map, separation and norms.
 *
 * @example for (const f of layerFigures(analysis)) await writePng(`${f.name}.png`, f.svg);
 */
export function layerFigures(a: LayerAnalysis): NamedFigure[] {
  return [
    { name: 'effect-heatmap', title: 'Steering effect by layer and alpha', svg: effectHeatmap(a) },
    { name: 'coherence-heatmap', title: 'Coherence by layer and alpha', svg: coherenceHeatmap(a) },
    { name: 'separation', title: 'Separation by layer', svg: separationChart(a) },
    { name: 'norms', title: 'Vector and residual norms', svg: normChart(a) },
  ];
}

/**
 * The self-contained HTML report of a layer analysis: the recommendation, the heat maps, separation
 * and norm charts, and the per-layer and per-cell tables.
 *
 * @example await writeHtmlReport('results/formal.layers.html', layerReport(analysis));
 */
export function layerReport(a: LayerAnalysis): HtmlReportSpec {
  const [effect, coherence, separation, norms] = layerFigures(a);
  const rec = a.recommendation.verdict === 'steers' ? a.recommendation : null;
  const weak =
    a.recommendation.metricSource === 'projection'
      ? [
          `The only trait measure here is the persona's own projection (${a.metric}, read unsteered at layer ${a.projectionLayer}): weaker evidence than an independent scorer (markers or a judge, --scorer).`,
        ]
      : [];
  const pct = Math.round(a.settings.level * 100);
  const alphas = a.settings.alphas.filter((x) => x !== 0);
  const sections: ReportSection[] = [
    {
      kind: 'text',
      title: 'Recommendation',
      paragraphs: rec
        ? [
            rec.reason,
            `Effect ${rec.effect.mean.toFixed(2)} [${rec.effect.lo.toFixed(2)}, ${rec.effect.hi.toFixed(2)}] (${pct}% paired interval), end-of-turn rate ${rec.ended.rate.toFixed(2)} [${rec.ended.lo.toFixed(2)}, ${rec.ended.hi.toFixed(2)}]. Steer with: persona run --persona … --layer ${rec.layer} --alpha ${rec.alpha}.`,
            ...weak,
          ]
        : [`Verdict: this vector does not measurably steer this model. ${a.recommendation.reason}`, ...weak],
    },
    {
      kind: 'figure',
      title: 'Steering effect by layer and alpha',
      svg: effect.svg,
      caption: `Paired change of ${a.metric} against the unsteered answers (same question and seed), ${a.settings.questions} questions per cell; blue: toward the persona, red: away from it. Hatched: end-of-turn rate under ${a.settings.coherenceFloor}. Outlined: the recommendation.`,
    },
    {
      kind: 'figure',
      title: 'Coherence by layer and alpha',
      svg: coherence.svg,
      caption: `Share of answers that closed their turn within ${a.settings.maxNewTokens} tokens; the colour scale is centred on the floor: blue at or above it (coherent), red under it.`,
    },
    {
      kind: 'figure',
      title: 'Separation by layer',
      svg: separation.svg,
      caption: `${a.settings.contrastPairs} positive/negative answer pairs re-generated from the persona's contrastive prompts; Cohen's d of their answer-mean activations projected on the layer's unit direction, and a logistic probe's accuracy, ${a.settings.probeFolds}-fold cross-validated with each question's pair kept in one fold.`,
    },
    {
      kind: 'figure',
      title: 'Vector and residual norms',
      svg: norms.svg,
      caption: 'One gap unit of alpha adds ‖v‖ to a residual stream of norm ‖residual‖ (mean over the contrastive answers of the answer-mean residual).',
    },
    {
      kind: 'table',
      title: 'Per layer',
      header: ['layer', "Cohen's d", 'probe accuracy', '‖v‖', '‖residual‖', 'ratio', 'coherent alphas', 'best alpha', 'best effect'],
      rows: a.layers.map((l): ReportCell[] => [
        l.layer,
        finite(l.cohensD),
        finite(l.probeAccuracy),
        finite(l.norm),
        finite(l.residNorm),
        finite(l.normRatio),
        l.coherentRange
          ? `[${l.coherentRange.map(fmtAlpha).join(', ')}]`
          : l.screened === false
            ? 'not screened'
            : `screened out (${l.screenScore.toFixed(2)})`,
        l.bestAlpha === null ? '–' : fmtAlpha(l.bestAlpha),
        l.bestEffect ? { mean: l.bestEffect.mean, lo: l.bestEffect.lo, hi: l.bestEffect.hi } : null,
      ]),
      digits: 2,
    },
    {
      kind: 'table',
      title: 'Per cell',
      caption: `${a.metric}: mean [${pct}% t interval]; effect: paired change against the unsteered answers; ended: Wilson interval. Unsteered: ${a.metric} ${a.baseline.metric.mean.toFixed(2)}, ended ${a.baseline.ended.rate.toFixed(2)}.`,
      header: ['layer', 'alpha', a.metric, 'effect', 'ended', 'distinct-2', 'perplexity', 'coherent'],
      rows: a.layers.flatMap((l) =>
        alphas.flatMap((x): ReportCell[][] => {
          const c = l.cells.find((y) => y.alpha === x);
          if (!c) return [];
          return [
            [
              l.layer,
              fmtAlpha(x),
              { mean: finite(c.metric.mean), lo: c.metric.lo, hi: c.metric.hi },
              { mean: finite(c.effect.mean), lo: c.effect.lo, hi: c.effect.hi },
              { mean: c.ended.rate, lo: c.ended.lo, hi: c.ended.hi },
              finite(c.distinct2.mean),
              finite(c.perplexity),
              c.coherent ? 'yes' : 'no',
            ],
          ];
        }),
      ),
      digits: 2,
    },
    {
      kind: 'text',
      title: 'How these numbers were made',
      paragraphs: [
        `First ${screenedHow(a)} at alpha ±${a.settings.screenAlpha} in one batched generation (each row carries its own layer and alpha); the ${a.settings.keepLayers} layers with the largest screen score ((effect at +${a.settings.screenAlpha} − effect at −${a.settings.screenAlpha}) / 2) were then measured at every alpha (${alphas.map(fmtAlpha).join(', ')}, ${a.settings.units} units, ${a.settings.positions} positions) in a second one. ${a.settings.questions} held-out questions per cell, sampled at temperature ${a.settings.temperature}, top-k ${a.settings.topK}, at most ${a.settings.maxNewTokens} new tokens; question i has seed ${a.settings.seed} + i in every cell and in the shared unsteered baseline, so effects are paired differences. Trait scorer: ${a.settings.scorer}${a.projectionLayer !== undefined ? `; the effect is the answers' projection on the persona direction at layer ${a.projectionLayer}, read unsteered` : ''}.`,
        `A cell is coherent when at least ${a.settings.coherenceFloor} of its answers end their turn, its mean distinct-2 is at least ${a.settings.repetitionFloor} × the unsteered answers' and the perplexity of its answers under the unsteered model (geometric mean) at most ${a.settings.perplexityCeiling} × theirs (unsteered: ${a.baseline.perplexity.toFixed(2)}). A layer's coherent range walks out from alpha 0 on each side and stops before the first incoherent cell. The recommendation is the coherent positive-alpha cell with the largest mean effect among those whose ${pct}% interval lies above zero; the advertised range is that layer's coherent range. When no cell qualifies, the verdict is that the vector does not measurably steer this model. Separation is shown but not used: on small models every layer separates, and the most separable one often steers worst. The same rule and defaults serve persona train, create and analyze-layers.`,
      ],
    },
  ];
  return {
    title: `Layer analysis of ${a.persona.name} on ${a.model.id}`,
    subtitle: `persona analyze-layers · ${a.layers.length} layers × ${alphas.length} alphas × ${a.settings.questions} questions`,
    summary: [
      ['model', `${a.model.id} (${a.model.precision}, ${a.model.numLayers} layers × ${a.model.hiddenSize})`],
      ['persona', `${a.persona.name}${a.persona.source ? ` (${a.persona.source})` : ''}, layer recorded in the file ${a.persona.recordedLayer}`],
      ['verdict', rec ? 'steers' : 'does not measurably steer this model'],
      ['recommended layer', rec ? rec.layer : '–'],
      ['recommended alpha', rec ? `${fmtAlpha(rec.alpha)} (coherent range [${rec.alphaRange.map(fmtAlpha).join(', ')}])` : '–'],
      ['effect at the recommendation', rec ? { mean: rec.effect.mean, lo: rec.effect.lo, hi: rec.effect.hi } : null],
      ['end-of-turn rate there', rec ? { mean: rec.ended.rate, lo: rec.ended.lo, hi: rec.ended.hi } : null],
      ['coherence floor', a.settings.coherenceFloor],
      ['effect metric', a.metric],
    ],
    sections,
  };
}

const finite = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

/** How the screen covered the layers: every one, or coarse to fine (which layers, around which). */
function screenedHow(a: LayerAnalysis): string {
  const c = a.coarseScreen;
  if (!c) return 'every layer was screened';
  const fine = c.fine.length ? `, then the ${c.fine.length} layers between layer ${c.refinedAround}'s coarse neighbours (${c.fine.join(', ')})` : '';
  const none = c.refinedAround === null ? ' (no coarse layer moved the metric, so there was nothing to refine toward)' : '';
  return `the screen ran coarse to fine over the ${c.candidates} layers (more than ${a.settings.maxScreenLayers}): ${c.coarse.length} evenly spaced layers (${c.coarse.join(', ')}) were screened${fine}${none}; layers outside both show separation only. Each was screened`;
}
