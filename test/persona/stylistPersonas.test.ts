import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { SafetensorsFile } from '../../src/model/safetensors/index.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import { readContrastiveFiles } from '../../src/persona/promptFiles.js';
import { resolveSteering } from '../../src/steering/resolveSteering.js';
import { ROOT, REFERENCE } from '../helpers/paths.js';
import { mean, shippedPersona, styleScore, stylist, STYLIST_HELD_OUT } from '../helpers/stylistModel.js';
import { cosine } from '../../src/util/numerics.js';

const HELD_OUT = [...STYLIST_HELD_OUT];

describe('persona vectors on the embedded stylist', () => {
  it('match the PyTorch reference vectors (cosine ≥ 0.9 at layers 1–5) when trained from the same prompts', async () => {
    const model = await stylist();
    const ref = await SafetensorsFile.open(path.join(REFERENCE, 'stylist-vectors.safetensors'));
    for (const trait of ['formal', 'vivid']) {
      const { positive, negative } = await readContrastiveFiles(
        path.join(ROOT, 'data/stylist', `${trait}-pos.jsonl`),
        path.join(ROOT, 'data/stylist', `${trait}-neg.jsonl`),
      );
      const { persona } = await computePersonaVector({
        model,
        positivePrompts: positive,
        negativePrompts: negative,
        name: trait,
        maxNewTokens: 48,
        sampling: { temperature: 0.8, topK: 50, seed: 7 },
        batchSize: 32,
      });
      const r = await ref.readFloat32(`${trait}.response_mean`);
      const cos = [1, 2, 3, 4, 5].map((l) => cosine(persona.layer(l), r.subarray(l * 256, (l + 1) * 256)));
      for (const c of cos) expect(c, `${trait} cosines ${cos.map((x) => x.toFixed(3))}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('steer formality and vividness as far as the reference does over 64 held-out requests (sampled)', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const vivid = await shippedPersona('vivid');
    const sweep = async (persona: typeof formal, layer: number, alpha: number) =>
      (
        await model.generate(HELD_OUT, {
          maxNewTokens: 48,
          sampling: { temperature: 0.8, seed: 11 },
          batchSize: 64,
          intervention: resolveSteering(model, [{ persona, alpha, layer }]),
        })
      ).map((r) => styleScore(r.text));
    const fNeg = mean((await sweep(formal, 3, -8)).map((s) => s.formality));
    const fPos = mean((await sweep(formal, 3, 8)).map((s) => s.formality));
    const vPos = mean((await sweep(vivid, 4, 8)).map((s) => s.vivid));
    const vNeg = mean((await sweep(vivid, 4, -8)).map((s) => s.vivid));
    expect(fNeg, `formality at -8: ${fNeg}`).toBeLessThanOrEqual(-0.5);
    expect(fPos, `formality at +8: ${fPos}`).toBeGreaterThanOrEqual(0.2);
    expect(vPos, `vivid at +8: ${vPos}`).toBeGreaterThanOrEqual(3);
    expect(vNeg, `vivid at -8: ${vNeg}`).toBeLessThanOrEqual(0.5);
  });

  it('ship personas whose recorded model matches the stylist and whose recommended formal layer steers', async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    formal.assertFits(model);
    expect(formal.meta.layers.every((l) => l.steerability !== undefined)).toBe(true);
    const l = formal.meta.recommendedLayer;
    const score = async (alpha: number) =>
      mean(
        (
          await model.generate(HELD_OUT.slice(0, 32), {
            maxNewTokens: 48,
            sampling: { temperature: 0.8, seed: 3 },
            batchSize: 32,
            intervention: resolveSteering(model, [{ persona: formal, alpha, layer: l }]),
          })
        ).map((r) => styleScore(r.text).formality),
      );
    expect(await score(4)).toBeGreaterThan(await score(-4));
  });
});
