import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/engine/defaults.js';
import { recommendSteering } from '../../src/eval/layers/recommendSteering.js';
import { buildTraitScoring, defaultScorerSpec } from '../../src/eval/evaluate/traitScoring.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import { readContrastiveFiles } from '../../src/persona/promptFiles.js';
import { ROOT } from '../helpers/paths.js';
import { shippedPersona, stylist } from '../helpers/stylistModel.js';

// `train` and `create` answer in batches of DEFAULTS.train.batchSize, the recommender in
// DEFAULTS.sweep.batchSize; a batch size changes speed and memory only, because every row samples
// with its own seed (row i: seed + i) and rows do not see each other.
const formalPrompts = () => readContrastiveFiles(path.join(ROOT, 'data/stylist/formal-pos.jsonl'), path.join(ROOT, 'data/stylist/formal-neg.jsonl'));

describe('the batch size', () => {
  it('does not change the sampled answers to the shipped formal prompts (T 0.8, top-k 50, 48 tokens)', async () => {
    const model = await stylist();
    const { positive, negative } = await formalPrompts();
    const rows = [...positive, ...negative];
    const answer = async (batchSize: number) =>
      (await model.generate(rows, { maxNewTokens: DEFAULTS.train.maxNewTokens, sampling: { ...DEFAULTS.sampling }, batchSize })).map((a) => a.tokens.join(','));
    const at32 = await answer(32);
    for (const bs of [16, 128]) expect((await answer(bs)).filter((a, i) => a !== at32[i]).length, `batch ${bs} vs 32`).toBe(0);
  }, 600_000);

  it('does not change the persona vector trainPersona computes (batch 16 vs the default)', async () => {
    const model = await stylist();
    const { positive, negative } = await formalPrompts();
    const base = { model, positivePrompts: positive, negativePrompts: negative, name: 'formal', sampling: { ...DEFAULTS.sampling } };
    const [a, b] = [(await computePersonaVector({ ...base, batchSize: 16 })).persona, (await computePersonaVector(base)).persona];
    let worst = 0;
    a.vectors.forEach((v, l) => v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.vectors[l][i]) / (Math.abs(b.vectors[l][i]) + 1e-3)))));
    expect(worst).toBeLessThan(1e-4);
    expect(a.meta.recommendedLayer).toBe(b.meta.recommendedLayer);
  }, 600_000);

  it("does not change the steering check's recommendation or any cell (batch 16 vs the default 64)", async () => {
    const model = await stylist();
    const formal = await shippedPersona('formal');
    const traitScoring = await buildTraitScoring(defaultScorerSpec(model.dir), [formal]);
    const check = (batchSize?: number) => recommendSteering(model, formal, { traitScoring, seed: 0, keepLayers: 1, ...(batchSize ? { batchSize } : {}) });
    const [small, dflt] = [await check(16), await check()];
    expect(small.recommendation).toEqual(dflt.recommendation);
    expect(small.generatedTokens).toBe(dflt.generatedTokens);
    // Every cell the same — the perplexity read-back (a teacher-forced pass over the answers, batched)
    // differs only in float summation order, in the 8th digit, far from any coherence bound.
    const cells = (c: typeof small) => c.layers.map((l) => ({ ...l, cells: l.cells.map(({ perplexity: _, ...rest }) => rest) }));
    expect(cells(small)).toEqual(cells(dflt));
    const same = (x: number, y: number) => (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x / y - 1) < 1e-6;
    small.layers.forEach((l, i) =>
      l.cells.forEach((c, k) =>
        expect(
          same(c.perplexity, dflt.layers[i].cells[k].perplexity),
          `layer ${l.layer} alpha ${c.alpha}: ${c.perplexity} vs ${dflt.layers[i].cells[k].perplexity}`,
        ).toBe(true),
      ),
    );
    expect(same(small.baseline.perplexity, dflt.baseline.perplexity)).toBe(true);
  }, 900_000);
});
