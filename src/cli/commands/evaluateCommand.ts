import path from 'node:path';
import { Command, Option } from 'commander';
import { POSITIONS, type Positions } from '../../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../../errors.js';
import { evaluationFigures, evaluationReport, ownMetric } from '../../eval/evaluate/evaluationReport.js';
import { DEFAULT_ALPHAS, evaluatePersonas, fmtAlpha, type EvaluationResult } from '../../eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet, readQuestionSet } from '../../eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec, parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { writeReportFiles } from '../../eval/evaluate/writeReportFiles.js';
import { loadPersona } from '../../steering/personaFile.js';
import { UNITS, type Units } from '../../steering/resolveSteering.js';
import { progressBar } from '../../util/progress.js';
import { intArg, listArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';

interface EvaluateFlags extends ModelFlags {
  persona: string[];
  output: string;
  alphas: number[];
  layer: string[];
  questions?: string;
  numQuestions: number;
  samples: number;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  scorer?: string;
  traitMetric: string[];
  compare?: boolean;
  compareAlpha?: number;
  perplexity: boolean;
  projection: boolean;
  units: Units;
  positions: Positions;
  batchSize: number;
  html?: string;
  png?: boolean;
  examples: number;
}

const collect = (v: string, prev: string[]) => [...prev, v];

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

/**
 * Parses repeated `--layer` flags: `3` steers every persona at layer 3, `formal=2` one persona.
 *
 * @example parseLayerFlags(['formal=2', 'vivid=4']); // { formal: 2, vivid: 4 }
 * @example parseLayerFlags(['3']); // 3
 */
export function parseLayerFlags(flags: string[]): number | Record<string, number> | undefined {
  if (flags.length === 0) return undefined;
  const int = (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`--layer takes an integer or NAME=INTEGER; got "${v}".`);
    return n;
  };
  const named = flags.filter((f) => f.includes('='));
  if (named.length === 0) {
    if (flags.length > 1) throw new InvalidArgumentError('--layer without a persona name applies to every persona; give it once.');
    return int(flags[0]);
  }
  if (named.length !== flags.length) throw new InvalidArgumentError('--layer: give either one layer for every persona or NAME=L for each.');
  return Object.fromEntries(named.map((f) => [f.slice(0, f.indexOf('=')), int(f.slice(f.indexOf('=') + 1))]));
}

/**
 * `persona evaluate`: dose–response, comparison and entanglement of persona files on held-out questions.
 *
 * @example persona evaluate --persona personas/formal.persona.json --output r.json --html r.html --compare
 */
export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description('measure what persona vectors do: held-out questions answered at each alpha (one batched sweep per persona), every metric with a 95% interval, entanglement between personas, JSON + HTML report')
    .requiredOption('-p, --persona <file>', 'persona file (repeat to evaluate several against each other)', collect, [])
    .requiredOption('-o, --output <file>', 'JSON result to write')
    .option('--alphas <list>', 'steering strengths, comma-separated (0 is always added)', listArg('--alphas'), [...DEFAULT_ALPHAS])
    .option('--layer <l>', "layer to steer: L for every persona, or NAME=L for one (repeatable; default: each persona's recommended layer)", collect, [])
    .option('--questions <file>', 'held-out questions, one per line or JSONL (default: the model\'s own set — the stylist\'s request kinds, or the question bank)')
    .option('--num-questions <n>', 'questions to ask', intArg('--num-questions'), 32)
    .option('--samples <n>', 'answers per question and alpha', intArg('--samples'), 1)
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), 48)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', numberArg('--temperature'), 0.8)
    .option('--top-k <k>', 'top-k sampling', intArg('--top-k'), 50)
    .option('--seed <n>', 'base seed: question q, sample s gets seed + s·Q + q at every alpha', intArg('--seed'), 0)
    .option('--scorer <spec>', "trait scorer: markers:FILE or judge:URL[,model=NAME][,key-env=VAR] (default: the model folder's style_markers.json when it has one)")
    .option('--trait-metric <persona=metric>', "a persona's own metric when the automatic match is wrong (repeatable)", collect, [])
    .option('--compare', "also answer unsteered with each persona's system prompt (and its opposite): a side-by-side of unsteered, steered and prompted")
    .option('--compare-alpha <a>', 'steered alpha of the side-by-side and the entanglement chart (default: the largest alpha)', numberArg('--compare-alpha'))
    .option('--no-perplexity', 'skip the perplexity of each answer under the unsteered model (a teacher-forced pass: on a large model on CPU, about as long as the generation)')
    .option('--no-projection', "skip the projection of each answer on the personas' directions (a prefill pass over every answer)")
    .addOption(new Option('--units <u>', 'alpha units: gap (raw difference), unit, resid').choices(UNITS as string[]).default('gap'))
    .addOption(new Option('--positions <p>', 'positions to steer').choices(POSITIONS as string[]).default('all'))
    .option('--batch-size <n>', 'rows per forward batch', intArg('--batch-size'), 64)
    .option('--html <file>', 'also write the self-contained HTML report')
    .option('--png', 'also write each plot as PNG beside the JSON (R.NAME.png)')
    .option('--examples <n>', 'example answers per alpha in the report', intArg('--examples'), 4);
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: EvaluateFlags) => {
    const overrides = parseTraitMetricFlags(o.traitMetric);
    const layer = parseLayerFlags(o.layer);
    const scorer = o.scorer ? parseScorerSpec(o.scorer) : undefined;
    const personas = await Promise.all(o.persona.map(async (file) => ({ persona: await loadPersona(file), file })));
    const model = await openModel(o);
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const qs = o.questions ? await readQuestionSet(o.questions, model.dir, o.numQuestions) : defaultQuestionSet(model.dir, o.numQuestions, o.seed);
      const spec = scorer ?? defaultScorerSpec(model.dir);
      const traitScoring = await buildTraitScoring(spec, personas.map((p) => p.persona), overrides);
      if (!spec) process.stderr.write('no trait scorer (give --scorer markers:FILE or judge:URL): reporting projections and coherence proxies only\n');
      const result = await evaluatePersonas(model, {
        personas,
        questions: qs.evaluation,
        questionSet: o.questions ? path.basename(o.questions) : qs.name,
        alphas: o.alphas,
        layer,
        samples: o.samples,
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature,
        topK: o.topK,
        seed: o.seed,
        units: o.units,
        positions: o.positions,
        traitScoring,
        compare: o.compare,
        compareAlpha: o.compareAlpha,
        batchSize: o.batchSize,
        engineScores: { perplexity: o.perplexity, projection: o.projection },
        onProgress: progressBar(process.stderr),
        signal: ac.signal,
      });
      const written = await writeReportFiles({
        json: o.output,
        data: result,
        html: o.html ? { file: o.html, spec: evaluationReport(result, { examplesPerAlpha: o.examples }) } : undefined,
        pngFigures: o.png ? evaluationFigures(result) : undefined,
      });
      process.stdout.write(summaryText(result));
      process.stdout.write(`wrote ${written.join(', ')}\n`);
    } finally {
      process.removeListener('SIGINT', onSig);
      await model.dispose();
    }
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
      lines.push(`  alpha ${fmtAlpha(s.alpha).padStart(4)}  ${m} ${x.mean.toFixed(2)}${ci(x.lo, x.hi)}  ended ${s.ended.rate.toFixed(2)}${ci(s.ended.lo, s.ended.hi)}`);
    }
    for (const c of p.prompted) lines.push(`  ${c.condition} "${c.system}"  ${m} ${c.metrics[m].mean.toFixed(2)}  ended ${c.ended.rate.toFixed(2)}`);
  }
  lines.push(`${r.timing.generatedTokens} tokens generated at ${r.timing.generationTokensPerSecond.toFixed(0)} tok/s (${r.timing.seconds.toFixed(1)} s with scoring)`);
  return lines.join('\n') + '\n';
}
