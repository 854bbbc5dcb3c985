import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, waitForText } from '../helpers/browser.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { type RunningService, startService, tempDir } from '../helpers/process.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The operator console in a real headless Chromium against `npm start`: an operator sees a
 * receiver outage, puts it right, and changes a driver, finding everything by role and label.
 * With CONSOLE_SCREENSHOTS=1 it also refreshes the screenshots in docs/.
 */

const DRIVER = 'DRV-CONSOLE-000000000001';
const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const OTHER_STATION = '9b2c7d10-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1';
const DOCS = new URL('../../docs/', import.meta.url).pathname;

let service: RunningService;
/**
 * One receiver per failed callback: each origin sees three failures, below the circuit breaker's
 * threshold, so the callbacks fail for good at once instead of being held for cool-downs.
 */
let receivers: Receiver[] = [];
let browser: Browser;
const failedIds: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${service.url}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${method} ${path}`).toBe(200);
  return response.json();
}

const createRequest = async (receiver: Receiver): Promise<string> =>
  (
    await api('POST', '/charging-session-requests', {
      stationId: STATION,
      driverId: DRIVER,
      callbackUrl: receiver.url,
    })
  ).requestId;

const callbackState = async (id: string): Promise<string> =>
  (await api('GET', `/charging-session-requests/${id}`)).callback.state;

beforeAll(async () => {
  receivers = await Promise.all(
    Array.from({ length: 3 }, () =>
      startReceiver(answer(500, { 'content-type': 'text/plain' }, 'receiver down')),
    ),
  );
  service = await startService({
    DATABASE_PATH: join(tempDir(), 'chargegate.db'),
    CALLBACK_RETRY_SCHEDULE: '20ms,20ms',
    CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8',
    WORKER_POLL_INTERVAL_MS: '100',
  });
  await api('PUT', `/drivers/${DRIVER}`, { status: 'active', allStations: true });
  for (const receiver of receivers) failedIds.push(await createRequest(receiver));
  await waitFor(
    async () => (await Promise.all(failedIds.map(callbackState))).every((s) => s === 'failed'),
    { timeoutMs: 20_000, intervalMs: 100, what: 'three failed callbacks' },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await service?.kill9();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

type Watched = { page: Page; context: BrowserContext; loads: () => number; problems: string[] };

/** A page that records full loads, CSP violations, script errors and every URL it requests. */
async function openConsole(viewport: { width: number; height: number }): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  let loads = 0;
  page.on('load', () => loads++);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/content security policy|refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('request', (request) => {
    if (request.url().includes(ADMIN_TOKEN)) problems.push(`token in a URL: ${request.url()}`);
  });
  await page.goto(`${service.url}/console`);
  return { page, context, loads: () => loads, problems };
}

async function signIn(page: Page, token = ADMIN_TOKEN) {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const overview = (page: Page) => page.getByRole('region', { name: 'Overview' });
// Expressions evaluated in the page (the tests are type-checked without the DOM library).
const storage = (page: Page) =>
  page.evaluate<{ session: number; local: number; cookie: string }>(
    '({ session: sessionStorage.length, local: localStorage.length, cookie: document.cookie })',
  );

describe('operator console in Chromium', () => {
  it('signs in, shows an outage, redelivers, recovers, blocks a driver and signs out', async () => {
    const { page, context, loads, problems } = await openConsole({ width: 1280, height: 800 });

    // A wrong token: an error, no data, nothing kept.
    await signIn(page, 'wrong-token-0123456789');
    await waitForText(page, (p) => p.getByRole('alert'), /not accepted/);
    expect(await overview(page).count()).toBe(0);
    expect(await page.getByRole('table').count()).toBe(0);
    expect(await storage(page)).toEqual({ session: 0, local: 0, cookie: '' });

    await signIn(page);
    await waitForText(page, overview, /Failed\s+3\b/);
    expect(await storage(page)).toEqual({ session: 1, local: 0, cookie: '' });

    // The failed requests, found with the filter.
    await page.getByLabel('Callback state').selectOption('failed');
    const failedTable = page.getByRole('table', { name: /Requests whose callback is failed/ });
    await waitFor(async () => (await failedTable.getByRole('row').count()) === 4, {
      what: 'three failed rows',
    });
    for (const id of failedIds) {
      expect(await failedTable.getByRole('button', { name: `Open request ${id}` }).count()).toBe(1);
    }

    // One of them: its decision and its three failed attempts.
    const [first, ...others] = failedIds as [string, ...string[]];
    await failedTable.getByRole('button', { name: `Open request ${first}` }).click();
    const detail = page.getByRole('region', { name: `Request ${first}` });
    await waitForText(page, () => detail, /Decision\s+allowed/);
    const timeline = detail.getByRole('table', { name: 'Attempt timeline' });
    await waitFor(async () => (await timeline.getByRole('row').count()) === 4, {
      what: 'three attempts',
    });
    const attemptsText = (await timeline.textContent()) ?? '';
    expect(attemptsText.match(/http_error/g)).toHaveLength(3);
    expect(attemptsText).toContain('500');
    expect(attemptsText).toContain('receiver down');
    if (SCREENSHOTS) {
      mkdirSync(DOCS, { recursive: true });
      await detail.screenshot({ path: join(DOCS, 'console-request.png') });
    }

    // The receiver is back: Redeliver, and the page follows the request to delivered.
    for (const receiver of receivers) {
      receiver.respondWith(answer(200, { 'content-type': 'text/plain' }, 'thanks'));
    }
    const loadsBefore = loads();
    await detail.getByRole('button', { name: 'Redeliver' }).click();
    await waitForText(page, () => detail.getByRole('status'), /Redelivered/);
    await waitForText(page, () => detail, /Callback state\s+delivered/);
    await waitFor(async () => (await timeline.getByRole('row').count()) === 5, {
      what: 'the fourth attempt',
    });
    expect(await timeline.textContent()).toContain('thanks');
    expect(loads()).toBe(loadsBefore);
    expect(await callbackState(first)).toBe('delivered');

    // Recover the other two from a chosen time.
    const anHourAgo = await page.evaluate(() => {
      const date = new Date(Date.now() - 3_600_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    });
    await page.getByLabel('Requests created since').fill(anHourAgo);
    await page.getByRole('button', { name: 'Recover failed' }).click();
    await waitForText(
      page,
      (p) => p.getByRole('region', { name: 'Recover failed' }).getByRole('status'),
      /Re-queued 2 failed callbacks/,
    );
    for (const id of others) {
      await waitFor(async () => (await callbackState(id)) === 'delivered', { what: 'recovery' });
    }
    // The overview catches up on its own.
    await waitForText(page, overview, /Delivered\s+3\b[\s\S]*Failed\s+0\b/);
    expect(loads()).toBe(loadsBefore);
    if (SCREENSHOTS) {
      await detail.getByRole('button', { name: 'Close' }).click();
      await page.getByLabel('Callback state').selectOption('');
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(DOCS, 'console-overview.png') });
    }

    // Drivers: grant and revoke a station, all stations, expiry, then block the driver.
    await page.getByLabel('Driver id').fill(DRIVER);
    await page.getByRole('button', { name: 'Look up' }).click();
    const drivers = page.getByRole('region', { name: 'Drivers' });
    await waitForText(page, () => drivers, /Status\s+active/);
    await drivers.getByLabel('Station id').fill(OTHER_STATION);
    await drivers.getByRole('button', { name: 'Grant station' }).click();
    const revoke = drivers.getByRole('button', { name: `Revoke station ${OTHER_STATION}` });
    await revoke.waitFor();
    expect((await api('GET', `/drivers/${DRIVER}`)).stations).toEqual([OTHER_STATION]);
    await revoke.click();
    await revoke.waitFor({ state: 'detached' });
    expect((await api('GET', `/drivers/${DRIVER}`)).stations).toEqual([]);

    const driverNow = () => api('GET', `/drivers/${DRIVER}`);
    await drivers.getByLabel('All stations').click();
    await waitForText(page, () => drivers, /All stations\s+no/);
    expect((await driverNow()).allStations).toBe(false);
    await drivers.getByLabel('All stations').click();
    await waitForText(page, () => drivers, /All stations\s+yes/);
    expect((await driverNow()).allStations).toBe(true);

    await drivers.getByLabel('Expires at').fill('2099-06-30T12:00');
    await drivers.getByRole('button', { name: 'Set expiry' }).click();
    await waitForText(page, () => drivers, /Expiry set/);
    expect(new Date((await driverNow()).expiresAt).getFullYear()).toBe(2099);
    await drivers.getByRole('button', { name: 'Clear expiry' }).click();
    await waitForText(page, () => drivers, /Expires\s+never/);
    expect((await driverNow()).expiresAt).toBeNull();

    await drivers.getByRole('button', { name: 'Block' }).click();
    await waitForText(page, () => drivers, /Status\s+blocked/);
    expect((await api('GET', `/drivers/${DRIVER}`)).status).toBe('blocked');

    // The next request is refused, and the console shows it.
    const next = await createRequest(receivers[0] as Receiver);
    await waitFor(async () => (await callbackState(next)) === 'delivered', { what: 'decision' });
    await page.getByLabel('Request id').fill(next);
    await page.getByRole('button', { name: 'Find' }).click();
    await waitForText(
      page,
      (p) => p.getByRole('region', { name: `Request ${next}` }),
      /Decision\s+not_allowed/,
    );

    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await storage(page)).toEqual({ session: 0, local: 0, cookie: '' });
    expect(await overview(page).count()).toBe(0);

    // A token the API refuses (here: a stale one in the tab) returns the page to sign-in.
    await page.evaluate(
      "sessionStorage.setItem('chargegate.adminToken', 'stale-token-0123456789')",
    );
    await page.reload();
    await waitForText(page, (p) => p.getByRole('main'), /refused\. Sign in again/);
    expect(await page.getByLabel('Admin token').isVisible()).toBe(true);
    expect(await storage(page)).toEqual({ session: 0, local: 0, cookie: '' });

    expect(problems).toEqual([]);
    expect(service.output()).not.toContain(ADMIN_TOKEN);
    await context.close();
  });

  it('fits a phone without horizontal scrolling and works from the keyboard', async () => {
    const { page, context, problems } = await openConsole({ width: 390, height: 844 });
    const pageWidth = () => page.evaluate<number>('document.documentElement.scrollWidth');

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await waitForText(page, overview, /Pending\s+\d+/);
    expect(await pageWidth()).toBeLessThanOrEqual(390);

    const first = failedIds[0] as string;
    const open = page.getByRole('button', { name: `Open request ${first}` });
    await open.focus();
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: `Request ${first}` });
    await detail.getByRole('table', { name: 'Attempt timeline' }).waitFor();
    expect(await pageWidth()).toBeLessThanOrEqual(390);

    await page.getByLabel('Driver id').fill(DRIVER);
    await page.keyboard.press('Enter');
    await waitForText(page, (p) => p.getByRole('region', { name: 'Drivers' }), /Status\s+blocked/);
    expect(await pageWidth()).toBeLessThanOrEqual(390);

    // The token outlives a reload of the tab; Sign out is the first control on the page.
    await page.reload();
    await waitForText(page, overview, /Pending\s+\d+/);
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Sign out');
    await page.keyboard.press('Enter');
    await page.getByLabel('Admin token').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });
});
