import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { evaluationFigures, evaluationReport } from '../../../src/eval/evaluate/evaluationReport.js';
import { evaluatePersonas } from '../../../src/eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { writeReportFiles } from '../../../src/eval/evaluate/writeReportFiles.js';
import { decodePng, pixelStats } from '../helpers/decodePng.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';
import { shootReport, type FigureShot } from './reportInBrowser.js';

const OUT = path.join(ROOT, 'test-output', 'eval', 'evaluate');
const JSON_FILE = path.join(OUT, 'two-personas.json');
const HTML = path.join(OUT, 'two-personas.html');
let written: string[];
let shots: { figures: FigureShot[]; requests: string[]; scripts: number };

beforeAll(async () => {
  await fs.mkdir(OUT, { recursive: true });
  const model = await stylist();
  const personas = [await shippedPersona('formal'), await shippedPersona('vivid')];
  const result = await evaluatePersonas(model, {
    personas: personas.map((p) => ({ persona: p })),
    questions: defaultQuestionSet(STYLIST, 8).evaluation,
    alphas: [-8, 0, 8],
    layer: { formal: 3, vivid: 4 },
    traitScoring: await buildTraitScoring(defaultScorerSpec(STYLIST), personas),
    compare: true,
    batchSize: 128,
  });
  written = await writeReportFiles({
    json: JSON_FILE,
    data: result,
    html: { file: HTML, spec: evaluationReport(result) },
    pngFigures: evaluationFigures(result),
  });
  shots = await shootReport(HTML, OUT);
});

describe('evaluation report of two personas, opened in headless Chromium', () => {
  it('loads from its file with no other request and runs no script', () => {
    expect(shots.requests).toEqual([pathToFileURL(HTML).href]);
    expect(shots.scripts).toBe(0);
  });

  it('renders non-blank plots: a dose–response chart per persona and the entanglement chart, each with drawn data', () => {
    expect(shots.figures.map((f) => f.kind)).toEqual(['line', 'line', 'bar']);
    for (const f of shots.figures) {
      expect(f.width).toBeGreaterThan(300);
      expect(f.darkPixels, `${f.kind}: axes and text`).toBeGreaterThan(500);
      expect(f.distinctColours).toBeGreaterThan(50);
      expect(f.colouredShare, `${f.kind}: coloured share of the plot area`).toBeGreaterThan(0.01);
    }
  });

  it('writes the JSON, the HTML and a PNG of each plot, and the PNGs are not blank', async () => {
    expect(written.map((f) => path.basename(f))).toEqual([
      'two-personas.json',
      'two-personas.html',
      'two-personas.dose-response-formal.png',
      'two-personas.dose-response-vivid.png',
      'two-personas.entanglement.png',
    ]);
    for (const f of written.filter((x) => x.endsWith('.png'))) {
      const st = pixelStats(decodePng(await fs.readFile(f)));
      expect(st.coloured / st.total, path.basename(f)).toBeGreaterThan(0.01);
    }
    const json = JSON.parse(await fs.readFile(JSON_FILE, 'utf8'));
    expect(json.format).toBe('persona-vectors/evaluation@1');
    expect(json.personas.map((p: { name: string; layer: number }) => [p.name, p.layer])).toEqual([
      ['formal', 3],
      ['vivid', 4],
    ]);
    expect(json.entanglement.filter((e: { steered: string; metric: string }) => e.steered === 'vivid' && e.metric === 'projection:formal')).toHaveLength(1);
  });
});
