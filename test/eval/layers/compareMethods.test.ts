import { describe, expect, it } from 'vitest';
import { spawnAsync } from '../../helpers/cli.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, PERSONAS, ROOT } from '../../helpers/paths.js';

describe('analyze-layers --methods', () => {
  it('compares methods on the same answers in one run: a recommendation per method, cosines per layer, heat maps per method, an overall one', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-methods-'));
    const out = path.join(dir, 'methods.json');
    const r = await spawnAsync(
      process.execPath,
      [
        CLI,
        'analyze-layers',
        '--methods',
        'mean-diff,pca-centred',
        '--positive-prompts',
        path.join(ROOT, 'data/stylist/formal-pos.jsonl'),
        '--negative-prompts',
        path.join(ROOT, 'data/stylist/formal-neg.jsonl'),
        '--out',
        out,
        '--html',
        path.join(dir, 'methods.html'),
      ],
      { encoding: 'utf8', timeout: 900_000 },
    );
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const c = JSON.parse(readFileSync(out, 'utf8'));
    expect(c.methods.map((m: { method: string }) => m.method)).toEqual(['mean-diff', 'pca-centred']);
    const [md, centred] = c.methods.map((m: { check: { recommendation: Record<string, unknown> } }) => m.check.recommendation);
    // mean-diff on these answers is the shipped formal vector: the same recommendation train recorded
    const shipped = JSON.parse(readFileSync(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    expect(md.verdict).toBe('steers');
    expect(md.layer).toBe(shipped.recommendedLayer);
    expect(md.alphaRange).toEqual(shipped.alphaRange);
    expect(centred.verdict).toBe('does-not-steer');
    for (const layer of c.cosines) expect(Math.abs(layer[0][1])).toBeLessThan(0.3);
    expect(c.overall.method).toBe('mean-diff');
    expect(r.stdout).toContain('pca-centred: verdict: this vector does not measurably steer this model.');
    expect(r.stdout).toContain(`steer with: --layer ${shipped.recommendedLayer} --alpha ${shipped.steering.alpha}`);
    const html = readFileSync(path.join(dir, 'methods.html'), 'utf8');
    for (const t of ['mean-diff: effect', 'pca-centred: effect', 'mean-diff: coherence', 'Cosine between the methods, per layer']) expect(html).toContain(t);
  }, 900_000);
});
