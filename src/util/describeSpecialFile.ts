import type { Stats } from 'node:fs';

/**
 * What an existing file that is not a regular file is, for error messages (from `lstat`).
 *
 * @example describeSpecialFile(await fs.lstat('/dev/full'));   // 'a device'
 */
export function describeSpecialFile(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link (outputs never replace links: remove it or give the path it points to)';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a file';
  return 'not a regular file';
}
