import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The Chromium the browser tests drive: PERSONA_CHROMIUM, or /usr/bin/chromium. */
export const CHROMIUM = process.env.PERSONA_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium for a browser test, or throws saying which test needs it and how to
 * install one.
 *
 * @example browser = await launchChromium('the web page test');
 */
export async function launchChromium(testName: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: ${testName} needs a headless browser. Install it (apt-get install chromium) or set PERSONA_CHROMIUM to a Chromium binary.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
