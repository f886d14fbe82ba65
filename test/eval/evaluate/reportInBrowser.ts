import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { decodePng, pixelStats } from '../helpers/decodePng.js';

const CHROMIUM = process.env.PERSONA_CHROMIUM ?? '/usr/bin/chromium';

/** What a report's figures look like on screen. */
export interface FigureShot {
  kind: string | null;
  /** Share of coloured pixels in the figure's plot area (0 when nothing is drawn). */
  colouredShare: number;
  darkPixels: number;
  distinctColours: number;
  width: number;
}

/** Headless Chromium for the report tests, with a clear error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the report test needs a headless browser. Install it (apt-get install chromium) or set PERSONA_CHROMIUM.`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Opens a report file in headless Chromium, screenshots every inline figure and its plot area (into
 * `shotsDir`), and returns their pixel statistics and every URL the page requested.
 */
export async function shootReport(file: string, shotsDir: string): Promise<{ figures: FigureShot[]; requests: string[]; scripts: number }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const figures: FigureShot[] = [];
    const base = path.basename(file, '.html');
    for (const [i, fig] of (await page.$$('figure.plot svg')).entries()) {
      const kind = await fig.getAttribute('data-plot');
      const whole = pixelStats(decodePng(await fig.screenshot({ path: path.join(shotsDir, `${base}-figure-${i}-${kind}.png`) })));
      const area = await fig.$('[data-role="plot-area"]');
      const st = area
        ? pixelStats(decodePng(await area.screenshot({ path: path.join(shotsDir, `${base}-figure-${i}-${kind}-area.png`) })))
        : { coloured: 0, total: 1 };
      figures.push({
        kind,
        colouredShare: st.coloured / st.total,
        darkPixels: whole.dark,
        distinctColours: whole.distinct,
        width: (await fig.boundingBox())?.width ?? 0,
      });
    }
    await page.screenshot({ path: path.join(shotsDir, `${base}-page.png`), fullPage: true });
    return { figures, requests, scripts: await page.evaluate(() => document.scripts.length) };
  } finally {
    await browser.close();
  }
}
