/**
 * The flags `persona evaluate` and `persona analyze-layers` share (output, alphas, questions,
 * sampling, scoring, steering units and positions, batching, report files, model), defined once,
 * and what both make of them: the question set, the sweep settings, the report files, the model's
 * lifetime.
 */
import { Option } from 'commander';
import { DEFAULTS } from '../engine/defaults.js';
import { POSITIONS, type Positions } from '../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../errors.js';
import type { NamedFigure } from '../eval/evaluate/evaluationReport.js';
import { defaultQuestionSet, readQuestionSet, type QuestionSet } from '../eval/evaluate/questionSets.js';
import { writeReportFiles } from '../eval/evaluate/writeReportFiles.js';
import type { HtmlReportSpec } from '../eval/report/htmlReport.js';
import { UNITS, type Units } from '../steering/resolveSteering.js';
import { intArg, listArg, modelOptions, numberArg, type ModelFlags } from './common.js';

/** The model's lifetime around a command's work (defined with the other model flags). */
export { withModel } from './common.js';

/** The parsed values of the shared flags (each command adds its own). */
export interface EvaluationFlags extends ModelFlags {
  out: string;
  alphas: number[];
  questions?: string;
  numQuestions: number;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  scorer?: string;
  traitMetric: string[];
  units: Units;
  positions: Positions;
  batchSize: number;
  html?: string;
  png?: boolean;
}

/** Help texts of the shared flags that each command words for itself. */
export interface EvaluationHelp {
  alphas: string;
  questions: string;
  numQuestions: string;
  seed: string;
  scorer: string;
  traitMetric: string;
  /** Default answer length (48 unless the command says otherwise: analyze-layers uses the recommender's). */
  maxNewTokens?: number;
  /** Default alpha grid (`DEFAULTS.sweep.alphas` unless the command says otherwise). */
  alphasDefault?: readonly number[];
}

/** A command's own flags, each group listed at its place among the shared ones. */
export interface OwnOptions {
  /** After `--alphas`: which layers. */
  layers: Option[];
  /** After `--num-questions`: what else is asked or answered. */
  prompts: Option[];
  /** After `--trait-metric`: what else is measured. */
  measures?: Option[];
  /** After `--png`: report settings. */
  report?: Option[];
}

/** Commander's collector of a repeatable flag. */
export const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Every option of an evaluation command in help order: the shared flags with the command's help
 * texts, its own flags at their places, then the model flags.
 *
 * @example for (const o of evaluationOptions(HELP, { layers: [], prompts: [] })) cmd.addOption(o);
 */
export function evaluationOptions(help: EvaluationHelp, own: OwnOptions): Option[] {
  return [
    new Option('-o, --out <file>', 'JSON result to write').makeOptionMandatory(),
    new Option('--alphas <list>', help.alphas).argParser(listArg('--alphas')).default([...(help.alphasDefault ?? DEFAULTS.sweep.alphas)]),
    ...own.layers,
    new Option('--questions <file>', help.questions),
    new Option('--num-questions <n>', help.numQuestions).argParser(intArg('--num-questions')).default(DEFAULTS.sweep.numQuestions),
    ...own.prompts,
    new Option('--max-new-tokens <n>', 'answer length').argParser(intArg('--max-new-tokens')).default(help.maxNewTokens ?? DEFAULTS.sweep.maxNewTokens),
    new Option('--temperature <t>', 'sampling temperature (0 = greedy)').argParser(numberArg('--temperature')).default(DEFAULTS.sampling.temperature),
    new Option('--top-k <k>', 'top-k sampling').argParser(intArg('--top-k')).default(DEFAULTS.sampling.topK),
    new Option('--seed <n>', help.seed).argParser(intArg('--seed')).default(DEFAULTS.sampling.seed),
    new Option('--scorer <spec>', help.scorer),
    new Option('--trait-metric <persona=metric>', help.traitMetric).argParser(collect).default([]),
    ...(own.measures ?? []),
    new Option('--units <u>', 'alpha units: gap (raw difference), unit, resid').choices(UNITS as string[]).default('gap'),
    new Option('--positions <p>', 'positions to steer').choices(POSITIONS as string[]).default('all'),
    new Option('--batch-size <n>', 'rows per forward batch').argParser(intArg('--batch-size')).default(DEFAULTS.sweep.batchSize),
    new Option('--html <file>', 'also write the self-contained HTML report'),
    new Option('--png', 'also write each plot as PNG beside the JSON (R.NAME.png)'),
    ...(own.report ?? []),
    ...modelOptions(),
  ];
}

/**
 * Parses repeated `--trait-metric persona=metric` flags.
 *
 * @example parseTraitMetricFlags(['formal=formality']); // { formal: 'formality' }
 */
export function parseTraitMetricFlags(flags: string[]): Record<string, string> {
  return Object.fromEntries(
    flags.map((t) => {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new InvalidArgumentError(`--trait-metric takes persona=metric; got "${t}".`);
      return [t.slice(0, eq), t.slice(eq + 1)];
    }),
  );
}

/** The held-out questions: the `--questions` file, else the model's own set (`--num-questions`, `--seed`). */
export async function questionSetFor(o: EvaluationFlags, modelDir: string): Promise<QuestionSet> {
  return o.questions ? await readQuestionSet(o.questions, modelDir, o.numQuestions) : defaultQuestionSet(modelDir, o.numQuestions, o.seed);
}

/** The sampling, steering and batching flags of a sweep, as the options `evaluatePersonas` and `analyzeLayers` take. */
export function sweepOptionsFromFlags(
  o: EvaluationFlags,
): Pick<EvaluationFlags, 'maxNewTokens' | 'temperature' | 'topK' | 'seed' | 'units' | 'positions' | 'batchSize'> {
  return {
    maxNewTokens: o.maxNewTokens,
    temperature: o.temperature,
    topK: o.topK,
    seed: o.seed,
    units: o.units,
    positions: o.positions,
    batchSize: o.batchSize,
  };
}

/**
 * Writes the JSON result, and the HTML report (`--html`) and PNG figures (`--png`) when asked for;
 * the report and figures are only made then. Returns the files written.
 */
export function writeEvaluationFiles(o: EvaluationFlags, data: unknown, report: () => HtmlReportSpec, figures: () => NamedFigure[]): Promise<string[]> {
  return writeReportFiles({
    json: o.out,
    data,
    html: o.html ? { file: o.html, spec: report() } : undefined,
    pngFigures: o.png ? figures() : undefined,
  });
}
