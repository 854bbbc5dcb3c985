import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
} from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { envelope, type FakeEmsp, startFakeEmsp, tokenObject } from '../helpers/fake-emsp.ts';
import { type Received, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

/** Every decision's reason, end to end: stored, shown by get and sent in the signed callback. */

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const STATION = validRequest().stationId;

let service: TestService | undefined;
let receiver: Receiver | undefined;
let emsp: FakeEmsp | undefined;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
  await emsp?.close();
  service = receiver = emsp = undefined;
});

async function submit(driverId: string): Promise<string> {
  const response = await postCreate(
    service as TestService,
    validRequest({ driverId, callbackUrl: receiver?.url }),
  );
  expect(response.statusCode).toBe(200);
  return response.json().requestId;
}

async function restDecision(requestId: string): Promise<unknown> {
  const response = await (service as TestService).app.inject({
    method: 'GET',
    url: `/api/charging-session-requests/${requestId}`,
  });
  expect(response.statusCode).toBe(200);
  return response.json().decision;
}

async function trpcDecision(requestId: string): Promise<unknown> {
  const input = encodeURIComponent(JSON.stringify({ requestId }));
  const response = await (service as TestService).app.inject({
    method: 'GET',
    url: `/trpc/chargingSessionRequests.get?input=${input}`,
  });
  expect(response.statusCode).toBe(200);
  return response.json().result.data.decision;
}

/** The verified callback body for a request, once it has arrived. */
async function callbackFor(requestId: string): Promise<Record<string, unknown>> {
  const delivery = await waitFor(
    () =>
      receiver?.received.find(
        (received: Received) => received.headers['webhook-id'] === `msg_${requestId}`,
      ),
    { what: `the callback of ${requestId}` },
  );
  return new Webhook(SECRET).verify(
    delivery.body,
    delivery.headers as Record<string, string>,
  ) as Record<string, unknown>;
}

async function putDriver(driverId: string, body: Record<string, unknown>): Promise<void> {
  const response = await (service as TestService).app.inject({
    method: 'PUT',
    url: `/api/drivers/${driverId}`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: JSON.stringify(body),
  });
  expect(response.statusCode).toBe(200);
}

describe('the built-in ACL', () => {
  it('gives each of its five reasons in get (REST and tRPC) and in the signed callback', async () => {
    receiver = await startReceiver();
    service = await buildService({ env: { WEBHOOK_SECRET: SECRET } });
    const drivers = {
      granted: 'DRV-GRANTED-000000000001',
      blocked: 'DRV-BLOCKED-000000000002',
      expired: 'DRV-EXPIRED-000000000003',
      station_not_granted: 'DRV-NOGRANT-000000000004',
      unknown_driver: 'DRV-UNKNOWN-000000000005',
    };
    await putDriver(drivers.granted, { status: 'active' });
    const grant = await service.app.inject({
      method: 'PUT',
      url: `/api/drivers/${drivers.granted}/stations/${STATION}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(grant.statusCode).toBeLessThan(300);
    await putDriver(drivers.blocked, { status: 'blocked', allStations: true });
    await putDriver(drivers.expired, {
      status: 'active',
      allStations: true,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await putDriver(drivers.station_not_granted, { status: 'active' });

    const expected = {
      granted: 'allowed',
      blocked: 'not_allowed',
      expired: 'not_allowed',
      station_not_granted: 'not_allowed',
      unknown_driver: 'invalid',
    } as const;
    const ids = new Map<string, string>();
    for (const [reason, driverId] of Object.entries(drivers))
      ids.set(reason, await submit(driverId));
    service.worker.start();

    for (const [reason, status] of Object.entries(expected)) {
      const requestId = ids.get(reason) as string;
      const body = await callbackFor(requestId);
      expect(body).toEqual({
        requestId,
        stationId: STATION,
        driverId: drivers[reason as keyof typeof drivers],
        status,
        reason,
        decidedAt: expect.any(String),
      });
      const decision = { status, reason, decidedAt: body.decidedAt };
      expect(await restDecision(requestId)).toEqual(decision);
      expect(await trpcDecision(requestId)).toEqual(decision);
    }
  });
});

describe('with AUTHORIZER_PROTOCOL=ocpi-2.2.1', () => {
  const TOKEN = 'emsp-credentials-ü-0123456789';
  const ALLOWED_DRIVER = 'DRV-OCPI-ALLOWED-00001';
  const NO_CREDIT_DRIVER = 'DRV-OCPI-NOCREDIT-0002';
  const UNKNOWN_DRIVER = 'DRV-OCPI-UNKNOWN-00003';
  const GARBAGE_DRIVER = 'DRV-OCPI-GARBAGE-00004';
  const LONG_DRIVER = `DRV-OCPI-${'L'.repeat(28)}`;

  async function startOcpi(log = capturingLogger('debug')) {
    emsp = await startFakeEmsp(TOKEN, (request) => {
      if (request.uid === ALLOWED_DRIVER) {
        return {
          status: 200,
          body: envelope(1000, {
            allowed: 'ALLOWED',
            token: tokenObject(ALLOWED_DRIVER),
            authorization_reference: 'AUTH-REF-42',
          }),
        };
      }
      if (request.uid === NO_CREDIT_DRIVER) {
        return {
          status: 200,
          body: envelope(1000, { allowed: 'NO_CREDIT', token: tokenObject(NO_CREDIT_DRIVER) }),
        };
      }
      if (request.uid === GARBAGE_DRIVER) return { status: 200, body: '<html>proxy</html>' };
      return { status: 404, body: envelope(2004, undefined, 'Unknown Token') };
    });
    receiver = await startReceiver();
    service = await buildService({
      env: {
        WEBHOOK_SECRET: SECRET,
        AUTHORIZER_PROTOCOL: 'ocpi-2.2.1',
        AUTHORIZER_URL: emsp.tokensUrl,
        AUTHORIZER_TOKEN: TOKEN,
      },
      log: log.log,
    });
    service.worker.start();
    return log;
  }

  it("sends the eMSP's reason and authorization reference, and counts them", async () => {
    const { lines } = await startOcpi();
    const allowed = await submit(ALLOWED_DRIVER);
    const noCredit = await submit(NO_CREDIT_DRIVER);
    const unknown = await submit(UNKNOWN_DRIVER);
    const long = await submit(LONG_DRIVER);
    const garbage = await submit(GARBAGE_DRIVER);

    const allowedBody = await callbackFor(allowed);
    expect(allowedBody).toMatchObject({
      status: 'allowed',
      reason: 'ALLOWED',
      authorizationReference: 'AUTH-REF-42',
    });
    expect(await restDecision(allowed)).toEqual({
      status: 'allowed',
      reason: 'ALLOWED',
      decidedAt: allowedBody.decidedAt,
      authorizationReference: 'AUTH-REF-42',
    });
    expect(await trpcDecision(allowed)).toMatchObject({ authorizationReference: 'AUTH-REF-42' });

    for (const [requestId, status, reason] of [
      [noCredit, 'not_allowed', 'NO_CREDIT'],
      [unknown, 'invalid', 'unknown_token'],
      [long, 'invalid', 'unknown_token'],
      [garbage, 'unknown', 'bad_answer'],
    ] as const) {
      const body = await callbackFor(requestId);
      expect(body).toMatchObject({ status, reason });
      expect(body).not.toHaveProperty('authorizationReference');
      expect(await restDecision(requestId)).toEqual({
        status,
        reason,
        decidedAt: body.decidedAt,
      });
    }
    expect(emsp?.received.map((request) => request.uid).sort()).toEqual(
      [ALLOWED_DRIVER, NO_CREDIT_DRIVER, UNKNOWN_DRIVER, GARBAGE_DRIVER].sort(),
    );
    expect(emsp?.received.every((request) => request.headers['x-correlation-id'])).toBe(true);

    const metrics = (await (service as TestService).app.inject({ method: 'GET', url: '/metrics' }))
      .body;
    for (const sample of [
      'chargegate_decisions_total{status="allowed",source="authorizer",reason="ALLOWED"} 1',
      'chargegate_decisions_total{status="not_allowed",source="authorizer",reason="NO_CREDIT"} 1',
      'chargegate_decisions_total{status="invalid",source="authorizer",reason="unknown_token"} 2',
      'chargegate_authorizer_calls_total{protocol="ocpi-2.2.1",outcome="ALLOWED"} 1',
      'chargegate_authorizer_calls_total{protocol="ocpi-2.2.1",outcome="unknown_token"} 1',
      'chargegate_decisions_total{status="unknown",source="authorizer",reason="bad_answer"} 1',
      'chargegate_authorizer_calls_total{protocol="ocpi-2.2.1",outcome="bad_answer"} 1',
      'chargegate_authorizer_call_duration_seconds_count{protocol="ocpi-2.2.1"} 4',
    ]) {
      expect(metrics.split('\n')).toContain(sample);
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        requestId: garbage,
        msg: 'authorizer gave no valid answer',
        detail: 'HTTP 200, the body is not JSON',
      }),
    );
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(Buffer.from(TOKEN, 'utf8').toString('base64'));
  });
});
