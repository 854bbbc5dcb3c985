import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { OcpiTokenType } from '../../../src/config.ts';
import type { AuthorizerCall } from '../../../src/worker/authorizers/authorizer.ts';
import { createOcpiAuthorizer, ocpiVerdict } from '../../../src/worker/authorizers/ocpi.ts';
import {
  type EmspRespond,
  envelope,
  type FakeEmsp,
  startFakeEmsp,
  tokenObject,
} from '../../helpers/fake-emsp.ts';

const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const REQUEST_ID = 'a2c5e7f0-1b3d-4e6f-8a9b-0c1d2e3f4a5b';
const REQUEST = { requestId: REQUEST_ID, stationId: STATION, driverId: DRIVER };
/** Not ASCII-safe in a header: non-Latin letters, a space, a colon, '+', '/' and '='. */
const TOKEN = 'ébc€ 令牌:with+/= chars';

const dispatcher = new Agent();
let emsp: FakeEmsp | undefined;
afterEach(async () => {
  await emsp?.close();
  emsp = undefined;
});

const authorizationInfo = (allowed: string, extra: Record<string, unknown> = {}) =>
  envelope(1000, { allowed, token: tokenObject(DRIVER), ...extra });

/**
 * The authorizer against a fake eMSP. Its default deadline is far beyond any answer's time (each
 * try may take a third of it), so that on a loaded machine no try of a test about answers times
 * out; the tests about time set their own.
 */
async function ocpi(
  respond: EmspRespond,
  { timeoutMs = 6_000, tokenType = 'RFID' as OcpiTokenType, calls = [] as AuthorizerCall[] } = {},
) {
  emsp = await startFakeEmsp(TOKEN, respond);
  return createOcpiAuthorizer({
    url: emsp.tokensUrl,
    timeoutMs,
    dispatcher,
    token: TOKEN,
    tokenType,
    observe: (call) => calls.push(call),
  });
}

describe('the OCPI 2.2.1 authorizer against an eMSP', () => {
  it.each([
    ['ALLOWED', 'allowed'],
    ['BLOCKED', 'not_allowed'],
    ['EXPIRED', 'not_allowed'],
    ['NO_CREDIT', 'not_allowed'],
    ['NOT_ALLOWED', 'not_allowed'],
  ] as const)('maps allowed %s to %s, with that reason', async (allowed, status) => {
    const authorizer = await ocpi(() => ({ status: 200, body: authorizationInfo(allowed) }));
    expect(await authorizer.decide(REQUEST)).toEqual({
      status,
      source: 'authorizer',
      reason: allowed,
    });
    expect(emsp?.received).toHaveLength(1);
  });

  it('keeps the authorization_reference, whatever the answer', async () => {
    const authorizer = await ocpi((_request, index) => ({
      status: 200,
      body: authorizationInfo(index === 0 ? 'ALLOWED' : 'NO_CREDIT', {
        authorization_reference: `REF-${index}-0123456789abcdefghijklmnopqrs`,
        location: { location_id: STATION, evse_uids: ['EVSE-1'] },
        info: { language: 'en', text: 'Enjoy' },
      }),
    }));
    expect(await authorizer.decide(REQUEST)).toEqual({
      status: 'allowed',
      source: 'authorizer',
      reason: 'ALLOWED',
      authorizationReference: 'REF-0-0123456789abcdefghijklmnopqrs',
    });
    expect(await authorizer.decide(REQUEST)).toMatchObject({
      status: 'not_allowed',
      reason: 'NO_CREDIT',
      authorizationReference: 'REF-1-0123456789abcdefghijklmnopqrs',
    });
  });

  it.each([
    ['an HTTP 404', { status: 404, body: envelope(2004, undefined, 'Unknown Token') }],
    ['an HTTP 404 without an envelope', { status: 404, body: 'no such token' }],
    ['status_code 2004 in an HTTP 200', { status: 200, body: envelope(2004) }],
    ['status_code 2004 in an HTTP 400', { status: 400, body: envelope(2004, null) }],
  ])('decides invalid / unknown_token on %s, without retrying', async (_name, answer) => {
    const authorizer = await ocpi(() => answer);
    expect(await authorizer.decide(REQUEST)).toEqual({
      status: 'invalid',
      source: 'authorizer',
      reason: 'unknown_token',
    });
    expect(emsp?.received).toHaveLength(1);
  });

  it('sends the OCPI call: path, query, body and headers', async () => {
    const authorizer = await ocpi(
      (_request, index) =>
        index === 0
          ? { status: 503, body: 'busy' }
          : { status: 200, body: authorizationInfo('ALLOWED') },
      { tokenType: 'APP_USER' },
    );
    expect((await authorizer.decide(REQUEST)).status).toBe('allowed');

    const tries = emsp?.received ?? [];
    expect(tries).toHaveLength(2);
    for (const sent of tries) {
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe(`/ocpi/emsp/2.2.1/tokens/${DRIVER}/authorize`);
      expect(sent.uid).toBe(DRIVER);
      expect([...sent.query]).toEqual([['type', 'APP_USER']]);
      expect(JSON.parse(sent.body)).toEqual({ location_id: STATION });
      expect(sent.headers['content-type']).toBe('application/json');
      expect(sent.headers['x-correlation-id']).toBe(REQUEST_ID);
      expect(sent.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const authorization = sent.headers.authorization ?? '';
      expect(authorization).toBe(`Token ${Buffer.from(TOKEN, 'utf8').toString('base64')}`);
      expect(Buffer.from(authorization.slice('Token '.length), 'base64').toString('utf8')).toBe(
        TOKEN,
      );
    }
    expect(tries[0]?.headers['x-request-id']).not.toBe(tries[1]?.headers['x-request-id']);
  });

  it('retries a 503, then decides on the answer that follows', async () => {
    const calls: AuthorizerCall[] = [];
    const authorizer = await ocpi(
      (_request, index) =>
        index === 0
          ? { status: 503, body: envelope(3000) }
          : { status: 200, body: authorizationInfo('ALLOWED') },
      { calls },
    );
    expect(await authorizer.decide(REQUEST)).toMatchObject({
      status: 'allowed',
      reason: 'ALLOWED',
    });
    expect(emsp?.received).toHaveLength(2);
    expect(calls.map((call) => call.outcome)).toEqual(['5xx', 'ALLOWED']);
  });

  it('retries an OCPI status_code 3000 in an HTTP 200, then decides', async () => {
    const calls: AuthorizerCall[] = [];
    const authorizer = await ocpi(
      (_request, index) =>
        index === 0
          ? { status: 200, body: envelope(3000, undefined, 'Generic server error') }
          : { status: 200, body: authorizationInfo('ALLOWED') },
      { calls },
    );
    expect(await authorizer.decide(REQUEST)).toMatchObject({
      status: 'allowed',
      reason: 'ALLOWED',
    });
    expect(emsp?.received).toHaveLength(2);
    expect(calls.map((call) => call.outcome)).toEqual(['status_3xxx', 'ALLOWED']);
  });

  it('retries a try that hangs, inside the deadline', async () => {
    const authorizer = await ocpi(
      (_request, index) =>
        index === 0 ? 'hang' : { status: 200, body: authorizationInfo('ALLOWED') },
      { timeoutMs: 1_500 },
    );
    expect((await authorizer.decide(REQUEST)).status).toBe('allowed');
    expect(emsp?.received).toHaveLength(2);
  });

  it('decides unknown / timeout when the eMSP hangs, by the deadline', async () => {
    const calls: AuthorizerCall[] = [];
    const authorizer = await ocpi(() => 'hang', { timeoutMs: 400, calls });
    const started = Date.now();
    const decision = await authorizer.decide(REQUEST);
    const elapsed = Date.now() - started;
    expect(decision).toEqual({ status: 'unknown', source: 'authorizer', reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(400 + 1_000);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.every((call) => call.outcome === 'timeout')).toBe(true);
  });

  it('decides unknown / timeout when the eMSP keeps answering 3xxx', async () => {
    // Long enough that, on a loaded machine, the first try and its 50 ms back-off still leave
    // time for a second one before the deadline.
    const authorizer = await ocpi(() => ({ status: 200, body: envelope(3001) }), {
      timeoutMs: 1_500,
    });
    expect(await authorizer.decide(REQUEST)).toMatchObject({
      status: 'unknown',
      reason: 'timeout',
    });
    expect(emsp?.received.length).toBeGreaterThan(1);
  });

  it.each([
    ['the chargegate protocol', { status: 200, body: { status: 'allowed' } }],
    ['HTML', { status: 200, body: '<html>gateway</html>' }],
    ['an envelope without data', { status: 200, body: envelope(1000) }],
    ['an unknown allowed value', { status: 200, body: authorizationInfo('MAYBE') }],
    ['a 401 (wrong credentials)', { status: 401, body: envelope(2000, undefined, 'no') }],
  ])('decides unknown / bad_answer at once on %s', async (_name, answer) => {
    const authorizer = await ocpi(() => answer);
    expect(await authorizer.decide(REQUEST)).toEqual({
      status: 'unknown',
      source: 'authorizer',
      reason: 'bad_answer',
    });
    expect(emsp?.received).toHaveLength(1);
  });

  it('decides invalid / unknown_token for a driver id longer than 36 characters, without a call', async () => {
    const authorizer = await ocpi(() => ({ status: 200, body: authorizationInfo('ALLOWED') }));
    const long = 'D'.repeat(37);
    expect(await authorizer.decide({ ...REQUEST, driverId: long })).toEqual({
      status: 'invalid',
      source: 'authorizer',
      reason: 'unknown_token',
    });
    expect(emsp?.received).toHaveLength(0);

    const longest = 'D'.repeat(36);
    expect((await authorizer.decide({ ...REQUEST, driverId: longest })).status).toBe('allowed');
    expect(emsp?.received.map((sent) => sent.uid)).toEqual([longest]);
  });
});

describe('ocpiVerdict', () => {
  const json = (statusCode: number, body: unknown) => ({ statusCode, body: JSON.stringify(body) });
  const decided = (status: string, reason: string, extra: Record<string, unknown> = {}) => ({
    kind: 'decided',
    decision: { status, source: 'authorizer', reason, ...extra },
  });
  const info = (data: Record<string, unknown>) =>
    json(200, envelope(1000, { allowed: 'ALLOWED', token: tokenObject(DRIVER), ...data }));

  it.each([
    ['ALLOWED', json(200, authorizationInfo('ALLOWED')), decided('allowed', 'ALLOWED')],
    ['BLOCKED', json(200, authorizationInfo('BLOCKED')), decided('not_allowed', 'BLOCKED')],
    ['EXPIRED', json(200, authorizationInfo('EXPIRED')), decided('not_allowed', 'EXPIRED')],
    ['NO_CREDIT', json(200, authorizationInfo('NO_CREDIT')), decided('not_allowed', 'NO_CREDIT')],
    [
      'NOT_ALLOWED',
      json(200, authorizationInfo('NOT_ALLOWED')),
      decided('not_allowed', 'NOT_ALLOWED'),
    ],
    [
      'a reference',
      info({ authorization_reference: 'abc' }),
      decided('allowed', 'ALLOWED', { authorizationReference: 'abc' }),
    ],
    [
      'optional fields sent as null',
      info({ authorization_reference: null, location: null, info: null }),
      decided('allowed', 'ALLOWED'),
    ],
    [
      'a status_message',
      json(200, envelope(1000, authorizationInfo('ALLOWED').data, 'OK')),
      decided('allowed', 'ALLOWED'),
    ],
    ['HTTP 404', { statusCode: 404, body: '' }, decided('invalid', 'unknown_token')],
    ['status_code 2004', json(200, envelope(2004)), decided('invalid', 'unknown_token')],
    ['HTTP 500', json(500, authorizationInfo('ALLOWED')), { kind: 'retry', outcome: '5xx' }],
    ['HTTP 502 with 2004', json(502, envelope(2004)), { kind: 'retry', outcome: '5xx' }],
    ['status_code 3000', json(200, envelope(3000)), { kind: 'retry', outcome: 'status_3xxx' }],
    ['status_code 3003', json(200, envelope(3003)), { kind: 'retry', outcome: 'status_3xxx' }],
    ['status_code 2001', json(400, envelope(2001)), decided('unknown', 'bad_answer')],
    [
      'status_code 1000 in an HTTP 201',
      json(201, authorizationInfo('ALLOWED')),
      decided('unknown', 'bad_answer'),
    ],
    [
      'status_code 1001',
      json(200, envelope(1001, authorizationInfo('ALLOWED').data)),
      decided('unknown', 'bad_answer'),
    ],
    [
      'no timestamp',
      json(200, { status_code: 1000, data: authorizationInfo('ALLOWED').data }),
      decided('unknown', 'bad_answer'),
    ],
    [
      'a string status_code',
      json(200, { ...authorizationInfo('ALLOWED'), status_code: '1000' }),
      decided('unknown', 'bad_answer'),
    ],
    ['no token', info({ token: undefined }), decided('unknown', 'bad_answer')],
    [
      'a reference over 36 characters',
      info({ authorization_reference: 'R'.repeat(37) }),
      decided('unknown', 'bad_answer'),
    ],
    [
      'a location without location_id',
      info({ location: { evse_uids: [] } }),
      decided('unknown', 'bad_answer'),
    ],
    ['not JSON', { statusCode: 200, body: '{' }, decided('unknown', 'bad_answer')],
    ['a JSON array', json(200, [authorizationInfo('ALLOWED')]), decided('unknown', 'bad_answer')],
  ])('%s', (_name, answer, expected) => {
    const verdict = ocpiVerdict(answer);
    expect(verdict).toMatchObject(expected);
    if (verdict.kind === 'decided' && 'decision' in expected) {
      expect(verdict.decision).toEqual(expected.decision);
    }
  });
});
