import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { screenDataset } from '../../eval/screen/screenDataset.js';
import { screenCsv, screenJson, screenReportHtml, summarizeScreen } from '../../eval/screen/screenReport.js';
import { loadPersona } from '../../steering/personaFile.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { progressBar } from '../../util/progress.js';
import { intArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';
import { DEFAULTS } from '../../engine/defaults.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface ScreenFlags extends ModelFlags {
  dataset: string;
  persona: string[];
  layer?: number;
  top: number;
  outDir: string;
  restart?: boolean;
  show: number;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  batchSize: number;
}

/**
 * `persona screen`: ranks a (prompt, response) dataset by how far each response sits towards a
 * persona beyond the model's own answer (projection difference), flags the top share, and writes
 * screen.json, screen.csv and screen.html; resumable through screen.checkpoint.jsonl.
 */
export function screenCommand(): Command {
  const cmd = new Command('screen')
    .description("rank a fine-tuning dataset's samples by projection difference (dataset response − the model's own answer) on persona directions; resumable")
    .requiredOption('--dataset <file>', 'JSONL of {"messages": [..., assistant]} or {"system"?, "user", "assistant"}')
    .option('-p, --persona <file>', 'persona file (repeatable)', collect, [])
    .option('--layer <l>', "block to read every persona at (default: each persona's recommended layer)", intArg('--layer'))
    .option('--top <share>', 'share of samples to flag per persona', numberArg('--top'), 0.1)
    .option('--out-dir <dir>', 'where screen.json, screen.csv, screen.html and the checkpoint go', 'screen')
    .option('--restart', 'discard a checkpoint left by an earlier run instead of resuming it')
    .option('--show <n>', 'top samples per persona shown with their texts in the HTML report', intArg('--show'), 15)
    .option('--max-new-tokens <n>', "length of the model's own answers", intArg('--max-new-tokens'), DEFAULTS.screen.maxNewTokens)
    .option('--temperature <t>', "sampling temperature of the model's own answers (0 = greedy)", numberArg('--temperature'), DEFAULTS.screen.temperature)
    .option('--seed <n>', 'seed of sampled answers (each sample draws with seed + its line number)', intArg('--seed'), DEFAULTS.screen.seed)
    .option('--batch-size <n>', 'samples per generation batch', intArg('--batch-size'), DEFAULTS.screen.batchSize);
  for (const opt of modelOptions()) cmd.addOption(opt);
  return cmd.action(async (o: ScreenFlags) => {
    if (o.persona.length === 0) throw new InvalidArgumentError('persona screen needs at least one --persona.');
    if (!(o.top > 0 && o.top <= 1)) throw new InvalidArgumentError(`--top must be a share in (0, 1]; got ${o.top}.`);
    if (!(o.batchSize >= 1)) throw new InvalidArgumentError(`--batch-size must be at least 1; got ${o.batchSize}.`);
    const personas = await Promise.all(o.persona.map((f) => loadPersona(f)));
    await fs.mkdir(o.outDir, { recursive: true });
    const checkpoint = path.join(o.outDir, 'screen.checkpoint.jsonl');
    if (o.restart) await fs.rm(checkpoint, { force: true });
    const model = await openModel(o);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const stats = await screenDataset(model, {
        dataset: o.dataset,
        targets: personas.map((persona) => ({ persona, layer: o.layer })),
        checkpoint,
        batchSize: o.batchSize,
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature,
        seed: o.seed,
        onProgress: progressBar(process.stderr),
        signal: abort.signal,
      });
      process.stderr.write(
        `screened ${stats.screened} samples${stats.resumed ? ` (resumed: ${stats.resumed} were already in ${checkpoint})` : ''}; ${stats.total} in ${o.dataset}\n`,
      );
      const summary = await summarizeScreen(checkpoint, o.top);
      await atomicWrite(path.join(o.outDir, 'screen.json'), screenJson(summary));
      await atomicWrite(path.join(o.outDir, 'screen.csv'), screenCsv(summary));
      await atomicWrite(path.join(o.outDir, 'screen.html'), await screenReportHtml(summary, o.dataset, checkpoint, o.show));
      for (const p of summary.personas) {
        process.stdout.write(
          `${p.name} @${p.layer}: ${p.flagged} of ${summary.n} flagged (difference ≥ ${p.threshold?.toFixed(3)}; median ${p.median?.toFixed(3)}; ${summary.header.unit})\n`,
        );
      }
      process.stdout.write(`wrote ${path.join(o.outDir, 'screen.json')}, screen.csv, screen.html\n`);
    } finally {
      process.off('SIGINT', onSignal);
      await model.dispose();
    }
  });
}
