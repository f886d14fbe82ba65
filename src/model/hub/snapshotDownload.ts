import path from 'node:path';
import { InvalidArgumentError, ModelFileError } from '../../errors.js';
import { readJsonFile } from '../../util/readJsonFile.js';
import { lookupCachedFile, repoCacheDir } from './hubCache.js';
import { checkFilename } from './hubIds.js';
import { hubDownload, type HubDownloadOptions } from './hubDownload.js';
import { HubFileNotFoundError } from './hubRequest.js';
import { offlineError, resolveHubSettings } from './hubSettings.js';

export interface SnapshotDownloadOptions extends HubDownloadOptions {
  /** Fetch exactly these files (all required) instead of what a decoder needs. */
  files?: string[];
}

const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['generation_config.json', 'chat_template.jinja'];
const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

/**
 * Fetches the files a decoder needs into the hub cache and returns the snapshot folder:
 * config, tokenizer, optional generation config and chat template, and the weights
 * (`model.safetensors`, or the index and every shard in its `weight_map`). All files come from
 * one commit. When everything is cached, or offline, no request is made.
 *
 * @example
 * const dir = await snapshotDownload('Qwen/Qwen3-0.6B', { onProgress: progressBar() });
 * // dir: ~/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/snapshots/{commit}
 */
export async function snapshotDownload(repoId: string, opts: SnapshotDownloadOptions = {}): Promise<string> {
  const settings = await resolveHubSettings(opts);
  let commit: string | undefined;
  const rev = () => commit ?? opts.revision ?? 'main';
  const cached = async (file: string) => {
    const c = await lookupCachedFile(settings.cacheDir, repoId, file, rev());
    return c.kind === 'hit' ? c.path : undefined;
  };
  // Every file after the first is pinned to the commit the first resolved to.
  const get = async (file: string, optional = false): Promise<string | undefined> => {
    if (optional && settings.offline) return cached(file);
    try {
      const f = await hubDownload(repoId, file, { ...opts, revision: rev() });
      commit = f.commit;
      return f.path;
    } catch (err) {
      if (optional && err instanceof HubFileNotFoundError) return undefined;
      throw err;
    }
  };
  const weights = async (): Promise<void> => {
    if (await cached(SINGLE)) return;
    let index = await cached(INDEX);
    if (!index) {
      if (settings.offline) throw offlineError(settings, `${SINGLE} (or ${INDEX})`, repoId, rev());
      if (await get(SINGLE, true)) return;
      index = await get(INDEX, true);
      if (!index) throw new ModelFileError(`${repoId}@${rev()} has neither ${SINGLE} nor ${INDEX}; only safetensors checkpoints can be loaded.`);
    }
    for (const shard of await shardNames(index)) await get(shard);
  };

  for (const file of opts.files ?? REQUIRED) await get(file);
  if (!opts.files) {
    for (const file of OPTIONAL) await get(file, true);
    await weights();
  }
  if (!commit) throw new InvalidArgumentError(`No files to download from ${repoId}.`);
  return path.join(repoCacheDir(settings.cacheDir, repoId), 'snapshots', commit);
}

/** The shard files named in a `model.safetensors.index.json`, each once, in order. */
async function shardNames(indexFile: string): Promise<string[]> {
  const weightMap = ((await readJsonFile(indexFile, { errorClass: ModelFileError })) as { weight_map?: unknown } | null)?.weight_map;
  if (!weightMap || typeof weightMap !== 'object') throw new ModelFileError(`${indexFile} has no weight_map.`);
  const names = Object.values(weightMap as Record<string, unknown>);
  if (!names.every((n): n is string => typeof n === 'string')) throw new ModelFileError(`${indexFile} has a weight_map entry that is not a file name.`);
  for (const n of new Set(names)) {
    try {
      checkFilename(n);
    } catch {
      throw new ModelFileError(
        `${indexFile} names the shard ${JSON.stringify(n)}, which is not a file of the repo (shards must be relative paths inside it, without "..").`,
      );
    }
  }
  return [...new Set(names)];
}
