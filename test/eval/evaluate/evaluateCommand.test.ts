import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseLayerFlags, parseTraitMetricFlags } from '../../../src/cli/commands/evaluateCommand.js';
import { CLI, PERSONAS } from '../../helpers/paths.js';

function persona(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('persona evaluate and analyze-layers on the command line', () => {
  it('evaluate writes JSON, the HTML report and PNGs, and prints the trait per alpha with its interval', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-evaluate-'));
    const out = path.join(dir, 'r.json');
    const r = persona([
      'evaluate',
      '--persona',
      path.join(PERSONAS, 'formal.persona.json'),
      '--persona',
      path.join(PERSONAS, 'vivid.persona.json'),
      '--out',
      out,
      '--html',
      path.join(dir, 'r.html'),
      '--png',
      '--alphas',
      '-8,8',
      '--num-questions',
      '8',
      '--layer',
      'formal=3',
      '--layer',
      'vivid=4',
      '--compare',
      '--batch-size',
      '96',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/formal \(layer 3\): formality and end-of-turn rate per alpha/);
    expect(r.out).toMatch(/alpha\s+−8\s+formality -?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\]\s+ended \d\.\d\d \[/);
    expect(r.out).toMatch(/vivid \(layer 4\): vivid/);
    expect(r.out).toMatch(/prompted "You are a formal and professional assistant\."/);
    for (const f of ['r.json', 'r.html', 'r.dose-response-formal.png', 'r.dose-response-vivid.png', 'r.entanglement.png'])
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    const json = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(json.settings).toMatchObject({ alphas: [-8, 0, 8], samples: 1, questionSet: 'stylist', compare: true });
    expect(json.answers).toHaveLength(2 * (3 * 8 + 2 * 8));
  });

  it('analyze-layers from a one-line description computes the vector, analyses the chosen layers and recommends one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-layers-'));
    const out = path.join(dir, 'l.json');
    const r = persona([
      'analyze-layers',
      '--personality',
      'formal and professional',
      '--out',
      out,
      '--html',
      path.join(dir, 'l.html'),
      '--layers',
      '1,3',
      '--alphas',
      '-8,8',
      '--num-questions',
      '8',
      '--num-prompts',
      '16',
      '--batch-size',
      '96',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/layer 1: d -?\d+\.\d\d, probe \d\.\d\d/);
    expect(r.out).toMatch(/layer 3: /);
    expect(r.out).toMatch(/recommended: layer [13], alpha \+\d|verdict: this vector does not measurably steer this model\. At no layer/);
    const json = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(json.persona).toMatchObject({ name: 'formal', source: 'description: formal and professional' });
    expect(json.layers.map((l: { layer: number }) => l.layer)).toEqual([1, 3]);
    expect(existsSync(path.join(dir, 'l.html'))).toBe(true);
  });

  it('say what is wrong with bad flags', () => {
    const both = persona([
      'analyze-layers',
      '--persona',
      path.join(PERSONAS, 'formal.persona.json'),
      '--personality',
      'formal',
      '--out',
      path.join(os.tmpdir(), 'pv-never-written.json'),
    ]);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/exactly one of --persona FILE or --personality/);
    const scorer = persona([
      'evaluate',
      '--persona',
      path.join(PERSONAS, 'formal.persona.json'),
      '--out',
      path.join(os.tmpdir(), 'pv-never-written.json'),
      '--scorer',
      'regex:x',
    ]);
    expect(scorer.code).not.toBe(0);
    expect(scorer.err).toMatch(/--scorer must be markers:FILE or judge:URL/);
    expect(parseLayerFlags(['3'])).toBe(3);
    expect(parseLayerFlags(['formal=2', 'vivid=4'])).toEqual({ formal: 2, vivid: 4 });
    expect(parseLayerFlags([])).toBeUndefined();
    expect(() => parseLayerFlags(['2', 'vivid=4'])).toThrow(/either one layer/);
    expect(() => parseLayerFlags(['x'])).toThrow(/integer or NAME=INTEGER/);
    expect(parseTraitMetricFlags(['formal=formality'])).toEqual({ formal: 'formality' });
    expect(() => parseTraitMetricFlags(['formality'])).toThrow(/persona=metric/);
  });
});

describe('evaluate steering settings', () => {
  it('parses layer lists for every persona or per persona', () => {
    expect(parseLayerFlags(['2-4'])).toEqual([2, 3, 4]);
    expect(parseLayerFlags(['formal=1,3', 'vivid=5'])).toEqual({ formal: [1, 3], vivid: 5 });
  });
});
