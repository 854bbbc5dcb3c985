import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteAuthorizer } from '../../src/worker/authorizer.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';

const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const REQUEST_ID = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

let authorizer: Receiver | undefined;
const dispatcher = new Agent();
afterEach(async () => {
  await authorizer?.close();
  authorizer = undefined;
});

const json = (status: number, body: unknown) =>
  answer(status, { 'content-type': 'application/json' }, JSON.stringify(body));

function remote(url: string, timeoutMs = 1_000) {
  return createRemoteAuthorizer({ url, timeoutMs, dispatcher });
}

describe('the remote authorizer', () => {
  it.each(['allowed', 'not_allowed', 'invalid'] as const)(
    'passes on an answer of %s',
    async (status) => {
      authorizer = await startReceiver(json(200, { status }));
      const decision = await remote(authorizer.url).decide({
        requestId: REQUEST_ID,
        stationId: STATION,
        driverId: DRIVER,
      });
      expect(decision).toEqual({ status, source: 'authorizer', reason: 'authorizer answered' });
      expect(authorizer.received).toHaveLength(1);
      expect(JSON.parse(authorizer.received[0]?.body ?? '')).toEqual({
        stationId: STATION,
        driverId: DRIVER,
      });
      expect(authorizer.received[0]?.headers['content-type']).toBe('application/json');
    },
  );

  it('decides unknown when nothing answers before the deadline', async () => {
    authorizer = await startReceiver(() => {});
    const started = Date.now();
    const decision = await remote(authorizer.url, 300).decide({
      requestId: REQUEST_ID,
      stationId: STATION,
      driverId: DRIVER,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(decision).toEqual({
      status: 'unknown',
      source: 'authorizer',
      reason: 'no valid answer within AUTHORIZER_TIMEOUT_MS (300 ms)',
    });
  });

  it('retries a 5xx inside the deadline', async () => {
    authorizer = await startReceiver((_received, index, response) => {
      if (index === 0) response.writeHead(503).end();
      else
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"allowed"}');
    });
    const decision = await remote(authorizer.url).decide({
      requestId: REQUEST_ID,
      stationId: STATION,
      driverId: DRIVER,
    });
    expect(decision.status).toBe('allowed');
    expect(authorizer.received).toHaveLength(2);
  });

  it('retries a try that hangs, inside the deadline', async () => {
    authorizer = await startReceiver((_received, index, response) => {
      if (index > 0)
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"allowed"}');
    });
    const decision = await remote(authorizer.url, 1_500).decide({
      requestId: REQUEST_ID,
      stationId: STATION,
      driverId: DRIVER,
    });
    expect(decision.status).toBe('allowed');
    expect(authorizer.received).toHaveLength(2);
  });

  it('retries refused connections until the deadline, then decides unknown', async () => {
    const gone = await startReceiver();
    const { url } = gone;
    await gone.close();
    const decision = await remote(url, 400).decide({
      requestId: REQUEST_ID,
      stationId: STATION,
      driverId: DRIVER,
    });
    expect(decision).toMatchObject({
      status: 'unknown',
      reason: 'no valid answer within AUTHORIZER_TIMEOUT_MS (400 ms)',
    });
  });

  it.each([
    ['garbage', answer(200, {}, 'not json at all')],
    ['an unknown status', json(200, { status: 'maybe' })],
    ['no status', json(200, { allowed: true })],
    ['a 4xx', json(404, { status: 'allowed' })],
  ])('decides unknown at once on %s, without retrying', async (_name, respond) => {
    authorizer = await startReceiver(respond);
    const decision = await remote(authorizer.url).decide({
      requestId: REQUEST_ID,
      stationId: STATION,
      driverId: DRIVER,
    });
    expect(decision.status).toBe('unknown');
    expect(decision.reason).toMatch(/^authorizer answered/);
    expect(authorizer.received).toHaveLength(1);
  });
});
