import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPersona } from '../../../src/steering/personaFile.js';
import { runCliAsync } from '../../helpers/cli.js';
import { FIXTURES } from '../../helpers/paths.js';

const PT = path.join(FIXTURES, 'pt', 'formal_response_avg_diff.pt');

describe('persona import --check', () => {
  it("chooses an imported vector's layer and range by the steering check on the model instead of the middle block", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-impcheck-'));
    const out = path.join(dir, 'formal.persona.json');
    const r = await runCliAsync(['import', PT, '--out', out, '--check'], { timeout: 900_000 });
    expect(r.code, r.err.slice(-2000)).toBe(0);
    expect(r.out).toMatch(/layer and range measured on .* by the steering check/);
    expect(r.out).not.toMatch(/middle block/);
    const p = await loadPersona(out);
    const v = p.meta.steering!;
    expect(v).toBeDefined();
    // The PyTorch formal vector steers the stylist: a recommendation whose interval lies above zero,
    // recorded as the persona's layer and range (not the ±2 an unchecked import gets).
    expect(v.verdict).toBe('steers');
    expect(r.out).toMatch(/recommended: layer \d+, alpha [+-]?\d+/);
    expect(r.out).toMatch(/steer with: --layer \d+ --alpha/);
    if (v.verdict === 'steers') {
      expect(p.meta.recommendedLayer).toBe(v.layer);
      expect(v.effect!.lo).toBeGreaterThan(0);
    }
    expect(p.meta.alphaRange).not.toEqual([-2, 2]);
  }, 900_000);

  it('refuses the check options without --check', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-impcheck-'));
    const r = await runCliAsync(['import', PT, '--out', path.join(dir, 'x.persona.json'), '--seed', '3']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--scorer and --seed belong to --check/);
  });
});
