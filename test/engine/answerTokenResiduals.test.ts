import { describe, expect, it } from 'vitest';
import { answerTokenResiduals } from '../../src/engine/answerTokenResiduals.js';
import { extractActivations } from '../../src/engine/extractActivations.js';
import { stylist } from '../helpers/stylistModel.js';

describe('per-token residuals of an answer from one pass', () => {
  it('equal reading each token as the one-token answer after the tokens before it (within 1e-4), across chunk boundaries', async () => {
    const model = await stylist();
    const promptIds = model.encodePrompt([{ role: 'user', content: 'Write a short note thanking Sam for the flowers.' }]);
    const [answer] = await model.generate([[{ role: 'user', content: 'Write a short note thanking Sam for the flowers.' }]], {
      maxNewTokens: 20,
      sampling: { temperature: 0 },
    });
    const answerIds = answer.tokens;
    expect(answerIds.length).toBeGreaterThan(5);
    const layers = [0, 3, model.numLayers - 1];
    // The reference: one sequence per token, pooled over its one answer token.
    const seqs = answerIds.map((id, i) => ({ promptIds: [...promptIds, ...answerIds.slice(0, i)], answerIds: [id] }));
    const ref = (await extractActivations(model, seqs)).responseMean;
    for (const chunk of [256, 7]) {
      const got = await answerTokenResiduals(model, promptIds, answerIds, layers, { chunk });
      expect(got.length).toBe(answerIds.length);
      let worst = 0;
      got.forEach((perLayer, i) =>
        perLayer.forEach((r, k) => {
          const want = ref[i][layers[k]];
          for (let h = 0; h < r.length; h++) worst = Math.max(worst, Math.abs(r[h] - want[h]) / Math.max(1, Math.abs(want[h])));
        }),
      );
      expect(worst, `chunk ${chunk}`).toBeLessThan(1e-4);
    }
  }, 300_000);
});
