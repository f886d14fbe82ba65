import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMP_FILE_PATTERN } from './atomicWrite.js';
import { isProcessAlive } from './withFileLock.js';

/** The prefix of the server's upload staging folders in the OS temp folder (`persona-upload-{pid}-XXXXXX`, or without the pid). */
export const UPLOAD_STAGING_PREFIX = 'persona-upload-';

export interface SweepStaleWritesOptions {
  /** Folders whose atomic-write temp files (`.{name}.{pid}.{hex}.tmp`) and persona lock files are swept, with their subfolders down to `depth`. */
  dirs?: string[];
  /** Subfolder levels searched below each of `dirs` (default 4). */
  depth?: number;
  /** Where upload staging folders are looked for (default the OS temp folder); `false` skips them. */
  stagingDir?: string | false;
  /** A temp file older than this is removed even when a process with its pid runs (pids are reused); default 24 h. */
  maxAgeMs?: number;
  /** A staging folder older than this is removed (uploads are staged for milliseconds); default 1 h. */
  stagingMaxAgeMs?: number;
  /** Stop after looking at this many folder entries (default 20,000), so a huge folder cannot stall start-up. */
  maxEntries?: number;
}

export interface SweepResult {
  /** The paths removed. */
  removed: string[];
  /** Their size in bytes (files only). */
  bytes: number;
}

/**
 * Removes what interrupted writers left behind in some folders: temp files of our atomic writes
 * (`.{name}.{pid}.{hex}.tmp`) and persona lock files whose writer's process is gone or that are
 * older than `maxAgeMs`, and the server's upload staging folders of a dead server or older than
 * `stagingMaxAgeMs`. A live writer's files are never touched. Best effort: what cannot be read or
 * removed is skipped. The server calls it at start-up on its persona folder; the conversion cache
 * has its own sweep (`engine/convert/sweepStaleTempFiles`), run before a conversion.
 *
 * @example
 * const { removed, bytes } = await sweepStaleWrites({ dirs: ['personas'] });
 */
export async function sweepStaleWrites(opts: SweepStaleWritesOptions = {}): Promise<SweepResult> {
  const result: SweepResult = { removed: [], bytes: 0 };
  const now = Date.now();
  const maxAge = opts.maxAgeMs ?? 24 * 3600_000;
  let budget = opts.maxEntries ?? 20_000;
  const remove = async (p: string, size: number, recursive = false) => {
    try {
      await fs.rm(p, { recursive, force: true });
      result.removed.push(p);
      result.bytes += size;
    } catch {
      // gone meanwhile, or not ours to remove
    }
  };
  const stale = (pid: number | undefined, mtimeMs: number, ageLimit: number) =>
    pid !== process.pid && ((pid !== undefined && !isProcessAlive(pid)) || now - mtimeMs > ageLimit);

  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (--budget < 0) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth > 0) await walk(p, depth - 1);
        continue;
      }
      if (!e.isFile()) continue;
      const temp = TEMP_FILE_PATTERN.exec(e.name);
      const lock = !temp && /^\..+\.json\.lock$/.test(e.name);
      if (!temp && !lock) continue;
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st?.isFile()) continue;
      const pid = temp ? Number(temp[2]) : Number((await fs.readFile(p, 'utf8').catch(() => '')).trim()) || undefined;
      // A lock still being created holds no pid yet: leave it unless it is old.
      if (stale(pid, st.mtimeMs, lock && pid === undefined ? 60_000 : maxAge)) await remove(p, st.size);
    }
  };
  for (const dir of opts.dirs ?? []) await walk(path.resolve(dir), opts.depth ?? 4);

  const staging = opts.stagingDir === false ? undefined : (opts.stagingDir ?? os.tmpdir());
  if (staging) {
    const stagingAge = opts.stagingMaxAgeMs ?? 3600_000;
    const names = await fs.readdir(staging).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.startsWith(UPLOAD_STAGING_PREFIX) || --budget < 0) continue;
      const p = path.join(staging, name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const pid = /^persona-upload-(\d+)-/.exec(name)?.[1];
      if (stale(pid ? Number(pid) : undefined, st.mtimeMs, stagingAge)) await remove(p, 0, true);
    }
  }
  return result;
}
