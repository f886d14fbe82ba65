import type { ChatMessage, LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { randomInt, seededRandom } from '../../util/random.js';
import { normalizeLayer } from '../../steering/PersonaVector.js';
import { bootstrapCI, quantileSorted, type Interval } from '../stats.js';
import { monitorProjections, MONITOR_UNIT, type MonitorTarget } from './monitorProjections.js';
import { scatterPlot } from './scatterPlot.js';
import { DEFAULTS } from '../../engine/defaults.js';

/** Options of {@link calibrateMonitor}. */
export interface CalibrateMonitorOptions {
  /** The persona to monitor and its layer. */
  target: MonitorTarget;
  /** Prompts (each ending with a user message); their system prompts push the trait up and down. */
  prompts: ChatMessage[][];
  /** Scores an answer on the trait (e.g. the stylist's formality from its marker lists). */
  score: (answer: string) => number;
  /** Name of the score, for the report. */
  metric: string;
  maxNewTokens?: number;
  /** Sampling temperature of the answers (default 0.8, as persona_vectors samples). */
  temperature?: number;
  seed?: number;
  batchSize?: number;
  /** Bootstrap resamples for the intervals (default 2000). */
  resamples?: number;
}

/** One prompt's reading, answer and score. */
export interface CalibrationPoint {
  system: string;
  user: string;
  projection: number;
  answer: string;
  score: number;
}

/** How well the prompt-end projection predicts the trait score of the answer that follows. */
export interface CalibrationResult {
  persona: string;
  layer: number;
  unit: string;
  metric: string;
  n: number;
  /** Pearson r over every (prompt, answer) pair, with a paired bootstrap interval. */
  pearson: Interval;
  /** Pearson r over the system prompts' means (the paper's figure: one point per system prompt), bootstrap over prompts within each system. */
  systemPearson: Interval;
  /** The same two correlations with the projection read at every layer the persona has (same answers). */
  byLayer: { layer: number; pearson: Interval; systemPearson: Interval }[];
  systems: { system: string; n: number; projection: number; score: number }[];
  points: CalibrationPoint[];
}

function groupBy(keys: string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  keys.forEach((k, i) => m.set(k, [...(m.get(k) ?? []), i]));
  return m;
}

/** Pearson r over pairs (paired bootstrap) and over group means (bootstrap within groups). */
function correlate(xs: number[], ys: number[], groups: number[][], resamples: number, seed: number): { pearson: Interval; systemPearson: Interval } {
  const idx = xs.map((_, i) => i);
  const r = bootstrapCI(idx, {
    statistic: (s) =>
      pearson(
        s.map((i) => xs[i]),
        s.map((i) => ys[i]),
      ),
    resamples,
    seed,
  });
  const systemMeans = (pick: (g: number[]) => number[]) => {
    const mx: number[] = [],
      my: number[] = [];
    for (const g of groups) {
      const s = pick(g);
      mx.push(s.reduce((a, i) => a + xs[i], 0) / s.length);
      my.push(s.reduce((a, i) => a + ys[i], 0) / s.length);
    }
    return groups.length >= 2 ? pearson(mx, my) : 0;
  };
  // Stratified bootstrap: resample prompts within each system prompt, keep the systems.
  const rand = seededRandom(seed);
  const stats = Array.from({ length: resamples }, () => systemMeans((g) => g.map(() => g[randomInt(rand, g.length)]))).sort((a, b) => a - b);
  return { pearson: r, systemPearson: { estimate: systemMeans((g) => g), lo: quantileSorted(stats, 0.025), hi: quantileSorted(stats, 0.975), level: 0.95 } };
}

/**
 * Pearson correlation of paired values (0 when either side is constant).
 *
 * @example pearson([1, 2, 3], [2, 4, 7]); // 0.99…
 */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n !== ys.length || n < 2) throw new InvalidArgumentError(`pearson needs two equally long samples of at least 2; got ${xs.length} and ${ys.length}.`);
  let mx = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/**
 * Calibrates the monitor as the persona-vectors paper does (Chen et al. 2025, §4.2, Fig. 4):
 * reads the persona's projection at the last prompt token of each prompt, lets the model answer
 * (unsteered, sampled), scores each answer on the trait, and correlates the two — over every
 * (prompt, answer) pair and over the system prompts' means. Intervals are seeded paired bootstraps.
 *
 * @example
 * const r = await calibrateMonitor(model, { target: { persona: formal }, prompts, score: (a) => scoreMarkers(spec, a).formality, metric: 'formality' });
 * r.pearson; // { estimate: 0.7, lo: 0.6, hi: 0.8, level: 0.95 }
 */
export async function calibrateMonitor(model: LanguageModel, o: CalibrateMonitorOptions): Promise<CalibrationResult> {
  if (o.prompts.length < 3) throw new InvalidArgumentError(`Calibration needs at least 3 prompts; got ${o.prompts.length}.`);
  const persona = o.target.persona;
  const chosen = normalizeLayer(o.target.layer ?? persona.meta.recommendedLayer, model.numLayers);
  const layers = Array.from({ length: model.numLayers }, (_, l) => l).filter((l) => l === chosen || persona.norm(l) > 0);
  const rows = await monitorProjections(
    model,
    o.prompts.map((messages) => ({ messages })),
    layers.map((layer) => ({ persona, layer })),
    { batchSize: o.batchSize },
  );
  const at = layers.indexOf(chosen);
  const answers = await model.generate(o.prompts, {
    maxNewTokens: o.maxNewTokens ?? DEFAULTS.calibrate.maxNewTokens,
    sampling: { temperature: o.temperature ?? DEFAULTS.calibrate.temperature, seed: o.seed ?? DEFAULTS.calibrate.seed },
    batchSize: o.batchSize ?? DEFAULTS.calibrate.batchSize,
    ignoreHooks: true,
  });
  const points: CalibrationPoint[] = o.prompts.map((messages, i) => ({
    system: messages.find((m) => m.role === 'system')?.content ?? '(no system prompt)',
    user: messages[messages.length - 1].content,
    projection: rows[i].projections[at].promptLast,
    answer: answers[i].text,
    score: o.score(answers[i].text),
  }));
  const ys = points.map((p) => p.score);
  const groups = [...groupBy(points.map((p) => p.system)).values()];
  const resamples = o.resamples ?? 2000;
  const seed = o.seed ?? 1;
  const { pearson: pearsonCI, systemPearson } = correlate(
    points.map((p) => p.projection),
    ys,
    groups,
    resamples,
    seed,
  );
  const byLayer = layers.map((layer, k) => ({
    layer,
    ...correlate(
      rows.map((r) => r.projections[k].promptLast),
      ys,
      groups,
      resamples,
      seed,
    ),
  }));
  const xs = points.map((p) => p.projection);
  return {
    persona: persona.name,
    layer: chosen,
    unit: MONITOR_UNIT,
    metric: o.metric,
    n: points.length,
    pearson: pearsonCI,
    systemPearson,
    byLayer,
    systems: [...groupBy(points.map((p) => p.system))].map(([system, g]) => ({
      system,
      n: g.length,
      projection: g.reduce((a, i) => a + xs[i], 0) / g.length,
      score: g.reduce((a, i) => a + ys[i], 0) / g.length,
    })),
    points,
  };
}

/**
 * The calibration figure: every (prompt, answer) as a small dot coloured by its system prompt, the
 * system prompts' means as large dots, the least-squares line, r and its interval in the title.
 *
 * @example await fs.writeFile('docs/monitoring-formal.svg', calibrationPlot(result));
 */
export function calibrationPlot(r: CalibrationResult): string {
  const f = (x: number) => x.toFixed(2);
  return scatterPlot({
    title: `${r.persona} at layer ${r.layer}: prompt-end projection vs ${r.metric} of the answer (r = ${f(r.pearson.estimate)} [${f(r.pearson.lo)}, ${f(r.pearson.hi)}], n = ${r.n}; system means r = ${f(r.systemPearson.estimate)})`,
    xLabel: `projection at the last prompt token (${r.unit})`,
    yLabel: `${r.metric} of the answer`,
    groups: r.systems.map((s) => ({
      name: s.system,
      points: r.points.filter((p) => p.system === s.system).map((p) => ({ x: p.projection, y: p.score })),
      mean: { x: s.projection, y: s.score },
    })),
  });
}
