import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Runs `fn` holding a lock file (created exclusively, holding our pid), so two processes never
 * append to the same `.incomplete` file. A lock whose process is gone is taken over; while a live
 * one holds it, this waits. Best effort: processes on one machine, not a network file system.
 *
 * @example await withLock(path.join(cache, '.locks', 'models--org--name', `${etag}.pvlock`), () => download());
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  await fs.mkdir(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!(await isHeld(lockFile))) {
      await fs.rm(lockFile, { force: true });
      continue;
    }
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

async function isHeld(lockFile: string): Promise<boolean> {
  const text = await fs.readFile(lockFile, 'utf8').catch(() => undefined);
  if (text === undefined) return false; // released meanwhile
  if (text === '') {
    // Created but its pid not yet written: held, unless it has been empty for a while.
    const st = await fs.stat(lockFile).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs < 10_000;
  }
  return isAlive(Number(text));
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
