import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildService, capturingLogger, type TestService, validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { addFailingTrigger } from '../helpers/database.ts';

/**
 * A single mutation POSTed as JSON takes the tRPC door's direct path; the same request with any
 * query string goes through tRPC's own `resolveResponse`. Both must answer alike, byte for byte
 * apart from the fresh requestIds.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

type Call = { path: string; body?: string; headers?: Record<string, string> };

const CASES: Array<[string, Call]> = [
  [
    'an acknowledgement',
    { path: 'chargingSessionRequests.create', body: JSON.stringify(validRequest()) },
  ],
  [
    'invalid input',
    {
      path: 'chargingSessionRequests.create',
      body: JSON.stringify(validRequest({ driverId: 7, stationId: 'x' })),
    },
  ],
  [
    'a body that is not JSON',
    { path: 'chargingSessionRequests.create', body: '{"stationId": nope' },
  ],
  ['no body', { path: 'chargingSessionRequests.create', body: '' }],
  ['a JSON array', { path: 'chargingSessionRequests.create', body: '[1,2]' }],
  [
    'an invalid Idempotency-Key',
    {
      path: 'chargingSessionRequests.create',
      body: JSON.stringify(validRequest()),
      headers: { 'idempotency-key': 'x'.repeat(300) },
    },
  ],
  [
    'an admin call without a token',
    {
      path: 'drivers.upsert',
      body: JSON.stringify({ driverId: 'DRV-0001-ab.cd_ef~0123', status: 'active' }),
    },
  ],
  [
    'an admin call',
    {
      path: 'drivers.upsert',
      body: JSON.stringify({ driverId: 'DRV-0001-ab.cd_ef~0123', status: 'active' }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    },
  ],
  [
    'a domain error',
    {
      path: 'drivers.remove',
      body: JSON.stringify({ driverId: 'DRV-0009-ab.cd_ef~0123' }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    },
  ],
];

describe('the tRPC door answers a single mutation as tRPC does', () => {
  let service: TestService;
  let logged: ReturnType<typeof capturingLogger>;
  beforeEach(async () => {
    logged = capturingLogger('error');
    service = await buildService({ log: logged.log });
  });
  afterEach(async () => {
    await service.close();
  });

  const send = (call: Call, query: string) =>
    service.app.inject({
      method: 'POST',
      url: `/trpc/${call.path}${query}`,
      headers: { 'content-type': 'application/json', ...call.headers },
      payload: call.body ?? '',
    });

  const comparable = (response: Awaited<ReturnType<typeof send>>) => ({
    status: response.statusCode,
    body: response.body.replace(UUID, '<uuid>'),
    contentType: response.headers['content-type'],
    vary: response.headers.vary,
    location: String(response.headers.location).replace(UUID, '<uuid>'),
  });

  it.each(CASES)('%s', async (_name, call) => {
    const direct = await send(call, '');
    const throughResolveResponse = await send(call, '?via=resolveResponse');
    expect(comparable(direct)).toEqual(comparable(throughResolveResponse));
  });

  it('an idempotent replay, and a key reused for another body', async () => {
    const headers = { 'idempotency-key': 'same-key-0001' };
    const first = {
      path: 'chargingSessionRequests.create',
      body: JSON.stringify(validRequest()),
      headers,
    };
    const created = await send(first, '');
    const replays = [await send(first, ''), await send(first, '?via=resolveResponse')];
    for (const replay of replays) {
      expect(replay.body).toBe(created.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
    }
    const other = {
      ...first,
      body: JSON.stringify(validRequest({ driverId: 'DRV-0002-ab.cd_ef~0123' })),
    };
    const [direct, viaResolve] = [await send(other, ''), await send(other, '?via=resolveResponse')];
    expect(direct.statusCode).toBe(422);
    expect(comparable(direct)).toEqual(comparable(viaResolve));
  });

  it('a database failure: the same 500 without its detail, logged once per call', async () => {
    await addFailingTrigger(service.database, {
      name: 'fail_insert',
      table: 'charging_session_requests',
      event: 'INSERT',
      message: 'internal detail: disk quota exceeded on /var/lib/x',
    });
    const call = { path: 'chargingSessionRequests.create', body: JSON.stringify(validRequest()) };
    const direct = await send(call, '');
    const throughResolveResponse = await send(call, '?via=resolveResponse');
    expect(direct.statusCode).toBe(500);
    expect(direct.body).not.toContain('disk quota');
    expect(comparable(direct)).toEqual(comparable(throughResolveResponse));
    expect(logged.lines.filter((line) => line.msg === 'procedure failed')).toHaveLength(2);
  });
});
