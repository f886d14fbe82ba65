import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { analyzeLayers, type LayerAnalysis } from '../../../src/eval/layers/analyzeLayers.js';
import { contrastFromPersona } from '../../../src/eval/layers/contrastPrompts.js';
import { effectHeatmap, layerReport } from '../../../src/eval/layers/layerReport.js';
import { renderHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

let analysis: LayerAnalysis;

beforeAll(async () => {
  const model = await stylist();
  const formal = await shippedPersona('formal');
  const qs = defaultQuestionSet(STYLIST, 32);
  analysis = await analyzeLayers(model, formal, {
    questions: qs.evaluation,
    contrast: contrastFromPersona(formal, qs.extraction, 32),
    alphas: [-8, -4, 4, 8],
    coherenceFloor: 0.7,
    traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), [formal]),
    batchSize: 256,
    source: 'personas/formal.persona.json',
  });
  await fs.mkdir(path.join(ROOT, 'test-output', 'eval', 'layers'), { recursive: true });
  await fs.writeFile(path.join(ROOT, 'test-output', 'eval', 'layers', 'formal-layers.json'), JSON.stringify(analysis, null, 1));
});

describe('analyze-layers on the stylist with the shipped formal persona', () => {
  it('recommends a layer whose effect at its recommended alpha is at least 0.5 in formality with an end-of-turn rate of at least 0.7', () => {
    const r = analysis.recommendation;
    const grid = analysis.layers.map((l) => `L${l.layer}: ${l.cells.map((c) => `${c.alpha}→${c.effect.mean.toFixed(2)}/${c.ended.rate.toFixed(2)}`).join(' ')}`).join('; ');
    expect(r, grid).not.toBeNull();
    expect(analysis.metric).toBe('formality');
    expect(r!.effect.mean, grid).toBeGreaterThanOrEqual(0.5);
    expect(r!.ended.rate, grid).toBeGreaterThanOrEqual(0.7);
    expect(r!.alpha).toBeGreaterThan(0);
    expect(r!.alphaRange[0]).toBeLessThanOrEqual(0);
    expect(r!.alphaRange[1]).toBeGreaterThanOrEqual(r!.alpha);
    // it is the best coherent cell of the grid
    for (const l of analysis.layers) for (const c of l.cells) if (c.alpha > 0 && c.alpha <= l.coherentRange[1]) expect(c.effect.mean).toBeLessThanOrEqual(r!.effect.mean);
  });

  it('draws the heat map with the recommended cell outlined and the cells under the floor hatched', () => {
    const svg = effectHeatmap(analysis);
    const r = analysis.recommendation!;
    const hl = /<rect class="highlight" x="([\d.]+)" y="([\d.]+)"/.exec(svg);
    expect(hl).not.toBeNull();
    // the outlined cell is the one whose label is the recommended effect
    const hx = Number(hl![1]) - 1.5, hy = Number(hl![2]) - 1.5;
    const cells = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="#[0-9a-f]{6}" stroke="#ffffff"[^>]*\/>(?:<rect[^>]*url\(#hatch[^>]*\/>)?<text[^>]*>([^<]+)<\/text>/g)];
    expect(cells).toHaveLength(analysis.layers.length * 4);
    const under = cells.find((c) => Math.abs(Number(c[1]) - hx) < 0.05 && Math.abs(Number(c[2]) - hy) < 0.05);
    expect(under, 'a cell under the outline').toBeDefined();
    expect(under![3]).toBe(r.effect.mean.toFixed(2).replace('-', '\u2212'));
    expect(svg).toContain(`recommended: layer ${r.layer}, α=+${r.alpha}`);
    const incoherent = analysis.layers.flatMap((l) => l.cells).filter((c) => !c.coherent).length;
    expect((svg.match(/fill="url\(#hatch/g) ?? []).length).toBe(incoherent);
    expect(renderHtmlReport(layerReport(analysis))).toContain('Steering effect by layer and alpha');
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
    expect(analysis.recommendation!.layer).not.toBe(5);
  });
});
