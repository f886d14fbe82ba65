import path from 'node:path';
import { OutputFileError, PersonaError } from '../errors.js';

/**
 * Turns an errno error from writing `file` into an `OutputFileError` that names the file and says
 * what to do (read-only disk, full disk, a folder, no permission, a missing folder). Project errors
 * pass through unchanged; other errors keep their message after the file name.
 *
 * @example
 * try { await fs.writeFile(out, text); } catch (err) { throw wrapWriteError(err, out); }
 */
export function wrapWriteError(err: unknown, file: string): Error {
  if (err instanceof PersonaError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = code ? reasons[code]?.(file) : undefined;
  if (why) return new OutputFileError(`Cannot write ${file}: ${why}`, { cause: err });
  if (code) return new OutputFileError(`Cannot write ${file} (${code}: ${(err as Error).message}).`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

const reasons: Record<string, (file: string) => string> = {
  EROFS: () => 'the file system is read-only. Write the output to a writable disk.',
  ENOSPC: () => 'the disk is full (no space left on the device). Free some space or write the output elsewhere.',
  EDQUOT: () => 'the disk quota is exhausted. Free some space or write the output elsewhere.',
  EISDIR: (f) => `it is a folder. Give a file name inside it (for example ${path.join(f, 'out.json')}).`,
  EACCES: () => 'permission denied. Choose a folder you can write to, or fix its permissions.',
  EPERM: () => 'the operation is not permitted. Choose a folder you can write to, or fix its permissions.',
  ENOENT: (f) => `its folder ${path.dirname(path.resolve(f))} does not exist. Create it first or choose another path.`,
  ENOTDIR: () => 'a part of its path is a file, not a folder. Choose a path whose folders are folders.',
  ENAMETOOLONG: () => 'the path is too long. Choose a shorter name.',
  ELOOP: () => 'its path goes through a loop of symbolic links. Give the real path.',
};
