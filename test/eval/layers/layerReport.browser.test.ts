import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { writeReportFiles } from '../../../src/eval/evaluate/writeReportFiles.js';
import { analyzeLayers } from '../../../src/eval/layers/analyzeLayers.js';
import { contrastFromPersona } from '../../../src/persona/contrastPrompts.js';
import { layerReport } from '../../../src/eval/layers/layerReport.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';
import { shootReport, type FigureShot } from '../evaluate/reportInBrowser.js';

const OUT = path.join(ROOT, 'test-output', 'eval', 'layers');
const HTML = path.join(OUT, 'vivid-layers.html');
let shots: { figures: FigureShot[]; requests: string[]; scripts: number };

beforeAll(async () => {
  await fs.mkdir(OUT, { recursive: true });
  const model = await stylist();
  const vivid = await shippedPersona('vivid');
  const qs = defaultQuestionSet(STYLIST, 8);
  const analysis = await analyzeLayers(model, vivid, {
    questions: qs.evaluation,
    contrast: contrastFromPersona(vivid, qs.extraction, 8),
    alphas: [-8, 8],
    layers: [2, 4],
    traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), [vivid]),
    batchSize: 128,
  });
  await writeReportFiles({ json: path.join(OUT, 'vivid-layers.json'), data: analysis, html: { file: HTML, spec: layerReport(analysis) } });
  shots = await shootReport(HTML, OUT);
});

describe('layer report, opened in headless Chromium', () => {
  it('loads from its file alone and renders non-blank heat maps and charts', () => {
    expect(shots.requests).toEqual([pathToFileURL(HTML).href]);
    expect(shots.scripts).toBe(0);
    expect(shots.figures.map((f) => f.kind)).toEqual(['heatmap', 'heatmap', 'line', 'line']);
    for (const f of shots.figures) {
      expect(f.width).toBeGreaterThan(300);
      expect(f.darkPixels, `${f.kind}: text`).toBeGreaterThan(300);
      expect(f.colouredShare, `${f.kind}: coloured share of the plot area`).toBeGreaterThan(0.01);
    }
  });
});
