import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OutputFileError } from '../errors.js';
import { describeSpecialFile } from './describeSpecialFile.js';
import { wrapWriteError } from './wrapWriteError.js';

/**
 * A temp path in the same folder as `target`, so that `rename` is atomic:
 * `.{name}.{pid}.{8 hex}.tmp`. The pid lets `sweepStaleWrites` tell a dead writer's leftovers.
 */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The names `tempPathFor` makes: `[1]` the target's name, `[2]` the writer's pid. */
export const TEMP_FILE_PATTERN = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Refuses a target that exists and is not a regular file (a FIFO, a device node, a folder, a
 * symbolic link), which a rename would otherwise replace. `OutputFileError` names it.
 *
 * @example await refuseNonRegularTarget('/dev/full');   // throws: it is a device
 */
export async function refuseNonRegularTarget(target: string): Promise<void> {
  let st;
  try {
    st = await fs.lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw wrapWriteError(err, target);
  }
  if (!st.isFile())
    throw new OutputFileError(`Cannot write ${target}: it is ${describeSpecialFile(st)}, not a regular file; it is left as it is. Choose another path.`);
}

/**
 * Writes `data` to `target` atomically: a temp file in the same folder, fsync, then rename.
 * A crash or Ctrl-C leaves either the old file or the new one, never half of one. A target that
 * is not a regular file is refused, never replaced; errno errors (read-only or full disk, a
 * missing folder, no permission) become `OutputFileError`s that name `target`.
 *
 * @example await atomicWrite('persona.json', JSON.stringify(meta));
 */
export async function atomicWrite(target: string, data: string | Uint8Array): Promise<void> {
  await refuseNonRegularTarget(target);
  const tmp = tempPathFor(target);
  try {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw wrapWriteError(err, target);
  }
}
