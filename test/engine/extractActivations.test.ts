import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { scoreContinuations } from '../helpers/scoreContinuations.js';
import { extractActivations } from '../../src/engine/extractActivations.js';
import { GOLDENS, STYLIST } from '../helpers/paths.js';

/** The Gemma 3 golden with a final logit softcap turned on and the stylist's tokenizer (the golden has none). */
async function cappedGemma(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-gemma-capped-'));
  const config = JSON.parse(await fs.readFile(path.join(GOLDENS, 'gemma3', 'config.json'), 'utf8'));
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, final_logit_softcapping: 30 }));
  await fs.symlink(path.join(GOLDENS, 'gemma3', 'model.safetensors'), path.join(dir, 'model.safetensors'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await fs.copyFile(path.join(STYLIST, f), path.join(dir, f));
  return dir;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('reading answers back in one pass', () => {
  for (const name of ['stylist', 'gemma3 with a logit softcap']) {
    it(`${name}: the scoring pass gives the teacher-forced log-probs of the decode-based scorer and the plain pass's pooled activations, across chunks and uneven rows`, async () => {
      const model = await loadModel(name === 'stylist' ? STYLIST : await cappedGemma());
      try {
        const seqs = [
          { promptIds: [5, 9, 33, 2, 7, 11], answerIds: [17, 25, 8, 40] },
          { promptIds: [44, 45], answerIds: [3, 3, 3, 10, 7, 12, 13] },
          { promptIds: [6, 7, 8], answerIds: [21] },
        ];
        const expected = await scoreContinuations(model.session, seqs, { padTokenId: model.padTokenId });
        const plain = await extractActivations(model, seqs, { batchSize: 2, chunk: 3 });
        const fused = await extractActivations(model, seqs, { batchSize: 2, chunk: 3, answerLogProbs: true });
        expect(fused.answerLogProbs!.map((s) => s.tokens)).toEqual([4, 7, 1]);
        fused.answerLogProbs!.forEach((s, i) => expect(s.sumLogProb).toBeCloseTo(expected[i].sumLogProb, 3));
        expect(expected.every((s) => s.sumLogProb < 0)).toBe(true);
        for (let i = 0; i < seqs.length; i++)
          for (let l = 0; l < model.numLayers; l++) expect(maxAbsDiff(fused.responseMean[i][l], plain.responseMean[i][l])).toBeLessThan(1e-4);
        expect(plain.answerLogProbs).toBeUndefined();
      } finally {
        await model.dispose();
      }
    });
  }

  it('pools only the first answer tokens when asked, while scoring them all', async () => {
    const model = await loadModel(STYLIST);
    try {
      const cut = await extractActivations(model, [{ promptIds: [5, 9, 33], answerIds: [17, 25] }]);
      const some = await extractActivations(model, [{ promptIds: [5, 9, 33], answerIds: [17, 25, 8, 40], pooledAnswerTokens: 2 }], { answerLogProbs: true });
      for (let l = 0; l < model.numLayers; l++) expect(maxAbsDiff(some.responseMean[0][l], cut.responseMean[0][l])).toBeLessThan(1e-5);
      expect(some.answerLogProbs![0].tokens).toBe(4);
    } finally {
      await model.dispose();
    }
  });

  it('reads a shared prompt once for the rows that share it, with the same results as reading each row alone', async () => {
    const model = await loadModel(STYLIST);
    try {
      const p1 = [5, 9, 33, 2, 7],
        p2 = [44, 45];
      const seqs = [
        { promptIds: p1, answerIds: [17, 25, 8, 40] },
        { promptIds: p2, answerIds: [3, 3, 10] },
        { promptIds: p1, answerIds: [21, 22] },
        { promptIds: p1, answerIds: [6, 7, 8, 9, 10, 11], pooledAnswerTokens: 5 },
      ];
      const together = await extractActivations(model, seqs, { batchSize: 4, chunk: 2, answerLogProbs: true });
      for (const [i, sq] of seqs.entries()) {
        const alone = await extractActivations(model, [sq], { answerLogProbs: true });
        expect(together.answerLogProbs![i].sumLogProb).toBeCloseTo(alone.answerLogProbs![0].sumLogProb, 4);
        for (let l = 0; l < model.numLayers; l++) {
          expect(maxAbsDiff(together.responseMean[i][l], alone.responseMean[0][l])).toBeLessThan(1e-4);
          expect(maxAbsDiff(together.promptLast[i][l], alone.promptLast[0][l])).toBeLessThan(1e-4);
        }
      }
      // rows 0, 2 and 3 share their last prompt token's residual
      expect(maxAbsDiff(together.promptLast[0][3], together.promptLast[2][3])).toBe(0);
    } finally {
      await model.dispose();
    }
  });
});
