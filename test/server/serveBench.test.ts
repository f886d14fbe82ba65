import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/paths.js';

describe('persona serve --bench', () => {
  it('writes its table only where --out says, and nothing into the folder it runs in', async () => {
    const cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-bench-cwd-'));
    const out = path.join(cwd, 'numbers', 'load.md');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--bench', '--bench-runs', '1', '--out', out], { cwd, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| one at a time \|/);
    expect(await fs.readFile(out, 'utf8')).toMatch(/<!-- serve-load:begin -->[\s\S]*\| one at a time \|[\s\S]*<!-- serve-load:end -->/);
    // Only the file asked for: no docs/serving.md in whatever folder the command ran in.
    expect(await fs.readdir(cwd)).toEqual(['numbers']);
    await fs.rm(cwd, { recursive: true, force: true });
  });
});
