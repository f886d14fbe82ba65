import { Command, Option } from 'commander';
import { readContrastiveFiles } from '../../persona/promptFiles.js';
import { trainPersona } from '../../persona/trainPersona.js';
import { checkOutputTarget } from '../../util/checkOutputTarget.js';
import { progressBar } from '../../util/progress.js';
import { intArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';

interface TrainFlags extends ModelFlags {
  positivePrompts: string;
  negativePrompts: string;
  out: string;
  name?: string;
  description?: string;
  method: 'mean-diff' | 'pca';
  read: 'response-mean' | 'prompt-last';
  maxNewTokens: number;
  temperature: number;
  seed: number;
  batchSize: number;
  check: boolean;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('learn a persona vector from positive and negative prompt files (one per line, or JSONL with system/user)')
    .requiredOption('--positive-prompts <file>', 'prompts that elicit the persona')
    .requiredOption('--negative-prompts <file>', 'prompts that elicit its opposite (row-aligned)')
    .requiredOption('-o, --out <file>', 'persona file to write (name.persona.json; a .safetensors sidecar is written beside it)')
    .option('--name <name>', 'persona name (default: from the output file)')
    .option('--description <text>', 'what the persona is')
    .addOption(new Option('--method <m>', 'mean-diff (paper) or pca (repeng)').choices(['mean-diff', 'pca']).default('mean-diff'))
    .addOption(new Option('--read <p>', 'activations read: response-mean or prompt-last').choices(['response-mean', 'prompt-last']).default('response-mean'))
    .option('--max-new-tokens <n>', 'answer length', intArg('--max-new-tokens'), 48)
    .option('--temperature <t>', 'answer sampling temperature', numberArg('--temperature'), 0.8)
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 0)
    .option('--batch-size <n>', 'rows per batch', intArg('--batch-size'), 32)
    .option('--no-check', 'skip the steering check that picks the recommended layer');
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: TrainFlags) => {
    const { positive, negative } = await readContrastiveFiles(o.positivePrompts, o.negativePrompts);
    await checkOutputTarget(o.out); // a folder, FIFO, read-only or full disk is found before training
    const model = await openModel(o);
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const name = o.name ?? o.out.replace(/^.*\//, '').replace(/\.persona\.json$|\.json$/, '');
      const persona = await trainPersona({
        model,
        positivePrompts: positive,
        negativePrompts: negative,
        name,
        description: o.description,
        method: o.method,
        positions: o.read,
        maxNewTokens: o.maxNewTokens,
        sampling: { temperature: o.temperature, topK: 50, seed: o.seed },
        batchSize: o.batchSize,
        out: o.out,
        skipCheck: !o.check,
        signal: ac.signal,
        onProgress: progressBar(process.stderr),
      });
      const l = persona.meta.recommendedLayer;
      process.stdout.write(`wrote ${o.out}: ${persona.numLayers} layers, recommended layer ${l} (norm ${persona.norm(l).toFixed(2)}), alpha range ${persona.meta.alphaRange.join('..')}\n`);
    } finally {
      process.removeListener('SIGINT', onSig);
      await model.dispose();
    }
  });
}
