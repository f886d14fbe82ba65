import { describe, expect, it } from 'vitest';
import { recommendSteering } from '../../../src/eval/layers/recommendSteering.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { shippedPersona, stylist, STYLIST_HELD_OUT } from '../../helpers/stylistModel.js';

describe('the steering check reads back only what can change its verdict', () => {
  it('leaves the perplexity of cells already incoherent by end-of-turn rate or distinct-2 unmeasured, and reads back every other answer', async () => {
    const model = await stylist();
    const persona = await shippedPersona('formal');
    const traitScoring = await buildTraitScoring(defaultScorerSpec(model.dir), [persona]);
    const questions = STYLIST_HELD_OUT.slice(0, 6);
    // ±64 gap units break the answers at one layer; ±2 at another leaves them whole.
    const check = await recommendSteering(model, persona, {
      traitScoring,
      questions,
      layers: [1, 3],
      alphas: [-64, -2, 2, 64],
      screenAlpha: 64,
      keepLayers: 1,
      maxNewTokens: 24,
      seed: 0,
    });
    const minD2 = check.settings.repetitionFloor * check.baseline.distinct2.mean;
    const cells = check.layers.flatMap((l) => l.cells);
    const decided = (c: (typeof cells)[number]) =>
      !(c.ended.rate >= check.settings.coherenceFloor && (Number.isFinite(c.distinct2.mean) ? c.distinct2.mean : 0) >= minD2);
    for (const c of cells) {
      expect(Number.isNaN(c.perplexity), `alpha ${c.alpha}`).toBe(decided(c));
      if (decided(c)) expect(c.coherent).toBe(false);
    }
    expect(cells.some(decided)).toBe(true);
    expect(check.readBackAnswers).toBe(questions.length * (1 + cells.filter((c) => !decided(c)).length));
  }, 300_000);
});
