import path from 'node:path';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { fmtAlpha } from '../../eval/evaluate/evaluatePersonas.js';
import { buildTraitScoring, defaultScorerSpec, parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { analyzeLayers } from '../../eval/layers/analyzeLayers.js';
import { contrastFromPersona, personaFromDescription, type ContrastPairs } from '../../persona/contrastPrompts.js';
import { layerFigures, layerReport } from '../../eval/layers/layerReport.js';
import { RECOMMENDER_DEFAULTS, steeringSummary, withRecommendation } from '../../eval/layers/recommendSteering.js';
import { savePersona } from '../../steering/personaFile.js';
import { compareMethods, comparisonReport, comparisonSummary } from '../../eval/layers/compareMethods.js';
import { createPromptSet } from '../../persona/createPromptSet.js';
import type { ExtractionMethod } from '../../steering/PersonaVector.js';
import { readContrastiveFiles } from '../../persona/promptFiles.js';
import { loadPersona } from '../../steering/personaFile.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { progressBar } from '../../util/progress.js';
import { intArg, listArg, numberArg, screenLayersOption } from '../common.js';
import {
  evaluationOptions,
  parseTraitMetricFlags,
  questionSetFor,
  sweepOptionsFromFlags,
  withModel,
  writeEvaluationFiles,
  type EvaluationFlags,
  type EvaluationHelp,
} from '../evaluationOptions.js';
import { DEFAULTS } from '../../engine/defaults.js';

interface AnalyzeFlags extends EvaluationFlags {
  persona?: string;
  personality?: string;
  layers?: number[];
  coherenceFloor: number;
  repetitionFloor: number;
  perplexityCeiling: number;
  keepLayers: number;
  screenLayers: number;
  save?: string;
  methods?: string[];
  numPrompts?: number;
  positivePrompts?: string;
  negativePrompts?: string;
}

const HELP: EvaluationHelp = {
  alphas: 'steering strengths, comma-separated',
  questions: "held-out questions for the steering sweep (default: the model's own set)",
  numQuestions: 'questions per cell',
  seed: 'base seed: question i gets seed + i in every cell',
  scorer:
    "trait scorer: markers:FILE or judge:URL[,model=NAME][,key-env=VAR] (default: the model folder's style_markers.json when it has one, else the persona's projection)",
  traitMetric: "the persona's own metric when the automatic match is wrong",
  maxNewTokens: RECOMMENDER_DEFAULTS.maxNewTokens,
  alphasDefault: RECOMMENDER_DEFAULTS.alphas,
};

/**
 * `persona analyze-layers`: separation, norms and steering effect per layer; recommends a layer and alpha range.
 *
 * @example persona analyze-layers --persona personas/formal.persona.json --out l.json --html l.html
 */
export function analyzeLayersCommand(): Command {
  const cmd = new Command('analyze-layers')
    .description(
      "per layer: separation (Cohen's d, held-out probe), vector vs residual norm, steering effect and coherence; recommends a layer and the alpha range measured coherent, with the effect's 95% interval, by the same rule train and create use (the layers screened at ±4 in batched sweeps, coarse to fine past --screen-layers, the best --keep-layers over the alpha grid; docs/methods.md), or says the vector does not measurably steer the model; JSON + HTML with layer × alpha heat maps",
    )
    .option('-p, --persona <file>', 'persona file to analyse')
    .option('--personality <text>', 'or a one-line description: the vector is computed first (as persona create does) and saved (--save)')
    .option(
      '--methods <list>',
      'compare extraction methods (mean-diff,pca,pca-centred,probe) on the same answers of --positive-prompts/--negative-prompts or --personality: one steering check per method, effect and coherence heat maps per method, cosines between their directions per layer, one recommendation per method and an overall one',
      (v: string) =>
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
    )
    .option('--save <file>', 'with --personality: where to save the computed persona, with the verdict recorded (default: beside --out, NAME.persona.json)');
  const own = {
    layers: [
      new Option('--layers <list>', 'layers to analyse (default all)').argParser(listArg('--layers')),
      new Option('--coherence-floor <rate>', 'lowest end-of-turn rate of a coherent cell')
        .argParser(numberArg('--coherence-floor'))
        .default(RECOMMENDER_DEFAULTS.coherenceFloor),
      new Option('--repetition-floor <share>', "lowest mean distinct-2 of a coherent cell, as a share of the unsteered answers'")
        .argParser(numberArg('--repetition-floor'))
        .default(RECOMMENDER_DEFAULTS.repetitionFloor),
      new Option('--perplexity-ceiling <x>', "highest perplexity (under the unsteered model) of a coherent cell, as a multiple of the unsteered answers'")
        .argParser(numberArg('--perplexity-ceiling'))
        .default(RECOMMENDER_DEFAULTS.perplexityCeiling),
      new Option('--keep-layers <n>', 'layers the ±4 screen keeps for the whole alpha grid (0 = every layer)')
        .argParser(intArg('--keep-layers'))
        .default(RECOMMENDER_DEFAULTS.keepLayers),
      screenLayersOption(),
    ],
    prompts: [
      new Option(
        '--num-prompts <n>',
        `with --persona: contrastive pairs re-answered for separation (default: the model's contrast questions, at most ${DEFAULTS.prompts.numPrompts}); with --personality: pairs the vector is computed from (default ${DEFAULTS.prompts.numPrompts}, as create)`,
      ).argParser(intArg('--num-prompts')),
      new Option(
        '--positive-prompts <file>',
        "prompts for the positive side of separation (default: the persona's recorded system prompts over the model's contrast questions)",
      ),
      new Option('--negative-prompts <file>', 'prompts for the negative side, row-aligned'),
    ],
  };
  for (const o of evaluationOptions(HELP, own)) cmd.addOption(o);
  return cmd.action(async (o: AnalyzeFlags) => {
    if (o.methods) return compareMethodsAction(o);
    if (!!o.persona === !!o.personality) throw new InvalidArgumentError('Give exactly one of --persona FILE or --personality "description".');
    if (!!o.positivePrompts !== !!o.negativePrompts) throw new InvalidArgumentError('--positive-prompts and --negative-prompts go together.');
    if (o.save && !o.personality)
      throw new InvalidArgumentError('--save saves the persona computed from --personality; with --persona FILE the persona is already a file.');
    const overrides = parseTraitMetricFlags(o.traitMetric);
    const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
    const fromFile = o.persona ? await loadPersona(o.persona) : undefined;
    const files = o.positivePrompts ? await readContrastiveFiles(o.positivePrompts, o.negativePrompts!) : undefined;
    await withModel(o, async (model, signal) => {
      const qs = await questionSetFor(o, model.dir);
      const onProgress = progressBar(process.stderr);
      let persona: PersonaVector;
      let contrast: ContrastPairs;
      if (fromFile) {
        persona = fromFile;
        contrast = files ?? contrastFromPersona(persona, qs.extraction, Math.min(o.numPrompts ?? DEFAULTS.prompts.numPrompts, qs.extraction.length));
      } else {
        const made = await personaFromDescription(model, o.personality!, qs.extraction, { numPrompts: o.numPrompts, seed: o.seed, onProgress, signal });
        persona = made.persona;
        contrast = files ?? made.separation;
      }
      const spec = scorer ?? defaultScorerSpec(model.dir);
      const traitScoring = await buildTraitScoring(spec, [persona], overrides);
      const analysis = await analyzeLayers(model, persona, {
        ...sweepOptionsFromFlags(o),
        questions: qs.evaluation,
        contrast,
        alphas: o.alphas,
        layers: o.layers,
        coherenceFloor: o.coherenceFloor,
        repetitionFloor: o.repetitionFloor,
        perplexityCeiling: o.perplexityCeiling,
        keepLayers: o.keepLayers === 0 ? Infinity : o.keepLayers,
        maxScreenLayers: o.screenLayers,
        traitScoring,
        source: o.persona ?? `description: ${o.personality}`,
        onProgress,
        signal,
      });
      const written = await writeEvaluationFiles(
        o,
        analysis,
        () => layerReport(analysis),
        () => layerFigures(analysis),
      );
      if (o.personality) {
        const file = o.save ?? path.join(path.dirname(o.out), `${persona.name}.persona.json`);
        await savePersona(withRecommendation(persona, analysis), file);
        written.push(file);
      }
      for (const l of analysis.layers) {
        const range = l.coherentRange
          ? `coherent alphas [${l.coherentRange.map(fmtAlpha).join(', ')}], best ${analysis.metric} change ${l.bestEffect === null ? '– (no interval above 0)' : `${l.bestEffect.mean.toFixed(2)} [${l.bestEffect.lo.toFixed(2)}, ${l.bestEffect.hi.toFixed(2)}] at ${fmtAlpha(l.bestAlpha!)}`}`
          : l.screened === false
            ? 'not screened (outside the coarse-to-fine screen)'
            : `screened out (±${analysis.settings.screenAlpha} score ${l.screenScore.toFixed(2)})`;
        process.stdout.write(
          `layer ${l.layer}: d ${l.cohensD.toFixed(2)}, probe ${l.probeAccuracy.toFixed(2)}, ‖v‖/‖resid‖ ${l.normRatio.toFixed(2)}, ${range}\n`,
        );
      }
      process.stdout.write(steeringSummary(analysis.recommendation).join('\n') + '\n');
      process.stdout.write(`wrote ${written.join(', ')}\n`);
    });
  });
}

/** `analyze-layers --methods a,b,…`: the methods compared on the same answers, one report. */
async function compareMethodsAction(o: AnalyzeFlags): Promise<void> {
  if (o.persona)
    throw new InvalidArgumentError(
      '--methods recomputes the vector with each method, so it needs the prompts: give --positive-prompts and --negative-prompts (or --personality), not --persona.',
    );
  if (!o.personality && !o.positivePrompts)
    throw new InvalidArgumentError('--methods needs --positive-prompts and --negative-prompts, or --personality "description".');
  if (o.personality && o.positivePrompts) throw new InvalidArgumentError('--methods takes either the prompt files or --personality, not both.');
  if (!!o.positivePrompts !== !!o.negativePrompts) throw new InvalidArgumentError('--positive-prompts and --negative-prompts go together.');
  for (const flag of ['save'] as const)
    if (o[flag])
      throw new InvalidArgumentError(`--${flag} is not used with --methods (each method's vector is in the JSON result's checks, not saved as a persona).`);
  const overrides = parseTraitMetricFlags(o.traitMetric);
  const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
  const files = o.positivePrompts ? await readContrastiveFiles(o.positivePrompts, o.negativePrompts!) : undefined;
  await withModel(o, async (model, signal) => {
    const qs = await questionSetFor(o, model.dir);
    const set = files ?? (await createPromptSet({ personality: o.personality!, numPrompts: o.numPrompts ?? DEFAULTS.prompts.numPrompts, seed: o.seed }));
    const name = o.personality
      ? o.personality.split(/\s+/)[0].replace(/[^A-Za-z0-9_-]/g, '') || 'persona'
      : path.basename(o.positivePrompts!).replace(/(-pos)?\.(jsonl|txt)$/, '');
    const c = await compareMethods(model, {
      ...sweepOptionsFromFlags(o),
      positivePrompts: set.positive,
      negativePrompts: set.negative,
      methods: o.methods as ExtractionMethod[],
      name,
      description: o.personality,
      questions: qs.evaluation,
      alphas: o.alphas.filter((a) => a !== 0),
      layers: o.layers,
      coherenceFloor: o.coherenceFloor,
      repetitionFloor: o.repetitionFloor,
      perplexityCeiling: o.perplexityCeiling,
      keepLayers: o.keepLayers === 0 ? Infinity : o.keepLayers,
      maxScreenLayers: o.screenLayers,
      scorer,
      traitMetricOverrides: overrides,
      onProgress: progressBar(process.stderr),
      signal,
    });
    const written = await writeEvaluationFiles(
      o,
      c,
      () => comparisonReport(c),
      () => [],
    );
    process.stdout.write(comparisonSummary(c).join('\n') + '\n');
    process.stdout.write(`wrote ${written.join(', ')}\n`);
  });
}
