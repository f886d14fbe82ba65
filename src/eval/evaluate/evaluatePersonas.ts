import type { GeneratedText, LanguageModel, Prompt } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { normalizeLayer, type PersonaVector } from '../../steering/PersonaVector.js';
import { defaultLayers, resolveSteering, type Units } from '../../steering/resolveSteering.js';
import type { ProgressCallback } from '../../util/progress.js';
import { TOOL_VERSION } from '../../version.js';
import { distinctNScorer, perplexityScorer } from '../scorers/coherenceScorers.js';
import type { Scorer, ScoreValue } from '../scorers/Scorer.js';
import type { JudgeCounts } from '../scorers/judgeScorer.js';
import { pairedDelta, summarizeCondition, type ConditionSummary, type PairedDelta } from './conditionSummary.js';
import { generateSweep, type SweepRow } from './generateSweep.js';
import { projectionScorer } from './projectionScorer.js';
import type { TokenizedItem } from './tokenizedItems.js';
import { NO_TRAIT_SCORING } from './traitScoring.js';
import { unsteeredLogProbSource } from './unsteeredLogProbSource.js';
import { sweepSettings, type SweepOptions, type SweepSettings } from './sweepOptions.js';
import { unsteeredReader } from './unsteeredReader.js';
import { DEFAULTS } from '../../engine/defaults.js';

/**
 * The alpha grid used when none is given (gap units, as the persona-vectors paper's coefficients).
 *
 * @example await evaluatePersonas(model, { personas, questions, alphas: [...DEFAULT_ALPHAS, 12] });
 */
export const DEFAULT_ALPHAS: readonly number[] = DEFAULTS.sweep.alphas;

/**
 * A persona to evaluate, with the file it came from (kept in the result).
 *
 * @example const p: EvaluatedPersona = { persona: await loadPersona('personas/formal.persona.json'), file: 'personas/formal.persona.json' };
 */
export interface EvaluatedPersona {
  persona: PersonaVector;
  file?: string;
}

/**
 * Options of {@link evaluatePersonas}.
 *
 * @example const o: EvaluateOptions = { personas: [formal, vivid], questions, alphas: [-4, 0, 4], samples: 2, compare: true };
 */
export interface EvaluateOptions extends SweepOptions {
  personas: Array<EvaluatedPersona | PersonaVector>;
  /** Held-out questions, asked with no system prompt (see `defaultQuestionSet`). */
  questions: string[];
  /** Steering strengths (default −8…8); 0 is added when missing, as every delta is against it. */
  alphas?: number[];
  /** The layer to steer: one for every persona, or per persona name (default: each persona's recommended layer). */
  layer?: number | number[] | Record<string, number | number[]>;
  /**
   * How each sweep row steers (default `add`: alpha·v); `ablate-add` first removes the direction,
   * then adds alpha·v. `ablate` and `cap` take no alpha, so they are not alpha sweeps.
   */
  operator?: 'add' | 'ablate-add';
  /** Answers per question and alpha (default 1), each with its own seed. */
  samples?: number;
  /** Also answer under the persona's system prompt (and the opposite one when known) for a side-by-side. */
  compare?: boolean;
  /** The steered alpha of the side-by-side and the entanglement table (default: the largest positive alpha). */
  compareAlpha?: number;
  /** Rows per forward batch (default 64). */
  batchSize?: number;
  /**
   * Engine-side scores (default both on). Together they cost one unsteered prefill of every
   * prompt + answer (shared; the output layer runs only at answer positions for perplexity).
   */
  engineScores?: { projection?: boolean; perplexity?: boolean };
  /** Confidence level of every interval (default 0.95). */
  level?: number;
  /** Name of the question set, kept in the result (e.g. `stylist`, `question-bank`, a file name). */
  questionSet?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Let a thinking model think (`enable_thinking`; default off). Answers are scored without their thinking unless `includeReasoning`. */
  thinking?: boolean;
  /** With `thinking`: score the thinking with the answer (default false). */
  includeReasoning?: boolean;
}

/**
 * What produced an answer.
 *
 * @example result.answers.filter((a) => a.condition === 'prompted');
 */
export type AnswerCondition = 'sweep' | 'prompted' | 'prompted-opposite';

/**
 * One generated answer with its scores.
 *
 * @example const loops = result.answers.filter((a: AnswerRecord) => !a.ended && a.alpha === 8);
 */
export interface AnswerRecord {
  persona: string;
  condition: AnswerCondition;
  /** Steering strength (sweep rows; 0 = unsteered); null for prompted rows. */
  alpha: number | null;
  /** Index into `questions`. */
  question: number;
  sample: number;
  seed: number;
  system?: string;
  text: string;
  ended: boolean;
  tokens: number;
  scores: Record<string, ScoreValue>;
}

/**
 * A persona's results: the dose–response over alphas and, with `compare`, the prompted baselines.
 *
 * @example const p: PersonaEvaluation = result.personas[0]; p.sweep.map((s) => s.metrics[p.traitMetric!].mean);
 */
export interface PersonaEvaluation {
  name: string;
  file?: string;
  description?: string;
  /** The first steered layer (where projections are read). */
  layer: number;
  /** Every steered layer. */
  layers: number[];
  operator: 'add' | 'ablate-add';
  /** ‖v‖ at the layer (the raw difference alpha multiplies in gap units). */
  norm: number;
  units: Units;
  /** The persona's own trait metric (absent without a scorer for it; then its projection stands in). */
  traitMetric?: string;
  systemPrompt?: string;
  oppositeSystemPrompt?: string;
  sweep: Array<{ alpha: number } & ConditionSummary>;
  /** `prompted` and `prompted-opposite` (with `compare`). */
  prompted: Array<{ condition: Exclude<AnswerCondition, 'sweep'>; system: string } & ConditionSummary>;
}

/**
 * How steering one persona moves one metric, per alpha, against alpha 0 (paired by question and seed).
 *
 * @example result.entanglement.find((e: EntanglementRow) => e.steered === 'formal' && e.metric === 'vivid')?.byAlpha;
 */
export interface EntanglementRow {
  steered: string;
  metric: string;
  /** The steered persona's own metric (its trait or its projection). */
  own: boolean;
  byAlpha: Array<{ alpha: number } & PairedDelta>;
}

/**
 * One line of the side-by-side comparison.
 *
 * @example for (const c of result.comparison) console.log(c.label, c.summary.metrics.formality.mean);
 */
export interface ComparisonRow {
  label: string;
  persona: string;
  /** The system prompt of a prompted row. */
  system?: string;
  condition: 'unsteered' | 'steered' | 'prompted' | 'prompted-opposite';
  alpha: number | null;
  summary: ConditionSummary;
}

/**
 * Everything `persona evaluate` writes as JSON.
 *
 * @example const r: EvaluationResult = JSON.parse(await fs.readFile('results/evaluation.json', 'utf8'));
 */
export interface EvaluationResult {
  format: 'persona-vectors/evaluation@1';
  toolVersion: string;
  model: { id: string; revision?: string; precision: string; numLayers: number; hiddenSize: number };
  settings: SweepSettings & {
    alphas: number[];
    samples: number;
    level: number;
    questionSet?: string;
    scorer: string;
    compare: boolean;
    compareAlpha: number;
    batchSize: number;
  };
  questions: string[];
  /** Every metric, in display order: trait metrics, projections, perplexity, distinct-n, length. */
  metrics: string[];
  /** Metrics that measure a trait (the entanglement table's columns). */
  traitMetrics: string[];
  personas: PersonaEvaluation[];
  comparison: ComparisonRow[];
  entanglement: EntanglementRow[];
  judgeCounts?: Record<string, JudgeCounts>;
  timing: {
    seconds: number;
    generationSeconds: number;
    scoringSeconds: number;
    generatedTokens: number;
    /** Generated tokens over the whole evaluation's wall time (generation and scoring). */
    tokensPerSecond: number;
    /** Generated tokens over the generation time alone. */
    generationTokensPerSecond: number;
  };
  answers: AnswerRecord[];
}

type RowMeta = Omit<AnswerRecord, 'text' | 'ended' | 'tokens' | 'scores'>;

/**
 * Evaluates persona vectors on held-out questions: for each persona, ONE batched sweep answers every
 * question at every alpha (`samples` times, seeded; per-row interventions) — plus, with `compare`,
 * under the persona's eliciting system prompt and its opposite. Every answer is scored by the trait
 * scorers, by its projection on each persona's direction (re-read unsteered), by its perplexity
 * under the unsteered model, by distinct-n and by whether it ended its turn; each alpha gets the mean
 * and a 95% interval of every metric (Wilson for the end-of-turn rate). Entanglement: how each
 * persona moves every trait metric and every other persona's projection, as paired differences
 * against alpha 0. persona_vectors does the single-persona part with `eval/eval_persona.py` at a
 * steering coefficient; the comparison of several personas is this toolkit's.
 *
 * @example
 * const result = await evaluatePersonas(model, {
 *   personas: [{ persona: formal, file: 'personas/formal.persona.json' }],
 *   questions: defaultQuestionSet(model.dir, 32).evaluation,
 *   traitScoring: await buildTraitScoring({ kind: 'markers', file: 'models/stylist/style_markers.json' }, [formal]),
 * });
 * result.personas[0].sweep.map((s) => [s.alpha, s.metrics.formality.mean, s.ended.rate]);
 */
export async function evaluatePersonas(model: LanguageModel, o: EvaluateOptions): Promise<EvaluationResult> {
  const t0 = performance.now();
  const personas = o.personas.map((p) => ('persona' in p ? p : { persona: p }));
  if (personas.length === 0) throw new InvalidArgumentError('evaluate needs at least one persona file.');
  const names = personas.map((p) => p.persona.name);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError(`Personas must have distinct names to be compared; got ${names.join(', ')}.`);
  for (const p of personas) p.persona.assertFits(model);
  const questions = o.questions;
  if (questions.length === 0) throw new InvalidArgumentError('evaluate needs at least one question.');
  const alphas = [...new Set([...(o.alphas ?? DEFAULT_ALPHAS), 0])].sort((a, b) => a - b);
  for (const a of alphas) if (!Number.isFinite(a)) throw new InvalidArgumentError(`alphas must be finite numbers; got ${a}.`);
  const samples = o.samples ?? 1;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new InvalidArgumentError(`samples must be an integer ≥ 1; got ${samples}.`);
  const sweep = sweepSettings(o);
  const { maxNewTokens, temperature, topK, seed, units, positions } = sweep;
  const level = o.level ?? 0.95;
  const batchSize = o.batchSize ?? DEFAULTS.sweep.batchSize;
  const positive = alphas.filter((a) => a > 0);
  const compareAlpha = o.compareAlpha ?? (positive.length ? positive[positive.length - 1] : alphas[alphas.length - 1]);
  if (!alphas.includes(compareAlpha)) throw new InvalidArgumentError(`The compare alpha ${compareAlpha} is not in the alpha grid ${alphas.join(',')}.`);
  const traits = o.traitScoring ?? NO_TRAIT_SCORING;
  const Q = questions.length;

  // ---- generation: one batched sweep per persona ------------------------------------------------
  const metas: RowMeta[] = [];
  const answers: GeneratedText[] = [];
  const perName = o.layer && typeof o.layer === 'object' && !Array.isArray(o.layer) ? o.layer : undefined;
  const layerOf = (p: PersonaVector): number[] => {
    const given = perName ? perName[p.name] : (o.layer as number | number[] | undefined);
    return given === undefined ? defaultLayers(p) : Array.isArray(given) ? given : [given];
  };
  if (perName)
    for (const n of Object.keys(perName))
      if (!names.includes(n)) throw new InvalidArgumentError(`A layer is given for persona "${n}", which is not evaluated (${names.join(', ')}).`);
  const operator = o.operator ?? 'add';
  if (operator !== 'add' && operator !== 'ablate-add')
    throw new InvalidArgumentError(`evaluate sweeps alpha, so its operator is add or ablate-add; got ${JSON.stringify(operator)}.`);
  const steeredLayers = personas.map((p) => [...new Set(layerOf(p.persona).map((l) => normalizeLayer(l, model.numLayers)))]);
  // The layer reported and projected on: the first steered one.
  const layers = steeredLayers.map((ls) => ls[0]);
  let generationSeconds = 0;
  for (const [pi, { persona }] of personas.entries()) {
    const rows: SweepRow[] = [];
    const push = (meta: RowMeta, prompt: Prompt, alpha: number) => {
      metas.push(meta);
      rows.push({
        prompt,
        seed: meta.seed,
        intervention: alpha === 0 ? null : resolveSteering(model, [{ persona, alpha, layers: steeredLayers[pi], units, positions, operator }]),
      });
    };
    for (const alpha of alphas)
      for (let s = 0; s < samples; s++)
        for (let q = 0; q < Q; q++)
          push({ persona: persona.name, condition: 'sweep', alpha, question: q, sample: s, seed: seed + s * Q + q }, questions[q], alpha);
    if (o.compare) {
      for (const [condition, system] of promptedConditions(persona))
        for (let s = 0; s < samples; s++)
          for (let q = 0; q < Q; q++)
            push({ persona: persona.name, condition, alpha: null, question: q, sample: s, seed: seed + s * Q + q, system }, { system, user: questions[q] }, 0);
    }
    const tg = performance.now();
    answers.push(
      ...(await generateSweep(model, rows, {
        maxNewTokens,
        sampling: { temperature, topK },
        batchSize,
        onProgress: o.onProgress,
        phase: `answers (${persona.name})`,
        signal: o.signal,
        thinking: o.thinking,
      })),
    );
    generationSeconds += (performance.now() - tg) / 1000;
  }

  // ---- scoring: every answer, every scorer ------------------------------------------------------
  const ts = performance.now();
  // A thinking answer is scored on its answer only: its thinking is read as context (unless includeReasoning).
  const cut = (a: GeneratedText) => (o.includeReasoning ? 0 : (a.contentStart ?? 0));
  const items: TokenizedItem[] = answers.map((a, i) => ({
    question: questions[metas[i].question],
    answer: a.text,
    promptIds: [...a.promptIds, ...a.tokens.slice(0, cut(a))],
    answerIds: a.tokens.slice(cut(a)),
  }));
  // Projection and perplexity read the answers back in one shared unsteered pass.
  const reader = unsteeredReader(model, { batchSize });
  const scorers: Scorer[] = [
    ...traits.scorers,
    ...((o.engineScores?.projection ?? true)
      ? [
          projectionScorer(
            model,
            personas.map((p, i) => ({ persona: p.persona, layer: layers[i] })),
            { batchSize, reader },
          ),
        ]
      : []),
    ...((o.engineScores?.perplexity ?? true) ? [perplexityScorer(unsteeredLogProbSource(model, { reader }))] : []),
    distinctNScorer([1, 2, 3]),
  ];
  const metrics = [...scorers.flatMap((s) => s.metrics), 'length'];
  if (new Set(metrics).size !== metrics.length) throw new InvalidArgumentError(`Two scorers give a metric of the same name: ${metrics.join(', ')}.`);
  const scores: Array<Record<string, ScoreValue>> = answers.map((a) => ({ length: a.tokens.length }));
  for (const scorer of scorers) {
    o.onProgress?.({ phase: `scoring: ${scorer.name}`, done: 0, total: items.length, unit: 'answers' });
    const rows = await scorer.score(items);
    rows.forEach((r, i) => Object.assign(scores[i], r));
    o.onProgress?.({ phase: `scoring: ${scorer.name}`, done: items.length, total: items.length, unit: 'answers' });
  }
  const scoringSeconds = (performance.now() - ts) / 1000;

  // ---- summaries --------------------------------------------------------------------------------
  const records: AnswerRecord[] = answers.map((a, i) => ({ ...metas[i], text: a.text, ended: a.ended, tokens: a.tokens.length, scores: scores[i] }));
  // Summaries above use full precision; the per-answer record keeps 6 significant digits.
  const roundScores = (r: AnswerRecord): AnswerRecord => ({
    ...r,
    scores: Object.fromEntries(Object.entries(r.scores).map(([k, v]) => [k, v === null || Number.isInteger(v) ? v : Number(v.toPrecision(6))])),
  });
  const select = (pred: (m: RowMeta) => boolean) => records.filter((r) => pred(r));
  const summary = (rs: AnswerRecord[]) =>
    summarizeCondition(
      rs.map((r) => r.scores),
      rs.map((r) => r.ended),
      rs.map((r) => r.tokens),
      metrics,
      level,
    );
  const projectionMetrics = personas.map((p) => `projection:${p.persona.name}`).filter((m) => metrics.includes(m));
  const evals: PersonaEvaluation[] = personas.map(({ persona, file }, pi) => {
    const mine = (m: RowMeta) => m.persona === persona.name;
    const opposite = promptedConditions(persona).find(([c]) => c === 'prompted-opposite')?.[1];
    return {
      name: persona.name,
      ...(file ? { file } : {}),
      ...(persona.meta.description ? { description: persona.meta.description } : {}),
      layer: layers[pi],
      layers: steeredLayers[pi],
      operator,
      norm: persona.norm(layers[pi]),
      units,
      ...(traits.traitMetric[persona.name] ? { traitMetric: traits.traitMetric[persona.name] } : {}),
      ...(persona.meta.systemPrompt ? { systemPrompt: persona.meta.systemPrompt } : {}),
      ...(opposite ? { oppositeSystemPrompt: opposite } : {}),
      sweep: alphas.map((alpha) => ({ alpha, ...summary(select((m) => mine(m) && m.condition === 'sweep' && m.alpha === alpha)) })),
      prompted: o.compare
        ? promptedConditions(persona).map(([condition, system]) => ({ condition, system, ...summary(select((m) => mine(m) && m.condition === condition)) }))
        : [],
    };
  });

  // Entanglement: paired differences against alpha 0, for every trait metric and every projection.
  const entangled = [...traits.traitMetrics, ...projectionMetrics];
  const entanglement: EntanglementRow[] = [];
  for (const p of personas) {
    const name = p.persona.name;
    const at = (alpha: number) => select((m) => m.persona === name && m.condition === 'sweep' && m.alpha === alpha);
    const base = at(0);
    for (const metric of entangled) {
      const own = metric === traits.traitMetric[name] || metric === `projection:${name}`;
      const baseValues = base.map((r) => r.scores[metric] ?? null);
      const allValues = select((m) => m.persona === name && m.condition === 'sweep').map((r) => r.scores[metric] ?? null);
      const sdBase = spread(baseValues);
      entanglement.push({
        steered: name,
        metric,
        own,
        byAlpha: alphas
          .filter((a) => a !== 0)
          .map((alpha) => ({
            alpha,
            ...pairedDelta(
              at(alpha).map((r) => r.scores[metric] ?? null),
              baseValues,
              level,
              sdBase > 0 ? baseValues : allValues,
            ),
          })),
      });
    }
  }

  // Side by side: unsteered, each persona steered at ∓compareAlpha, prompted with its system prompts.
  const comparison: ComparisonRow[] = [];
  const first = evals[0];
  comparison.push({ label: 'unsteered', persona: '', condition: 'unsteered', alpha: 0, summary: stripAlpha(first.sweep.find((s) => s.alpha === 0)!) });
  for (const e of evals) {
    for (const alpha of [-compareAlpha, compareAlpha]) {
      const s = e.sweep.find((x) => x.alpha === alpha);
      if (s)
        comparison.push({
          label: `${e.name} steered α=${fmtAlpha(alpha)} (layer ${e.layer})`,
          persona: e.name,
          condition: 'steered',
          alpha,
          summary: stripAlpha(s),
        });
    }
    for (const p of e.prompted)
      comparison.push({
        label: p.condition === 'prompted' ? `${e.name} prompted` : `${e.name} opposite prompted`,
        persona: e.name,
        system: p.system,
        condition: p.condition,
        alpha: null,
        summary: stripAlpha(p),
      });
  }

  const seconds = (performance.now() - t0) / 1000;
  const generatedTokens = answers.reduce((n, a) => n + a.tokens.length, 0);
  return {
    format: 'persona-vectors/evaluation@1',
    toolVersion: TOOL_VERSION,
    model: {
      id: model.id,
      ...(model.revision ? { revision: model.revision } : {}),
      precision: model.precision,
      numLayers: model.numLayers,
      hiddenSize: model.hiddenSize,
    },
    settings: {
      alphas,
      samples,
      ...sweep,
      level,
      ...(o.questionSet ? { questionSet: o.questionSet } : {}),
      scorer: traits.description,
      compare: !!o.compare,
      compareAlpha,
      batchSize,
    },
    questions: [...questions],
    metrics,
    traitMetrics: [...traits.traitMetrics],
    personas: evals,
    comparison,
    entanglement,
    ...(traits.judgeCounts ? { judgeCounts: traits.judgeCounts() } : {}),
    timing: {
      seconds,
      generationSeconds,
      scoringSeconds,
      generatedTokens,
      tokensPerSecond: generatedTokens / seconds,
      generationTokensPerSecond: generatedTokens / generationSeconds,
    },
    answers: records.map(roundScores),
  };
}

/** The persona's prompted baselines: its eliciting system prompt and, when recorded, the opposite one. */
function promptedConditions(persona: PersonaVector): Array<[Exclude<AnswerCondition, 'sweep'>, string]> {
  const pos = persona.meta.systemPrompt ?? persona.meta.prompts?.systemPositive?.[0];
  const neg = persona.meta.prompts?.systemNegative?.[0];
  const out: Array<[Exclude<AnswerCondition, 'sweep'>, string]> = [];
  if (pos) out.push(['prompted', pos]);
  if (neg) out.push(['prompted-opposite', neg]);
  return out;
}

function spread(values: ScoreValue[]): number {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length < 2) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

function stripAlpha<T extends ConditionSummary>(s: T): ConditionSummary {
  return { n: s.n, metrics: s.metrics, ended: s.ended, meanTokens: s.meanTokens };
}

/**
 * An alpha as text with its sign: `+8`, `−4`, `0`.
 *
 * @example fmtAlpha(-4); // '−4'
 */
export function fmtAlpha(a: number): string {
  return a > 0 ? `+${a}` : a < 0 ? `\u2212${-a}` : '0';
}
