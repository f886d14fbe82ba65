import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoesNotSteerPersona } from '../helpers/doesNotSteerPersona.js';
import { startTestServer, type TestServer } from './serverFixture.js';

const CHROMIUM = process.env.PERSONA_CHROMIUM ?? '/usr/bin/chromium';

let t: TestServer;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the web page test needs a headless browser. Install it (apt-get install chromium) or set PERSONA_CHROMIUM to a Chromium binary.`,
    );
  t = await startTestServer();
  await writeDoesNotSteerPersona(t.personasDir);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the web page and a persona whose file records the does-not-steer verdict', () => {
  it('marks it in the persona picker and warns in its description, with no recommended range', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.server.url}/`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready=true]');
    const options = await page.locator('#persona option').allInnerTexts();
    expect(options.find((o) => o.startsWith('nosteer'))).toMatch(/\(does not measurably steer\)$/);
    expect(options.find((o) => o.startsWith('formal'))).not.toMatch(/does not measurably steer/);
    await page.locator('#persona').selectOption('nosteer');
    expect(await page.locator('#persona-desc').innerText()).toMatch(
      /warning: does not measurably steer this model \(its file records the steering check's verdict/,
    );
    expect(await page.locator('#alpha-rec').innerText()).toBe('no measured recommendation');
    await page.locator('#persona').selectOption('formal');
    expect(await page.locator('#persona-desc').innerText()).not.toMatch(/does not measurably steer/);
  });
});
