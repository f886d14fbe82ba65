import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../../src/model/safetensors/index.js';
import { computePersonaVector } from '../../../src/persona/computePersonaVector.js';
import { buildContrastiveSet } from '../../../src/persona/prompts/buildContrastiveSet.js';
import { REFERENCE } from '../../helpers/paths.js';
import { stylist } from '../../helpers/stylistModel.js';
import { cosine } from '../../../src/util/numerics.js';

describe('contrastive sets from a description on the embedded stylist (model-dependent)', () => {
  // Measured with seeds 1–3: formal 0.92–0.98, vivid 0.89–0.96 at layers 1–5 with 64 prompts.
  it('train vectors close to the PyTorch reference (cosine ≥ 0.85 at layers 1–5) from the built-in bank', async () => {
    const model = await stylist();
    const ref = await SafetensorsFile.open(path.join(REFERENCE, 'stylist-vectors.safetensors'));
    for (const [trait, description] of [
      ['formal', 'formal and professional'],
      ['vivid', 'vivid and creative'],
    ] as const) {
      const set = buildContrastiveSet({ description, numPrompts: 64, seed: 1 });
      const { persona } = await computePersonaVector({
        model,
        positivePrompts: set.positive,
        negativePrompts: set.negative,
        name: trait,
        maxNewTokens: 48,
        sampling: { temperature: 0.8, topK: 50, seed: 7 },
        batchSize: 32,
      });
      const r = await ref.readFloat32(`${trait}.response_mean`);
      const cos = [1, 2, 3, 4, 5].map((l) => cosine(persona.layer(l), r.subarray(l * 256, (l + 1) * 256)));
      for (const c of cos) expect(c, `${trait} cosines ${cos.map((x) => x.toFixed(3))}`).toBeGreaterThanOrEqual(0.85);
    }
  });
});
