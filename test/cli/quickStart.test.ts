import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliAsync as runCli } from '../helpers/cli.js';

function rowsOf(out: string, label: RegExp): string[] {
  return out.split('\n').filter((l) => label.test(l));
}

describe('persona quick-start demos', () => {
  it('steer answers one request across the recommended range with visibly different rows, none collapsed into repetition', async () => {
    const r = await runCli(['quick-start']);
    expect(r.code, r.err).toBe(0);
    const rows: string[] = [];
    for (const line of r.out.split('\n')) {
      if (/^alpha -?\d/.test(line)) rows.push(line.split('│')[1].trim());
      else if (rows.length && /^\s+│ \S/.test(line)) rows[rows.length - 1] += ' ' + line.split('│')[1].trim();
    }
    expect(rows.length).toBe(5);
    expect(new Set(rows).size).toBe(5);
    for (const row of rows) {
      const words = row.toLowerCase().split(/\s+/);
      const grams = words.slice(0, -4).map((_, i) => words.slice(i, i + 5).join(' '));
      expect(grams.length - new Set(grams).size, `a 5-word phrase repeats in: ${row}`).toBe(0);
    }
  });

  it('chat holds a scripted two-turn conversation unsteered and steered, and the two differ', async () => {
    const r = await runCli(['quick-start', '--demo', 'chat']);
    expect(r.code, r.err).toBe(0);
    expect(rowsOf(r.out, /^you › /).length).toBe(2);
    const unsteered = rowsOf(r.out, /^unsteered\s*│/);
    const steered = rowsOf(r.out, /^alpha -?\d/);
    expect(unsteered.length).toBe(2);
    expect(steered.length).toBe(2);
    expect(unsteered.map((l) => l.split('│')[1])).not.toEqual(steered.map((l) => l.split('│')[1]));
  });

  it('create makes a persona from a description, saves it where asked and steers with it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qs-create-'));
    const out = path.join(dir, 'made.persona.json');
    const r = await runCli(['quick-start', '--demo', 'create', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const saved = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(saved.description).toBe('formal and professional');
    expect(r.out).toContain(`wrote ${out}: layer ${saved.recommendedLayer}`);
    const rows = rowsOf(r.out, /^alpha -?\d/);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(new Set(rows.map((l) => l.split('│')[1])).size).toBeGreaterThan(1);
  });

  it('evaluate prints the trait score with an interval and the end-of-turn rate at every alpha', async () => {
    const r = await runCli(['quick-start', '--demo', 'evaluate', '--persona', 'vivid']);
    expect(r.code, r.err).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^\s*-?\d+(\.\d+)?\s+-?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\]\s+\d+%$/.test(l));
    expect(rows.length).toBe(5);
    const means = rows.map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(means[4]).toBeGreaterThan(means[0]);
  });

  it('an unknown persona is an error that lists the shipped ones', async () => {
    const r = await runCli(['quick-start', '--persona', 'nobody']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/No shipped persona "nobody".*formal.*vivid/);
  });
});
