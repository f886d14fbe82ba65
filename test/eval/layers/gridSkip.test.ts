import { describe, expect, it } from 'vitest';
import { recommendSteering } from '../../../src/eval/layers/recommendSteering.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { shippedPersona, stylist, STYLIST_HELD_OUT } from '../../helpers/stylistModel.js';

describe('the grid leaves out alphas beyond an incoherent screen cell', () => {
  it('measures fewer cells and decides exactly as the whole grid does', async () => {
    const model = await stylist();
    const persona = await shippedPersona('formal');
    const traitScoring = await buildTraitScoring(defaultScorerSpec(model.dir), [persona]);
    // ±64 gap units break the answers at these layers; ±2 leaves them whole.
    const base = {
      traitScoring,
      questions: STYLIST_HELD_OUT.slice(0, 6),
      layers: [1, 3],
      alphas: [-128, -64, -2, 2, 64, 128],
      screenAlpha: 64,
      keepLayers: 2,
      maxNewTokens: 24,
      seed: 0,
    };
    const whole = await recommendSteering(model, persona, { ...base, skipBeyondIncoherent: false });
    const lean = await recommendSteering(model, persona, base);
    expect(lean.recommendation).toEqual(whole.recommendation);
    let skipped = 0;
    for (const w of whole.layers) {
      const l = lean.layers.find((x) => x.layer === w.layer)!;
      expect(l.coherentRange, `layer ${w.layer}`).toEqual(w.coherentRange);
      expect(l.bestAlpha).toBe(w.bestAlpha);
      for (const c of w.cells) {
        const screenCell = w.cells.find((x) => x.alpha === Math.sign(c.alpha) * 64)!;
        const beyond = Math.abs(c.alpha) > 64 && !screenCell.coherent;
        const kept = l.cells.find((x) => x.alpha === c.alpha);
        if (beyond) skipped++;
        // skipped exactly when beyond an incoherent screen cell; otherwise the same answers (own seeds per row)
        if (beyond) expect(kept, `layer ${w.layer} alpha ${c.alpha}`).toBeUndefined();
        else expect(kept?.effect.mean, `layer ${w.layer} alpha ${c.alpha}`).toBeCloseTo(c.effect.mean, 10);
      }
    }
    expect(skipped).toBeGreaterThan(0);
    expect(lean.generatedTokens).toBeLessThan(whole.generatedTokens);
  }, 600_000);
});
