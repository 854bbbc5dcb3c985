import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from './wait.ts';

/** Debian's chromium package, driven by playwright-core (which downloads no browser of its own). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Waits until the visible text of what `locate` finds matches `pattern`. */
export async function waitForText(
  page: Page,
  locate: (page: Page) => ReturnType<Page['locator']>,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  return waitFor(
    async () => {
      const element = locate(page);
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as a person reads it
      const text = await element.innerText({ timeout: 1_000 }).catch(() => '');
      return pattern.test(text) ? text : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `text matching ${pattern}` },
  );
}
