import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, ModelFileError } from '../errors.js';
import { parseHubSpec } from './hub/hubIds.js';
import { HubFileNotFoundError } from './hub/hubRequest.js';
import type { HubOptions } from './hub/hubSettings.js';
import { snapshotDownload } from './hub/snapshotDownload.js';

/** Where a model's files are. */
export interface ModelSource {
  /** The folder holding config.json, tokenizer.json and the weights. */
  dir: string;
  /** The hub id, or the local folder's name. */
  id: string;
  /** The revision asked for (`@revision` or the option), hub only. */
  revision?: string;
  /** The commit the files come from, hub only. */
  commit?: string;
  source: 'local' | 'hub';
}

export interface ResolveModelOptions extends HubOptions {
  /** Branch, tag or commit of a hub model; `org/name@revision` in the spec does the same. */
  revision?: string;
}

/**
 * Resolves a model spec: an existing local folder with config.json, or a Hugging Face hub id
 * `org/name[@revision]`, which is fetched into the standard HF cache when missing.
 *
 * @example
 * await resolveModelSource('models/stylist');   // { dir: '/…/models/stylist', id: 'stylist', source: 'local' }
 * await resolveModelSource('Qwen/Qwen3-0.6B');  // { dir: '…/snapshots/{commit}', commit, source: 'hub' }
 */
export async function resolveModelSource(spec: string, opts: ResolveModelOptions = {}): Promise<ModelSource> {
  const local = await statOrUndefined(spec);
  if (local) {
    if (!local.isDirectory())
      throw new ModelFileError(
        `${spec} is a file; a model is a folder (with config.json, tokenizer.json, model.safetensors) or a hub id like Qwen/Qwen3-0.6B.`,
      );
    const dir = path.resolve(spec);
    if (!(await statOrUndefined(path.join(dir, 'config.json')))) throw new ModelFileError(`${spec} has no config.json; it is not a Hugging Face model folder.`);
    return { dir, id: path.basename(dir), source: 'local' };
  }
  const hub = looksLikePath(spec) ? undefined : parseHubSpec(spec);
  if (!hub) throw new ModelFileError(`Model "${spec}" is neither an existing folder nor a hub id like Qwen/Qwen3-0.6B (or Qwen/Qwen3-0.6B@main).`);
  if (hub.revision && opts.revision && hub.revision !== opts.revision) {
    throw new InvalidArgumentError(`Two revisions for ${hub.repoId}: @${hub.revision} in the id and ${opts.revision} in the options.`);
  }
  const revision = hub.revision ?? opts.revision;
  let dir: string;
  try {
    dir = await snapshotDownload(hub.repoId, { ...opts, revision });
  } catch (err) {
    // A typo in a local path can look like a hub id: say both were tried.
    if (err instanceof HubFileNotFoundError && !err.commit) throw new HubFileNotFoundError(`${err.message} There is no local folder "${spec}" either.`);
    throw err;
  }
  return { dir, id: hub.repoId, ...(revision ? { revision } : {}), commit: path.basename(dir), source: 'hub' };
}

/** A spec written as a path (`./x`, `../x`, `/x`, `~/x`, `C:\x`) is never taken for a hub id. */
function looksLikePath(spec: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:)/.test(spec) || spec.includes('\\');
}

async function statOrUndefined(p: string) {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}
