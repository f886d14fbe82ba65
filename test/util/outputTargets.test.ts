import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputFileError } from '../../src/errors.js';
import { atomicWrite } from '../../src/util/atomicWrite.js';
import { checkOutputTarget } from '../../src/util/checkOutputTarget.js';
import { wrapWriteError } from '../../src/util/wrapWriteError.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-out-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** Every file the test folder holds (no temp files may stay behind). */
const listing = async (dir: string) => (await fs.readdir(dir)).sort();

describe('output targets', () => {
  it('atomicWrite refuses a FIFO, a device node, a folder and a symlink, and leaves each as it was', async () => {
    const dir = tmp();
    const fifo = path.join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const folder = path.join(dir, 'folder');
    await fs.mkdir(folder);
    const real = path.join(dir, 'real.json');
    await fs.writeFile(real, 'keep');
    const link = path.join(dir, 'link.json');
    await fs.symlink(real, link);
    for (const [target, what] of [
      [fifo, /it is a named pipe \(FIFO\), not a regular file; it is left as it is/],
      ['/dev/full', /it is a device/],
      ['/dev/null', /it is a device/],
      [folder, /it is a folder/],
      [link, /it is a symbolic link/],
    ] as const) {
      const err = await atomicWrite(target, 'data').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, target).toBeInstanceOf(OutputFileError);
      expect(err!.message, target).toContain(`Cannot write ${target}`);
      expect(err!.message, target).toMatch(what);
    }
    expect((await fs.lstat(fifo)).isFIFO()).toBe(true);
    expect((await fs.lstat('/dev/full')).isCharacterDevice()).toBe(true);
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await fs.readFile(real, 'utf8')).toBe('keep');
    expect(await listing(dir)).toEqual(['fifo', 'folder', 'link.json', 'real.json']);
  });

  it('atomicWrite wraps errno errors in an OutputFileError naming the file, and leaves no temp file', async () => {
    const dir = tmp();
    const blocker = path.join(dir, 'file');
    await fs.writeFile(blocker, 'x');
    const under = path.join(blocker, 'out.json');
    await expect(atomicWrite(under, 'data')).rejects.toThrow(new RegExp(`Cannot write ${under}: a part of its path is a file, not a folder`));
    const missing = path.join(dir, 'no', 'such', 'out.json');
    await expect(atomicWrite(missing, 'data')).rejects.toThrow(/its folder .*no\/such does not exist/);
    expect(await listing(dir)).toEqual(['file']);
  });

  it('wrapWriteError says what to do for a read-only disk, a full disk, a folder and no permission', () => {
    const e = (code: string) => Object.assign(new Error(`${code}: raw`), { code });
    expect(wrapWriteError(e('EROFS'), 'o.json').message).toBe('Cannot write o.json: the file system is read-only. Write the output to a writable disk.');
    expect(wrapWriteError(e('ENOSPC'), 'o.json').message).toMatch(/^Cannot write o\.json: the disk is full .*Free some space/);
    expect(wrapWriteError(e('EISDIR'), 'o.json').message).toMatch(/^Cannot write o\.json: it is a folder\. Give a file name inside it/);
    expect(wrapWriteError(e('EACCES'), 'o.json').message).toMatch(/^Cannot write o\.json: permission denied/);
    expect(wrapWriteError(e('EIO'), 'o.json')).toBeInstanceOf(OutputFileError);
    expect(wrapWriteError(e('EIO'), 'o.json').message).toMatch(/^Cannot write o\.json \(EIO: /);
    const plain = new TypeError('not a file problem');
    expect(wrapWriteError(plain, 'o.json')).toBe(plain);
  });

  it('checkOutputTarget finds a folder, FIFO, device, link or a path under a file before any work, and writes nothing', async () => {
    const dir = tmp();
    const fifo = path.join(dir, 'fifo.json');
    spawnSync('mkfifo', [fifo]);
    const blocker = path.join(dir, 'file');
    await fs.writeFile(blocker, 'x');
    await fs.symlink(blocker, path.join(dir, 'link.json'));
    const cases: [string, RegExp][] = [
      [dir, /it is a folder, and the output must be a file/],
      [fifo, /named pipe/],
      ['/dev/full', /a device/],
      [path.join(dir, 'link.json'), /symbolic link/],
      [path.join(blocker, 'sub', 'x.persona.json'), new RegExp(`${blocker} is a file, not a folder`)],
    ];
    for (const [target, why] of cases) {
      const err = await checkOutputTarget(target).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, target).toBeInstanceOf(OutputFileError);
      expect(err!.message, target).toMatch(why);
    }
    await expect(checkOutputTarget(blocker, { kind: 'dir' })).rejects.toThrow(/it is a file, and the output must be a folder/);
    expect(await listing(dir)).toEqual(['fifo.json', 'file', 'link.json']);
  });

  it('checkOutputTarget accepts a new file in missing folders, an existing file and an existing folder, leaving no probe', async () => {
    const dir = tmp();
    await checkOutputTarget(path.join(dir, 'a', 'b', 'out.json'));
    await fs.writeFile(path.join(dir, 'old.json'), '{}');
    await checkOutputTarget(path.join(dir, 'old.json'));
    await checkOutputTarget(dir, { kind: 'dir' });
    await checkOutputTarget(path.join(dir, 'new-dir'), { kind: 'dir' });
    expect(await listing(dir)).toEqual(['old.json']);
  });

  it('checkOutputTarget refuses an output that needs more than the free space', async () => {
    const dir = tmp();
    const free = await fs.statfs(dir).then((s) => s.bavail * s.bsize);
    await expect(checkOutputTarget(path.join(dir, 'big.bin'), { bytes: free * 2 + 1 })).rejects.toThrow(/the disk is full \(\d+ bytes free in .*needed\)/);
  });
});
