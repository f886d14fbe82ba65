import { InvalidArgumentError } from '../../errors.js';

// As huggingface_hub's validate_repo_id, with the namespace required: word characters, '-' and
// '.', starting and ending with a word character, no '--' or '..', at most 96 characters.
const PART = String.raw`\w(?:[\w.-]*\w)?`;
const REPO_ID = new RegExp(`^${PART}/${PART}$`);
const REVISION = /^[\w.-]+(?:\/[\w.-]+)*$/;

/**
 * True when `s` is a hub repo id like `Qwen/Qwen3-0.6B`.
 *
 * @example isRepoId('Qwen/Qwen3-0.6B') // true
 */
export function isRepoId(s: string): boolean {
  return s.length <= 96 && REPO_ID.test(s) && !s.includes('--') && !s.includes('..');
}

/**
 * Splits `org/name@revision` into its repo id and revision; undefined when `spec` is not one.
 *
 * @example parseHubSpec('Qwen/Qwen3-0.6B@main') // { repoId: 'Qwen/Qwen3-0.6B', revision: 'main' }
 */
export function parseHubSpec(spec: string): { repoId: string; revision?: string } | undefined {
  const at = spec.indexOf('@');
  const repoId = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? undefined : spec.slice(at + 1);
  if (!isRepoId(repoId) || (revision !== undefined && !isRevision(revision))) return undefined;
  return revision === undefined ? { repoId } : { repoId, revision };
}

function isRevision(s: string): boolean {
  return s.length <= 255 && REVISION.test(s) && !s.split('/').some((p) => p === '.' || p === '..');
}

export function checkRepoId(repoId: string): void {
  if (!isRepoId(repoId)) throw new InvalidArgumentError(`"${repoId}" is not a hub repo id; expected org/name, like Qwen/Qwen3-0.6B.`);
}

export function checkRevision(revision: string): void {
  if (!isRevision(revision)) throw new InvalidArgumentError(`"${revision}" is not a valid revision (a branch, tag or commit hash).`);
}

/** A file name inside a repo: a relative POSIX path that stays inside the snapshot folder. */
export function checkFilename(filename: string): void {
  const parts = filename.split('/');
  if (filename.includes('\\') || filename.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new InvalidArgumentError(`"${filename}" is not a valid file name inside a repo.`);
  }
}
