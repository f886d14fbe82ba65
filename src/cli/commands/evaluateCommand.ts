import path from 'node:path';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { evaluationFigures, evaluationReport, ownMetric } from '../../eval/evaluate/evaluationReport.js';
import { evaluatePersonas, fmtAlpha, type EvaluationResult } from '../../eval/evaluate/evaluatePersonas.js';
import { buildTraitScoring, defaultScorerSpec, parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { personaFromDescription } from '../../persona/contrastPrompts.js';
import { recordSteering, steeringSummary } from '../../eval/layers/recommendSteering.js';
import { loadPersona, savePersona } from '../../steering/personaFile.js';
import { parseLayerList } from '../../steering/parseLayerList.js';
import { steeringWarning } from '../../steering/steeringWarning.js';
import { progressBar } from '../../util/progress.js';
import { intArg, numberArg } from '../common.js';
import {
  collect,
  evaluationOptions,
  parseTraitMetricFlags,
  questionSetFor,
  sweepOptionsFromFlags,
  withModel,
  writeEvaluationFiles,
  type EvaluationFlags,
  type EvaluationHelp,
} from '../evaluationOptions.js';

export { parseTraitMetricFlags };

interface EvaluateFlags extends EvaluationFlags {
  persona: string[];
  thinking: 'on' | 'off';
  includeReasoning?: boolean;
  personality?: string;
  save?: string;
  numPrompts?: number;
  layer: string[];
  operator: 'add' | 'ablate-add';
  samples: number;
  compare?: boolean;
  compareAlpha?: number;
  perplexity: boolean;
  projection: boolean;
  examples: number;
}

const HELP: EvaluationHelp = {
  alphas: 'steering strengths, comma-separated (0 is always added)',
  questions: "held-out questions, one per line or JSONL (default: the model's own set — the stylist's request kinds, or the question bank)",
  numQuestions: 'questions to ask',
  seed: 'base seed: question q, sample s gets seed + s·Q + q at every alpha',
  scorer: "trait scorer: markers:FILE or judge:URL[,model=NAME][,key-env=VAR] (default: the model folder's style_markers.json when it has one)",
  traitMetric: "a persona's own metric when the automatic match is wrong (repeatable)",
};

/**
 * Parses repeated `--layer` flags: `3` (or `2-4`, `2,5`) steers every persona there, `formal=2`
 * (or `formal=2-4`) one persona. A single layer stays a number.
 *
 * @example parseLayerFlags(['formal=2', 'vivid=4']); // { formal: 2, vivid: 4 }
 * @example parseLayerFlags(['3']); // 3
 * @example parseLayerFlags(['2-4']); // [2, 3, 4]
 */
export function parseLayerFlags(flags: string[]): number | number[] | Record<string, number | number[]> | undefined {
  if (flags.length === 0) return undefined;
  const layers = (v: string) => {
    const ls = parseLayerList(v);
    if (v.trim() === '' || !ls)
      throw new InvalidArgumentError(`--layer takes an integer or NAME=INTEGER (or a list such as 2-4 or 2,5 for either); got "${v}".`);
    return ls.length === 1 ? ls[0] : ls;
  };
  const named = flags.filter((f) => f.includes('='));
  if (named.length === 0) {
    if (flags.length > 1) throw new InvalidArgumentError('--layer without a persona name applies to every persona; give it once.');
    return layers(flags[0]);
  }
  if (named.length !== flags.length) throw new InvalidArgumentError('--layer: give either one layer for every persona or NAME=L for each.');
  return Object.fromEntries(named.map((f) => [f.slice(0, f.indexOf('=')), layers(f.slice(f.indexOf('=') + 1))]));
}

/**
 * `persona evaluate`: dose–response, comparison and entanglement of persona files on held-out questions.
 *
 * @example persona evaluate --persona personas/formal.persona.json --out r.json --html r.html --compare
 */
export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description(
      'measure what persona vectors do: held-out questions answered at each alpha (one batched sweep per persona), every metric with a 95% interval, entanglement between personas, JSON + HTML report',
    )
    .option(
      '-p, --persona <file>',
      'persona file (repeat to evaluate several against each other); one whose file records the does-not-steer verdict is evaluated anyway, with a one-line warning on stderr',
      collect,
      [],
    )
    .option(
      '--personality <text>',
      'or a one-line description: the vector is computed (as analyze-layers --personality does), its layer and alpha range measured by the steering check, and the persona saved (--save)',
    )
    .option('--save <file>', 'with --personality: where to save the computed persona (default: beside --out, NAME.persona.json)')
    .option('--num-prompts <n>', 'with --personality: contrastive pairs for the vector (default 64, as create)', intArg('--num-prompts'));
  const own = {
    layers: [
      new Option('--layer <l>', "layer(s) to steer: L, 2-4 or 2,5 for every persona, or NAME=L for one (repeatable; default: each persona's recommended layer)")
        .argParser(collect)
        .default([]),
      new Option('--operator <op>', 'add alpha·v (default), or ablate-add: remove the direction, then add alpha·v')
        .choices(['add', 'ablate-add'])
        .default('add'),
    ],
    prompts: [new Option('--samples <n>', 'answers per question and alpha').argParser(intArg('--samples')).default(1)],
    measures: [
      new Option('--compare', "also answer unsteered with each persona's system prompt (and its opposite): a side-by-side of unsteered, steered and prompted"),
      new Option('--compare-alpha <a>', 'steered alpha of the side-by-side and the entanglement chart (default: the largest alpha)').argParser(
        numberArg('--compare-alpha'),
      ),
      new Option(
        '--no-perplexity',
        'skip the perplexity of each answer under the unsteered model (a teacher-forced pass: on a large model on CPU, about as long as the generation)',
      ),
      new Option('--no-projection', "skip the projection of each answer on the personas' directions (a prefill pass over every answer)"),
    ],
    report: [new Option('--examples <n>', 'example answers per alpha in the report').argParser(intArg('--examples')).default(4)],
  };
  cmd.addOption(
    new Option(
      '--thinking <on|off>',
      "let a thinking model (Qwen3) think before each answer (the chat template's enable_thinking); answers are scored without their thinking",
    )
      .choices(['on', 'off'])
      .default('off'),
  );
  cmd.option('--include-reasoning', 'with --thinking on: score the thinking with the answer');
  for (const o of evaluationOptions(HELP, own)) cmd.addOption(o);
  return cmd.action(async (o: EvaluateFlags) => {
    const overrides = parseTraitMetricFlags(o.traitMetric);
    const layer = parseLayerFlags(o.layer);
    const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
    if (o.persona.length === 0 && !o.personality) throw new InvalidArgumentError('Give --persona FILE (repeatable) or --personality "description".');
    if (o.save && !o.personality)
      throw new InvalidArgumentError('--save saves the persona computed from --personality; with --persona FILE the persona is already a file.');
    const personas = await Promise.all(o.persona.map(async (file) => ({ persona: await loadPersona(file), file })));
    for (const w of new Set(personas.map((p) => steeringWarning(p.persona, 'evaluating it anyway')))) if (w) process.stderr.write(`warning: ${w}\n`);
    await withModel(o, async (model, signal) => {
      const qs = await questionSetFor(o, model.dir);
      const spec = scorer ?? defaultScorerSpec(model.dir);
      if (o.personality) {
        const onProgress = progressBar(process.stderr);
        const made = await personaFromDescription(model, o.personality, qs.extraction, { numPrompts: o.numPrompts, seed: o.seed, onProgress, signal });
        const recorded = await recordSteering({ scorer: spec, seed: o.seed })(model, made.persona, onProgress, signal);
        const file = o.save ?? path.join(path.dirname(o.out), `${recorded.name}.persona.json`);
        await savePersona(recorded, file);
        process.stdout.write(`saved ${file}\n${steeringSummary(recorded.meta.steering!, recorded.meta.alphaRange).join('\n')}\n`);
        if (recorded.meta.steering!.verdict === 'does-not-steer')
          process.stdout.write(`evaluating it anyway at layer ${recorded.meta.recommendedLayer} (the most separable one, not a recommendation)\n`);
        personas.push({ persona: recorded, file });
      }
      const traitScoring = await buildTraitScoring(
        spec,
        personas.map((p) => p.persona),
        overrides,
      );
      if (!spec) process.stderr.write('no trait scorer (give --scorer markers:FILE or judge:URL): reporting projections and coherence proxies only\n');
      const result = await evaluatePersonas(model, {
        ...sweepOptionsFromFlags(o),
        personas,
        questions: qs.evaluation,
        questionSet: o.questions ? path.basename(o.questions) : qs.name,
        alphas: o.alphas,
        layer,
        operator: o.operator,
        samples: o.samples,
        traitScoring,
        compare: o.compare,
        compareAlpha: o.compareAlpha,
        engineScores: { perplexity: o.perplexity, projection: o.projection },
        onProgress: progressBar(process.stderr),
        signal,
        thinking: o.thinking === 'on',
        includeReasoning: o.includeReasoning,
      });
      const written = await writeEvaluationFiles(
        o,
        result,
        () => evaluationReport(result, { examplesPerAlpha: o.examples }),
        () => evaluationFigures(result),
      );
      process.stdout.write(summaryText(result));
      process.stdout.write(`wrote ${written.join(', ')}\n`);
    });
  });
}

/** A plain-text digest of an evaluation: per persona, its trait metric and end-of-turn rate per alpha. */
function summaryText(r: EvaluationResult): string {
  const lines: string[] = [];
  const ci = (lo: number, hi: number) => (Number.isFinite(lo) && Number.isFinite(hi) ? ` [${lo.toFixed(2)}, ${hi.toFixed(2)}]` : '');
  for (const p of r.personas) {
    const m = ownMetric(r, p);
    lines.push(`${p.name} (layer ${p.layer}): ${m} and end-of-turn rate per alpha, mean [${Math.round(r.settings.level * 100)}% CI]`);
    for (const s of p.sweep) {
      const x = s.metrics[m];
      lines.push(
        `  alpha ${fmtAlpha(s.alpha).padStart(4)}  ${m} ${x.mean.toFixed(2)}${ci(x.lo, x.hi)}  ended ${s.ended.rate.toFixed(2)}${ci(s.ended.lo, s.ended.hi)}`,
      );
    }
    for (const c of p.prompted) lines.push(`  ${c.condition} "${c.system}"  ${m} ${c.metrics[m].mean.toFixed(2)}  ended ${c.ended.rate.toFixed(2)}`);
  }
  lines.push(
    `${r.timing.generatedTokens} tokens generated at ${r.timing.generationTokensPerSecond.toFixed(0)} tok/s (${r.timing.seconds.toFixed(1)} s with scoring)`,
  );
  return lines.join('\n') + '\n';
}
