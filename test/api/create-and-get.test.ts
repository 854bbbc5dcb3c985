import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';

let service: TestService;
beforeEach(async () => {
  service = await buildService();
});
afterEach(async () => {
  await service.close();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  postCreate(service, body, headers);

describe('POST /api/charging-session-requests', () => {
  it('acknowledges a valid request only once it is stored', async () => {
    const response = await post(validRequest());
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      status: 'acknowledged',
      message: 'Charging Session request received',
      requestId: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    expect(response.headers.location).toBe(`/api/charging-session-requests/${body.requestId}`);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const row = await service.services.requests.find(body.requestId);
    expect(row).toMatchObject({ ...validRequest(), callbackState: 'pending', attempts: 0 });
  });

  it('keeps the station id as sent, in either case', async () => {
    const stationId = '3F0E9A52-8A8C-4D8E-9F3A-7B1C2D3E4F50';
    const response = await post(validRequest({ stationId }));
    expect(response.statusCode).toBe(200);
    expect((await service.services.requests.find(response.json().requestId))?.stationId).toBe(
      stationId,
    );
  });

  it('gives every request its own id', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, () => post(validRequest()).then((r) => r.json().requestId)),
    );
    expect(new Set(ids).size).toBe(20);
  });
});

describe('GET /api/charging-session-requests/{requestId}', () => {
  it('shows the stored request with no decision and a pending callback', async () => {
    const { requestId } = (await post(validRequest())).json();
    const response = await service.app.inject({
      method: 'GET',
      url: `/api/charging-session-requests/${requestId}`,
    });
    expect(response.statusCode).toBe(200);
    const view = response.json();
    expect(view).toEqual({
      requestId,
      ...validRequest(),
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      decision: null,
      callback: {
        state: 'pending',
        attempts: 0,
        lastAttemptAt: null,
        lastResponseStatus: null,
        lastError: null,
        nextAttemptAt: view.createdAt,
      },
    });
  });

  it('finds an id given in upper case', async () => {
    const { requestId } = (await post(validRequest())).json();
    const response = await service.app.inject({
      method: 'GET',
      url: `/api/charging-session-requests/${requestId.toUpperCase()}`,
    });
    expect(response.json().requestId).toBe(requestId);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = await service.app.inject({
      method: 'GET',
      url: '/api/charging-session-requests/00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      code: 'NOT_FOUND',
      message: 'no charging session request with id 00000000-0000-4000-8000-000000000000',
    });
    const malformed = await service.app.inject({
      method: 'GET',
      url: '/api/charging-session-requests/not-a-uuid',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toEqual({
      code: 'BAD_REQUEST',
      message: 'Invalid input: requestId must be a UUID in the 8-4-4-4-12 hexadecimal form',
      issues: [
        {
          path: ['requestId'],
          message: 'requestId must be a UUID in the 8-4-4-4-12 hexadecimal form',
        },
      ],
    });
  });
});

describe('the tRPC door', () => {
  it('creates and reads through /trpc with the same results', async () => {
    const created = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(validRequest()),
    });
    expect(created.statusCode).toBe(200);
    const data = created.json().result.data;
    expect(data).toMatchObject({
      status: 'acknowledged',
      message: 'Charging Session request received',
    });
    expect(created.headers.location).toBe(`/api/charging-session-requests/${data.requestId}`);

    const read = await service.app.inject({
      method: 'GET',
      url: `/trpc/chargingSessionRequests.get?input=${encodeURIComponent(JSON.stringify({ requestId: data.requestId }))}`,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json().result.data).toMatchObject({ requestId: data.requestId, ...validRequest() });
  });

  it('answers invalid input with 400 and the issues, without a stack', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/trpc/chargingSessionRequests.create',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(validRequest({ driverId: 'short' })),
    });
    expect(response.statusCode).toBe(400);
    const error = response.json().error;
    expect(error.data).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      issues: [{ path: ['driverId'], message: 'driverId must be at least 20 characters long' }],
    });
    expect(error.data.stack).toBeUndefined();
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
  });
});
