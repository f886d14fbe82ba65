import { Command } from 'commander';
import { DEFAULTS } from '../../engine/defaults.js';
import { InvalidArgumentError } from '../../errors.js';
import { recordSteering } from '../../eval/layers/recommendSteering.js';
import { trainedPersonaLines } from '../trainedPersonaLines.js';
import { createPromptSet } from '../../persona/createPromptSet.js';
import { readTraitData, readTrainingPrompts, repeatSamples } from '../../persona/prompts/personaVectorsArtifact.js';
import type { ContrastiveSet } from '../../persona/prompts/PromptSet.js';
import { writePromptFiles } from '../../persona/prompts/writePromptFiles.js';
import { trainPersona } from '../../persona/trainPersona.js';
import { checkOutputTarget } from '../../util/checkOutputTarget.js';
import { progressBar } from '../../util/progress.js';
import { intArg, modelOptions, numberArg, openModel, withModel, type ModelFlags, screenLayersOption } from '../common.js';
import {
  pairFilterFromFlags,
  pairFilterOptions,
  samplesPerQuestionOption,
  steeringCheckFrom,
  traitDataOption,
  type PairFilterFlags,
  type TraitSource,
} from '../promptSourceOptions.js';

interface PromptFlags {
  personality?: string;
  traitData?: string;
  numPrompts: number;
  seed: number;
  generator?: string;
  generatorModel?: string;
  samplesPerQuestion: number;
}

function promptOptions(cmd: Command, samplesHelp: string): Command {
  return cmd
    .option('--personality <text>', 'one-line description, e.g. "formal and professional"')
    .addOption(traitDataOption())
    .option('--num-prompts <n>', 'contrastive pairs (with --personality)', intArg('--num-prompts'), DEFAULTS.prompts.numPrompts)
    .option('--seed <n>', 'seed for question choice and answer sampling', intArg('--seed'), 0)
    .option('--generator <g>', 'build richer prompts with a model: "local" (the --model itself) or an OpenAI-compatible base URL (OPENAI_API_KEY for a key)')
    .option('--generator-model <name>', 'model name to ask the generator endpoint for')
    .addOption(samplesPerQuestionOption(samplesHelp));
}

/**
 * The contrastive set of `create` / `generate-prompts`: a description (`--personality`) or
 * persona_vectors' trait files (`--trait-data`, the mapping `train` uses); flags that only shape a
 * description's prompts are an error beside trait files.
 */
async function promptSource(
  cmd: Command,
  o: PromptFlags & ModelFlags,
  model?: Parameters<typeof createPromptSet>[0]['model'],
): Promise<{ set: ContrastiveSet; source?: TraitSource }> {
  if (!o.personality === !o.traitData)
    throw new InvalidArgumentError(
      'Give --personality "a one-line description" or --trait-data extract.json[,eval.json] (persona_vectors\' trait files), one of the two.',
    );
  if (o.traitData) {
    const given = (['numPrompts', 'generator', 'generatorModel'] as const).filter((k) => cmd.getOptionValueSource(k) === 'cli');
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (given.length)
      throw new InvalidArgumentError(
        `${given.map(flag).join(', ')} shape${given.length === 1 ? 's' : ''} the prompts built from --personality; with --trait-data the trait files give the prompts (every question under every instruction pair).`,
      );
    const source = await readTraitData(o.traitData);
    return { set: source.set, source };
  }
  return { set: await createPromptSet({ ...o, personality: o.personality!, model, onProgress: progressBar(process.stderr) }) };
}

export function generatePromptsCommand(): Command {
  const cmd = promptOptions(
    new Command('generate-prompts').description(
      "write the contrastive prompt files for a description or for persona_vectors' trait files, to review and edit before `persona train`",
    ),
    "write every pair N times (block after block), so train answers each prompt N times as train --samples-per-question N would (persona_vectors' n_per_question)",
  ).requiredOption('--out-dir <dir>', 'folder for positive.jsonl, negative.jsonl, questions-heldout.txt, persona.json');
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: PromptFlags & ModelFlags & { outDir: string }) => {
    if (!(o.samplesPerQuestion >= 1)) throw new InvalidArgumentError(`--samples-per-question must be at least 1; got ${o.samplesPerQuestion}.`);
    await checkOutputTarget(o.outDir, { kind: 'dir' });
    const model = o.generator === 'local' && !o.traitData ? await openModel(o) : undefined;
    try {
      const { set } = await promptSource(cmd, o, model);
      const written = repeatSamples(set, o.samplesPerQuestion);
      const paths = await writePromptFiles(written, o.outDir);
      const times = o.samplesPerQuestion > 1 ? ` (${set.positive.length} pairs × ${o.samplesPerQuestion} samples)` : '';
      process.stdout.write(
        `wrote ${written.positive.length} pairs${times}:\n  ${Object.values(paths).join('\n  ')}\nnext: persona train --positive-prompts ${paths.positive} --negative-prompts ${paths.negative} --out my.persona.json\n`,
      );
    } finally {
      await model?.dispose();
    }
  });
}

export function createCommand(): Command {
  const cmd = promptOptions(
    new Command('create').description(
      'make a persona from a one-line description, persona_vectors\' trait files or prompt files (as train reads them): build contrastive prompts, answer them, compute the vector, measure the layer and alpha range that steer it coherently (or that it does not measurably steer; then it says so and prints no "steer with" line)',
    ),
    "answers sampled per prompt (persona_vectors' n_per_question)",
  )
    .option('--positive-prompts <file>', 'or prompt files, read as train reads them (no prompts are built): prompts that elicit the persona')
    .option('--negative-prompts <file>', 'with --positive-prompts: prompts that elicit its opposite (row-aligned)')
    .requiredOption('-o, --out <file>', 'persona file to write')
    .option('--name <name>', "persona name (default: the first word of --personality, the trait file's name, or the output file's)")
    .option(
      '--batch-size <n>',
      'rows per batch, as train (speed and memory only: every row samples with its own seed, so the answers do not depend on it)',
      intArg('--batch-size'),
      DEFAULTS.train.batchSize,
    )
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), DEFAULTS.train.maxNewTokens)
    .option('--temperature <t>', 'answer sampling temperature', numberArg('--temperature'), DEFAULTS.sampling.temperature)
    .option(
      '--scorer <spec>',
      "trait scorer of the steering check: markers:FILE or judge:URL[,model=NAME] (default: the model folder's style_markers.json when it has one, else the persona's own projection; with --trait-data a judge grades with the trait file's eval_prompt)",
    )
    .option('--no-check', 'skip the steering check (the file then records the most separable layer, which is not advice)')
    .addOption(screenLayersOption());
  for (const o of [...pairFilterOptions(), ...modelOptions()]) cmd.addOption(o);
  return cmd.action(
    async (
      o: PromptFlags &
        ModelFlags &
        PairFilterFlags & {
          out: string;
          name?: string;
          maxNewTokens: number;
          temperature: number;
          scorer?: string;
          check: boolean;
          screenLayers: number;
          batchSize: number;
          positivePrompts?: string;
          negativePrompts?: string;
        },
    ) => {
      const files = o.positivePrompts !== undefined || o.negativePrompts !== undefined;
      if ([!!o.personality, !!o.traitData, files].filter(Boolean).length !== 1) {
        throw new InvalidArgumentError(
          'Give --personality "a one-line description", --trait-data extract.json[,eval.json] (persona_vectors\' trait files) or --positive-prompts FILE --negative-prompts FILE, one of the three.',
        );
      }
      if (files) {
        const given = (['numPrompts', 'generator', 'generatorModel'] as const).filter((k) => cmd.getOptionValueSource(k) === 'cli');
        if (given.length)
          throw new InvalidArgumentError(
            `${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} shape${given.length === 1 ? 's' : ''} the prompts built from --personality; with prompt files the files are the prompts.`,
          );
      }
      // withModel checks --out before the prompts are built and answered.
      await withModel(o, async (model, signal) => {
        // Prompt files are read exactly as train reads them: create on them is train on them.
        const { set, source } = files ? { set: await readTrainingPrompts(o), source: undefined } : await promptSource(cmd, o, model);
        const fromOut = o.out.replace(/^.*[\\/]/, '').replace(/\.persona\.json$|\.json$/, '');
        const name = o.name ?? (o.personality ? o.personality.split(/\s+/)[0].replace(/[^A-Za-z0-9_-]/g, '') : (set.name ?? fromOut));
        const description = o.personality ?? set.description ?? set.name ?? name;
        const check = steeringCheckFrom(o.scorer, source);
        const { filter, minPairs } = await pairFilterFromFlags(o, { name: set.name ?? name, description }, source);
        const persona = await trainPersona({
          model,
          positivePrompts: set.positive,
          negativePrompts: set.negative,
          name,
          description,
          samplesPerQuestion: o.samplesPerQuestion,
          maxNewTokens: o.maxNewTokens,
          sampling: { temperature: o.temperature, topK: DEFAULTS.sampling.topK, seed: o.seed },
          batchSize: o.batchSize,
          pairFilter: filter,
          filterMinPairs: minPairs,
          out: o.out,
          recommend: o.check
            ? recordSteering({
                scorer: check.spec,
                seed: o.seed,
                questions: check.questions,
                questionsFrom: check.questionsFrom,
                maxScreenLayers: o.screenLayers,
              })
            : undefined,
          signal,
          onProgress: progressBar(process.stderr),
        });
        process.stdout.write(`wrote ${o.out}\n${trainedPersonaLines(persona).join('\n')}\n`);
      });
    },
  );
}
