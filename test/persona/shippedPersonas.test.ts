import { beforeAll, describe, expect, it } from 'vitest';
import { spawnAsync } from '../helpers/cli.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordSteering } from '../../src/eval/layers/recommendSteering.js';
import { readContrastiveFiles } from '../../src/persona/promptFiles.js';
import { trainPersona } from '../../src/persona/trainPersona.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { CLI, PERSONAS, ROOT } from '../helpers/paths.js';
import { mean, shippedPersona, styleScore, stylist, STYLIST_HELD_OUT } from '../helpers/stylistModel.js';

const persona = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });

const HELD_OUT = [...STYLIST_HELD_OUT];

const TRAITS = { formal: 'formality', vivid: 'vivid' } as const;

function sameVectors(a: PersonaVector, b: PersonaVector): number {
  let worst = 0;
  a.vectors.forEach((v, l) => v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.vectors[l][i]) / (1e-6 + Math.abs(x))))));
  return worst;
}

let fresh: Record<string, PersonaVector>;
let out: string;

beforeAll(async () => {
  // `npm run personas`, exactly, into a temporary folder.
  out = mkdtempSync(path.join(os.tmpdir(), 'pv-personas-'));
  const r = await spawnAsync('bash', [path.join(ROOT, 'scripts', 'make-personas.sh')], {
    encoding: 'utf8',
    env: { ...process.env, PERSONAS_OUT: out },
    timeout: 900_000,
  });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  fresh = { formal: await loadPersona(path.join(out, 'formal.persona.json')), vivid: await loadPersona(path.join(out, 'vivid.persona.json')) };
}, 900_000);

describe('the shipped personas', () => {
  it('equal a fresh `npm run personas`: vectors, recommended layer, alpha range and verdict', async () => {
    for (const name of ['formal', 'vivid']) {
      const shipped = await shippedPersona(name);
      expect(sameVectors(shipped, fresh[name]), name).toBeLessThan(1e-5);
      expect(fresh[name].meta.recommendedLayer, name).toBe(shipped.meta.recommendedLayer);
      expect(fresh[name].meta.alphaRange, name).toEqual(shipped.meta.alphaRange);
      expect(fresh[name].meta.steering, name).toEqual(shipped.meta.steering);
      expect(shipped.meta.steering?.verdict, name).toBe('steers');
      expect(shipped.meta.steering?.metricSource, name).toBe('scorer');
      expect(shipped.meta.steering?.effect?.lo, name).toBeGreaterThan(0);
      // the shipped JSON is byte-identical to the regenerated one
      expect(readFileSync(path.join(PERSONAS, `${name}.persona.json`), 'utf8')).toBe(readFileSync(path.join(out, `${name}.persona.json`), 'utf8'));
    }
  });

  it("name the same layer and range through the library's trainPersona (create's path) as through train", async () => {
    const model = await stylist();
    const { positive, negative } = await readContrastiveFiles(
      path.join(ROOT, 'data/stylist/formal-pos.jsonl'),
      path.join(ROOT, 'data/stylist/formal-neg.jsonl'),
    );
    const p = await trainPersona({
      model,
      positivePrompts: positive,
      negativePrompts: negative,
      name: 'formal',
      maxNewTokens: 48,
      sampling: { temperature: 0.8, topK: 50, seed: 0 },
      batchSize: 32,
      recommend: recordSteering({ seed: 0 }),
    });
    const shipped = await shippedPersona('formal');
    expect(sameVectors(shipped, p)).toBeLessThan(1e-5);
    expect(p.meta.recommendedLayer).toBe(shipped.meta.recommendedLayer);
    expect(p.meta.alphaRange).toEqual(shipped.meta.alphaRange);
  }, 900_000);

  it('name the same layer and range through the analyze-layers CLI as the file records', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-al-'));
    const out = path.join(dir, 'formal.layers.json');
    const r = await persona(['analyze-layers', '--persona', path.join(PERSONAS, 'formal.persona.json'), '--out', out]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const shipped = JSON.parse(readFileSync(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    const a = JSON.parse(readFileSync(out, 'utf8'));
    expect(a.recommendation.verdict).toBe('steers');
    expect(a.recommendation.layer).toBe(shipped.recommendedLayer);
    expect(a.recommendation.alphaRange).toEqual(shipped.alphaRange);
    expect(r.stdout).toContain(`steer with: --layer ${shipped.recommendedLayer} --alpha ${shipped.steering.alpha}`);
  }, 900_000);

  it('end their turn on ≥ 70% of held-out requests and move their trait at both ends of the advertised range', async () => {
    const model = await stylist();
    for (const [name, trait] of Object.entries(TRAITS)) {
      const p = await shippedPersona(name);
      const [lo, hi] = p.meta.alphaRange;
      const layer = p.meta.recommendedLayer;
      const at = async (alpha: number) => {
        const rows = await model.generate(HELD_OUT, {
          maxNewTokens: 64,
          sampling: { temperature: 0.8, topK: 50, seed: 21 },
          batchSize: 64,
          intervention: resolveSteering(model, [{ persona: p, alpha, layer }]),
        });
        return { score: mean(rows.map((x) => styleScore(x.text)[trait])), ended: rows.filter((x) => x.ended).length / rows.length };
      };
      const [low, base, high] = [await at(lo), await at(0), await at(hi)];
      const msg = `${name} L${layer}: ${lo} → ${low.score.toFixed(2)} (ended ${low.ended}), 0 → ${base.score.toFixed(2)}, ${hi} → ${high.score.toFixed(2)} (ended ${high.ended})`;
      expect(lo, msg).toBeLessThan(0);
      expect(hi, msg).toBeGreaterThan(0);
      expect(low.ended, msg).toBeGreaterThanOrEqual(0.7);
      expect(high.ended, msg).toBeGreaterThanOrEqual(0.7);
      // visibly: formality moves by at least 0.15 on its [-1, 1] scale, vividness by 0.4 markers per answer
      const step = name === 'formal' ? 0.15 : 0.4;
      expect(high.score - base.score, msg).toBeGreaterThanOrEqual(step);
      expect(base.score - low.score, msg).toBeGreaterThanOrEqual(step);
    }
  }, 900_000);
});
