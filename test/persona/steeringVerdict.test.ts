import { describe, expect, it } from 'vitest';
import { spawnAsync } from '../helpers/cli.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPersona } from '../../src/steering/personaFile.js';
import { CLI } from '../helpers/paths.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });

// The stylist's corpus is formal/casual × vivid/plain: "cheerful and upbeat" is a trait it lacks, and
// its vector (measured: every layer's effect interval includes 0) does not steer it.
const CHEERFUL = 'cheerful and upbeat';

describe('a description whose vector does not measurably steer the stylist', () => {
  it('gets the verdict from analyze-layers --personality, with no "steer with" line, and the saved persona records it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-verdict-'));
    const out = path.join(dir, 'cheerful.layers.json');
    const r = await persona(['analyze-layers', '--personality', CHEERFUL, '--out', out, '--html', path.join(dir, 'cheerful.layers.html')]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('this vector does not measurably steer this model');
    expect(r.stdout).not.toMatch(/steer with/i);
    // the only trait measure is the persona's own projection, and the output says so
    expect(r.stdout).toContain("the only trait measure was the persona's own projection");
    const a = JSON.parse(readFileSync(out, 'utf8'));
    expect(a.recommendation.verdict).toBe('does-not-steer');
    expect(a.recommendation.metricSource).toBe('projection');
    expect(a.recommendation.layer).toBeNull();
    // no measured layer has a coherent positive cell whose interval lies above 0
    for (const l of a.layers.filter((x: { measured: boolean }) => x.measured)) expect(l.bestEffect).toBeNull();
    const html = readFileSync(path.join(dir, 'cheerful.layers.html'), 'utf8');
    expect(html).toContain('does not measurably steer this model');
    expect(html).not.toContain('Steer with');
    // saved next to the output
    const saved = await loadPersona(path.join(dir, 'cheerful.persona.json'));
    expect(saved.meta.description).toBe(CHEERFUL);
    expect(saved.meta.steering?.verdict).toBe('does-not-steer');
    expect(saved.meta.alphaRange).toEqual([0, 0]);
  }, 900_000);

  it('gets the verdict from evaluate --personality, which saves the persona it computed (--save)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-verdict-eval-'));
    const saved = path.join(dir, 'kept', 'cheer.persona.json');
    const r = await persona([
      'evaluate',
      '--personality',
      CHEERFUL,
      '--save',
      saved,
      '--out',
      path.join(dir, 'e.json'),
      '--alphas',
      '-4,4',
      '--num-questions',
      '8',
      '--no-perplexity',
    ]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('this vector does not measurably steer this model');
    expect(r.stdout).not.toMatch(/steer with/i);
    const p = await loadPersona(saved);
    expect(p.meta.steering?.verdict).toBe('does-not-steer');
    const e = JSON.parse(readFileSync(path.join(dir, 'e.json'), 'utf8'));
    expect(e.personas[0].name).toBe('cheerful');
  }, 900_000);

  it('gets the verdict from train on the prompt files generate-prompts writes for it: printed, no "Steer with" line, recorded in the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-verdict-train-'));
    const prompts = path.join(dir, 'prompts');
    const g = await persona(['generate-prompts', '--personality', CHEERFUL, '--out-dir', prompts]);
    expect(g.status, g.stderr.slice(-2000)).toBe(0);
    const out = path.join(dir, 'cheerful.persona.json');
    const r = await persona([
      'train',
      '--positive-prompts',
      path.join(prompts, 'positive.jsonl'),
      '--negative-prompts',
      path.join(prompts, 'negative.jsonl'),
      '--out',
      out,
    ]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('verdict: this vector does not measurably steer this model');
    expect(r.stdout).not.toMatch(/steer with/i);
    expect(r.stdout).toContain("the only trait measure was the persona's own projection");
    const p = await loadPersona(out);
    expect(p.meta.steering?.verdict).toBe('does-not-steer');
    expect(p.meta.steering?.layer).toBeUndefined();
    expect(p.meta.alphaRange).toEqual([0, 0]);
    // and every later use of the file says so: run steers with it, warning on stderr
    const run = await persona(['run', '--persona', out, '--alpha', '4', '--prompt', 'Hi!', '--max-new-tokens', '4']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^warning: persona "cheerful" does not measurably steer this model/m);
  }, 900_000);

  it('gets the verdict from create too, and the persona file records it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-verdict-create-'));
    const out = path.join(dir, 'cheerful.persona.json');
    const r = await persona(['create', '--personality', CHEERFUL, '--out', out]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('this vector does not measurably steer this model');
    expect(r.stdout).not.toMatch(/steer with/i);
    const p = await loadPersona(out);
    expect(p.meta.steering?.verdict).toBe('does-not-steer');
    expect(p.meta.steering?.metricSource).toBe('projection');
  }, 900_000);
});
