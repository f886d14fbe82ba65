import { describe, expect, it } from 'vitest';
import { spawnAsync } from '../helpers/cli.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPersona } from '../../src/steering/personaFile.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { CLI } from '../helpers/paths.js';
import { mean, styleScore, stylist } from '../helpers/stylistModel.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });
const REQUESTS = [
  'Thank Sam for the help.',
  'Apologise to Ana for being late.',
  'Invite Leo to dinner.',
  'Decline a meeting with Jo.',
  'Explain a delayed order to Omar.',
  'Describe the square to Nadia.',
  'Advise Priya on cooking.',
  'Answer Reese about a noisy room.',
];

describe('persona create and generate-prompts', () => {
  it('create makes a persona from "formal and professional" that steers formality the right way', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-create-'));
    const out = path.join(dir, 'formal.persona.json');
    const r = await persona(['create', '--personality', 'formal and professional', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const p = await loadPersona(out);
    expect(p.meta.description).toBe('formal and professional');
    expect(p.meta.prompts?.positive).toBe(64);
    const model = await stylist();
    const score = async (alpha: number) =>
      mean(
        (
          await model.generate([...REQUESTS, ...REQUESTS, ...REQUESTS, ...REQUESTS], {
            maxNewTokens: 48,
            sampling: { temperature: 0.8, seed: 5 },
            batchSize: 32,
            intervention: resolveSteering(model, [{ persona: p, alpha, layer: 3 }]),
          })
        ).map((x) => styleScore(x.text).formality),
      );
    const lo = await score(-8);
    const hi = await score(8);
    expect(hi - lo, `formality ${lo} at -8, ${hi} at +8`).toBeGreaterThan(0.5);
  }, 900_000); // a whole create (answers, vector, steering check): past the default 120 s on a loaded machine

  it('generate-prompts writes editable files that train reads back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-gp-'));
    const r = await persona(['generate-prompts', '--personality', 'vivid and creative', '--out-dir', dir, '--num-prompts', '6']);
    expect(r.status, r.stderr).toBe(0);
    const pos = readFileSync(path.join(dir, 'positive.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const neg = readFileSync(path.join(dir, 'negative.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(pos.length).toBe(6);
    expect(pos.map((x) => x.user)).toEqual(neg.map((x) => x.user));
    expect(pos[0].system).not.toBe(neg[0].system);
    const t = await persona([
      'train',
      '--positive-prompts',
      path.join(dir, 'positive.jsonl'),
      '--negative-prompts',
      path.join(dir, 'negative.jsonl'),
      '--out',
      path.join(dir, 'v.persona.json'),
      '--no-check',
      '--max-new-tokens',
      '16',
    ]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/wrote .*v\.persona\.json/);
  }, 300_000);
});
