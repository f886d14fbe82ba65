import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { PERSONAS } from '../helpers/paths.js';
import { startTestServer, TEST_OUTPUT, type TestServer } from './serverFixture.js';

let t: TestServer;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium('the web page test');
  await fs.mkdir(TEST_OUTPUT, { recursive: true });
  t = await startTestServer();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(`${t.server.url}/`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready=true]');
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const shot = (name: string) => page.screenshot({ path: path.join(TEST_OUTPUT, `${name}.png`), fullPage: true });

/** Sends a message and waits until every answer of the new turn is done and tinted. */
async function send(message: string): Promise<{ steered: string; unsteered: string | null; alpha: string }> {
  const turns = await page.locator('.turn').count();
  await page.locator('#message').fill(message);
  await page.locator('#send').click();
  const turn = page.locator('.turn').nth(turns);
  await turn.waitFor();
  await page.waitForFunction((i) => {
    const el = document.querySelectorAll('.turn')[i];
    return (
      !!el &&
      Array.from(el.querySelectorAll('.answer')).every((a) => (a as HTMLElement).dataset.done === 'true' && (a as HTMLElement).dataset.tinted === 'true')
    );
  }, turns);
  const text = async (kind: string) => {
    const el = turn.locator(`.answer[data-kind=${kind}] .text`);
    return (await el.count()) ? await el.innerText() : null;
  };
  return {
    steered: (await text('steered')) ?? '',
    unsteered: await text('unsteered'),
    alpha: (await turn.getAttribute('data-alpha'))!,
  };
}

describe('the web page in headless Chromium', () => {
  it("shows the model and the persona picker with each persona's description and recommended range", async () => {
    await expect.poll(() => page.locator('#model-info').innerText()).toMatch(/stylist · 6 layers/);
    const options = await page.locator('#persona option').allInnerTexts();
    expect(options.some((o) => /^formal — formal and professional/.test(o))).toBe(true);
    expect(options.some((o) => /^vivid/.test(o))).toBe(true);
    expect(await page.locator('#persona').inputValue()).toBe('formal');
    const meta = JSON.parse(await fs.readFile(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    const sign = (x: number) => (x > 0 ? '+' : x < 0 ? '−' : '') + Math.abs(x);
    expect(await page.locator('#persona-desc').innerText()).toContain(
      `recommended layer ${meta.recommendedLayer}, alpha ${sign(meta.alphaRange[0])} to ${sign(meta.alphaRange[1])}`,
    );
    expect(await page.locator('#layer').inputValue()).toBe(String(meta.recommendedLayer));
    await page.locator('#persona').selectOption('vivid');
    expect(await page.locator('#persona-desc').innerText()).toMatch(/vivid/);
    await page.locator('#persona').selectOption('formal');
    await shot('01-start');
  });

  it('answers side by side, unsteered and steered, and the slider changes the next steered answer without reloading', async () => {
    await page.locator('#max-tokens').fill('24');
    // The slider spans ± the larger end of the persona's recommended range.
    const { alphaRange } = JSON.parse(await fs.readFile(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    const span = Math.max(Math.abs(alphaRange[0]), Math.abs(alphaRange[1]));
    const slider = page.locator('#alpha');
    await slider.focus();
    await page.keyboard.press('Home'); // alpha −span
    expect(await page.locator('#alpha-value').innerText()).toBe(`−${span}`);
    const casual = await send('Thank Ana for the tea.');
    expect(casual.alpha).toBe(String(-span));
    expect(casual.unsteered).toMatch(/\w/);
    expect(casual.steered).toMatch(/\w/);
    expect(casual.steered).not.toBe(casual.unsteered);
    await shot('02-side-by-side-alpha-minus-8');

    await page.locator('#clear').click();
    await slider.focus();
    await page.keyboard.press('End'); // alpha +span
    expect(await page.locator('#alpha-value').innerText()).toBe(`+${span}`);
    const formal = await send('Thank Ana for the tea.');
    expect(formal.alpha).toBe(String(span));
    expect(formal.unsteered).toBe(casual.unsteered); // same message, greedy: the unsteered side is unchanged
    expect(formal.steered).not.toBe(casual.steered);
    await shot('03-side-by-side-alpha-plus-8');

    // Moving the slider back to the middle steers nothing: the answer is the unsteered one.
    await page.locator('#clear').click();
    await slider.focus();
    for (let i = 0; i < 16; i++) await page.keyboard.press('ArrowLeft');
    expect(await page.locator('#alpha-value').innerText()).toBe('0');
    const zero = await send('Thank Ana for the tea.');
    expect(zero.unsteered).toBe(casual.unsteered);
    expect(zero.steered).toBe(''); // with alpha 0 there is one (unsteered) answer
  });

  it('tints every token of both answers by its projection on the persona', async () => {
    await page.locator('#clear').click();
    await page.locator('#alpha').focus();
    await page.keyboard.press('End');
    await send('Invite Sam to lunch on Friday.');
    const turn = page.locator('.turn').last();
    for (const kind of ['steered', 'unsteered']) {
      const spans = turn.locator(`.answer[data-kind=${kind}] .tok`);
      expect(await spans.count(), kind).toBeGreaterThan(3);
      const values = await spans.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.projection)));
      expect(values.every(Number.isFinite)).toBe(true);
      const colors = await spans.evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
      expect(new Set(colors).size).toBeGreaterThan(1);
    }
    await shot('04-tinted');
  });

  it('shows the monitored personas live under each answer, updated while it streams', async () => {
    await page.locator('#clear').click();
    // formal is monitored from the start; add vivid.
    expect(await page.locator('#monitor input[value=formal]').isChecked()).toBe(true);
    await page.locator('#monitor input[value=vivid]').check();
    const { alphaRange } = JSON.parse(await fs.readFile(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
    const span = Math.max(Math.abs(alphaRange[0]), Math.abs(alphaRange[1]));
    await page.locator('#alpha').focus();
    await page.keyboard.press('End'); // alpha +span at formal's recommended layer
    await page.locator('#max-tokens').fill('64');
    // Record every state of the new turn's monitor rows as the page changes them.
    await page.evaluate(() => {
      const seen: { kind: string; done: string; counts: number[] }[] = [];
      (window as unknown as { monitorSeen: typeof seen }).monitorSeen = seen;
      const log = document.getElementById('log')!;
      new MutationObserver(() => {
        const turn = log.querySelector('.turn:last-of-type');
        for (const a of Array.from(turn?.querySelectorAll('.answer') ?? []) as HTMLElement[]) {
          seen.push({
            kind: a.dataset.kind!,
            done: a.dataset.done!,
            counts: Array.from(a.querySelectorAll('.monitor-row'), (r) => Number((r as HTMLElement).dataset.count)),
          });
        }
      }).observe(log, { subtree: true, childList: true, attributes: true });
    });
    // The stylist writes a whole answer in a fraction of a second, and on a loaded machine the server
    // may flush it in one burst; DevTools network throttling (about 40 kB/s) delivers the stream
    // over a second or two, as a slower model would.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 40_000, uploadThroughput: -1 });
    try {
      await send('Write to Sam about the garden party next week.');
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    const turn = page.locator('.turn').last();
    const finals: Record<string, { promptEnd: number; count: number }[]> = {};
    for (const kind of ['unsteered', 'steered']) {
      const rows = turn.locator(`.answer[data-kind=${kind}] .monitor-row`);
      expect(await rows.count(), kind).toBe(2);
      const info = await rows.evaluateAll((els) =>
        els.map((e) => {
          const d = (e as HTMLElement).dataset;
          return {
            persona: d.persona,
            label: e.querySelector('.name')!.textContent,
            promptEnd: Number(d.promptEnd),
            mean: Number(d.mean),
            count: Number(d.count),
            points: e.querySelector('polyline')!.getAttribute('points')!.trim().split(/\s+/).length,
          };
        }),
      );
      expect(info.map((r) => r.label)).toEqual(['formal @4', 'vivid @5']);
      for (const r of info) {
        expect(Number.isFinite(r.promptEnd) && Number.isFinite(r.mean), kind).toBe(true);
        expect(r.count, kind).toBeGreaterThan(3);
        expect(r.points).toBe(r.count);
      }
      finals[kind] = info;
    }
    // Same prompt, steered at formal's layer by +span: its prompt end there is higher by exactly alpha.
    expect(finals.steered[0].promptEnd - finals.unsteered[0].promptEnd).toBeCloseTo(span, 3);
    // The rows showed part of the answer's readings while it was still streaming (not only once it was done).
    const seen = await page.evaluate(() => (window as unknown as { monitorSeen: { kind: string; done: string; counts: number[] }[] }).monitorSeen);
    for (const kind of ['unsteered', 'steered']) {
      const final = finals[kind][0].count;
      const live = seen.filter((s) => s.kind === kind && s.done === 'false' && s.counts.every((n) => n > 0 && n < final));
      expect(live.length, `${kind}: states with some but not all tokens read while streaming`).toBeGreaterThan(0);
    }
    await shot('04b-monitor');
  });

  it('lists the reports and shows one in a sandboxed viewer', async () => {
    const link = page.locator('#reports a', { hasText: 'formal/layers.html' });
    await link.click();
    await page.locator('#viewer').waitFor({ state: 'visible' });
    await expect.poll(() => page.frameLocator('#viewer-frame').locator('h1').innerText()).toBe('Layer analysis: formal');
    expect(await page.locator('#viewer-frame').getAttribute('sandbox')).toBe('');
    await shot('05-report');
    await page.locator('#viewer-close').click();
  });

  it('asks for the API key when the server needs one, then works with it', async () => {
    const keyed = await startTestServer({ apiKey: 'sesame' });
    const keyedPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await keyedPage.goto(`${keyed.server.url}/`, { waitUntil: 'load' });
      await keyedPage.locator('#key-box').waitFor({ state: 'visible' });
      expect(await keyedPage.locator('body').getAttribute('data-ready')).toBeNull();
      // Sending before the key is entered says so and keeps the message (it was silently dropped).
      await keyedPage.locator('#message').fill('Hello before the key');
      await keyedPage.locator('#send').click();
      await expect.poll(() => keyedPage.locator('#log .notice').last().innerText()).toMatch(/Enter the API key first/);
      expect(await keyedPage.locator('#message').inputValue()).toBe('Hello before the key');
      expect(await keyedPage.locator('.user-msg').count()).toBe(0);
      await keyedPage.locator('#api-key').fill('sesame');
      await keyedPage.locator('#api-key').press('Tab');
      await keyedPage.waitForSelector('body[data-ready=true]');
      expect(await keyedPage.locator('#persona').inputValue()).toBe('formal');
      await keyedPage.locator('#message').fill('Hi');
      await keyedPage.locator('#send').click();
      await keyedPage.waitForSelector('.answer[data-kind=unsteered][data-done=true]');
      expect(await keyedPage.locator('.answer .text').first().innerText()).toMatch(/\w/);
      await keyedPage.screenshot({ path: path.join(TEST_OUTPUT, '06-api-key.png') });
    } finally {
      await keyedPage.close();
      await keyed.close();
    }
  });

  it('marks an answer cut by Stop as stopped', async () => {
    // The completion never answers, so the answer is still open when Stop is pressed.
    await page.route('**/v1/chat/completions', () => {});
    try {
      await page.locator('#message').fill('Write a long letter to Sam.');
      await page.locator('#send').click();
      await page.locator('#stop').click();
      const answer = page.locator('.answer').last();
      await expect.poll(() => answer.getAttribute('data-stopped')).toBe('true');
      expect(await answer.locator('.stopped').innerText()).toMatch(/stopped/);
      await shot('07-stopped');
    } finally {
      await page.unroute('**/v1/chat/completions');
    }
  });

  it('made no request outside the server and logged no error', () => {
    const outside = requests.filter((u) => !u.startsWith(t.server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(outside).toEqual([]);
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  });
});
