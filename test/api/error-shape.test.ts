import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildService, type TestService, validRequest } from '../helpers/app.ts';
import { addFailingTrigger } from '../helpers/database.ts';

/** The contract's error body: code, message, optional issues, and nothing else. */
function expectErrorBody(body: string, code: string) {
  const json = JSON.parse(body);
  expect(json.code).toBe(code);
  expect(typeof json.message).toBe('string');
  expect(Object.keys(json).every((key) => ['code', 'message', 'issues'].includes(key))).toBe(true);
  expect(body).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
  expect(body).not.toMatch(/node_modules|\/src\/|FST_|SQLITE/);
  return json;
}

describe.each(['production', 'development'])('error responses with NODE_ENV=%s', (nodeEnv) => {
  let service: TestService;
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env.NODE_ENV;
    process.env.NODE_ENV = nodeEnv;
  });
  afterAll(() => {
    process.env.NODE_ENV = previous;
  });
  beforeEach(async () => {
    service = await buildService();
  });
  afterEach(async () => {
    await service.close();
  });

  const post = (payload: string | Buffer, contentType?: string) =>
    service.app.inject({
      method: 'POST',
      url: '/api/charging-session-requests',
      headers: contentType ? { 'content-type': contentType } : {},
      payload,
    });

  it('400 for malformed JSON', async () => {
    const response = await post('{"stationId": ', 'application/json');
    expect(response.statusCode).toBe(400);
    expect(expectErrorBody(response.body, 'BAD_REQUEST').message).toBe(
      'the request body is not valid JSON',
    );
  });

  it('400 for an empty body', async () => {
    const response = await post('', 'application/json');
    expect(response.statusCode).toBe(400);
    expectErrorBody(response.body, 'BAD_REQUEST');
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"text"'],
    ['a number', '12'],
    ['null', 'null'],
  ])('400 for %s', async (_name, payload) => {
    const response = await post(payload, 'application/json');
    expect(response.statusCode).toBe(400);
    expect(expectErrorBody(response.body, 'BAD_REQUEST').message).toMatch(/must be a JSON object/);
  });

  it('400 naming each wrong field', async () => {
    const response = await post(
      JSON.stringify({ stationId: 12, driverId: 'x', callbackUrl: 'https://u:p@example.com' }),
      'application/json',
    );
    expect(response.statusCode).toBe(400);
    const json = expectErrorBody(response.body, 'BAD_REQUEST');
    expect(json.issues).toEqual([
      { path: ['stationId'], message: 'stationId must be a string' },
      { path: ['driverId'], message: 'driverId must be at least 20 characters long' },
      { path: ['callbackUrl'], message: 'callbackUrl must not contain a user name or password' },
    ]);
    expect(json.message).toContain('stationId');
  });

  it('400 for a missing field, named', async () => {
    const { driverId: _omitted, ...rest } = validRequest();
    const response = await post(JSON.stringify(rest), 'application/json');
    expect(expectErrorBody(response.body, 'BAD_REQUEST').issues).toEqual([
      { path: ['driverId'], message: 'driverId is required' },
    ]);
  });

  it('413 for a body over 16 KiB, even if it is otherwise valid', async () => {
    const response = await post(
      JSON.stringify(validRequest({ callbackUrl: `https://example.com/${'a'.repeat(17 * 1024)}` })),
      'application/json',
    );
    expect(response.statusCode).toBe(413);
    expect(expectErrorBody(response.body, 'PAYLOAD_TOO_LARGE').message).toBe(
      'the request body is larger than 16384 bytes',
    );
  });

  it('accepts a body of exactly 16 KiB (then judges its fields)', async () => {
    const base = JSON.stringify(validRequest({ callbackUrl: '' }));
    const payload = JSON.stringify(
      validRequest({ callbackUrl: 'x'.repeat(16 * 1024 - base.length) }),
    );
    expect(Buffer.byteLength(payload)).toBe(16 * 1024);
    const response = await post(payload, 'application/json');
    expect(response.statusCode).toBe(400);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    '415 for %s',
    async (contentType) => {
      const response = await post(JSON.stringify(validRequest()), contentType);
      expect(response.statusCode).toBe(415);
      expect(expectErrorBody(response.body, 'UNSUPPORTED_MEDIA_TYPE').message).toContain(
        'application/json',
      );
    },
  );

  it('200 for application/json with a charset', async () => {
    const response = await post(JSON.stringify(validRequest()), 'application/json; charset=utf-8');
    expect(response.statusCode).toBe(200);
  });

  it('404 for an unknown route, in the same shape', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(expectErrorBody(response.body, 'NOT_FOUND').message).toBe(
      'no route for GET /api/nothing-here',
    );
  });

  it('500 without the internal message when the database refuses the write, and nothing is kept', async () => {
    await addFailingTrigger(service.database, {
      name: 'refuse_inserts',
      table: 'charging_session_requests',
      event: 'INSERT',
      message: 'internal detail: disk quota exceeded on /var/lib/x',
    });
    const response = await post(JSON.stringify(validRequest()), 'application/json');
    expect(response.statusCode).toBe(500);
    const json = expectErrorBody(response.body, 'INTERNAL_SERVER_ERROR');
    expect(json).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
    expect(response.body).not.toContain('disk quota');
    expect(await service.sql.count('charging_session_requests')).toBe(0);

    const trpc = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(validRequest()),
    });
    expect(trpc.statusCode).toBe(500);
    expect(trpc.json().error.message).toBe('Internal server error');
    expect(trpc.body).not.toContain('disk quota');
    expect(trpc.body).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('413 on the tRPC door in its own envelope', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(
        validRequest({ callbackUrl: `https://example.com/${'a'.repeat(17 * 1024)}` }),
      ),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.data).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      httpStatus: 413,
    });
  });

  it('every response carries an x-request-id, echoing a sane one', async () => {
    const given = await service.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await service.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id\u0001' },
    });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('errors before a request reaches a route', () => {
  let service: TestService;
  let port: number;
  beforeAll(async () => {
    service = await buildService();
    const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
  });
  afterAll(async () => {
    await service.close();
  });

  /** Sends raw bytes and answers the status line and the body. */
  async function raw(request: string): Promise<{ status: string; body: string }> {
    // Written, not ended: a client that half-closes before its answer has its request aborted.
    // Every request here either is refused or says Connection: close, so the server closes.
    const socket = connect(port, '127.0.0.1');
    socket.write(request);
    let text = '';
    for await (const chunk of socket) text += chunk.toString();
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return { status: head.split('\r\n')[0] ?? '', body };
  }

  it('400 in the error shape for a URL that cannot be decoded', async () => {
    const response = await service.app.inject({
      method: 'GET',
      url: '/api/charging-session-requests/%ZZ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'BAD_REQUEST',
      message: 'the URL is not valid (check its percent-encoding)',
    });
  });

  it('400 in the error shape for a malformed header line', async () => {
    const { status, body } = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n');
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(body)).toEqual({
      code: 'BAD_REQUEST',
      message: 'the request is not valid HTTP',
    });
  });

  it('431 in the error shape for headers that are too large', async () => {
    const { status, body } = await raw(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(JSON.parse(body)).toEqual({
      code: 'BAD_REQUEST',
      message: 'the request headers are too large',
    });
  });

  it('a bad Host header cannot make the tRPC door fail', async () => {
    const { status } = await raw(
      `GET /trpc/chargingSessionRequests.get?input=${encodeURIComponent('{"requestId":"00000000-0000-4000-8000-000000000000"}')} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`,
    );
    expect(status).toBe('HTTP/1.1 404 Not Found');
  });

  it('malformed JSON on the tRPC door does not echo the parser', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: '{"stationId": nope',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toBe('the request body or input is not valid JSON');
    expect(response.body).not.toMatch(/position|Unexpected token|Expected/);
  });
});
