import { afterEach, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

let service: TestService;
let receiver: Receiver;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function submit(callbackUrl: string): Promise<string> {
  const response = await postCreate(service, validRequest({ callbackUrl }));
  return response.json().requestId;
}

const get = (url: string, headers: Record<string, string> = admin) =>
  service.app.inject({ method: 'GET', url, headers });
const post = (url: string, body?: unknown) =>
  service.app.inject({
    method: 'POST',
    url,
    headers: body === undefined ? admin : { ...admin, 'content-type': 'application/json' },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
const state = async (id: string) => (await service.services.requests.find(id))?.callbackState;
const states = (ids: string[]) => Promise.all(ids.map(state));

describe('GET /api/charging-session-requests (list)', () => {
  it('lists newest first, filters by callback state, and pages with a cursor', async () => {
    let now = Date.parse('2026-02-01T00:00:00Z');
    service = await buildService({ now: () => now++ });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await submit('https://example.com/cb'));
    await service.sql.rows(
      "update charging_session_requests set callback_state = 'failed', next_attempt_at = null where id in (?, ?)",
      [ids[1], ids[4]],
    );

    const first = await get('/api/charging-session-requests?limit=3');
    expect(first.statusCode).toBe(200);
    expect(first.json().data.map((r: { requestId: string }) => r.requestId)).toEqual([
      ids[6],
      ids[5],
      ids[4],
    ]);
    const second = await get(
      `/api/charging-session-requests?limit=3&cursor=${first.json().nextCursor}`,
    );
    expect(second.json().data.map((r: { requestId: string }) => r.requestId)).toEqual([
      ids[3],
      ids[2],
      ids[1],
    ]);
    const third = await get(
      `/api/charging-session-requests?limit=3&cursor=${second.json().nextCursor}`,
    );
    expect(third.json()).toMatchObject({ data: [{ requestId: ids[0] }], nextCursor: null });

    const failed = await get('/api/charging-session-requests?callbackState=failed');
    expect(failed.json().data.map((r: { requestId: string }) => r.requestId)).toEqual([
      ids[4],
      ids[1],
    ]);
    expect(failed.json().data[0].callback.state).toBe('failed');
  });

  it('answers 400 for a bad limit, state or cursor, and 401 without the token', async () => {
    service = await buildService();
    expect((await get('/api/charging-session-requests?limit=0')).json().issues[0].path).toEqual([
      'limit',
    ]);
    expect((await get('/api/charging-session-requests?limit=101')).statusCode).toBe(400);
    expect(
      (await get('/api/charging-session-requests?callbackState=lost')).json().issues[0].path,
    ).toEqual(['callbackState']);
    const cursor = await get('/api/charging-session-requests?cursor=bogus');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().message).toBe('cursor is not a nextCursor this API returned');
    expect((await get('/api/charging-session-requests', {})).statusCode).toBe(401);
  });
});

describe('attempts, redeliver and recover', () => {
  it('shows every attempt, then redelivers a failed callback with the same webhook-id', async () => {
    receiver = await startReceiver(answer(500, {}, 'down for maintenance'));
    service = await buildService({ env: { CALLBACK_RETRY_SCHEDULE: '10ms' } });
    service.worker.start();
    const id = await submit(receiver.url);
    await waitFor(async () => (await state(id)) === 'failed');

    const attempts = await get(`/api/charging-session-requests/${id}/attempts`);
    expect(attempts.statusCode).toBe(200);
    expect(attempts.json()).toMatchObject({
      requestId: id,
      data: [
        {
          attempt: 1,
          outcome: 'http_error',
          responseStatus: 500,
          responseBody: 'down for maintenance',
        },
        {
          attempt: 2,
          outcome: 'http_error',
          responseStatus: 500,
          error: 'receiver answered 500; no retries left after 2 attempts',
        },
      ],
    });
    expect(attempts.json().data[0].durationMs).toBeGreaterThanOrEqual(0);

    receiver.respondWith(answer(200));
    const redelivered = await post(`/api/charging-session-requests/${id}/redeliver`);
    expect(redelivered.statusCode).toBe(200);
    expect(redelivered.json().callback.state).toBe('pending');
    await waitFor(async () => (await state(id)) === 'delivered');
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids).toEqual(new Set([`msg_${id}`]));
    expect(receiver.received).toHaveLength(3);
    expect((await get(`/api/charging-session-requests/${id}`)).json().callback).toMatchObject({
      state: 'delivered',
      attempts: 3,
    });
  });

  it('redelivers a delivered callback again when asked', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService();
    service.worker.start();
    const id = await submit(receiver.url);
    await waitFor(async () => (await state(id)) === 'delivered');
    await post(`/api/charging-session-requests/${id}/redeliver`);
    await waitFor(async () => receiver.received.length === 2 && (await state(id)) === 'delivered');
    expect(receiver.received[0]?.body).toBe(receiver.received[1]?.body);
  });

  it('recovers every failed callback in the window once the receiver is back', async () => {
    receiver = await startReceiver(answer(503));
    let now = Date.parse('2026-04-01T10:00:00Z');
    service = await buildService({ env: { CALLBACK_RETRY_SCHEDULE: 'none' }, now: () => now });
    service.worker.start();
    const early = await submit(receiver.url);
    now = Date.parse('2026-04-01T12:00:00Z');
    const inWindow = [await submit(receiver.url), await submit(receiver.url)];
    await waitFor(async () => (await states([early, ...inWindow])).every((s) => s === 'failed'));

    receiver.respondWith(answer(200));
    const recovered = await post('/api/callbacks/recover', { since: '2026-04-01T11:00:00Z' });
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json()).toEqual({ requeued: 2 });
    await waitFor(async () => (await states(inWindow)).every((s) => s === 'delivered'));
    expect(await state(early)).toBe('failed');

    const none = await post('/api/callbacks/recover', {
      since: '2026-04-01T11:00:00Z',
      until: '2026-04-01T11:30:00Z',
    });
    expect(none.json()).toEqual({ requeued: 0 });
  });

  it('answers 404 for an unknown request and 400 for a bad window', async () => {
    service = await buildService();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await get(`/api/charging-session-requests/${unknown}/attempts`)).statusCode).toBe(404);
    expect((await post(`/api/charging-session-requests/${unknown}/redeliver`)).statusCode).toBe(
      404,
    );
    const bad = await post('/api/callbacks/recover', { since: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toEqual(['since']);
  });
});
