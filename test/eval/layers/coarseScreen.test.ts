import { describe, expect, it } from 'vitest';
import { evenlySpaced, recommendSteering } from '../../../src/eval/layers/recommendSteering.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { analyzeLayers } from '../../../src/eval/layers/analyzeLayers.js';
import { layerReport } from '../../../src/eval/layers/layerReport.js';
import { renderHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { contrastFromPersona } from '../../../src/persona/contrastPrompts.js';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { STYLIST } from '../../helpers/paths.js';
import { runCliAsync } from '../../helpers/cli.js';
import { shippedPersona, stylist, STYLIST_HELD_OUT } from '../../helpers/stylistModel.js';

describe('the coarse-to-fine layer screen of a model with many layers', () => {
  it('picks evenly spaced layers, the middle one of each run', () => {
    const layers = Array.from({ length: 28 }, (_, l) => l);
    expect(evenlySpaced(layers, 8)).toEqual([1, 5, 8, 12, 15, 19, 22, 26]);
    expect(evenlySpaced([0, 1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
    expect(evenlySpaced([2, 4], 8)).toEqual([2, 4]);
  });

  it('screens the coarse layers, then those between the best one’s neighbours, with the same cells a full screen measures there', async () => {
    const model = await stylist();
    const persona = await shippedPersona('formal');
    const traitScoring = await buildTraitScoring(defaultScorerSpec(model.dir), [persona]);
    const base = { traitScoring, questions: STYLIST_HELD_OUT.slice(0, 6), alphas: [-4, -2, 2, 4], keepLayers: 1, maxNewTokens: 24, seed: 0 };
    const full = await recommendSteering(model, persona, { ...base, maxScreenLayers: Infinity });
    const coarse = await recommendSteering(model, persona, { ...base, maxScreenLayers: 3 });

    expect(full.coarseScreen).toBeUndefined();
    expect(full.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    const c = coarse.coarseScreen!;
    expect(c.candidates).toBe(6);
    expect(c.coarse).toEqual([1, 3, 5]);
    const coarseScores = full.layers.filter((l) => c.coarse.includes(l.layer));
    const best = [...coarseScores].sort((a, b) => b.screenScore - a.screenScore || a.layer - b.layer)[0];
    if (best.screenScore > 0) {
      expect(c.refinedAround).toBe(best.layer);
      const k = c.coarse.indexOf(best.layer);
      const lo = c.coarse[k - 1] ?? -Infinity;
      const hi = c.coarse[k + 1] ?? Infinity;
      expect(c.fine).toEqual([0, 2, 4].filter((l) => l > lo && l < hi));
    } else {
      expect(c.refinedAround).toBeNull();
      expect(c.fine).toEqual([]);
    }
    const screened = [...c.coarse, ...c.fine].sort((a, b) => a - b);
    expect(coarse.layers.map((l) => l.layer)).toEqual(screened);
    // Rows sample with their own seeds and do not see each other: a layer screened in either run has the same cells.
    for (const l of coarse.layers) {
      const same = full.layers.find((x) => x.layer === l.layer)!;
      expect(l.screenScore, `layer ${l.layer}`).toBeCloseTo(same.screenScore, 10);
    }
    expect(coarse.settings.maxScreenLayers).toBe(3);
    expect(coarse.generatedTokens).toBeLessThan(full.generatedTokens);
  }, 600_000);

  it('analyze-layers keeps every layer: separation for all, steering cells only where the screen went, and says how it screened', async () => {
    const model = await stylist();
    const persona = await shippedPersona('formal');
    const qs = defaultQuestionSet(STYLIST, 6);
    const a = await analyzeLayers(model, persona, {
      questions: STYLIST_HELD_OUT.slice(0, 6),
      contrast: contrastFromPersona(persona, qs.extraction, 6),
      traitScoring: await buildTraitScoring(defaultScorerSpec(model.dir), [persona]),
      alphas: [-4, 4],
      keepLayers: 1,
      maxNewTokens: 24,
      maxScreenLayers: 3,
    });
    expect(a.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    const screened = new Set([...a.coarseScreen!.coarse, ...a.coarseScreen!.fine]);
    for (const l of a.layers) {
      expect(Number.isFinite(l.cohensD), `layer ${l.layer}`).toBe(true);
      if (screened.has(l.layer)) {
        expect(l.screened, `layer ${l.layer}`).toBeUndefined();
        expect(l.cells.length).toBeGreaterThan(0);
      } else {
        expect(l.screened, `layer ${l.layer}`).toBe(false);
        expect(l.cells).toEqual([]);
      }
    }
    expect(screened.size).toBeLessThan(6);
    const html = renderHtmlReport(layerReport(a));
    expect(html).toContain('not screened');
    expect(html).toContain('the screen ran coarse to fine over the 6 layers (more than 3)');
  }, 600_000);

  it('refuses a one-layer screen on the command line, naming the flag', async () => {
    const r = await runCliAsync(['create', '--screen-layers', '1', '--personality', 'formal']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('--screen-layers must be 0 (every layer) or at least 2; got "1"');
  });
});
