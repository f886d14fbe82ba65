import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { analyzeLayers, type LayerAnalysis } from '../../../src/eval/layers/analyzeLayers.js';
import { contrastFromPersona } from '../../../src/persona/contrastPrompts.js';
import { effectHeatmap, layerReport } from '../../../src/eval/layers/layerReport.js';
import { renderHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

let analysis: LayerAnalysis;

beforeAll(async () => {
  const model = await stylist();
  const formal = await shippedPersona('formal');
  // The CLI's defaults: the model's first 32 held-out requests, its markers, the recommender's grid.
  const qs = defaultQuestionSet(STYLIST, 32);
  analysis = await analyzeLayers(model, formal, {
    questions: qs.evaluation,
    contrast: contrastFromPersona(formal, qs.extraction, 32),
    traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), [formal]),
    source: 'personas/formal.persona.json',
  });
  await fs.mkdir(path.join(ROOT, 'test-output', 'eval', 'layers'), { recursive: true });
  await fs.writeFile(path.join(ROOT, 'test-output', 'eval', 'layers', 'formal-layers.json'), JSON.stringify(analysis, null, 1));
}, 600_000);

const grid = () =>
  analysis.layers
    .map(
      (l) =>
        `L${l.layer}${l.measured ? '' : ' (screen)'}: ${l.cells.map((c) => `${c.alpha}→${c.effect.mean.toFixed(2)}[${c.effect.lo.toFixed(2)}]/${c.ended.rate.toFixed(2)}`).join(' ')}`,
    )
    .join('; ');

describe('analyze-layers on the stylist with the shipped formal persona', () => {
  it('names the layer and alpha range the shipped file records (the same recommender as train), with an effect interval above zero', async () => {
    const formal = await shippedPersona('formal');
    const r = analysis.recommendation;
    expect(r.verdict, grid()).toBe('steers');
    if (r.verdict !== 'steers') return;
    expect(analysis.metric).toBe('formality');
    expect(r.metricSource).toBe('scorer');
    expect(r.layer, grid()).toBe(formal.meta.recommendedLayer);
    expect(r.alphaRange, grid()).toEqual(formal.meta.alphaRange);
    expect(formal.meta.steering?.verdict).toBe('steers');
    expect(formal.meta.steering?.effect?.mean).toBeCloseTo(r.effect.mean, 10);
    expect(r.effect.lo, grid()).toBeGreaterThan(0);
    expect(r.ended.rate).toBeGreaterThanOrEqual(analysis.settings.coherenceFloor);
    expect(r.alpha).toBeGreaterThan(0);
    expect(r.alphaRange[0]).toBeLessThan(0);
    expect(r.alphaRange[1]).toBeGreaterThanOrEqual(r.alpha);
    // the best coherent cell, among those whose interval is above zero, of the layers measured over the grid
    for (const l of analysis.layers.filter((x) => x.measured))
      for (const c of l.cells) if (c.alpha > 0 && c.alpha <= l.coherentRange![1] && c.effect.lo > 0) expect(c.effect.mean).toBeLessThanOrEqual(r.effect.mean);
    // every cell inside the advertised range is coherent
    const rec = analysis.layers.find((l) => l.layer === r.layer)!;
    for (const c of rec.cells) if (c.alpha >= r.alphaRange[0] && c.alpha <= r.alphaRange[1]) expect(c.coherent, `alpha ${c.alpha}`).toBe(true);
  });

  it('screens every layer at ±4 and measures the whole grid only at the three layers the screen ranks highest', () => {
    expect(analysis.settings.screenAlpha).toBe(4);
    const measured = analysis.layers.filter((l) => l.measured);
    expect(measured).toHaveLength(3);
    const minScreen = Math.min(...measured.map((l) => l.screenScore));
    for (const l of analysis.layers.filter((x) => !x.measured)) {
      expect(l.cells.map((c) => c.alpha)).toEqual([-4, 4]);
      expect(l.screenScore).toBeLessThanOrEqual(minScreen);
      expect(l.coherentRange).toBeNull();
    }
    for (const l of measured) expect(l.cells.map((c) => c.alpha)).toEqual([-8, -4, -2, 2, 4, 8]);
  });

  it('draws the heat map with the recommended cell outlined, the incoherent cells hatched and the screened-out cells blank', () => {
    const svg = effectHeatmap(analysis);
    const r = analysis.recommendation;
    if (r.verdict !== 'steers') throw new Error('expected a recommendation');
    const hl = /<rect class="highlight" x="([\d.]+)" y="([\d.]+)"/.exec(svg);
    expect(hl).not.toBeNull();
    const hx = Number(hl![1]) - 1.5,
      hy = Number(hl![2]) - 1.5;
    const cells = [
      ...svg.matchAll(
        /<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="#[0-9a-f]{6}" stroke="#ffffff"[^>]*\/>(?:<rect[^>]*url\(#hatch[^>]*\/>)?<text[^>]*>([^<]+)<\/text>/g,
      ),
    ];
    expect(cells).toHaveLength(analysis.layers.length * 6);
    const unmeasured = analysis.layers.length * 6 - analysis.layers.reduce((n, l) => n + l.cells.length, 0);
    expect(unmeasured).toBe(3 * 4);
    expect(cells.filter((c) => c[3] === '–')).toHaveLength(unmeasured);
    const under = cells.find((c) => Math.abs(Number(c[1]) - hx) < 0.05 && Math.abs(Number(c[2]) - hy) < 0.05);
    expect(under, 'a cell under the outline').toBeDefined();
    expect(under![3]).toBe(r.effect.mean.toFixed(2).replace('-', '\u2212'));
    expect(svg).toContain(`recommended: layer ${r.layer}, α=+${r.alpha}`);
    const incoherent = analysis.layers.flatMap((l) => l.cells).filter((c) => !c.coherent).length;
    expect((svg.match(/fill="url\(#hatch/g) ?? []).length).toBe(incoherent);
    const html = renderHtmlReport(layerReport(analysis));
    expect(html).toContain('Steering effect by layer and alpha');
    expect(html).toContain(`Steer with: persona run --persona … --layer ${r.layer} --alpha ${r.alpha}`);
  });

  it('measures separation, probe accuracy and norms at every layer, separation high everywhere but not the basis of the choice', () => {
    expect(analysis.layers.map((l) => l.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const l of analysis.layers) {
      expect(l.cohensD, `layer ${l.layer}`).toBeGreaterThan(2);
      expect(l.probeAccuracy, `layer ${l.layer}`).toBeGreaterThanOrEqual(0.9);
      expect(l.norm).toBeGreaterThan(0);
      expect(l.residNorm).toBeGreaterThan(l.norm * 0.5);
      expect(l.normRatio).toBeCloseTo(l.norm / l.residNorm, 10);
    }
    // the last layer has the largest vector and, steered, the worst coherence (as the design notes)
    const last = analysis.layers[5];
    expect(last.norm).toBe(Math.max(...analysis.layers.map((l) => l.norm)));
    expect(analysis.recommendation.layer).not.toBe(5);
  });
});
