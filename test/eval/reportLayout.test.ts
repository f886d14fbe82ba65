import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { evaluationReport } from '../../src/eval/evaluate/evaluationReport.js';
import { evaluatePersonas, type EvaluationResult } from '../../src/eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../../src/eval/evaluate/questionSets.js';
import { buildTraitScoring, defaultScorerSpec } from '../../src/eval/evaluate/traitScoring.js';
import { writeReportFiles } from '../../src/eval/evaluate/writeReportFiles.js';
import { analyzeLayers, type LayerAnalysis } from '../../src/eval/layers/analyzeLayers.js';
import { contrastFromPersona } from '../../src/persona/contrastPrompts.js';
import { coherenceHeatmap, effectHeatmap, layerReport } from '../../src/eval/layers/layerReport.js';
import { barChart } from '../../src/eval/plots/barChart.js';
import { brightness, heatmap } from '../../src/eval/plots/heatmap.js';
import { lineChart } from '../../src/eval/plots/lineChart.js';
import { renderHtmlReport } from '../../src/eval/report/htmlReport.js';
import { ROOT, STYLIST } from '../helpers/paths.js';
import { shippedPersona, stylist } from '../helpers/stylistModel.js';
import { launchChromium } from './evaluate/reportInBrowser.js';
import { decodePng } from './helpers/decodePng.js';
import { measureLayout, type LayoutProblems } from './report/measureLayout.js';

// Real reports of real results on the stylist, laid out by Chromium in a 1280 px window.
const OUT = path.join(ROOT, 'test-output', 'eval', 'layout');
const WINDOW = 1280;
let small: LayerAnalysis, large: LayerAnalysis, evaluation: EvaluationResult;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await fs.mkdir(OUT, { recursive: true });
  const model = await stylist();
  const [formal, vivid] = [await shippedPersona('formal'), await shippedPersona('vivid')];
  const qs = defaultQuestionSet(STYLIST, 6);
  const scoring = await buildTraitScoring(defaultScorerSpec(STYLIST), [formal, vivid]);
  const common = { questions: qs.evaluation, traitScoring: scoring, maxNewTokens: 32, batchSize: 128 };
  small = await analyzeLayers(model, vivid, { ...common, contrast: contrastFromPersona(vivid, qs.extraction, 6), alphas: [-8, 8], layers: [2, 4] });
  // ±24 on the stylist ends few turns, so the grid has hatched (incoherent) cells at its dark ends.
  large = await analyzeLayers(model, formal, {
    ...common,
    contrast: contrastFromPersona(formal, qs.extraction, 6),
    alphas: [-24, -8, -4, -2, 1, 2, 4, 8, 24],
    layers: [0, 1, 2, 3, 4, 5],
  });
  evaluation = await evaluatePersonas(model, {
    ...common,
    personas: [{ persona: formal }, { persona: vivid }],
    alphas: [-8, 0, 8],
    layer: { formal: 3, vivid: 4 },
    compare: true,
  });
  await writeReportFiles({
    json: path.join(OUT, 'small.layers.json'),
    data: small,
    html: { file: path.join(OUT, 'small.layers.html'), spec: layerReport(small) },
  });
  await writeReportFiles({
    json: path.join(OUT, 'large.layers.json'),
    data: large,
    html: { file: path.join(OUT, 'large.layers.html'), spec: layerReport(large) },
  });
  await writeReportFiles({
    json: path.join(OUT, 'evaluation.json'),
    data: evaluation,
    html: { file: path.join(OUT, 'evaluation.html'), spec: evaluationReport(evaluation) },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: WINDOW, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

async function open(file: string): Promise<LayoutProblems> {
  await page.goto(pathToFileURL(path.join(OUT, file)).href, { waitUntil: 'load' });
  await page.screenshot({ path: path.join(OUT, file.replace(/\.html$/, '.1280.png')), fullPage: true });
  return measureLayout(page);
}

function expectClean(m: LayoutProblems, figures: number): void {
  expect(m.figures).toBe(figures);
  expect(m.texts).toBeGreaterThan(figures * 10);
  expect(m.textOutside).toEqual([]);
  expect(m.overlaps).toEqual([]);
  expect(m.overflowingCards).toEqual([]);
  expect(m.scrollWidth).toBeLessThanOrEqual(WINDOW);
}

/** Each cell of a heat map: its fill and the value printed in it. */
function cells(svg: string): Array<{ fill: string; value: number | null }> {
  return [
    ...svg.matchAll(
      /<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="(#[0-9a-f]{6})" stroke="#ffffff" stroke-width="1"\/>(?:<rect class="hatched"[^>]*\/>)?<text [^>]*class="cell">([^<]*)<\/text>/g,
    ),
  ].map((m) => ({
    fill: m[1],
    value: m[2] === '–' ? null : Number(m[2].replace('\u2212', '-')),
  }));
}
const blueness = (hex: string) => parseInt(hex.slice(5, 7), 16) - parseInt(hex.slice(1, 3), 16);

describe('report layout in a 1280 px window', () => {
  it('catches what it measures (control: a text outside its figure, two overlapping labels, a card widened by its content)', async () => {
    await page.setContent(
      '<section style="width:300px"><div style="width:2000px">wide</div><svg width="100" height="40"><text x="80" y="20">sticks out</text><text x="5" y="34">a</text><text x="7" y="36">b</text></svg></section>',
    );
    const m = await measureLayout(page);
    expect(m.textOutside).toHaveLength(1);
    expect(m.textOutside[0]).toContain('"sticks out"');
    expect(m.overlaps).toHaveLength(1);
    expect(m.overflowingCards).toHaveLength(1);
    expect(m.scrollWidth).toBeGreaterThan(WINDOW);
  });

  it('a 2 × 2 layer report keeps every title, label and caption inside its figure, none overlapping, and fits the window', async () => {
    expect([small.layers.length, small.settings.alphas.filter((a) => a !== 0).length]).toEqual([2, 2]);
    expectClean(await open('small.layers.html'), 4);
  });

  it('a 6 × 9 layer report does too', async () => {
    expect([large.layers.length, large.settings.alphas.filter((a) => a !== 0).length]).toEqual([6, 9]);
    expectClean(await open('large.layers.html'), 4);
  });

  it('the evaluation report fits the window with its side-by-side table inside its card, not scrolling', async () => {
    const m = await open('evaluation.html');
    expectClean(m, 3);
    expect(await page.locator('section.table h2', { hasText: 'Side by side' }).count()).toBe(1);
    expect(m.scrollingTables).toEqual([]);
  });

  it('heat maps of any grid size, 1 × 1 to 36 × 16, with long titles, legends and column labels, keep their texts inside and apart', async () => {
    const sizes = [
      [1, 1],
      [1, 12],
      [3, 1],
      [2, 2],
      [6, 9],
      [28, 12],
      [36, 16],
    ];
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const sections = [...sizes, [3, 12, 1]].map(([nr, nc, longCols]) => ({
      kind: 'figure' as const,
      svg: heatmap({
        title: `${nr} × ${nc}: cheerful and upbeat: change in projection:cheerful by layer and alpha (does not measurably steer)`,
        rows: range(nr).map((i) => `layer ${i}`),
        cols: range(nc).map((j) => (longCols ? `α=+${(j / 8).toFixed(3)} gap` : (j - Math.floor(nc / 2)) * 2)),
        values: range(nr).map((i) => range(nc).map((j) => ((i + j) % 7 === 3 ? null : 1.7 * Math.sin(i * 0.7 + j * 0.9)))),
        dimmed: range(nr).map((i) => range(nc).map((j) => (i * j) % 3 === 1)),
        dimmedLabel: 'incoherent: end-of-turn rate under 0.8 or distinct-2 under 0.85 × unsteered (blank: screened out)',
        highlight: { row: nr - 1, col: nc - 1, label: `recommended: layer ${nr - 1}, α=+${2 * nc}` },
        xLabel: 'alpha (gap units)',
        yLabel: 'steered layer',
        colorLabel: 'Δ projection:cheerful vs unsteered (paired over the same questions and seeds)',
        meaning: { high: 'toward cheerful and upbeat (projection:cheerful up)', low: 'away from cheerful and upbeat (projection:cheerful down)' },
      }),
    }));
    await fs.writeFile(path.join(OUT, 'grid-sizes.html'), renderHtmlReport({ title: 'grid sizes', sections }));
    expectClean(await open('grid-sizes.html'), sizes.length + 1);
  });

  it('line and bar charts with long titles, axis labels, legends and many long group names keep their texts inside and apart', async () => {
    const names = ['cheerful and upbeat', 'formal', 'vivid and imaginative storyteller', 'plain'];
    const groups = names.flatMap((n) => [`${n} α=−8`, `${n} α=+8`]);
    const series = (k: number, gs = groups) =>
      Array.from({ length: k }, (_, i) => ({
        name: `projection:${names[i % names.length]} (own) ${i}`,
        values: gs.map((_, g) => ({ y: Math.sin(g + i) * 2, lo: Math.sin(g + i) * 2 - 0.4, hi: Math.sin(g + i) * 2 + 0.4 })),
      }));
    const alphas = [-8, -4, -2, 0, 2, 4, 8];
    const sections = [
      {
        kind: 'figure' as const,
        svg: barChart({
          title: `Entanglement: change against alpha 0 at α = ±8 for ${names.join(', ')}`,
          groups,
          yLabel: 'Δ (SD of unsteered answers)',
          series: series(6),
        }),
      },
      {
        kind: 'figure' as const,
        svg: barChart({
          title: 'two groups',
          groups: groups.slice(0, 2),
          yLabel: 'Δ projection:vivid and imaginative storyteller (SD of the unsteered answers)',
          series: series(1, groups.slice(0, 2)),
        }),
      },
      {
        kind: 'figure' as const,
        svg: lineChart({
          title: `${names[2]}: dose–response at layer 3 with every metric the evaluation measured on the held-out questions`,
          xLabel: 'alpha (gap units)',
          yLabel: 'projection:vivid and imaginative storyteller who paints every answer',
          rightLabel: 'coherence: end-of-turn rate and distinct-2 of the answers',
          series: [
            ...series(5).map((s) => ({
              name: s.name,
              points: alphas.map((x, i) => ({ x, y: Math.cos(i + s.name.length), lo: Math.cos(i) - 0.2, hi: Math.cos(i) + 0.2 })),
            })),
            { name: 'end-of-turn rate', axis: 'right' as const, points: alphas.map((x) => ({ x, y: 0.8 })) },
          ],
        }),
      },
    ];
    await fs.writeFile(path.join(OUT, 'charts.html'), renderHtmlReport({ title: 'charts', sections }));
    expectClean(await open('charts.html'), sections.length);
  });

  it('long answers, labels and system prompts wrap or scroll inside their cards instead of widening the page', async () => {
    const long = 'x'.repeat(3000);
    const r: EvaluationResult = structuredClone(evaluation);
    const shown = r.answers.findIndex((a) => a.persona === 'formal' && a.condition === 'sweep' && a.alpha === 0 && a.sample === 0);
    r.answers[shown] = { ...r.answers[shown], text: `${long} ${'word '.repeat(400)}` };
    r.comparison[1] = { ...r.comparison[1], label: `prompted ${long.slice(0, 400)}`, system: long.slice(0, 600) };
    const file = path.join(OUT, 'long.html');
    await fs.writeFile(file, renderHtmlReport(evaluationReport(r, { title: `Evaluation ${long.slice(0, 300)}` })));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const m = await measureLayout(page);
    expect(m.overflowingCards).toEqual([]);
    expect(m.scrollWidth).toBeLessThanOrEqual(WINDOW);
    expect(await page.locator('.example .a', { hasText: long }).count()).toBe(1);
  });
});

describe('heat map colours', () => {
  it('draws coherent cells blue and cells under the floor red, as the effect map draws toward the persona blue, and says so in the legend', () => {
    const floor = large.settings.coherenceFloor;
    const coh = coherenceHeatmap(large);
    const measured = cells(coh).filter((c) => c.value !== null && Math.abs(c.value - floor) > 0.15);
    expect(measured.length).toBeGreaterThan(10);
    for (const c of measured) expect(Math.sign(blueness(c.fill)), `ended ${c.value} vs floor ${floor}: ${c.fill}`).toBe(c.value! > floor ? 1 : -1);
    expect(coh).toContain(`at or above the floor ${floor}: coherent`);
    const eff = effectHeatmap(large);
    const moved = cells(eff).filter((c) => c.value !== null && Math.abs(c.value) > 0.2);
    expect(moved.length).toBeGreaterThan(5);
    for (const c of moved) expect(Math.sign(blueness(c.fill)), `effect ${c.value}: ${c.fill}`).toBe(Math.sign(c.value!));
    expect(eff).toContain('toward formal');
  });

  it('keeps hatching visible on the darkest cells, in Chromium', async () => {
    // The darkest cells of both ends of the scale, hatched, beside a light hatched cell.
    const svg = heatmap({
      title: 'hatching',
      rows: [0, 1],
      cols: [-1, 0, 1],
      values: [
        [-1, 0, 1],
        [-1, 0.1, 1],
      ],
      dimmed: [
        [true, true, true],
        [false, false, false],
      ],
      dimmedLabel: 'incoherent',
    });
    await page.setContent(renderHtmlReport({ title: 'hatching', sections: [{ kind: 'figure', svg }] }));
    const hatched = await page.$$('rect.hatched');
    expect(hatched).toHaveLength(3);
    const fills = cells(svg)
      .slice(0, 3)
      .map((c) => c.fill);
    expect(fills.map((f) => brightness(f) < 0.45)).toEqual([true, false, true]);
    for (const [i, h] of hatched.entries()) {
      const img = decodePng(await h.screenshot({ path: path.join(OUT, `hatched-${i}.png`) }));
      const base = brightness(fills[i]);
      let contrasting = 0;
      for (let p = 0; p < img.data.length; p += 4)
        if (Math.abs((0.2126 * img.data[p] + 0.7152 * img.data[p + 1] + 0.0722 * img.data[p + 2]) / 255 - base) > 0.2) contrasting++;
      // The cell's value label covers a little; the hatch lines cover a fifth or more of the rest.
      expect(contrasting / (img.width * img.height), `cell ${i} (${fills[i]})`).toBeGreaterThan(0.15);
    }
  });
});
