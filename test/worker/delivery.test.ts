import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { answer, type Received, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';

let service: TestService;
let receiver: Receiver;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
});

async function start(env: Record<string, string> = {}, respond = answer(200)) {
  receiver = await startReceiver(respond);
  service = await buildService({ env: { WEBHOOK_SECRET: SECRET, ...env } });
  service.worker.start();
}

async function submit(overrides: Record<string, unknown> = {}): Promise<string> {
  const response = await postCreate(
    service,
    validRequest({ callbackUrl: receiver.url, ...overrides }),
  );
  expect(response.statusCode).toBe(200);
  return response.json().requestId;
}

const view = async (requestId: string) =>
  (
    await service.app.inject({ method: 'GET', url: `/api/charging-session-requests/${requestId}` })
  ).json();

const settled = (requestId: string) =>
  waitFor(
    async () => {
      const current = await view(requestId);
      return current.callback.state !== 'pending' ? current : undefined;
    },
    { what: `request ${requestId} to settle` },
  );

const attemptsOf = (requestId: string) => service.services.requests.attempts(requestId);

const failTimes =
  (times: number, status = 500) =>
  (_received: Received, index: number, response: ServerResponse) => {
    response.writeHead(index < times ? status : 204).end();
  };

describe('a receiver that accepts', () => {
  it('gets the signed decision once, and the request ends delivered', async () => {
    await start();
    await service.app.inject({
      method: 'PUT',
      url: `/api/drivers/${DRIVER}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: JSON.stringify({ status: 'active', allStations: true }),
    });
    const requestId = await submit();
    const final = await settled(requestId);

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received as [Received];
    expect(delivery.method).toBe('POST');
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['user-agent']).toMatch(/^chargegate\//);
    expect(delivery.headers['webhook-id']).toBe(`msg_${requestId}`);
    expect(Number(delivery.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    const payload = new Webhook(SECRET).verify(
      delivery.body,
      delivery.headers as Record<string, string>,
    );
    expect(payload).toEqual({
      requestId,
      stationId: STATION,
      driverId: DRIVER,
      status: 'allowed',
      reason: 'granted',
      decidedAt: final.decision.decidedAt,
    });

    expect(final).toMatchObject({
      decision: { status: 'allowed', reason: 'granted' },
      callback: {
        state: 'delivered',
        attempts: 1,
        lastResponseStatus: 200,
        lastError: null,
        nextAttemptAt: null,
      },
    });
    expect(final.callback.lastAttemptAt).not.toBeNull();
  });

  it.each([
    ['an unknown driver', 'invalid'],
    ['a driver without a grant', 'not_allowed'],
  ])('decides %s as %s', async (name, status) => {
    await start();
    if (name === 'a driver without a grant') {
      await service.services.drivers.upsert(DRIVER, { status: 'active' });
    }
    const requestId = await submit();
    expect((await settled(requestId)).decision.status).toBe(status);
    expect(JSON.parse(receiver.received[0]?.body ?? '{}').status).toBe(status);
  });
});

describe('a receiver that fails', () => {
  it('is retried until it accepts: N+1 attempts, one webhook-id, each freshly signed', async () => {
    await start({}, failTimes(2));
    const requestId = await submit();
    const final = await settled(requestId);
    expect(final.callback).toMatchObject({
      state: 'delivered',
      attempts: 3,
      lastResponseStatus: 204,
      lastError: null,
    });
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([`msg_${requestId}`]),
    );
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    for (const delivery of receiver.received) {
      expect(() =>
        new Webhook(SECRET).verify(delivery.body, delivery.headers as Record<string, string>),
      ).not.toThrow();
    }
    expect(
      (await attemptsOf(requestId)).map((a) => [a.attempt, a.outcome, a.responseStatus]),
    ).toEqual([
      [1, 'http_error', 500],
      [2, 'http_error', 500],
      [3, 'delivered', 204],
    ]);
  });

  it('ends failed after the whole schedule when it always answers 500', async () => {
    await start({}, answer(500, {}, 'boom'));
    const requestId = await submit();
    const final = await settled(requestId);
    expect(final.callback).toMatchObject({
      state: 'failed',
      attempts: 4,
      lastResponseStatus: 500,
      lastError: 'receiver answered 500; no retries left after 4 attempts',
      nextAttemptAt: null,
    });
    expect(receiver.received).toHaveLength(4);
    expect((await attemptsOf(requestId))[0]?.responseBody).toBe('boom');
  });

  it('stops at once on 410 Gone', async () => {
    await start({}, answer(410));
    const requestId = await submit();
    const final = await settled(requestId);
    expect(final.callback).toMatchObject({ state: 'failed', attempts: 1, lastResponseStatus: 410 });
    expect(final.callback.lastError).toContain('retries stopped');
    expect(receiver.received).toHaveLength(1);
  });

  it('does not follow a redirect: a 302 is a failed attempt', async () => {
    await start({ CALLBACK_RETRY_SCHEDULE: 'none' }, answer(302, { location: '/elsewhere' }));
    const requestId = await submit();
    const final = await settled(requestId);
    expect(final.callback).toMatchObject({ state: 'failed', attempts: 1, lastResponseStatus: 302 });
    expect(final.callback.lastError).toContain('redirects are not followed');
    expect(receiver.received.map((r) => r.url)).toEqual(['/callbacks']);
  });

  it('gives up an attempt after CALLBACK_TIMEOUT_MS and retries it', async () => {
    await start({ CALLBACK_TIMEOUT_MS: '200' }, (_received, index, response) => {
      if (index === 0) setTimeout(() => response.writeHead(200).end(), 1_500);
      else response.writeHead(200).end();
    });
    const requestId = await submit();
    const final = await settled(requestId);
    expect(final.callback).toMatchObject({ state: 'delivered', attempts: 2 });
    const [first] = await attemptsOf(requestId);
    expect(first).toMatchObject({ outcome: 'timeout', responseStatus: null });
    expect(first?.error).toContain('CALLBACK_TIMEOUT_MS (200 ms)');
  });

  it('waits at least the Retry-After of a 429 before the next attempt', async () => {
    await start({ CALLBACK_RETRY_SCHEDULE: '10ms' }, answer(429, { 'retry-after': '3' }));
    const requestId = await submit();
    const pending = await waitFor(async () => {
      const current = await view(requestId);
      return current.callback.attempts === 1 ? current : undefined;
    });
    const waited =
      Date.parse(pending.callback.nextAttemptAt) - Date.parse(pending.callback.lastAttemptAt);
    expect(waited).toBeGreaterThanOrEqual(3_000);
    expect(pending.callback.state).toBe('pending');
  });

  it('reads a Retry-After HTTP date on a 503', async () => {
    const retryAt = new Date(Date.now() + 120_000);
    retryAt.setMilliseconds(0);
    await start(
      { CALLBACK_RETRY_SCHEDULE: '10ms' },
      answer(503, { 'retry-after': retryAt.toUTCString() }),
    );
    const requestId = await submit();
    const pending = await waitFor(async () => {
      const current = await view(requestId);
      return current.callback.attempts === 1 ? current : undefined;
    });
    const next = Date.parse(pending.callback.nextAttemptAt);
    expect(next).toBeGreaterThanOrEqual(retryAt.getTime() - 1_000);
    expect(next).toBeLessThanOrEqual(retryAt.getTime() + 1_000);
    expect(pending.callback.lastResponseStatus).toBe(503);
  });

  it('keeps only the first 1 KiB of a response body', async () => {
    await start({ CALLBACK_RETRY_SCHEDULE: 'none' }, answer(400, {}, 'x'.repeat(5_000)));
    const requestId = await submit();
    await settled(requestId);
    expect((await attemptsOf(requestId))[0]?.responseBody).toBe('x'.repeat(1024));
  });

  it('sends the stored decision on every retry, even after the ACL changes', async () => {
    await start({ CALLBACK_RETRY_SCHEDULE: '300ms' }, failTimes(1));
    await service.services.drivers.upsert(DRIVER, { status: 'active', allStations: true });
    const requestId = await submit();
    await waitFor(() => receiver.received.length === 1);
    await service.services.drivers.upsert(DRIVER, { status: 'blocked' });
    const final = await settled(requestId);
    expect(final.callback.state).toBe('delivered');
    expect(receiver.received.map((r) => JSON.parse(r.body).status)).toEqual(['allowed', 'allowed']);
    expect(receiver.received[0]?.body).toBe(receiver.received[1]?.body);
  });

  it('keeps retrying after the receiver refuses connections, then delivers once it is back', async () => {
    receiver = await startReceiver();
    const { port } = receiver;
    await receiver.close();
    service = await buildService({
      env: { WEBHOOK_SECRET: SECRET, CALLBACK_RETRY_SCHEDULE: '100ms,200ms,400ms,800ms' },
    });
    service.worker.start();
    const requestId = await submit({ callbackUrl: `http://127.0.0.1:${port}/callbacks` });
    await waitFor(async () => (await attemptsOf(requestId)).length >= 1);
    expect((await attemptsOf(requestId))[0]).toMatchObject({ outcome: 'network' });
    expect((await attemptsOf(requestId))[0]?.error).toContain('ECONNREFUSED');
    receiver = await startReceiver(answer(200), port);
    expect((await settled(requestId)).callback.state).toBe('delivered');
  });
});
