import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CONVERTER_VERSION } from './convertWeights.js';
import { personaCacheDir } from '../../util/personaCacheDir.js';
import { readJsonFileIfValid } from '../../util/readJsonFile.js';
import type { ConvertedWeights } from './ConvertedWeights.js';
import { STALE_TEMP_MS, convertedFolders, processAlive, sweepStaleTempFiles } from './sweepStaleTempFiles.js';

/**
 * What a cache entry is good for: `ok` (its source is there, unchanged), `source-changed` (the
 * checkpoint was re-downloaded or edited: this entry will never be used again), `source-missing`
 * (the checkpoint is gone), `outdated` (written by an older converter), `incomplete` (no manifest:
 * a conversion that was killed, or one running now when `busy`).
 */
export type ConversionCacheStatus = 'ok' | 'source-changed' | 'source-missing' | 'outdated' | 'incomplete';

/** One converted checkpoint in the cache (one model at one precision). */
export interface ConversionCacheEntry {
  folder: string;
  /** Hub id or model folder, when the manifest says. */
  model: string | null;
  revision: string | null;
  precision: string;
  /** Bytes of every file in the entry's folder (weights, graphs, temp files). */
  bytes: number;
  /** When it was last loaded (or written). */
  lastUsed: Date | null;
  status: ConversionCacheStatus;
  /** A live process is writing into it now. */
  busy: boolean;
}

/**
 * Lists the converted weights in the cache, largest first.
 *
 * @example for (const e of await listConversionCache()) console.log(e.model, e.precision, e.bytes);
 */
export async function listConversionCache(cacheRoot: string = personaCacheDir()): Promise<ConversionCacheEntry[]> {
  const entries: ConversionCacheEntry[] = [];
  for (const folder of await convertedFolders(cacheRoot)) entries.push(await describeEntry(folder));
  return entries.sort((a, b) => b.bytes - a.bytes || a.folder.localeCompare(b.folder));
}

async function describeEntry(folder: string): Promise<ConversionCacheEntry> {
  let bytes = 0;
  let newest = 0;
  let busy = false;
  for (const name of await fs.readdir(folder).catch(() => [] as string[])) {
    const st = await fs.lstat(path.join(folder, name)).catch(() => null);
    if (!st?.isFile()) continue;
    bytes += st.size;
    newest = Math.max(newest, st.mtimeMs);
    const tmp = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (tmp && processAlive(Number(tmp[1])) && Date.now() - st.mtimeMs < STALE_TEMP_MS) busy = true;
  }
  const precision = path.basename(folder);
  const manifestPath = path.join(folder, 'manifest.json');
  const m = ((await readJsonFileIfValid(manifestPath)) ?? null) as Partial<ConvertedWeights> | null;
  const lastUsed = m ? ((await fs.stat(manifestPath).catch(() => null))?.mtime ?? null) : newest ? new Date(newest) : null;
  const base = { folder, precision, bytes, lastUsed, busy };
  if (!m || typeof m !== 'object') return { ...base, model: null, revision: null, status: 'incomplete' };
  const model = typeof m.source?.model === 'string' ? m.source.model : null;
  const revision = typeof m.source?.revision === 'string' ? m.source.revision : null;
  if (m.formatVersion !== CONVERTER_VERSION || !m.source || !Array.isArray(m.source.files)) return { ...base, model, revision, status: 'outdated' };
  let status: ConversionCacheStatus = 'ok';
  for (const f of m.source.files) {
    const st = await fs.stat(f.path).catch(() => null);
    if (!st) {
      status = 'source-missing';
      break;
    }
    if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) status = 'source-changed';
  }
  return { ...base, model, revision, status };
}

/** What `cleanConversionCache` removes. */
export interface CleanOptions {
  cacheRoot?: string;
  /** Only the entries of this model (hub id, or model folder). */
  model?: string;
  /** Every entry, usable or not. */
  all?: boolean;
  /** Say what would go, remove nothing. */
  dryRun?: boolean;
}

/**
 * Removes converted weights: by default the entries that can never be used again (source changed
 * or gone, older converter, killed conversions) and stale temp files; with `model`, that model's
 * entries; with `all`, everything. An entry a live process is writing into is never removed.
 * Returns the removed entries (with `dryRun`, those that would be).
 *
 * @example const { removed, freedBytes } = await cleanConversionCache({ model: 'Qwen/Qwen3-0.6B' });
 */
export async function cleanConversionCache(
  opts: CleanOptions = {},
): Promise<{ removed: ConversionCacheEntry[]; skippedBusy: ConversionCacheEntry[]; freedBytes: number }> {
  const cacheRoot = opts.cacheRoot ?? personaCacheDir();
  let freedBytes = 0;
  if (!opts.dryRun) for (const t of await sweepStaleTempFiles(cacheRoot)) freedBytes += t.bytes;
  const wantedModel = opts.model;
  const matches = (e: ConversionCacheEntry) => {
    if (opts.all) return true;
    if (wantedModel !== undefined) return e.model !== null && (e.model.toLowerCase() === wantedModel.toLowerCase() || e.model === path.resolve(wantedModel));
    return e.status !== 'ok';
  };
  const removed: ConversionCacheEntry[] = [];
  const skippedBusy: ConversionCacheEntry[] = [];
  for (const e of await listConversionCache(cacheRoot)) {
    if (!matches(e)) continue;
    if (e.busy) {
      skippedBusy.push(e);
      continue;
    }
    removed.push(e);
    freedBytes += e.bytes;
    if (opts.dryRun) continue;
    await fs.rm(e.folder, { recursive: true, force: true });
    const parent = path.dirname(e.folder);
    if ((await fs.readdir(parent).catch(() => ['?'])).length === 0) await fs.rmdir(parent).catch(() => {});
  }
  return { removed, skippedBusy, freedBytes };
}
