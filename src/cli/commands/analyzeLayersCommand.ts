import { Command, Option } from 'commander';
import { POSITIONS, type Positions } from '../../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../../errors.js';
import { DEFAULT_ALPHAS, fmtAlpha } from '../../eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet, readQuestionSet } from '../../eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec, parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { writeReportFiles } from '../../eval/evaluate/writeReportFiles.js';
import { analyzeLayers } from '../../eval/layers/analyzeLayers.js';
import { contrastFromPersona, personaFromDescription, type ContrastPairs } from '../../eval/layers/contrastPrompts.js';
import { layerFigures, layerReport } from '../../eval/layers/layerReport.js';
import { readContrastiveFiles } from '../../persona/promptFiles.js';
import { loadPersona } from '../../steering/personaFile.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';
import { UNITS, type Units } from '../../steering/resolveSteering.js';
import { progressBar } from '../../util/progress.js';
import { intArg, listArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';
import { parseTraitMetricFlags } from './evaluateCommand.js';

interface AnalyzeFlags extends ModelFlags {
  persona?: string;
  personality?: string;
  output: string;
  alphas: number[];
  layers?: number[];
  coherenceFloor: number;
  questions?: string;
  numQuestions: number;
  numPrompts?: number;
  positivePrompts?: string;
  negativePrompts?: string;
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

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * `persona analyze-layers`: separation, norms and steering effect per layer; recommends a layer and alpha range.
 *
 * @example persona analyze-layers --persona personas/formal.persona.json --output l.json --html l.html
 */
export function analyzeLayersCommand(): Command {
  const cmd = new Command('analyze-layers')
    .description('per layer: separation (Cohen\'s d, held-out probe), vector vs residual norm, steering effect and coherence over an alpha grid (one batched sweep per layer); recommends a layer and alpha range; JSON + HTML with a layer × alpha heat map')
    .option('-p, --persona <file>', 'persona file to analyse')
    .option('--personality <text>', 'or a one-line description: the vector is computed first (as persona create does)')
    .requiredOption('-o, --output <file>', 'JSON result to write')
    .option('--alphas <list>', 'steering strengths, comma-separated', listArg('--alphas'), [...DEFAULT_ALPHAS])
    .option('--layers <list>', 'layers to analyse (default all)', listArg('--layers'))
    .option('--coherence-floor <rate>', 'lowest end-of-turn rate a recommended cell may have', numberArg('--coherence-floor'), 0.7)
    .option('--questions <file>', 'held-out questions for the steering sweep (default: the model\'s own set)')
    .option('--num-questions <n>', 'questions per cell', intArg('--num-questions'), 32)
    .option('--num-prompts <n>', 'contrastive pairs re-answered for separation (default: all of the model\'s contrast questions, at most 64)', intArg('--num-prompts'))
    .option('--positive-prompts <file>', "prompts for the positive side of separation (default: the persona's recorded system prompts over the model's contrast questions)")
    .option('--negative-prompts <file>', 'prompts for the negative side, row-aligned')
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), 48)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', numberArg('--temperature'), 0.8)
    .option('--top-k <k>', 'top-k sampling', intArg('--top-k'), 50)
    .option('--seed <n>', 'base seed: question i gets seed + i in every cell', intArg('--seed'), 0)
    .option('--scorer <spec>', "trait scorer: markers:FILE or judge:URL[,model=NAME][,key-env=VAR] (default: the model folder's style_markers.json when it has one, else the persona's projection)")
    .option('--trait-metric <persona=metric>', "the persona's own metric when the automatic match is wrong", collect, [])
    .addOption(new Option('--units <u>', 'alpha units: gap (raw difference), unit, resid').choices(UNITS as string[]).default('gap'))
    .addOption(new Option('--positions <p>', 'positions to steer').choices(POSITIONS as string[]).default('all'))
    .option('--batch-size <n>', 'rows per forward batch', intArg('--batch-size'), 64)
    .option('--html <file>', 'also write the self-contained HTML report')
    .option('--png', 'also write each plot as PNG beside the JSON (R.NAME.png)');
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: AnalyzeFlags) => {
    if (!!o.persona === !!o.personality) throw new InvalidArgumentError('Give exactly one of --persona FILE or --personality "description".');
    if (!!o.positivePrompts !== !!o.negativePrompts) throw new InvalidArgumentError('--positive-prompts and --negative-prompts go together.');
    const overrides = parseTraitMetricFlags(o.traitMetric);
    const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
    const fromFile = o.persona ? await loadPersona(o.persona) : undefined;
    const files = o.positivePrompts ? await readContrastiveFiles(o.positivePrompts, o.negativePrompts!) : undefined;
    const model = await openModel(o);
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const qs = o.questions ? await readQuestionSet(o.questions, model.dir, o.numQuestions) : defaultQuestionSet(model.dir, o.numQuestions, o.seed);
      const onProgress = progressBar(process.stderr);
      let persona: PersonaVector;
      let contrast: ContrastPairs;
      if (fromFile) {
        persona = fromFile;
        contrast = files ?? contrastFromPersona(persona, qs.extraction, Math.min(o.numPrompts ?? 64, qs.extraction.length));
      } else {
        const made = await personaFromDescription(model, o.personality!, qs.extraction, { numPrompts: o.numPrompts, seed: o.seed, maxNewTokens: o.maxNewTokens, batchSize: o.batchSize, onProgress, signal: ac.signal });
        persona = made.persona;
        contrast = files ?? made.separation;
      }
      const spec = scorer ?? defaultScorerSpec(model.dir);
      const traitScoring = await buildTraitScoring(spec, [persona], overrides);
      const analysis = await analyzeLayers(model, persona, {
        questions: qs.evaluation,
        contrast,
        alphas: o.alphas,
        layers: o.layers,
        coherenceFloor: o.coherenceFloor,
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature,
        topK: o.topK,
        seed: o.seed,
        units: o.units,
        positions: o.positions,
        traitScoring,
        batchSize: o.batchSize,
        source: o.persona ?? `description: ${o.personality}`,
        onProgress,
        signal: ac.signal,
      });
      const written = await writeReportFiles({
        json: o.output,
        data: analysis,
        html: o.html ? { file: o.html, spec: layerReport(analysis) } : undefined,
        pngFigures: o.png ? layerFigures(analysis) : undefined,
      });
      for (const l of analysis.layers) {
        process.stdout.write(`layer ${l.layer}: d ${l.cohensD.toFixed(2)}, probe ${l.probeAccuracy.toFixed(2)}, ‖v‖/‖resid‖ ${l.normRatio.toFixed(2)}, coherent alphas [${l.coherentRange.map(fmtAlpha).join(', ')}], best ${analysis.metric} change ${l.bestEffect === null ? '–' : `${l.bestEffect.toFixed(2)} at ${fmtAlpha(l.bestAlpha!)}`}\n`);
      }
      const r = analysis.recommendation;
      process.stdout.write(r ? `recommended: layer ${r.layer}, alpha ${fmtAlpha(r.alpha)} (range [${r.alphaRange.map(fmtAlpha).join(', ')}]): ${analysis.metric} ${r.effect.mean >= 0 ? '+' : ''}${r.effect.mean.toFixed(2)} [${r.effect.lo.toFixed(2)}, ${r.effect.hi.toFixed(2)}], ended ${r.ended.rate.toFixed(2)}\n` : `no layer steers toward the persona above the coherence floor ${o.coherenceFloor}\n`);
      process.stdout.write(`wrote ${written.join(', ')}\n`);
    } finally {
      process.removeListener('SIGINT', onSig);
      await model.dispose();
    }
  });
}
