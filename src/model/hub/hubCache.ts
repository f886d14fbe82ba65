import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWrite } from '../../util/atomicWrite.js';
import { checkFilename, checkRepoId, checkRevision } from './hubIds.js';

/*
 * The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out, so that models
 * downloaded by Python are found here and the other way round:
 *
 *   {cache}/models--{org}--{name}/
 *     blobs/{etag}                       file contents, named by ETag (sha256 for LFS files)
 *     refs/{revision}                    the commit hash a branch or tag pointed to
 *     snapshots/{commit}/{file}          relative symlink to ../../blobs/{etag}
 *     .no_exist/{commit}/{file}          empty marker: the hub said this file does not exist
 */

type Env = Record<string, string | undefined>;

const COMMIT = /^[0-9a-f]{40}$/;

function envPath(env: Env, name: string): string | undefined {
  const v = env[name];
  if (!v) return undefined;
  return v === '~' || v.startsWith('~/') ? path.join(os.homedir(), v.slice(1)) : v;
}

/**
 * The huggingface folder: `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
 *
 * @example hfHome({ HF_HOME: '/data/hf' }) // '/data/hf'
 */
export function hfHome(env: Env = process.env): string {
  return envPath(env, 'HF_HOME') ?? path.join(envPath(env, 'XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'huggingface');
}

/**
 * The hub cache folder, resolved as huggingface_hub does: `HF_HUB_CACHE` (or the older
 * `HUGGINGFACE_HUB_CACHE`), else `{hfHome()}/hub`.
 *
 * @example hubCacheDir({ XDG_CACHE_HOME: '/data/cache' }) // '/data/cache/huggingface/hub'
 */
export function hubCacheDir(env: Env = process.env): string {
  return envPath(env, 'HF_HUB_CACHE') ?? envPath(env, 'HUGGINGFACE_HUB_CACHE') ?? path.join(hfHome(env), 'hub');
}

/**
 * The cache folder of one model repo.
 *
 * @example repoCacheDir('/c', 'Qwen/Qwen3-0.6B') // '/c/models--Qwen--Qwen3-0.6B'
 */
export function repoCacheDir(cacheDir: string, repoId: string): string {
  checkRepoId(repoId);
  return path.join(cacheDir, `models--${repoId.replaceAll('/', '--')}`);
}

/**
 * True for a full 40-hex commit hash.
 *
 * @example isCommitHash('main') // false
 */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/** Where a file of a commit lives in the snapshot folder. */
export function snapshotPath(repoDir: string, commit: string, filename: string): string {
  return path.join(repoDir, 'snapshots', commit, ...filename.split('/'));
}

/** What the cache knows about one file. */
export type CacheLookup =
  | { kind: 'hit'; path: string; commit: string }
  /** The hub said this file does not exist at `commit` (a `.no_exist` marker). */
  | { kind: 'absent'; commit: string }
  /** Not cached; `commit` is set when the revision itself is known. */
  | { kind: 'miss'; commit?: string };

/**
 * Looks a file up in the cache without touching the network. `revision` is a branch or tag
 * (resolved through `refs/`) or a 40-hex commit.
 *
 * @example
 * const c = await lookupCachedFile(hubCacheDir(), 'Qwen/Qwen3-0.6B', 'config.json', 'main');
 * if (c.kind === 'hit') console.log(c.path);
 */
export async function lookupCachedFile(cacheDir: string, repoId: string, filename: string, revision = 'main'): Promise<CacheLookup> {
  checkRevision(revision);
  checkFilename(filename);
  const repoDir = repoCacheDir(cacheDir, repoId);
  const commit = isCommitHash(revision) ? revision : await readRef(repoDir, revision);
  if (!commit) return { kind: 'miss' };
  const file = snapshotPath(repoDir, commit, filename);
  if (await exists(file)) return { kind: 'hit', path: file, commit };
  if (await exists(path.join(repoDir, '.no_exist', commit, ...filename.split('/')))) return { kind: 'absent', commit };
  return { kind: 'miss', commit };
}

async function readRef(repoDir: string, revision: string): Promise<string | undefined> {
  try {
    const commit = (await fs.readFile(path.join(repoDir, 'refs', ...revision.split('/')), 'utf8')).trim();
    return isCommitHash(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file); // follows the symlink: a dangling link is not a hit
    return true;
  } catch {
    return false;
  }
}

/** Records that `revision` (a branch or tag) points at `commit`. */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const ref = path.join(repoDir, 'refs', ...revision.split('/'));
  try {
    if ((await fs.readFile(ref, 'utf8')).trim() === commit) return;
  } catch {
    // no ref yet
  }
  await fs.mkdir(path.dirname(ref), { recursive: true });
  await atomicWrite(ref, commit);
}

/** Makes `snapshots/{commit}/{filename}` a relative symlink to `blobs/{etag}` (a copy where links are not allowed). */
export async function linkSnapshotFile(repoDir: string, commit: string, filename: string, etag: string): Promise<string> {
  const blob = path.join(repoDir, 'blobs', etag);
  const link = snapshotPath(repoDir, commit, filename);
  await fs.mkdir(path.dirname(link), { recursive: true });
  await fs.rm(link, { force: true });
  try {
    await fs.symlink(path.relative(path.dirname(link), blob), link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    await fs.copyFile(blob, link); // Windows without symlink rights, as huggingface_hub does
  }
  return link;
}

/** Writes the `.no_exist` marker for a file the hub says is not in `commit`. */
export async function markAbsent(repoDir: string, commit: string, filename: string): Promise<void> {
  const marker = path.join(repoDir, '.no_exist', commit, ...filename.split('/'));
  await fs.mkdir(path.dirname(marker), { recursive: true });
  await fs.writeFile(marker, '');
}
