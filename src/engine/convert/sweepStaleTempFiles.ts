import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A temp file written by `atomicWrite`/`tempPathFor`: `.<name>.<pid>.<8 hex>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * How old a temp file must be before it is removed although a process with its writer's pid is
 * alive (pids are reused; a live conversion writes to its file every few seconds).
 *
 * @example Date.now() - st.mtimeMs > STALE_TEMP_MS;
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/**
 * How old a temp file of a writer that no longer exists must be: a little grace, because a pid
 * from another pid namespace (a container sharing the cache) looks dead from here.
 *
 * @example Date.now() - st.mtimeMs > DEAD_WRITER_GRACE_MS && !processAlive(pid);
 */
export const DEAD_WRITER_GRACE_MS = 2 * 60 * 1000;

/**
 * True when a process with this pid exists (ours included).
 *
 * @example processAlive(process.pid); // true
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that killed conversions left in the cache's `converted/` folders
 * (`.weights.bin.<pid>.<hex>.tmp` and the manifest's and graphs' temp files): those whose writer
 * process is gone (after `DEAD_WRITER_GRACE_MS`), and those untouched for `STALE_TEMP_MS`.
 * Returns what it removed with sizes.
 *
 * @example const removed = await sweepStaleTempFiles(personaCacheDir());
 */
export async function sweepStaleTempFiles(cacheRoot: string, now = Date.now()): Promise<{ file: string; bytes: number }[]> {
  const removed: { file: string; bytes: number }[] = [];
  for (const folder of await convertedFolders(cacheRoot)) {
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (!m) continue;
      const file = path.join(folder, name);
      let st;
      try {
        st = await fs.lstat(file);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const pid = Number(m[1]);
      const age = now - st.mtimeMs;
      const stale = age > STALE_TEMP_MS || (age > DEAD_WRITER_GRACE_MS && !processAlive(pid));
      if (!stale) continue;
      await fs.rm(file, { force: true });
      removed.push({ file, bytes: st.size });
    }
  }
  return removed;
}

/**
 * Every `converted/<model>-<key>/<precision>` folder under a cache root.
 *
 * @example await convertedFolders(personaCacheDir()); // ['…/converted/stylist-0cd5…/f32']
 */
export async function convertedFolders(cacheRoot: string): Promise<string[]> {
  const root = path.join(cacheRoot, 'converted');
  const out: string[] = [];
  let entries: string[];
  try {
    entries = await fs.readdir(root);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const dir = path.join(root, e);
    let subs: import('node:fs').Dirent[];
    try {
      subs = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const s of subs) if (s.isDirectory()) out.push(path.join(dir, s.name));
  }
  return out;
}
