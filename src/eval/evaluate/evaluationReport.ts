import { barChart } from '../plots/barChart.js';
import { lineChart, type LineSeries } from '../plots/lineChart.js';
import type { HtmlReportSpec, ReportCell, ReportExamples, ReportSection } from '../report/htmlReport.js';
import type { MetricSummary } from '../stats.js';
import type { ConditionSummary } from './conditionSummary.js';
import { fmtAlpha, type EvaluationResult, type PersonaEvaluation } from './evaluatePersonas.js';
import { PROJECTION_UNITS_LABEL } from '../../steering/project.js';

/**
 * A named SVG figure of a report (also written as PNG with `--png`).
 *
 * @example const [dose]: NamedFigure[] = evaluationFigures(result); await writePng(`${dose.name}.png`, dose.svg);
 */
export interface NamedFigure {
  /** File-name friendly, e.g. `dose-response-formal`. */
  name: string;
  title: string;
  svg: string;
}

/**
 * Options of {@link evaluationReport}.
 *
 * @example evaluationReport(result, { examplesPerAlpha: 8, title: 'formal on the stylist' });
 */
export interface EvaluationReportOptions {
  /** Example answers per alpha and persona (default 4). */
  examplesPerAlpha?: number;
  /** Report title (default from the personas and model). */
  title?: string;
}

const cell = (m: MetricSummary | undefined): ReportCell => (m ? { mean: m.n ? m.mean : null, lo: m.lo, hi: m.hi } : null);
const endedCell = (s: ConditionSummary): ReportCell => ({ mean: s.ended.rate, lo: s.ended.lo, hi: s.ended.hi });

/**
 * The metric a persona's dose–response is drawn with: its trait; without a scorer for it, its
 * projection; without that either, distinct-2.
 *
 * @example ownMetric(result, result.personas[0]); // 'formality' on the stylist
 */
export function ownMetric(r: EvaluationResult, p: PersonaEvaluation): string {
  return p.traitMetric ?? (r.metrics.includes(`projection:${p.name}`) ? `projection:${p.name}` : 'distinct2');
}

/** The columns of the per-alpha tables: traits (trait metrics, projections) and coherence (judge coherence, perplexity, distinct-2, length). */
function tableMetrics(r: EvaluationResult): { traits: string[]; coherence: string[] } {
  const pick = (wanted: string[]) => wanted.filter((m, i) => r.metrics.includes(m) && wanted.indexOf(m) === i);
  return {
    traits: pick([...r.traitMetrics, ...r.personas.map((p) => `projection:${p.name}`)]),
    coherence: pick(['judge:coherence', 'perplexity', 'distinct2', 'length']),
  };
}

/**
 * The dose–response chart of one persona: its trait metric (mean and 95% band) against alpha on the
 * left axis, coherence on the right (end-of-turn rate with Wilson bars, distinct-2).
 *
 * @example const svg = doseResponseChart(result, result.personas[0]);
 */
export function doseResponseChart(r: EvaluationResult, p: PersonaEvaluation): string {
  const metric = ownMetric(r, p);
  const series: LineSeries[] = [
    {
      name: metric,
      points: p.sweep.map((s) => ({ x: s.alpha, y: nn(s.metrics[metric]?.mean), lo: nn(s.metrics[metric]?.lo), hi: nn(s.metrics[metric]?.hi) })),
    },
    { name: 'end-of-turn rate', axis: 'right', points: p.sweep.map((s) => ({ x: s.alpha, y: s.ended.rate, lo: s.ended.lo, hi: s.ended.hi })) },
  ];
  if (r.metrics.includes('distinct2'))
    series.push({ name: 'distinct-2', axis: 'right', errorStyle: 'none', points: p.sweep.map((s) => ({ x: s.alpha, y: nn(s.metrics.distinct2?.mean) })) });
  return lineChart({
    title: `${p.name}: dose–response at layer ${p.layer}`,
    xLabel: `alpha (${p.units} units)`,
    yLabel: metric,
    rightLabel: 'coherence (rate)',
    series,
  });
}

/**
 * The entanglement bar chart: how steering each persona at ∓ the compare alpha moves every trait
 * metric and projection, in standard deviations of the unsteered answers (bars: 95% interval).
 *
 * @example const svg = entanglementChart(result);
 */
export function entanglementChart(r: EvaluationResult): string {
  const A = r.settings.compareAlpha;
  const groups = r.personas.flatMap((p) => [-A, A].filter((a) => p.sweep.some((s) => s.alpha === a)).map((a) => ({ persona: p.name, alpha: a })));
  const metrics = [...new Set(r.entanglement.map((e) => e.metric))];
  return barChart({
    title: `Entanglement: change against alpha 0 at α = ±${A}`,
    groups: groups.map((g) => `${g.persona} α=${fmtAlpha(g.alpha)}`),
    yLabel: 'Δ (SD of unsteered answers)',
    series: metrics.map((metric) => ({
      name: metric,
      values: groups.map((g) => {
        const d = r.entanglement.find((e) => e.steered === g.persona && e.metric === metric)?.byAlpha.find((b) => b.alpha === g.alpha);
        if (!d || d.standardized === null || !(d.sd > 0)) return { y: null };
        return { y: d.standardized, lo: d.lo / d.sd, hi: d.hi / d.sd };
      }),
    })),
  });
}

/**
 * The figures of an evaluation report: one dose–response chart per persona and the entanglement chart.
 *
 * @example for (const f of evaluationFigures(result)) await writePng(`${f.name}.png`, f.svg);
 */
export function evaluationFigures(r: EvaluationResult): NamedFigure[] {
  return [
    ...r.personas.map((p) => ({ name: `dose-response-${slug(p.name)}`, title: `Dose–response: ${p.name}`, svg: doseResponseChart(r, p) })),
    { name: 'entanglement', title: 'Entanglement', svg: entanglementChart(r) },
  ];
}

/**
 * The self-contained HTML report of an evaluation: summary, dose–response charts with their tables,
 * the side-by-side comparison, the entanglement table and chart, example answers per alpha, and how
 * the numbers were made.
 *
 * @example await writeHtmlReport('results/formal.html', evaluationReport(result));
 */
export function evaluationReport(r: EvaluationResult, o: EvaluationReportOptions = {}): HtmlReportSpec {
  const k = o.examplesPerAlpha ?? 4;
  const { traits, coherence } = tableMetrics(r);
  const sideBySide = [...traits, ...coherence.filter((m) => m === 'judge:coherence' || m === 'perplexity')];
  const figures = evaluationFigures(r);
  const pct = Math.round(r.settings.level * 100);
  const sections: ReportSection[] = [];
  for (const [i, p] of r.personas.entries()) {
    sections.push({
      kind: 'figure',
      title: `Dose–response: ${p.name}`,
      svg: figures[i].svg,
      caption: `Mean ${ownMetric(r, p)} per alpha with its ${pct}% t interval (band); end-of-turn rate with Wilson intervals and distinct-2 on the right axis. ${r.questions.length} questions × ${r.settings.samples} sample(s) per alpha, steering layer ${p.layer} (‖v‖ = ${p.norm.toFixed(2)}), ${r.settings.positions} positions.`,
    });
    sections.push({
      kind: 'table',
      title: `${p.name}: traits per alpha`,
      caption: `Mean [${pct}% interval] of every trait metric and projection; ended: share of answers that closed their turn within ${r.settings.maxNewTokens} tokens (Wilson interval).`,
      header: ['alpha', 'n', ...traits, 'ended'],
      rows: p.sweep.map((s) => [fmtAlpha(s.alpha), s.n, ...traits.map((m) => cell(s.metrics[m])), endedCell(s)]),
      digits: 2,
    });
    sections.push({
      kind: 'table',
      title: `${p.name}: coherence per alpha`,
      caption: `Mean [${pct}% interval]: perplexity under the unsteered model, distinct-n of the answer's words, length in tokens.`,
      header: ['alpha', ...coherence, 'ended'],
      rows: p.sweep.map((s) => [fmtAlpha(s.alpha), ...coherence.map((m) => cell(s.metrics[m])), endedCell(s)]),
      digits: 2,
    });
  }
  if (r.comparison.length > 1 && (r.settings.compare || r.personas.length > 1)) {
    sections.push({
      kind: 'table',
      title: 'Side by side: unsteered, steered, prompted',
      caption: `The same ${r.questions.length} questions and seeds in every row; steered rows at ∓${r.settings.compareAlpha}, prompted rows unsteered with the persona's system prompt (and its opposite): ${r.comparison
        .filter((c) => c.system)
        .map((c) => `${c.label}: "${c.system}"`)
        .join('; ')}.`,
      header: ['condition', 'n', ...sideBySide, 'ended'],
      rows: r.comparison.map((c) => [c.label, c.summary.n, ...sideBySide.map((m) => cell(c.summary.metrics[m])), endedCell(c.summary)]),
      digits: 2,
    });
  }
  // The table shows the larger alphas (|alpha| ≥ half the largest); the JSON has every one.
  const maxAbs = Math.max(...r.settings.alphas.map(Math.abs));
  const nonzero = r.settings.alphas.filter((a) => a !== 0 && Math.abs(a) >= maxAbs / 2);
  sections.push({
    kind: 'table',
    title: 'Entanglement: how each persona moves every trait',
    caption: `Paired difference against alpha 0 (same question and seed), mean [${pct}% interval]; (own) marks the persona's own trait and projection, the others show what else the vector moves. Every alpha is in the JSON.`,
    header: ['steered', 'metric', ...nonzero.map((a) => `Δ at α=${fmtAlpha(a)}`)],
    rows: r.entanglement.map((e) => [
      e.steered,
      e.own ? `${e.metric} (own)` : e.metric,
      ...nonzero.map((a) => {
        const d = e.byAlpha.find((b) => b.alpha === a);
        return d ? { mean: d.n ? d.mean : null, lo: d.lo, hi: d.hi } : null;
      }),
    ]),
    digits: 2,
  });
  sections.push({
    kind: 'figure',
    title: 'Entanglement',
    svg: figures[figures.length - 1].svg,
    caption: `Change of each metric when a persona is steered at ∓${r.settings.compareAlpha}, in standard deviations of the unsteered answers, with ${pct}% intervals of the paired difference.`,
  });
  for (const p of r.personas) sections.push(examplesSection(r, p, k));
  sections.push({
    kind: 'text',
    title: 'How these numbers were made',
    paragraphs: [
      `Each persona was evaluated in one batched generation: every question at every alpha (${r.settings.alphas.map(fmtAlpha).join(', ')}) × ${r.settings.samples} sample(s), sampled at temperature ${r.settings.temperature}, top-k ${r.settings.topK}, at most ${r.settings.maxNewTokens} new tokens, steering alpha · v added to the residual stream after the steered block at ${r.settings.positions} positions (${r.settings.units} units: alpha 1 moves the activation by one positive−negative gap). The answer to question q, sample s has seed ${r.settings.seed} + s·Q + q at every alpha, so differences between alphas are paired.`,
      `Trait scorer: ${r.settings.scorer}. projection:NAME is the mean over the answer's tokens of the residual stream at NAME's steered layer, projected on its direction in ${PROJECTION_UNITS_LABEL}, read by the unsteered model (the persona-vectors paper's monitoring signal). perplexity is the answer's perplexity under the unsteered model (its end-of-turn token included); distinct-n is distinct word n-grams over all n-grams of the answer; length is the answer's tokens.`,
      `Intervals: Student-t intervals of the mean (${pct}%); Wilson intervals for the end-of-turn rate; entanglement deltas are paired t intervals. Timing: ${r.timing.generatedTokens} tokens generated in ${r.timing.generationSeconds.toFixed(1)} s (${r.timing.generationTokensPerSecond.toFixed(0)} tok/s), ${r.timing.seconds.toFixed(1)} s in all with scoring.`,
    ],
  });
  return {
    title: o.title ?? `Evaluation of ${r.personas.map((p) => p.name).join(', ')} on ${r.model.id}`,
    subtitle: `persona evaluate · ${r.questions.length} held-out questions${r.settings.questionSet ? ` (${r.settings.questionSet})` : ''} · alphas ${r.settings.alphas.map(fmtAlpha).join(', ')}`,
    summary: [
      ['model', `${r.model.id} (${r.model.precision}, ${r.model.numLayers} layers × ${r.model.hiddenSize})`],
      ...r.personas.map((p): [string, ReportCell] => [
        `persona ${p.name}`,
        `layer ${p.layer}, ‖v‖ ${p.norm.toFixed(2)}${p.file ? `, ${p.file}` : ''}${p.systemPrompt ? `, system prompt "${p.systemPrompt}"` : ''}`,
      ]),
      ['questions × samples', `${r.questions.length} × ${r.settings.samples}`],
      ['sampling', `temperature ${r.settings.temperature}, top-k ${r.settings.topK}, seed ${r.settings.seed}, ${r.settings.maxNewTokens} new tokens`],
      ['trait scorer', r.settings.scorer],
      ['throughput', `${r.timing.generationTokensPerSecond.toFixed(0)} generated tok/s (${r.timing.tokensPerSecond.toFixed(0)} with scoring)`],
    ],
    sections,
  };
}

function examplesSection(r: EvaluationResult, p: PersonaEvaluation, k: number): ReportExamples {
  const metric = ownMetric(r, p);
  const show = (rec: EvaluationResult['answers'][number]) => ({
    question: r.questions[rec.question],
    answer: rec.text,
    scores: Object.fromEntries([metric, 'perplexity', 'distinct2'].filter((m) => m in rec.scores).map((m) => [m, rec.scores[m]])),
    note: rec.ended ? 'ended its turn' : `did not end within ${r.settings.maxNewTokens} tokens`,
  });
  const firstK = (pred: (a: EvaluationResult['answers'][number]) => boolean) =>
    r.answers
      .filter((a) => a.persona === p.name && a.sample === 0 && pred(a))
      .slice(0, k)
      .map(show);
  const groups = p.sweep.map((s) => ({
    label: `${p.name}, α = ${fmtAlpha(s.alpha)} · ${metric} ${fmt(s.metrics[metric]?.mean)} · ended ${Math.round(s.ended.rate * 100)}%`,
    items: firstK((a) => a.condition === 'sweep' && a.alpha === s.alpha),
    open: s.alpha === 0,
  }));
  for (const c of p.prompted)
    groups.push({
      label: `${p.name}, ${c.condition} ("${c.system}") · ${metric} ${fmt(c.metrics[metric]?.mean)} · ended ${Math.round(c.ended.rate * 100)}%`,
      items: firstK((a) => a.condition === c.condition),
      open: false,
    });
  return { kind: 'examples', title: `Example answers: ${p.name}`, groups };
}

const nn = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);
const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));

/**
 * A file-name friendly form of a name.
 *
 * @example slug('Formal & polite'); // 'formal-polite'
 */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'persona'
  );
}
