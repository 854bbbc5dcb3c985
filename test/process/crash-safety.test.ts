import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { databasesDroppedAfterEach } from '../helpers/database.ts';
import { type RunningService, startService } from '../helpers/process.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const database = databasesDroppedAfterEach();
let services: RunningService[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  await Promise.all(services.map((s) => s.kill9()));
  services = [];
  await receiver?.close();
  receiver = undefined;
});

async function start(env: Record<string, string>) {
  const service = await startService(env);
  services.push(service);
  return service;
}

async function create(url: string, callbackUrl: string): Promise<string> {
  const response = await fetch(`${url}/api/charging-session-requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(validRequest({ callbackUrl })),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { requestId: string }).requestId;
}

type View = { requestId: string; callback: { state: string; attempts: number } };

const view = async (url: string, requestId: string) =>
  (await (await fetch(`${url}/api/charging-session-requests/${requestId}`)).json()) as View;

/** The views of `ids` (at most 100, the test's whole database) from one page of the admin list. */
async function viewsOf(url: string, ids: readonly string[]): Promise<(View | undefined)[]> {
  if (ids.length > 100) throw new Error(`viewsOf reads one page of 100, not ${ids.length} ids`);
  const response = await fetch(`${url}/api/charging-session-requests?limit=100`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (!response.ok) {
    throw new Error(`the admin list answered ${response.status}: ${await response.text()}`);
  }
  const { data } = (await response.json()) as { data: View[] };
  const byId = new Map(data.map((v) => [v.requestId, v]));
  return ids.map((id) => byId.get(id));
}

describe('kill -9', () => {
  it('loses no acknowledged request', async () => {
    const env = { ...(await database()), CALLBACK_RETRY_SCHEDULE: '1h' };
    const first = await start(env);
    // A callback that can never be reached keeps every request pending.
    const ids = await Promise.all(
      Array.from({ length: 50 }, () => create(first.url, 'http://127.0.0.1:9/nowhere')),
    );
    expect(await first.kill9()).toBe('SIGKILL');

    const second = await start(env);
    const views = await Promise.all(ids.map((id) => view(second.url, id)));
    expect(views.map((v) => v.requestId)).toEqual(ids);
  });

  it('loses no pending callback: 100 requests acknowledged while the receiver is down are all delivered after restart', async () => {
    receiver = await startReceiver();
    const { port } = receiver;
    await receiver.close();
    const env = {
      ...(await database()),
      WEBHOOK_SECRET: SECRET,
      CALLBACK_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
      CALLBACK_TIMEOUT_MS: '1000',
    };
    const first = await start(env);
    const callbackUrl = `http://127.0.0.1:${port}/callbacks`;
    const ids = await Promise.all(
      Array.from({ length: 100 }, () => create(first.url, callbackUrl)),
    );
    // Killed once its worker has begun failing against the refused origin. Any request will do:
    // after five failures the origin's breaker holds the rest for its cool-down (5 s, then 10 s),
    // so a given one, say the first created, may not be tried within the wait.
    await waitFor(
      async () => {
        const views = await viewsOf(first.url, ids);
        return views.some((v) => (v?.callback.attempts ?? 0) >= 1);
      },
      { intervalMs: 100, what: 'a first failed attempt' },
    );
    expect(await first.kill9()).toBe('SIGKILL');

    receiver = await startReceiver(answer(204), port);
    const second = await start(env);
    await waitFor(
      async () => {
        const views = await viewsOf(second.url, ids);
        return views.every((v) => v?.callback.state === 'delivered');
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'all 100 callbacks to be delivered' },
    ).catch(async (error) => {
      const views = await viewsOf(second.url, ids);
      console.error(
        JSON.stringify(views.filter((v) => v?.callback.state !== 'delivered').slice(0, 3)),
      );
      console.error(
        second
          .output()
          .split('\n')
          .filter((l) => !l.includes('"msg":"request"'))
          .join('\n'),
      );
      throw error;
    });
    const delivered = new Set(receiver.received.map((r) => JSON.parse(r.body).requestId));
    expect([...delivered].sort()).toEqual([...ids].sort());
    for (const delivery of receiver.received) {
      expect(() =>
        new Webhook(SECRET).verify(delivery.body, delivery.headers as Record<string, string>),
      ).not.toThrow();
    }
  });
});

describe('SIGTERM', () => {
  it('lets a slow callback finish, records it, and exits 0', async () => {
    receiver = await startReceiver((_received, _index, response) => {
      setTimeout(() => response.writeHead(200).end(), 1_500);
    });
    const env = { ...(await database()), CALLBACK_TIMEOUT_MS: '10000' };
    const first = await start(env);
    const requestId = await create(first.url, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    first.signal('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    expect(receiver.received).toHaveLength(1);

    const second = await start(env);
    expect((await view(second.url, requestId)).callback).toMatchObject({
      state: 'delivered',
      attempts: 1,
    });
    expect(receiver.received).toHaveLength(1);
  });

  it('refuses new requests once shutdown starts, and a second signal exits at once', async () => {
    receiver = await startReceiver(() => {});
    const first = await start({
      ...(await database()),
      CALLBACK_TIMEOUT_MS: '30000',
      SHUTDOWN_TIMEOUT_MS: '30000',
    });
    await create(first.url, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    first.signal('SIGTERM');
    await waitFor(() => first.output().includes('shutting down'));
    first.signal('SIGTERM');
    expect(await first.exited).toBe(1);
    expect(first.output()).toContain('second signal');
  });
});
