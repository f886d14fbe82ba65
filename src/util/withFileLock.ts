import { promises as fs } from 'node:fs';
import path from 'node:path';
import { OutputFileError } from '../errors.js';

export interface FileLockOptions {
  signal?: AbortSignal;
  /** How long to wait for a live holder before giving up with an error; default: wait as long as it holds. */
  timeoutMs?: number;
  /** What the lock guards, for the timeout's message (default: the lock file). */
  what?: string;
}

/**
 * Runs `fn` holding a lock file (created exclusively, holding our pid), so two writers (processes,
 * or calls in one process) never interleave. A lock whose process is gone is taken over; while a
 * live one holds it, this waits (at most `timeoutMs`, then `OutputFileError` naming the holder's
 * pid). Best effort: processes on one machine, not a network file system.
 *
 * @example await withFileLock(path.join(cache, '.locks', 'models--org--name', `${etag}.pvlock`), () => download());
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, opts: FileLockOptions | AbortSignal = {}): Promise<T> {
  const o: FileLockOptions = opts instanceof AbortSignal ? { signal: opts } : opts;
  const started = Date.now();
  await fs.mkdir(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await lockHolder(lockFile);
    if (holder === undefined) {
      await fs.rm(lockFile, { force: true });
      continue;
    }
    o.signal?.throwIfAborted();
    if (o.timeoutMs !== undefined && Date.now() - started >= o.timeoutMs) {
      throw new OutputFileError(
        `${o.what ?? lockFile} is being written by another process (pid ${holder || 'unknown'}, lock ${lockFile}). Wait for it to finish, or write elsewhere; a lock left by a process that is gone is taken over by itself.`,
      );
    }
    await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 100)));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

/** The pid holding a lock file (0 while it is being created), or undefined when nobody holds it. */
async function lockHolder(lockFile: string): Promise<number | undefined> {
  const text = await fs.readFile(lockFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined; // released meanwhile
  if (text === '') {
    // Created but its pid not yet written: held, unless it has been empty for a while.
    const st = await fs.stat(lockFile).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs < 10_000 ? 0 : undefined;
  }
  const pid = Number(text);
  return isProcessAlive(pid) ? pid : undefined;
}

/**
 * Whether a process with this pid runs on this machine (signal 0; EPERM means it runs as another user).
 *
 * @example isProcessAlive(process.pid);   // true
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
