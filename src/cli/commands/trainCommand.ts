import { Command, Option } from 'commander';
import { DEFAULTS } from '../../engine/defaults.js';
import { InvalidArgumentError } from '../../errors.js';
import { recordSteering } from '../../eval/layers/recommendSteering.js';
import { trainedPersonaLines } from '../trainedPersonaLines.js';
import { readTraitData, readTrainingPrompts } from '../../persona/prompts/personaVectorsArtifact.js';
import { trainPersona } from '../../persona/trainPersona.js';
import type { ExtractionMethod, Reading } from '../../steering/PersonaVector.js';
import { progressBar } from '../../util/progress.js';
import { intArg, modelOptions, numberArg, withModel, type ModelFlags, screenLayersOption } from '../common.js';
import {
  pairFilterFromFlags,
  pairFilterOptions,
  samplesPerQuestionOption,
  steeringCheckFrom,
  traitDataOption,
  type PairFilterFlags,
} from '../promptSourceOptions.js';

interface TrainFlags extends ModelFlags, PairFilterFlags {
  positivePrompts?: string;
  negativePrompts?: string;
  traitData?: string;
  out: string;
  name?: string;
  description?: string;
  method: ExtractionMethod;
  read: Reading;
  source?: 'generated' | 'given';
  samplesPerQuestion: number;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  batchSize: number;
  check: boolean;
  screenLayers: number;
  scorer?: string;
  thinking: 'on' | 'off';
  includeReasoning?: boolean;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description(
      'learn a persona vector from positive and negative prompt files (one per line, or JSONL with system/user and optionally a given "assistant" answer) or persona_vectors\' trait files, then measure which layer and alpha range steer it coherently on held-out requests (or that it does not measurably steer; docs/methods.md)',
    )
    .option('--positive-prompts <file>', 'prompts that elicit the persona')
    .option('--negative-prompts <file>', 'prompts that elicit its opposite (row-aligned)')
    .addOption(traitDataOption())
    .requiredOption('-o, --out <file>', 'persona file to write (name.persona.json; a .safetensors sidecar is written beside it)')
    .option('--name <name>', 'persona name (default: from the output file)')
    .option('--description <text>', 'what the persona is')
    .addOption(
      new Option(
        '--method <m>',
        'aggregator (docs/methods.md): mean-diff (persona_vectors, CAA), pca (uncentred PCA of pair differences: steering-vectors, llama.cpp cvector-generator; = repeng pca_center), pca-centred (repeng pca_diff), probe (logistic-regression direction)',
      )
        .choices(['mean-diff', 'pca', 'pca-centred', 'probe'])
        .default('mean-diff'),
    )
    .addOption(
      new Option(
        '--read <p>',
        'where activations are read: response-mean (persona_vectors response_avg_diff), prompt-mean (prompt_avg_diff), prompt-last (prompt_last_diff), answer-token (CAA A/B: the token after a given "assistant" prefix like "(A")',
      )
        .choices(['response-mean', 'prompt-mean', 'prompt-last', 'answer-token'])
        .default('response-mean'),
    )
    .addOption(
      new Option(
        '--source <s>',
        'generated: the model answers each prompt; given: every JSONL line carries its "assistant" answer, read with no generation (default: given when the lines carry answers)',
      ).choices(['generated', 'given']),
    )
    .addOption(samplesPerQuestionOption())
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), DEFAULTS.train.maxNewTokens)
    .option('--temperature <t>', 'answer sampling temperature', numberArg('--temperature'), DEFAULTS.sampling.temperature)
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 0)
    .option(
      '--batch-size <n>',
      'rows per batch (speed and memory only: every row samples with its own seed, so the answers do not depend on it)',
      intArg('--batch-size'),
      DEFAULTS.train.batchSize,
    )
    .option(
      '--scorer <spec>',
      "trait scorer of the steering check: markers:FILE or judge:URL[,model=NAME] (default: the model folder's style_markers.json when it has one, else the persona's own projection; with --trait-data a judge grades with the trait file's eval_prompt)",
    )
    .option('--no-check', 'skip the steering check (the file then records the most separable layer, which is not advice)')
    .addOption(screenLayersOption())
    .addOption(
      new Option(
        '--thinking <on|off>',
        "let a thinking model (Qwen3) think before each answer (the chat template's enable_thinking); the thinking is read as context, not as the answer",
      )
        .choices(['on', 'off'])
        .default('off'),
    )
    .option('--include-reasoning', "with --thinking on: pool the thinking tokens with the answer's");
  for (const o of [...pairFilterOptions(), ...modelOptions()]) cmd.addOption(o);
  return cmd.action(async (o: TrainFlags) => {
    if (o.traitData && (o.positivePrompts || o.negativePrompts))
      throw new InvalidArgumentError('Give either --trait-data or --positive-prompts/--negative-prompts, not both.');
    const source = o.traitData ? await readTraitData(o.traitData) : undefined;
    const set = source?.set ?? (await readTrainingPrompts(o));
    const { positive, negative } = set;
    const check = steeringCheckFrom(o.scorer, source);
    const name = o.name ?? o.out.replace(/^.*\//, '').replace(/\.persona\.json$|\.json$/, '');
    const description = o.description ?? set.description;
    const { filter, minPairs } = await pairFilterFromFlags(
      o,
      { name: set.name ?? name, description: description ?? `answers that express the persona "${name}"` },
      source,
    );
    // withModel checks --out (a folder, FIFO, read-only or full disk) before the model is loaded.
    await withModel(o, async (model, signal) => {
      const recommend = o.check
        ? recordSteering({ scorer: check.spec, seed: o.seed, questions: check.questions, questionsFrom: check.questionsFrom, maxScreenLayers: o.screenLayers })
        : undefined;
      const persona = await trainPersona({
        model,
        positivePrompts: positive,
        negativePrompts: negative,
        name,
        description,
        method: o.method,
        read: o.read,
        source: o.source,
        samplesPerQuestion: o.samplesPerQuestion,
        maxNewTokens: o.maxNewTokens,
        sampling: { temperature: o.temperature, topK: DEFAULTS.sampling.topK, seed: o.seed },
        batchSize: o.batchSize,
        thinking: o.thinking === 'on',
        includeReasoning: o.includeReasoning,
        pairFilter: filter,
        filterMinPairs: minPairs,
        out: o.out,
        recommend,
        signal,
        onProgress: progressBar(process.stderr),
      });
      process.stdout.write(`wrote ${o.out}: ${persona.numLayers} layers\n${trainedPersonaLines(persona).join('\n')}\n`);
    });
  });
}
