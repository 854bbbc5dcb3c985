import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';

/** Input the API refuses instead of guessing at: bytes that are not UTF-8, unknown parameters. */

let service: TestService;
beforeAll(async () => {
  service = await buildService();
});
afterAll(async () => {
  await service.close();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const count = () => service.sql.count('charging_session_requests');

/** A create body with a 0xff byte inside the callbackUrl string. */
function invalidUtf8Body(): Buffer {
  const [before, after] = JSON.stringify(
    validRequest({ callbackUrl: 'https://example.com/@' }),
  ).split('@');
  return Buffer.concat([
    Buffer.from(before as string),
    Buffer.from([0xff]),
    Buffer.from(after as string),
  ]);
}

describe('a body that is not valid UTF-8', () => {
  it('answers 400 on the REST door and stores nothing', async () => {
    const before = await count();
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/charging-session-requests',
      headers: { 'content-type': 'application/json' },
      payload: invalidUtf8Body(),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'BAD_REQUEST',
      message: 'the request body is not valid UTF-8; send JSON encoded as UTF-8',
    });
    expect(await count()).toBe(before);
  });

  it('answers 400 on the tRPC door, in its envelope, and stores nothing', async () => {
    const before = await count();
    const response = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: invalidUtf8Body(),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      message: 'the request body is not valid UTF-8; send JSON encoded as UTF-8',
      data: { code: 'BAD_REQUEST', httpStatus: 400 },
    });
    expect(await count()).toBe(before);
  });

  it.each([
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a lone surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses %s too', async (_name, bytes) => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/charging-session-requests',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.concat([Buffer.from('{"driverId":"'), Buffer.from(bytes), Buffer.from('"}')]),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/not valid UTF-8/);
  });

  it('accepts UTF-8 beyond ASCII (then judges the fields)', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/charging-session-requests',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from(
        JSON.stringify(validRequest({ callbackUrl: 'https://bücher.example/ä' })),
      ),
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('an unknown query parameter', () => {
  it('answers 400 naming a misspelt filter instead of listing everything', async () => {
    const response = await service.app.inject({
      method: 'GET',
      url: '/api/charging-session-requests?callbackstate=failed',
      headers: admin,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'BAD_REQUEST',
      message:
        'Invalid input: unknown query parameter "callbackstate" (this path takes callbackState, limit, cursor)',
      issues: [
        {
          path: ['callbackstate'],
          message:
            'unknown query parameter "callbackstate" (this path takes callbackState, limit, cursor)',
        },
      ],
    });
  });

  it('still takes the known ones', async () => {
    const response = await service.app.inject({
      method: 'GET',
      url: '/api/charging-session-requests?callbackState=failed&limit=5',
      headers: admin,
    });
    expect(response.statusCode).toBe(200);
  });

  it.each([
    [
      'GET',
      '/api/charging-session-requests/3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50?verbose=1',
      'verbose',
    ],
    ['GET', '/api/drivers/DRV-0001-ab.cd_ef~0123?driverId=OTHER-DRIVER-000000001', 'driverId'],
    ['DELETE', '/api/drivers/DRV-0001-ab.cd_ef~0123?force=true', 'force'],
  ])('answers 400 for %s %s, which takes none', async (method, url, name) => {
    const response = await service.app.inject({
      method: method as 'GET' | 'DELETE',
      url,
      headers: admin,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().issues).toEqual([
      { path: [name], message: `unknown query parameter "${name}" (this path takes none)` },
    ]);
  });

  it('answers 400 for a query string on a create, which takes a body', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/charging-session-requests?dryRun=true',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(validRequest()),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('unknown query parameter "dryRun"');
  });

  it('leaves the tRPC door and its input parameter alone', async () => {
    const created = (await postCreate(service, validRequest())).json();
    const input = encodeURIComponent(JSON.stringify({ requestId: created.requestId }));
    const single = await service.app.inject({
      method: 'GET',
      url: `/trpc/chargingSessionRequests.get?input=${input}`,
    });
    expect(single.statusCode).toBe(200);
    expect(single.json().result.data.requestId).toBe(created.requestId);
    const batched = await service.app.inject({
      method: 'GET',
      url: `/trpc/chargingSessionRequests.get?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { requestId: created.requestId } }))}`,
    });
    expect(batched.statusCode).toBe(200);
  });
});
