import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, PERSONAS, ROOT } from '../helpers/paths.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pv-cliout-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

const persona = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const prompts = [
  '--positive-prompts',
  path.join(ROOT, 'data/stylist/formal-pos.jsonl'),
  '--negative-prompts',
  path.join(ROOT, 'data/stylist/formal-neg.jsonl'),
];

describe('commands with an output', () => {
  it('train refuses a folder, a FIFO, a device or a path under a file as --out before any training, and leaves it as it was', async () => {
    const dir = tmp();
    const fifo = path.join(dir, 'pipe.persona.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const file = path.join(dir, 'file');
    await fs.writeFile(file, 'x');
    for (const [out, why] of [
      [dir, 'it is a folder'],
      [fifo, 'it is a named pipe (FIFO)'],
      ['/dev/full', 'it is a device'],
      [path.join(file, 'p.persona.json'), `${file} is a file, not a folder`],
    ]) {
      const r = persona(['train', ...prompts, '--out', out]);
      expect(r.status, out).toBe(1);
      // The only output is the error: no model was opened, no answer generated.
      expect(r.stderr.trim(), out).toBe(r.stderr.trim().split('\n')[0]);
      expect(r.stderr, out).toMatch(new RegExp(`^error: Cannot write ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(r.stderr, out).toContain(why);
    }
    expect((await fs.lstat(fifo)).isFIFO()).toBe(true);
    expect((await fs.lstat('/dev/full')).isCharacterDevice()).toBe(true);
    expect((await fs.readdir(dir)).sort()).toEqual(['file', 'pipe.persona.json']);
  });

  it('evaluate and export check their --out and --html before they start', async () => {
    const dir = tmp();
    const formal = path.join(PERSONAS, 'formal.persona.json');
    const ev = persona(['evaluate', '--persona', formal, '--out', path.join(dir, 'r.json'), '--html', dir]);
    expect(ev.status).toBe(1);
    expect(ev.stderr).toMatch(/^error: Cannot write .*: it is a folder/);
    const ex = persona(['export', formal, '--format', 'gguf', '--out', '/dev/null']);
    expect(ex.status).toBe(1);
    expect(ex.stderr).toMatch(/^error: Cannot write \/dev\/null: it is a device/);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
