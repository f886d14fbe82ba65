import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { lineChart } from '../../../src/eval/plots/lineChart.js';
import { renderHtmlReport, writeHtmlReport } from '../../../src/eval/report/htmlReport.js';
import { exampleLine } from '../plots/examplePlots.js';
import { launchChromium } from '../../helpers/chromium.js';
import { ROOT } from '../../helpers/paths.js';
import { decodePng, pixelStats } from '../helpers/decodePng.js';
import { exampleReport, NASTY_ANSWER } from './exampleReport.js';

const OUT = path.join(ROOT, 'test-output', 'eval');
const REPORT = path.join(OUT, 'report.html');

let browser: Browser;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  browser = await launchChromium('the report test');
  await fs.mkdir(OUT, { recursive: true });
  await writeHtmlReport(REPORT, exampleReport);
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(REPORT).href, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
});

describe('html report in headless Chromium', () => {
  it('loads from a file with no other request', () => {
    expect(requests).toEqual([pathToFileURL(REPORT).href]);
  });

  it('parses every inline figure as valid SVG', async () => {
    const results = await page.$$eval('figure.plot svg', (svgs) =>
      svgs.map((s) => {
        const doc = new DOMParser().parseFromString(s.outerHTML, 'image/svg+xml');
        return { errors: doc.getElementsByTagName('parsererror').length, w: s.getBoundingClientRect().width };
      }),
    );
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.errors).toBe(0);
      expect(r.w).toBeGreaterThan(300);
    }
  });

  it('renders non-blank plots: screenshots of each figure and its plot area show drawn data', async () => {
    const figures = await page.$$('figure.plot svg');
    expect(figures).toHaveLength(3);
    for (const [i, fig] of figures.entries()) {
      const kind = await fig.getAttribute('data-plot');
      const shot = await fig.screenshot({ path: path.join(OUT, `report-figure-${i}-${kind}.png`) });
      const whole = pixelStats(decodePng(shot));
      expect(whole.total).toBeGreaterThan(100_000);
      expect(whole.dark, `${kind}: text and axes are drawn`).toBeGreaterThan(500);
      expect(whole.distinct, `${kind}: distinct colours`).toBeGreaterThan(50);

      // The plot area alone: grid and frame are grey, so coloured pixels mean the data was drawn.
      const area = await fig.$('[data-role="plot-area"]');
      expect(area, `${kind} has a plot area`).not.toBeNull();
      const areaShot = await area!.screenshot({ path: path.join(OUT, `report-figure-${i}-${kind}-area.png`) });
      const st = pixelStats(decodePng(areaShot));
      // A plot area with no data has no coloured pixel at all (see the control below).
      expect(st.coloured / st.total, `${kind}: coloured share of the plot area`).toBeGreaterThan(0.01);
    }
    // The line chart's series are drawn on top of its plot area, in a separate group.
    const series = await page.$('figure.plot svg[data-plot="line"] [data-role="series"]');
    const st = pixelStats(decodePng(await series!.screenshot()));
    expect(st.coloured / st.total).toBeGreaterThan(0.01);
  });

  it('tells a blank plot area from a drawn one (control: a chart whose points are all missing)', async () => {
    const blank = lineChart({ ...exampleLine, series: exampleLine.series.map((s) => ({ ...s, points: s.points.map((p) => ({ x: p.x, y: null })) })) });
    const control = await browser.newPage({ viewport: { width: 900, height: 600 } });
    try {
      await control.setContent(renderHtmlReport({ title: 'control', sections: [{ kind: 'figure', svg: blank }] }));
      const area = await control.$('figure.plot svg [data-role="plot-area"]');
      const st = pixelStats(decodePng(await area!.screenshot({ path: path.join(OUT, 'report-control-blank-area.png') })));
      expect(st.coloured).toBe(0);
    } finally {
      await control.close();
    }
  });

  it('shows escaped answers as text inside collapsible details, running nothing', async () => {
    expect(await page.title()).toBe('formal persona on the stylist <eval>');
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await page.locator('details').count()).toBe(2);
    expect(await page.locator('.example .a').first().textContent()).toBe(NASTY_ANSWER);
    expect(await page.locator('.example .a b').count()).toBe(0);
    const closed = page.locator('details').nth(1);
    await expect.poll(() => closed.locator('.a').isVisible()).toBe(false);
    await closed.locator('summary').click();
    expect(await closed.locator('.a').isVisible()).toBe(true);
    expect(await closed.locator('.a').textContent()).toContain('Kind regards.');
  });

  it('renders the summary and tables', async () => {
    const cells = await page.$$eval('section.table td', (tds) => tds.map((t) => t.textContent));
    expect(cells).toContain('-0.62 [-0.71, -0.53]');
    expect(await page.locator('table.summary th').count()).toBe(7);
    await page.screenshot({ path: path.join(OUT, 'report-page.png'), fullPage: true });
  });
});
