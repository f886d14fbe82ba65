import { Command } from 'commander';
import { parseScorerSpec } from '../../eval/evaluate/traitScoring.js';
import { recordSteering, steeringSummary } from '../../eval/layers/recommendSteering.js';
import { createPromptSet } from '../../persona/createPromptSet.js';
import { writePromptFiles } from '../../persona/prompts/writePromptFiles.js';
import { trainPersona } from '../../persona/trainPersona.js';
import { checkOutputTarget } from '../../util/checkOutputTarget.js';
import { progressBar } from '../../util/progress.js';
import { intArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';

interface PromptFlags {
  personality: string;
  numPrompts: number;
  seed: number;
  generator?: string;
  generatorModel?: string;
}

function promptOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--personality <text>', 'one-line description, e.g. "formal and professional"')
    .option('--num-prompts <n>', 'contrastive pairs', intArg('--num-prompts'), 64)
    .option('--seed <n>', 'seed for question choice and answer sampling', intArg('--seed'), 0)
    .option('--generator <g>', 'build richer prompts with a model: "local" (the --model itself) or an OpenAI-compatible base URL (OPENAI_API_KEY for a key)')
    .option('--generator-model <name>', 'model name to ask the generator endpoint for');
}

export function generatePromptsCommand(): Command {
  const cmd = promptOptions(new Command('generate-prompts').description('write the contrastive prompt files for a description, to review and edit before `persona train`'))
    .requiredOption('--output-dir <dir>', 'folder for positive.jsonl, negative.jsonl, questions-heldout.txt, persona.json');
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: PromptFlags & ModelFlags & { outputDir: string }) => {
    await checkOutputTarget(o.outputDir, { kind: 'dir' });
    const model = o.generator === 'local' ? await openModel(o) : undefined;
    const set = await createPromptSet({ ...o, model, onProgress: progressBar(process.stderr) });
    const paths = await writePromptFiles(set, o.outputDir);
    process.stdout.write(`wrote ${set.positive.length} pairs:\n  ${Object.values(paths).join('\n  ')}\nnext: persona train --positive-prompts ${paths.positive} --negative-prompts ${paths.negative} --out my.persona.json\n`);
    await model?.dispose();
  });
}

export function createCommand(): Command {
  const cmd = promptOptions(new Command('create').description('make a persona from a one-line description: build contrastive prompts, answer them, compute the vector, measure the layer and alpha range that steer it coherently (or that it does not measurably steer)'))
    .requiredOption('-o, --output <file>', 'persona file to write')
    .option('--name <name>', 'persona name')
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), 48)
    .option('--temperature <t>', 'answer sampling temperature', numberArg('--temperature'), 0.8)
    .option('--scorer <spec>', "trait scorer of the steering check: markers:FILE or judge:URL[,model=NAME] (default: the model folder's style_markers.json when it has one, else the persona's own projection)")
    .option('--no-check', 'skip the steering check (the file then records the most separable layer, which is not advice)');
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: PromptFlags & ModelFlags & { output: string; name?: string; maxNewTokens: number; temperature: number; scorer?: string; check: boolean }) => {
    const spec = o.scorer ? parseScorerSpec(o.scorer) : undefined;
    await checkOutputTarget(o.output); // before the prompts are built and answered
    const model = await openModel(o);
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const set = await createPromptSet({ ...o, model, onProgress: progressBar(process.stderr) });
      const persona = await trainPersona({
        model,
        positivePrompts: set.positive,
        negativePrompts: set.negative,
        name: o.name ?? o.personality.split(/\s+/)[0].replace(/[^A-Za-z0-9_-]/g, ''),
        description: o.personality,
        maxNewTokens: o.maxNewTokens,
        sampling: { temperature: o.temperature, topK: 50, seed: o.seed },
        out: o.output,
        recommend: o.check ? recordSteering({ scorer: spec, seed: o.seed }) : undefined,
        signal: ac.signal,
        onProgress: progressBar(process.stderr),
      });
      const v = persona.meta.steering;
      const lines = v ? steeringSummary(v, persona.meta.alphaRange) : [`no steering check (--no-check): layer ${persona.meta.recommendedLayer} is only the most separable one, not a measured recommendation`];
      process.stdout.write(`wrote ${o.output}\n${lines.join('\n')}\n`);
    } finally {
      process.removeListener('SIGINT', onSig);
      await model.dispose();
    }
  });
}
