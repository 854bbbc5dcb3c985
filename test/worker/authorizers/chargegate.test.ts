import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chargegateVerdict,
  createChargegateAuthorizer,
} from '../../../src/worker/authorizers/chargegate.ts';
import { answer, type Receiver, startReceiver } from '../../helpers/receiver.ts';

const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const REQUEST = {
  requestId: 'a2c5e7f0-1b3d-4e6f-8a9b-0c1d2e3f4a5b',
  stationId: STATION,
  driverId: DRIVER,
};

let authorizer: Receiver | undefined;
const dispatcher = new Agent();
afterEach(async () => {
  await authorizer?.close();
  authorizer = undefined;
});

const json = (status: number, body: unknown) =>
  answer(status, { 'content-type': 'application/json' }, JSON.stringify(body));

/**
 * Its default deadline is far beyond any answer's time (each try may take a third of it), so that
 * on a loaded machine no try of a test about answers times out; the tests about time set their own.
 */
function remote(url: string, timeoutMs = 6_000) {
  return createChargegateAuthorizer({ url, timeoutMs, dispatcher });
}

describe('the remote authorizer', () => {
  it.each(['allowed', 'not_allowed', 'invalid'] as const)(
    'passes on an answer of %s',
    async (status) => {
      authorizer = await startReceiver(json(200, { status }));
      const decision = await remote(authorizer.url).decide(REQUEST);
      expect(decision).toEqual({ status, source: 'authorizer', reason: 'authorizer' });
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
    const decision = await remote(authorizer.url, 300).decide(REQUEST);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(decision).toEqual({
      status: 'unknown',
      source: 'authorizer',
      reason: 'timeout',
    });
  });

  it('retries a 5xx inside the deadline', async () => {
    authorizer = await startReceiver((_received, index, response) => {
      if (index === 0) response.writeHead(503).end();
      else
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"allowed"}');
    });
    const decision = await remote(authorizer.url).decide(REQUEST);
    expect(decision.status).toBe('allowed');
    expect(authorizer.received).toHaveLength(2);
  });

  it('retries a try that hangs, inside the deadline', async () => {
    authorizer = await startReceiver((_received, index, response) => {
      if (index > 0)
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"allowed"}');
    });
    const decision = await remote(authorizer.url, 1_500).decide(REQUEST);
    expect(decision.status).toBe('allowed');
    expect(authorizer.received).toHaveLength(2);
  });

  it('retries refused connections until the deadline, then decides unknown', async () => {
    const gone = await startReceiver();
    const { url } = gone;
    await gone.close();
    const decision = await remote(url, 400).decide(REQUEST);
    expect(decision).toMatchObject({
      status: 'unknown',
      reason: 'timeout',
    });
  });

  it.each([
    ['garbage', answer(200, {}, 'not json at all')],
    ['an unknown status', json(200, { status: 'maybe' })],
    ['no status', json(200, { allowed: true })],
    ['a 4xx', json(404, { status: 'allowed' })],
  ])('decides unknown at once on %s, without retrying', async (_name, respond) => {
    authorizer = await startReceiver(respond);
    const decision = await remote(authorizer.url).decide(REQUEST);
    expect(decision).toEqual({ status: 'unknown', source: 'authorizer', reason: 'bad_answer' });
    expect(authorizer.received).toHaveLength(1);
  });
});

describe('chargegateVerdict', () => {
  const decided = (status: string, reason: string) => ({
    kind: 'decided',
    decision: { status, source: 'authorizer', reason },
  });
  it.each([
    ['allowed', 200, '{"status":"allowed"}', decided('allowed', 'authorizer')],
    ['not_allowed', 200, '{"status":"not_allowed"}', decided('not_allowed', 'authorizer')],
    ['invalid', 200, '{"status":"invalid"}', decided('invalid', 'authorizer')],
    ['a 500', 500, '{"status":"allowed"}', { kind: 'retry', outcome: '5xx' }],
    ['a 503 without a body', 503, '', { kind: 'retry', outcome: '5xx' }],
    ['a 404', 404, '{"status":"allowed"}', decided('unknown', 'bad_answer')],
    ['a 204', 204, '', decided('unknown', 'bad_answer')],
    ['not JSON', 200, 'yes', decided('unknown', 'bad_answer')],
    ['an unknown status', 200, '{"status":"maybe"}', decided('unknown', 'bad_answer')],
    ['a JSON array', 200, '["allowed"]', decided('unknown', 'bad_answer')],
  ])('%s', (_name, statusCode, body, expected) => {
    expect(chargegateVerdict({ statusCode, body })).toMatchObject(expected);
  });
});
