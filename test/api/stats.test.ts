import { afterEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.ts';
import { buildService, postCreate, type TestService } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const at = (text: string) => Date.parse(text);

function setState(target: TestService, id: string, state: 'delivered' | 'failed') {
  return target.sql.rows(
    'update charging_session_requests set callback_state = ?, next_attempt_at = null where id = ?',
    [state, id],
  );
}

/** Records an attempt as the worker does. */
function attempt(
  target: TestService,
  requestId: string,
  startedAt: number,
  outcome: 'delivered' | 'http_error',
  durationMs = 120,
) {
  return target.sql.rows(
    'insert into callback_attempts (request_id, attempt, started_at, duration_ms, outcome) values (?, 1, ?, ?, ?)',
    [requestId, startedAt, durationMs, outcome],
  );
}

describe('callbacks.stats', () => {
  it('counts callbacks by state, ages the oldest pending one and fills 60 minutes', async () => {
    let now = at('2026-02-01T09:30:59Z');
    service = await buildService({ now: () => now });
    const create = async (time: string) => {
      now = at(time);
      return (
        await postCreate(service as TestService, {
          stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
          driverId: 'DRV-0001-ab.cd_ef~0123',
          callbackUrl: 'https://backend.example.com/cb',
        })
      ).json().requestId as string;
    };
    const beforeWindow = await create('2026-02-01T09:30:59Z');
    const firstMinute = await create('2026-02-01T09:31:05Z');
    const current1 = await create('2026-02-01T10:30:10Z');
    const current2 = await create('2026-02-01T10:30:20Z');
    const target = service;
    await setState(target, beforeWindow, 'delivered');
    await setState(target, firstMinute, 'failed');
    // Old attempts first, so the window begins deep inside the table.
    for (let i = 0; i < 40; i++) {
      await attempt(target, beforeWindow, at('2026-02-01T08:00:00Z') + i, 'http_error');
    }
    // Started before the window (and finished inside it): not counted.
    await attempt(target, beforeWindow, at('2026-02-01T09:30:59.950Z'), 'delivered');
    await attempt(target, firstMinute, at('2026-02-01T09:31:30Z'), 'delivered');
    await attempt(target, firstMinute, at('2026-02-01T10:29:01Z'), 'http_error');
    await attempt(target, current1, at('2026-02-01T10:29:02Z'), 'delivered');
    await attempt(target, current2, at('2026-02-01T10:29:40Z'), 'delivered');
    now = at('2026-02-01T10:30:30Z');

    const response = await service.app.inject({
      method: 'GET',
      url: '/api/callbacks/stats',
      headers: admin,
    });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats.at).toBe('2026-02-01T10:30:30.000Z');
    expect(stats.callbacks).toEqual({ pending: 2, delivered: 1, failed: 1 });
    expect(stats.oldestPending).toEqual({
      createdAt: '2026-02-01T10:30:10.000Z',
      ageSeconds: 20,
    });
    expect(stats.perMinute).toHaveLength(60);
    expect(stats.perMinute[0]).toEqual({
      minute: '2026-02-01T09:31:00.000Z',
      acknowledged: 1,
      delivered: 1,
    });
    expect(stats.perMinute[58]).toEqual({
      minute: '2026-02-01T10:29:00.000Z',
      acknowledged: 0,
      delivered: 2,
    });
    expect(stats.perMinute[59]).toEqual({
      minute: '2026-02-01T10:30:00.000Z',
      acknowledged: 2,
      delivered: 0,
    });
    const sum = (key: 'acknowledged' | 'delivered') =>
      stats.perMinute.reduce(
        (total: number, m: Record<string, number>) => total + (m[key] ?? 0),
        0,
      );
    expect(sum('acknowledged')).toBe(3);
    expect(sum('delivered')).toBe(3);

    // The tRPC door answers the same.
    const trpc = await service.app.inject({
      method: 'GET',
      url: `/trpc/callbacks.stats?input=${encodeURIComponent('{}')}`,
      headers: admin,
    });
    expect(trpc.statusCode).toBe(200);
    expect(trpc.json().result.data).toEqual(stats);
  });

  it('answers null for the oldest pending callback when none is pending', async () => {
    service = await buildService();
    const response = await service.app.inject({
      method: 'GET',
      url: '/api/callbacks/stats',
      headers: admin,
    });
    expect(response.json()).toMatchObject({
      callbacks: { pending: 0, delivered: 0, failed: 0 },
      oldestPending: null,
    });
  });

  it('needs the admin token on both doors and refuses unknown parameters', async () => {
    service = await buildService();
    const rest = await service.app.inject({ method: 'GET', url: '/api/callbacks/stats' });
    expect(rest.statusCode).toBe(401);
    expect(rest.json()).toEqual({
      code: 'UNAUTHORIZED',
      message: 'send Authorization: Bearer <ADMIN_TOKEN>',
    });
    const trpc = await service.app.inject({
      method: 'GET',
      url: `/trpc/callbacks.stats?input=${encodeURIComponent('{}')}`,
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    expect(trpc.statusCode).toBe(401);
    const unknown = await service.app.inject({
      method: 'GET',
      url: '/api/callbacks/stats?window=5',
      headers: admin,
    });
    expect(unknown.statusCode).toBe(400);
  });

  it('is in the OpenAPI document as an admin GET', () => {
    const operation = openApiDocument('0.0.0').paths?.['/callbacks/stats']?.get;
    expect(operation?.security).toEqual([{ adminToken: [] }]);
    expect(operation?.responses?.['200']).toBeDefined();
  });
});
