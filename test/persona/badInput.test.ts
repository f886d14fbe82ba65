import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { promises as fs, mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPersona, savePersona } from '../../src/steering/personaFile.js';
import { PersonaVector } from '../../src/steering/PersonaVector.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import { CLI, PERSONAS } from '../helpers/paths.js';
import { shippedPersona, stylist } from '../helpers/stylistModel.js';

const persona = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'pv-bad-'));

describe('bad input to persona training and persona files', () => {
  it('rejects empty and unequal prompt files with the counts', async () => {
    const dir = tmp();
    await fs.writeFile(path.join(dir, 'empty.txt'), '\n# only a comment\n');
    await fs.writeFile(path.join(dir, 'two.txt'), 'a\nb\n');
    await fs.writeFile(path.join(dir, 'three.txt'), 'a\nb\nc\n');
    const e = persona([
      'train',
      '--positive-prompts',
      path.join(dir, 'empty.txt'),
      '--negative-prompts',
      path.join(dir, 'two.txt'),
      '--out',
      path.join(dir, 'x.persona.json'),
    ]);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/no prompts/);
    const u = persona([
      'train',
      '--positive-prompts',
      path.join(dir, 'two.txt'),
      '--negative-prompts',
      path.join(dir, 'three.txt'),
      '--out',
      path.join(dir, 'x.persona.json'),
    ]);
    expect(u.status).not.toBe(0);
    expect(u.stderr).toMatch(/2.*3|3.*2/);
    expect(existsSync(path.join(dir, 'x.persona.json'))).toBe(false);
  });

  it('rejects a prompt longer than the context', async () => {
    const model = await stylist();
    const long = 'word '.repeat(600);
    await expect(computePersonaVector({ model, positivePrompts: [long], negativePrompts: ['hi'] })).rejects.toThrow(/exceeds the model's context of 512/);
  });

  it('refuses NaN vectors, a missing sidecar and a persona for another hidden size', async () => {
    const formal = await shippedPersona('formal');
    const bad = formal.vectors.map((v) => v.slice());
    bad[2][7] = NaN;
    expect(() => new PersonaVector(bad, formal.meta)).toThrow(/layer 2 contains NaN at index 7/);
    const dir = tmp();
    const file = path.join(dir, 'f.persona.json');
    await savePersona(formal, file);
    await fs.rm(path.join(dir, JSON.parse(await fs.readFile(file, 'utf8')).vectors));
    await expect(loadPersona(file)).rejects.toThrow(/vectors of persona .* are missing: expected the sidecar/);
    const small = path.join(dir, 'small.persona.json');
    await savePersona(formal, small);
    const meta = JSON.parse(await fs.readFile(small, 'utf8'));
    meta.model.hiddenSize = 128;
    await fs.writeFile(small, JSON.stringify(meta));
    await expect(loadPersona(small)).rejects.toThrow(/hidden size is 128/);
  });

  it('leaves nothing behind when the output cannot be written', async () => {
    const formal = await shippedPersona('formal');
    const dir = tmp();
    const blocker = path.join(dir, 'file');
    await fs.writeFile(blocker, 'x');
    await expect(savePersona(formal, path.join(blocker, 'sub', 'p.persona.json'))).rejects.toThrow();
    expect(await fs.readdir(dir)).toEqual(['file']);
    const ro = path.join(dir, 'ro');
    await fs.mkdir(ro);
    await fs.chmod(ro, 0o500);
    if (process.getuid?.() !== 0) {
      await expect(savePersona(formal, path.join(ro, 'p.persona.json'))).rejects.toThrow();
      expect(await fs.readdir(ro)).toEqual([]);
    }
    void PERSONAS;
  });
});

describe('interrupting training', () => {
  it('Ctrl-C during the answers stops train with a message and leaves no persona file', async () => {
    const { spawn } = await import('node:child_process');
    const dir = tmp();
    const out = path.join(dir, 'i.persona.json');
    const root = path.resolve(path.dirname(CLI), '..');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'train',
        '--positive-prompts',
        path.join(root, 'data/stylist/formal-pos.jsonl'),
        '--negative-prompts',
        path.join(root, 'data/stylist/formal-neg.jsonl'),
        '--out',
        out,
        '--max-new-tokens',
        '400',
        '--batch-size',
        '4',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // Signal once train reports its first progress (its handler is installed by then), not after a
    // fixed delay that a loaded machine can outrun.
    for (let waited = 0; !/answers: /.test(err) && waited < 120_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/answers: /);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).not.toBe(0);
    expect(err).toMatch(/Interrupted/);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
