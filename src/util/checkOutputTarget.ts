import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { OutputFileError } from '../errors.js';
import { tempPathFor } from './atomicWrite.js';
import { describeSpecialFile } from './describeSpecialFile.js';
import { wrapWriteError } from './wrapWriteError.js';

export interface OutputTargetOptions {
  /** `file` (default): a file is written at the path; `dir`: files are written inside the folder at the path. */
  kind?: 'file' | 'dir';
  /** Bytes the output needs at least (default 4 KiB); less free space on the disk is an error. */
  bytes?: number;
}

/**
 * Checks, before any long work starts, that an output can be written: an existing target must be a
 * regular file (a FIFO, a device node, a folder or a symbolic link is refused, never replaced), the
 * nearest existing folder on its path must be a folder, writable (a probe file is created and
 * removed there) and have free space. Missing folders are fine: the writers create them. Throws
 * `OutputFileError` naming the path and what to do.
 *
 * @example
 * await checkOutputTarget(o.out);                       // before training
 * await checkOutputTarget(o.outputDir, { kind: 'dir' });
 */
export async function checkOutputTarget(target: string, opts: OutputTargetOptions = {}): Promise<void> {
  const kind = opts.kind ?? 'file';
  const existing = await lstatOrUndefined(target);
  if (existing) {
    const ok = kind === 'file' ? existing.isFile() : existing.isDirectory() || (existing.isSymbolicLink() && (await statOrUndefined(target))?.isDirectory());
    if (!ok) {
      const wanted = kind === 'file' ? 'a file' : 'a folder';
      throw new OutputFileError(`Cannot write ${target}: it is ${describeSpecialFile(existing)}, and the output must be ${wanted}. Choose another path.`);
    }
  }
  // The folder the output goes in, or its nearest ancestor that exists.
  let dir = kind === 'dir' ? path.resolve(target) : path.dirname(path.resolve(target));
  for (;;) {
    const st = await statOrUndefined(dir);
    if (st) {
      if (!st.isDirectory()) throw new OutputFileError(`Cannot write ${target}: ${dir} is a file, not a folder. Choose a path whose folders are folders.`);
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const probe = tempPathFor(path.join(dir, 'write-probe'));
  try {
    const handle = await fs.open(probe, 'wx');
    try {
      await handle.write(Buffer.alloc(1));
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw wrapWriteError(err, target);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => {});
  }
  const need = opts.bytes ?? 4096;
  const free = await fs.statfs(dir).then(
    (s) => s.bavail * s.bsize,
    () => undefined,
  );
  if (free !== undefined && free < need) {
    throw new OutputFileError(
      `Cannot write ${target}: the disk is full (${free} bytes free in ${dir}, ${need} needed). Free some space or write the output elsewhere.`,
    );
  }
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    // ENOTDIR: a folder on the path is a file; the walk up below names it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw wrapWriteError(err, p);
  }
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}
