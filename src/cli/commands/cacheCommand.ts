import path from 'node:path';
import { Command } from 'commander';
import { cleanConversionCache, listConversionCache, type ConversionCacheEntry } from '../../engine/convert/conversionCache.js';
import { personaCacheDir } from '../../util/personaCacheDir.js';
import { InvalidArgumentError } from '../../errors.js';

function size(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

function when(d: Date | null): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 16) : '-';
}

function table(entries: ConversionCacheEntry[]): string {
  const rows = entries.map((e) => [
    size(e.bytes),
    e.precision,
    e.busy ? `${e.status} (busy)` : e.status,
    when(e.lastUsed),
    e.revision ? e.revision.slice(0, 12) : '-',
    e.model ?? `? (folder ${path.basename(path.dirname(e.folder))})`,
  ]);
  const head = ['SIZE', 'PRECISION', 'STATUS', 'LAST USED (UTC)', 'REVISION', 'MODEL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/**
 * `persona cache`: lists the converted weights in the cache (size, precision, status, last use,
 * model and revision) and `persona cache clean` removes them.
 *
 * @example persona cache clean --model Qwen/Qwen3-0.6B
 */
export function cacheCommand(): Command {
  const cmd = new Command('cache').description(`list and clean converted weights in the cache (${personaCacheDir()}; PERSONA_CACHE to move it)`);
  cmd
    .command('list', { isDefault: true })
    .description('list converted weights: size, precision, status, last used, revision, model')
    .option('--json', 'print the entries as JSON')
    .action(async (o: { json?: boolean }) => {
      const entries = await listConversionCache();
      if (o.json) {
        process.stdout.write(JSON.stringify(entries, null, 1) + '\n');
        return;
      }
      if (entries.length === 0) {
        process.stdout.write(`No converted weights in ${personaCacheDir()}.\n`);
        return;
      }
      process.stdout.write(table(entries));
      const total = entries.reduce((a, e) => a + e.bytes, 0);
      const stale = entries.filter((e) => e.status !== 'ok' && !e.busy);
      process.stdout.write(`${entries.length} entries, ${size(total)} in ${personaCacheDir()}`);
      process.stdout.write(
        stale.length ? `; ${stale.length} unusable (${size(stale.reduce((a, e) => a + e.bytes, 0))}): persona cache clean removes them.\n` : '.\n',
      );
    });
  cmd
    .command('clean')
    .description('remove converted weights: by default those that can never be used again (source changed or gone, older converter, killed conversions)')
    .option('--model <model>', "remove this model's entries (hub id or model folder)")
    .option('--all', 'remove every entry')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .action(async (o: { model?: string; all?: boolean; dryRun?: boolean }) => {
      if (o.all && o.model) throw new InvalidArgumentError('Give --model or --all, not both.');
      const { removed, skippedBusy, freedBytes } = await cleanConversionCache({ model: o.model, all: o.all, dryRun: o.dryRun });
      const verb = o.dryRun ? 'would remove' : 'removed';
      for (const e of removed)
        process.stdout.write(`${verb} ${size(e.bytes).padEnd(10)} ${e.precision.padEnd(4)} ${e.status.padEnd(14)} ${e.model ?? e.folder}\n`);
      for (const e of skippedBusy) process.stdout.write(`kept ${e.folder}: a running conversion is writing into it\n`);
      if (o.model && removed.length === 0 && skippedBusy.length === 0)
        throw new InvalidArgumentError(`No converted weights of ${o.model} in ${personaCacheDir()}. persona cache lists what is there.`);
      process.stdout.write(`${o.dryRun ? 'Would free' : 'Freed'} ${size(freedBytes)}.\n`);
    });
  return cmd;
}
