import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildService, type TestService } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';

const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let service: TestService;
afterEach(async () => {
  await service.close();
});

const call = (
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = auth,
) =>
  service.app.inject({
    method,
    url,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });

describe('admin authorization', () => {
  beforeEach(async () => {
    service = await buildService();
  });

  it.each([
    ['no Authorization', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['the token with another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
    ['the token with a suffix', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
  ])('answers 401 to %s, on both doors', async (_name, headers) => {
    const rest = await call('GET', `/api/drivers/${DRIVER}`, undefined, headers);
    expect(rest.statusCode).toBe(401);
    expect(rest.json()).toEqual({
      code: 'UNAUTHORIZED',
      message: 'send Authorization: Bearer <ADMIN_TOKEN>',
    });
    const trpc = await service.app.inject({
      method: 'GET',
      url: `/trpc/drivers.get?input=${encodeURIComponent(JSON.stringify({ driverId: DRIVER }))}`,
      headers,
    });
    expect(trpc.statusCode).toBe(401);
  });

  it('accepts the token, whatever the case of "Bearer"', async () => {
    expect(
      (
        await call('GET', `/api/drivers/${DRIVER}`, undefined, {
          authorization: `bearer ${ADMIN_TOKEN}`,
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('admin procedures without ADMIN_TOKEN', () => {
  it('answer 401 even to a guessed token', async () => {
    service = await buildService({ env: { ADMIN_TOKEN: '' } });
    const response = await call('GET', `/api/drivers/${DRIVER}`, undefined, {
      authorization: 'Bearer undefined',
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().message).toBe(
      'admin procedures are disabled: the server has no ADMIN_TOKEN',
    );
  });
});

describe('driver ACL procedures', () => {
  beforeEach(async () => {
    service = await buildService();
  });

  it('upserts, reads, grants, revokes and removes a driver', async () => {
    const created = await call('PUT', `/api/drivers/${DRIVER}`, { status: 'active' });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toEqual({
      driverId: DRIVER,
      status: 'active',
      expiresAt: null,
      allStations: false,
      stations: [],
    });

    const granted = await call('PUT', `/api/drivers/${DRIVER}/stations/${STATION.toUpperCase()}`);
    expect(granted.json().stations).toEqual([STATION]);
    await call('PUT', `/api/drivers/${DRIVER}/stations/${STATION}`);
    expect((await call('GET', `/api/drivers/${DRIVER}`)).json().stations).toEqual([STATION]);

    const updated = await call('PUT', `/api/drivers/${DRIVER}`, {
      status: 'blocked',
      expiresAt: '2027-01-01T00:00:00+01:00',
      allStations: true,
    });
    expect(updated.json()).toEqual({
      driverId: DRIVER,
      status: 'blocked',
      expiresAt: '2026-12-31T23:00:00.000Z',
      allStations: true,
      stations: [STATION],
    });

    const kept = await call('PUT', `/api/drivers/${DRIVER}`, { status: 'active' });
    expect(kept.json()).toMatchObject({
      status: 'active',
      expiresAt: '2026-12-31T23:00:00.000Z',
      allStations: true,
    });
    const cleared = await call('PUT', `/api/drivers/${DRIVER}`, {
      status: 'active',
      expiresAt: null,
    });
    expect(cleared.json().expiresAt).toBeNull();

    const revoked = await call('DELETE', `/api/drivers/${DRIVER}/stations/${STATION}`);
    expect(revoked.json().stations).toEqual([]);

    const removed = await call('DELETE', `/api/drivers/${DRIVER}`);
    expect(removed.json()).toEqual({ driverId: DRIVER, deleted: true });
    expect((await call('GET', `/api/drivers/${DRIVER}`)).statusCode).toBe(404);
    expect(await service.sql.count('driver_stations')).toBe(0);
  });

  it('answers 404 for grants and removals of an unknown driver', async () => {
    expect((await call('PUT', `/api/drivers/${DRIVER}/stations/${STATION}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/drivers/${DRIVER}/stations/${STATION}`)).statusCode).toBe(
      404,
    );
    const removed = await call('DELETE', `/api/drivers/${DRIVER}`);
    expect(removed.statusCode).toBe(404);
    expect(removed.json()).toEqual({ code: 'NOT_FOUND', message: `no driver with id ${DRIVER}` });
  });

  it.each([
    [{ status: 'paused' }, ['status'], 'status must be "active" or "blocked"'],
    [{}, ['status'], 'status is required'],
    [
      { status: 'active', expiresAt: 'tomorrow' },
      ['expiresAt'],
      'expiresAt must be an ISO 8601 date-time',
    ],
    [
      { status: 'active', allStations: 'yes' },
      ['allStations'],
      'allStations must be true or false',
    ],
  ])('answers 400 to %j', async (body, path, message) => {
    const response = await call('PUT', `/api/drivers/${DRIVER}`, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().issues[0].path).toEqual(path);
    expect(response.json().issues[0].message).toContain(message);
  });

  it('answers 400 to a malformed driver id or station id in the path', async () => {
    const badDriver = await call('PUT', '/api/drivers/short', { status: 'active' });
    expect(badDriver.statusCode).toBe(400);
    expect(badDriver.json().issues).toEqual([
      { path: ['driverId'], message: 'driverId must be at least 20 characters long' },
    ]);
    await call('PUT', `/api/drivers/${DRIVER}`, { status: 'active' });
    const badStation = await call('PUT', `/api/drivers/${DRIVER}/stations/station-1`);
    expect(badStation.statusCode).toBe(400);
    expect(badStation.json().issues[0].path).toEqual(['stationId']);
  });
});
