import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreMarkers, parseMarkerSpec } from '../../../src/eval/scorers/markersScorer.js';
import { defaultImportLayer } from '../../../src/steering/formats/defaultImportLayer.js';
import { readPvPt } from '../../../src/steering/formats/personaVectorsPt.js';
import { loadPersona } from '../../../src/steering/personaFile.js';
import { CLI, FIXTURES, STYLIST } from '../../helpers/paths.js';

function persona(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('persona_vectors .pt through import and export', () => {
  it('picks the middle block for a file without a layer choice, or the non-zero block nearest it', () => {
    const z = () => new Float32Array(4);
    const one = () => Float32Array.of(1, 0, 0, 0);
    expect(defaultImportLayer(Array.from({ length: 36 }, one)).layer).toBe(18);
    expect(defaultImportLayer([z(), one(), z(), z(), z(), one()]).layer).toBe(1); // middle 3 empty: 1 and 5 are both 2 away, the lower wins
    expect(defaultImportLayer([z(), z(), z(), z(), one(), z()]).layer).toBe(4);
    // the largest-norm block is not chosen
    const grow = Array.from({ length: 6 }, (_, l) => Float32Array.of(l + 1, 0, 0, 0));
    expect(defaultImportLayer(grow).layer).toBe(3);
  });

  it('imports a .pt written by torch.save onto the stylist, steers with it, and exports a .pt that holds the same vectors', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ptcli-'));
    const pt = path.join(FIXTURES, 'pt', 'formal_response_avg_diff.pt');
    const imp = persona(['import', pt, '--out', path.join(dir, 'formal.persona.json')]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/default layer 3: the middle block of 6/);
    const p = await loadPersona(path.join(dir, 'formal.persona.json'));
    expect(p.meta.recommendedLayer).toBe(3);
    const torchRows = await readPvPt(pt);
    expect(p.vectors.map((v) => Array.from(v))).toEqual(torchRows.vectors.map((v) => Array.from(v)));

    // the PyTorch formal vector, subtracted at its default layer, makes the greedy answer casual
    const spec = parseMarkerSpec(JSON.parse(readFileSync(path.join(STYLIST, 'style_markers.json'), 'utf8')));
    const answer = (alpha: string) => {
      const r = persona([
        'run',
        '--persona',
        path.join(dir, 'formal.persona.json'),
        '--alpha',
        alpha,
        '--prompt',
        'Thank Sam for the flowers.',
        '--max-new-tokens',
        '30',
      ]);
      expect(r.code, r.err).toBe(0);
      return scoreMarkers(spec, r.out).formality;
    };
    expect(answer('0')).toBeGreaterThan(0);
    expect(answer('-8')).toBeLessThan(0);

    const out = path.join(dir, 'back.pt');
    const exp = persona(['export', path.join(dir, 'formal.persona.json'), '--format', 'pt', '--out', out]);
    expect(exp.code, exp.err).toBe(0);
    const back = await readPvPt(out, { hiddenSize: 256, numLayers: 6 });
    expect(back.vectors.map((v) => Array.from(v))).toEqual(torchRows.vectors.map((v) => Array.from(v)));
    const bad = persona(['export', path.join(dir, 'formal.persona.json'), '--format', 'pt', '--layers', '2', '--out', out]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--layers applies to --format gguf only/);
    const damaged = persona(['import', path.join(FIXTURES, 'pt', 'runs_a_command.pt'), '--out', path.join(dir, 'x.persona.json')]);
    expect(damaged.code).not.toBe(0);
    expect(damaged.err).toMatch(/global "posix\.system" is not allowed/);
  });
});
