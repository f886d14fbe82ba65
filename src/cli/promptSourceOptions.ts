/**
 * The flags `train`, `create` and `generate-prompts` share about where the prompts come from
 * (persona_vectors' trait files, samples per question) and which answer pairs are kept (the judge
 * filter), defined once, and what the commands make of them.
 */
import path from 'node:path';
import { Option } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { parseScorerSpec, type ScorerSpec } from '../eval/evaluate/traitScoring.js';
import { createJudgeScorer } from '../eval/scorers/judgeScorer.js';
import { judgePairFilter, parseFilterThresholds, PERSONA_VECTORS_THRESHOLDS, type PairFilter } from '../persona/pairFilter.js';
import { readPersonaVectorsArtifact, readTraitData } from '../persona/prompts/personaVectorsArtifact.js';
import { intArg } from './common.js';

/** What `readTraitData` returns: the set and the files it came from. */
export type TraitSource = Awaited<ReturnType<typeof readTraitData>>;

/** `--trait-data extract.json[,eval.json]`, one wording for the three commands. */
export function traitDataOption(): Option {
  return new Option(
    '--trait-data <files>',
    "persona_vectors' trait files instead of prompts: extract.json[,eval.json] (every question under every instruction pair; the eval file's questions are the steering check's held-out requests and its eval_prompt the judge's template)",
  );
}

/** `--samples-per-question N` (persona_vectors' n_per_question), worded for what the command does with it. */
export function samplesPerQuestionOption(help = "answers sampled per prompt (generated source; persona_vectors' n_per_question)"): Option {
  return new Option('--samples-per-question <n>', help).argParser(intArg('--samples-per-question')).default(1);
}

/** The judge filter's flags. */
export function pairFilterOptions(): Option[] {
  return [
    new Option(
      '--filter-judge <spec>',
      "keep only the answer pairs an LLM judge (OpenAI protocol) says show the trait, as persona_vectors does: judge:URL[,model=NAME][,key-env=VAR][,trait-data=FILE] as --scorer takes it (with --trait-data, the trait file's eval_prompt is the judge's template)",
    ),
    new Option(
      '--filter-thresholds <pos,neg,coh>',
      "with --filter-judge: keep a pair when the positive answer scores ≥ POS for the trait, the negative < NEG, and both ≥ COH for coherence (default 50,50,50, persona_vectors')",
    ),
    new Option('--filter-min-pairs <n>', 'with --filter-judge: fewest kept pairs that are not an error (default 10% of the pairs, at least 2)').argParser(
      intArg('--filter-min-pairs'),
    ),
  ];
}

export interface PairFilterFlags {
  filterJudge?: string;
  filterThresholds?: string;
  filterMinPairs?: number;
}

/**
 * The judge filter the flags ask for (none without `--filter-judge`; its other flags alone are an
 * error). The judge grades with the trait file's `eval_prompt` when the prompts came from one and the
 * spec names no `trait-data=` of its own, else with the default trait prompt for `trait`.
 */
export async function pairFilterFromFlags(
  o: PairFilterFlags,
  trait: { name: string; description: string },
  source?: TraitSource,
): Promise<{ filter?: PairFilter; minPairs?: number }> {
  if (!o.filterJudge) {
    const stray = [o.filterThresholds !== undefined && '--filter-thresholds', o.filterMinPairs !== undefined && '--filter-min-pairs'].filter(Boolean);
    if (stray.length)
      throw new InvalidArgumentError(
        `${stray.join(' and ')} set${stray.length === 1 ? 's' : ''} the judge filter's bounds, but no judge was given: add --filter-judge judge:URL[,model=NAME].`,
      );
    return {};
  }
  const spec = parseScorerSpec(/^https?:/i.test(o.filterJudge) ? `judge:${o.filterJudge}` : o.filterJudge);
  if (spec.kind !== 'judge')
    throw new InvalidArgumentError(`--filter-judge takes an LLM judge, judge:URL[,model=NAME][,key-env=VAR][,trait-data=FILE]; got "${o.filterJudge}".`);
  const thresholds = o.filterThresholds !== undefined ? parseFilterThresholds(o.filterThresholds) : { ...PERSONA_VECTORS_THRESHOLDS };
  if (o.filterMinPairs !== undefined && o.filterMinPairs < 1) throw new InvalidArgumentError(`--filter-min-pairs must be at least 1; got ${o.filterMinPairs}.`);
  const promptFile = spec.traitData ?? source?.judgeFile;
  const traitPrompt = promptFile ? (await readPersonaVectorsArtifact(promptFile)).eval_prompt : undefined;
  const judge = createJudgeScorer({
    baseURL: spec.baseURL,
    model: spec.model,
    apiKey: process.env[spec.apiKeyEnv ?? 'OPENAI_API_KEY'],
    trait: { name: trait.name, description: trait.description },
    metrics: ['trait', 'coherence'],
    ...(traitPrompt ? { traitPrompt } : {}),
  });
  const description = `judge ${spec.model} at ${spec.baseURL}${promptFile ? ` with the eval_prompt of ${path.basename(promptFile)}` : ''}`;
  return { filter: judgePairFilter(judge, { description, thresholds }), minPairs: o.filterMinPairs };
}

/**
 * The steering check's scorer spec, held-out requests and their source: a trait file's eval questions
 * replace the model's own held-out set, and a judge with no `trait-data=` grades with the trait
 * file's `eval_prompt`.
 *
 * @example const { spec, questions, questionsFrom } = steeringCheckFrom(o.scorer, await readTraitData('x.json,eval/x.json'));
 */
export function steeringCheckFrom(scorer: string | undefined, source?: TraitSource): { spec?: ScorerSpec; questions?: string[]; questionsFrom?: string } {
  const spec = scorer ? parseScorerSpec(scorer) : undefined;
  if (spec?.kind === 'judge' && !spec.traitData && source) spec.traitData = source.judgeFile;
  if (!source?.heldOutFile || !source.set.questionsHeldOut?.length) return { spec };
  return { spec, questions: [...source.set.questionsHeldOut], questionsFrom: `the eval file ${path.basename(source.heldOutFile)}` };
}
