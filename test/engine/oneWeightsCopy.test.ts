import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { STYLIST } from '../helpers/paths.js';

describe('one copy of the weights per model', () => {
  it('scores answers on the session that generates them: no second session is opened', async () => {
    const model = await loadModel(STYLIST);
    try {
      expect(await model.scoringSession()).toBe(model.session);
    } finally {
      await model.dispose();
    }
  });

  it('generates on the scoring-capable graph exactly what the last-logits graph generates (no positions scored)', async () => {
    const last = await openDecoder(STYLIST, { graph: { logits: 'last', hiddenStates: false, pooling: true, projectionClamp: false } });
    const model = await loadModel(STYLIST);
    try {
      const reqs = [5, 9, 33].map((seed, i) => ({ promptIds: [5 + i, 9, 33, 2, 7, 11].slice(i), maxNewTokens: 12, sampling: { temperature: 0.8, seed } }));
      const opts = { stopTokenIds: model.stopTokenIds, padTokenId: model.padTokenId, logprobs: 0 };
      const a = await generateBatch(last.session, reqs, opts);
      const b = await generateBatch(model.session, reqs, opts);
      expect(b.map((r) => r.tokens)).toEqual(a.map((r) => r.tokens));
      expect(b.map((r) => r.logprobs)).toEqual(a.map((r) => r.logprobs));
    } finally {
      await last.session.release();
      await model.dispose();
    }
  });
});
