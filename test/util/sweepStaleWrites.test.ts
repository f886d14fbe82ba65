import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempPathFor } from '../../src/util/atomicWrite.js';
import { sweepStaleWrites } from '../../src/util/sweepStaleWrites.js';
import { ROOT } from '../helpers/paths.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-sweep-'));
  dirs.push(d);
  return d;
};
const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
/** A process that stays alive until the test ends. */
const livePid = () => {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
};
const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );
const twoDaysAgo = () => new Date(Date.now() - 48 * 3600_000);

describe('sweepStaleWrites', () => {
  it('removes the temp file of a writer that was killed mid-write, and keeps a live writer’s and unrelated files', async () => {
    const cache = tmp();
    const folder = path.join(cache, 'converted', 'stylist-0123', 'q4');
    await fs.mkdir(folder, { recursive: true });
    // A real writer killed while it writes its temp file.
    const script = `
      const { tempPathFor } = await import(${JSON.stringify(path.join(ROOT, 'dist/util/atomicWrite.js'))});
      const fs = await import('node:fs');
      fs.writeFileSync(tempPathFor(process.argv[1]), Buffer.alloc(100_000, 1));
      process.kill(process.pid, 'SIGKILL');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, path.join(folder, 'weights.bin')]);
    expect(r.signal).toBe('SIGKILL');
    const [killed] = await fs.readdir(folder);
    expect(killed).toMatch(new RegExp(`^\\.weights\\.bin\\.${r.pid}\\.[0-9a-f]{8}\\.tmp$`));

    const live = tempPathFor(path.join(folder, 'manifest.json')).replace(`.${process.pid}.`, `.${livePid()}.`);
    await fs.writeFile(live, 'being written');
    const own = tempPathFor(path.join(cache, 'mine.json'));
    await fs.writeFile(own, 'this process writes it');
    const oldLive = tempPathFor(path.join(cache, 'old.json')).replace(`.${process.pid}.`, `.${livePid()}.`);
    await fs.writeFile(oldLive, 'pid reused long ago');
    await fs.utimes(oldLive, twoDaysAgo(), twoDaysAgo());
    const unrelated = [path.join(cache, '.notes.tmp'), path.join(folder, 'weights.bin'), path.join(cache, '.x.123.tmp')];
    for (const f of unrelated) await fs.writeFile(f, 'keep');

    const { removed, bytes } = await sweepStaleWrites({ dirs: [cache], stagingDir: false });
    expect(removed.sort()).toEqual([path.join(folder, killed), oldLive].sort());
    expect(bytes).toBe(100_000 + 'pid reused long ago'.length);
    for (const f of [live, own, ...unrelated]) expect(await exists(f), f).toBe(true);
  });

  it('removes persona lock files of dead writers and keeps those of live ones', async () => {
    const dir = tmp();
    const dead = path.join(dir, '.formal.persona.json.lock');
    await fs.writeFile(dead, String(deadPid()));
    const live = path.join(dir, '.vivid.persona.json.lock');
    await fs.writeFile(live, String(livePid()));
    const { removed } = await sweepStaleWrites({ dirs: [dir], stagingDir: false });
    expect(removed).toEqual([dead]);
    expect(await exists(live)).toBe(true);
  });

  it('removes upload staging folders of a dead server or older than the bound, and keeps recent ones', async () => {
    const staging = tmp();
    const make = async (name: string, old = false) => {
      const p = path.join(staging, name);
      await fs.mkdir(p);
      await fs.writeFile(path.join(p, 'upload.persona.safetensors'), 'x');
      if (old) await fs.utimes(p, twoDaysAgo(), twoDaysAgo());
      return p;
    };
    const oldOne = await make('persona-upload-Ab12Cd', true);
    const recent = await make('persona-upload-Ef34Gh');
    const deadServer = await make(`persona-upload-${deadPid()}-Ij56Kl`);
    const liveServer = await make(`persona-upload-${livePid()}-Mn78Op`);
    const other = await make('someone-else-Qr90St', true);
    const { removed } = await sweepStaleWrites({ stagingDir: staging });
    expect(removed.sort()).toEqual([oldOne, deadServer].sort());
    for (const p of [recent, liveServer, other]) expect(await exists(p), p).toBe(true);
  });

  it('stops after maxEntries entries', async () => {
    const dir = tmp();
    const pid = deadPid();
    for (let i = 0; i < 20; i++) await fs.writeFile(path.join(dir, `.f${String(i).padStart(2, '0')}.json.${pid}.0123abcd.tmp`), '');
    const { removed } = await sweepStaleWrites({ dirs: [dir], stagingDir: false, maxEntries: 5 });
    expect(removed.length).toBeLessThanOrEqual(5);
    expect(removed.length).toBeGreaterThan(0);
  });
});
