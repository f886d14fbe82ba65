import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPersona } from '../../src/steering/personaFile.js';
import { spawnAsync } from '../helpers/cli.js';
import { CLI, PERSONAS, ROOT } from '../helpers/paths.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });

// create takes the prompt files train takes (--positive-prompts/--negative-prompts, read by the same
// function) and answers them in batches of the same default size (DEFAULTS.train.batchSize), so the
// two commands on the shipped formal prompts must give one persona: same vectors, layer, alpha range
// and verdict — the ones the shipped formal persona records (train made it: npm run personas).
describe('create and train on the shipped formal prompt files', () => {
  it('name the same layer and alpha range (create --positive-prompts/--negative-prompts vs train, both with their default batch size and the steering check on)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-create-train-'));
    const files = [
      '--positive-prompts',
      path.join(ROOT, 'data/stylist/formal-pos.jsonl'),
      '--negative-prompts',
      path.join(ROOT, 'data/stylist/formal-neg.jsonl'),
      '--seed',
      '0',
    ];
    const [c, t] = await Promise.all([
      persona(['create', ...files, '--name', 'formal', '--out', path.join(dir, 'created.persona.json')]),
      persona(['train', ...files, '--name', 'formal', '--out', path.join(dir, 'trained.persona.json')]),
    ]);
    expect(c.status, c.stderr.slice(-2000)).toBe(0);
    expect(t.status, t.stderr.slice(-2000)).toBe(0);
    const [created, trained] = [await loadPersona(path.join(dir, 'created.persona.json')), await loadPersona(path.join(dir, 'trained.persona.json'))];
    expect(created.meta.steering?.verdict).toBe('steers');
    expect(created.meta.recommendedLayer).toBe(trained.meta.recommendedLayer);
    expect(created.meta.alphaRange).toEqual(trained.meta.alphaRange);
    expect(created.meta.steering).toEqual(trained.meta.steering);
    created.vectors.forEach((v, l) => expect(Array.from(v)).toEqual(Array.from(trained.vectors[l])));
    // both print the same recommendation and "steer with" line
    const steerWith = (out: string) => out.split('\n').filter((l) => /^(recommended|steer with):/.test(l));
    expect(steerWith(c.stdout)).toHaveLength(2);
    expect(steerWith(c.stdout)).toEqual(steerWith(t.stdout));
    // and it is the shipped formal persona's
    const shipped = JSON.parse(readFileSync(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    expect(created.meta.recommendedLayer).toBe(shipped.recommendedLayer);
    expect(created.meta.alphaRange).toEqual(shipped.alphaRange);
    expect(c.stdout).toContain(`steer with: --layer ${shipped.recommendedLayer} --alpha ${shipped.steering.alpha}`);
  }, 900_000);

  it('create refuses prompt files beside --personality, a lone --positive-prompts, and --num-prompts with prompt files', async () => {
    const pos = path.join(ROOT, 'data/stylist/formal-pos.jsonl');
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'pv-create-bad-')), 'x.persona.json');
    const both = await persona(['create', '--personality', 'formal', '--positive-prompts', pos, '--negative-prompts', pos, '--out', out]);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/one of the three/);
    const lone = await persona(['create', '--positive-prompts', pos, '--out', out]);
    expect(lone.status).not.toBe(0);
    expect(lone.stderr).toMatch(/--positive-prompts and --negative-prompts/);
    const n = await persona(['create', '--positive-prompts', pos, '--negative-prompts', pos, '--num-prompts', '8', '--out', out]);
    expect(n.status).not.toBe(0);
    expect(n.stderr).toMatch(/--num-prompts shapes the prompts built from --personality/);
  }, 120_000);
});
