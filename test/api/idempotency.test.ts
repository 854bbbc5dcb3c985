import { afterEach, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';

let service: TestService;
afterEach(async () => {
  await service?.close();
});

const countRows = () => service.sql.count('charging_session_requests');

const post = (body: unknown, key?: string) =>
  postCreate(service, body, key === undefined ? {} : { 'idempotency-key': key });

describe('Idempotency-Key', () => {
  it('answers a replay with the first response and creates nothing', async () => {
    service = await buildService();
    const first = await post(validRequest(), 'key-1');
    const second = await post(validRequest(), 'key-1');
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await countRows()).toBe(1);
  });

  it('answers 422 when the key comes back with another body, and stores nothing new', async () => {
    service = await buildService();
    await post(validRequest(), 'key-2');
    const response = await post(validRequest({ driverId: 'ANOTHER-DRIVER-000000001' }), 'key-2');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      code: 'UNPROCESSABLE_CONTENT',
      message: 'Idempotency-Key "key-2" was already used with a different request body',
    });
    expect(await countRows()).toBe(1);
  });

  it('treats a station id in another case as the same body', async () => {
    service = await buildService();
    const first = await post(validRequest(), 'case-key');
    const upper = validRequest({ stationId: validRequest().stationId.toUpperCase() });
    const again = await post(upper, 'case-key');
    expect(again.statusCode).toBe(200);
    expect(again.json().requestId).toBe(first.json().requestId);
  });

  it('treats different keys, and no key, as different requests', async () => {
    service = await buildService();
    const a = await post(validRequest(), 'key-a');
    const b = await post(validRequest(), 'key-b');
    const c = await post(validRequest());
    const d = await post(validRequest());
    expect(new Set([a, b, c, d].map((r) => r.json().requestId)).size).toBe(4);
    expect(await countRows()).toBe(4);
  });

  it('creates exactly one request when the same key arrives many times at once', async () => {
    service = await buildService();
    const responses = await Promise.all(
      Array.from({ length: 25 }, () => post(validRequest(), 'concurrent-key')),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(25).fill(200));
    expect(new Set(responses.map((r) => r.json().requestId)).size).toBe(1);
    expect(await countRows()).toBe(1);
  });

  it('answers 422 to concurrent uses with a different body, and 200 to the rest', async () => {
    service = await buildService();
    const bodies = Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0 ? validRequest() : validRequest({ driverId: 'OTHER-DRIVER-0000000001' }),
    );
    const responses = await Promise.all(bodies.map((body) => post(body, 'mixed-key')));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 422)).toHaveLength(5);
    expect(await countRows()).toBe(1);
  });

  it('shares keys between the REST and tRPC doors', async () => {
    service = await buildService();
    const rest = await post(validRequest(), 'door-key');
    const trpc = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'door-key' },
      payload: JSON.stringify(validRequest()),
    });
    expect(trpc.json().result.data.requestId).toBe(rest.json().requestId);
    expect(await countRows()).toBe(1);
  });

  it('keeps keys for 24 hours, then lets them be used again', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    service = await buildService({ now: () => now });
    const first = await post(validRequest(), 'day-key');
    now += 24 * 60 * 60 * 1000 - 1;
    expect((await post(validRequest(), 'day-key')).json().requestId).toBe(first.json().requestId);
    expect(
      (await post(validRequest({ driverId: 'OTHER-DRIVER-0000000001' }), 'day-key')).statusCode,
    ).toBe(422);
    now += 2;
    const later = await post(validRequest({ driverId: 'OTHER-DRIVER-0000000001' }), 'day-key');
    expect(later.statusCode).toBe(200);
    expect(later.json().requestId).not.toBe(first.json().requestId);
    expect(await countRows()).toBe(2);
  });

  it.each([
    ['256 characters', 'k'.repeat(256), 'Idempotency-Key must be at most 255 characters'],
    ['a non-ASCII character', 'clé', 'Idempotency-Key may only contain printable ASCII characters'],
    ['a tab', 'a\tb', 'Idempotency-Key may only contain printable ASCII characters'],
  ])('answers 400 to a key with %s', async (_name, key, message) => {
    service = await buildService();
    const response = await post(validRequest(), key);
    expect(response.statusCode).toBe(400);
    expect(response.json().issues).toEqual([{ path: ['idempotency-key'], message }]);
    expect(await countRows()).toBe(0);
  });

  it('accepts a 255-character key of printable ASCII', async () => {
    service = await buildService();
    const key = `${'K'.repeat(250)} !~{}`;
    expect(key).toHaveLength(255);
    expect((await post(validRequest(), key)).statusCode).toBe(200);
  });
});
