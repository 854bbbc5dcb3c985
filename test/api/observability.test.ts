import { afterEach, describe, expect, it } from 'vitest';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
} from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

let service: TestService;
let receiver: Receiver | undefined;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
  receiver = undefined;
});

async function scrape(headers: Record<string, string> = {}): Promise<string> {
  const response = await service.app.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The value of one sample, e.g. `value(text, 'chargegate_requests_created_total')`. */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

async function submit(callbackUrl: string, driverId = validRequest().driverId) {
  const response = await postCreate(service, validRequest({ callbackUrl, driverId }));
  return response.json().requestId as string;
}

describe('GET /metrics', () => {
  it('counts requests, decisions, attempts by outcome, and shows what is pending', async () => {
    receiver = await startReceiver((_r, index, response) =>
      response.writeHead(index === 0 ? 500 : 204).end(),
    );
    let skew = 0;
    service = await buildService({
      env: { CALLBACK_RETRY_SCHEDULE: '20ms' },
      now: () => Date.now() + skew,
    });
    await service.services.drivers.upsert(validRequest().driverId, {
      status: 'active',
      allStations: true,
    });

    const before = await scrape();
    expect(value(before, 'chargegate_requests_created_total')).toBe(0);
    const first = await submit(receiver.url);
    await submit(receiver.url, 'UNKNOWN-DRIVER-00000000');
    const pending = await scrape();
    expect(value(pending, 'chargegate_requests_created_total')).toBe(2);
    expect(value(pending, 'chargegate_callbacks_pending')).toBe(2);
    expect(value(pending, 'chargegate_callbacks_oldest_pending_age_seconds')).toBeLessThan(5);
    skew = 42_000;
    const later = await scrape();
    expect(value(later, 'chargegate_callbacks_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(
      42,
    );
    expect(value(later, 'chargegate_callbacks_oldest_pending_age_seconds')).toBeLessThan(47);
    skew = 0;

    service.worker.start();
    await waitFor(async () => (await service.services.requests.pendingSummary()).count === 0);
    // An attempt is counted once its record's commit is reported to the worker, which can come a
    // moment after the commit is visible to the read above.
    const after = await waitFor(async () => {
      const text = await scrape();
      return value(text, 'chargegate_callbacks_finished_total{state="delivered"}') === 2
        ? text
        : undefined;
    });
    expect(
      value(after, 'chargegate_decisions_total{status="allowed",source="acl",reason="granted"}'),
    ).toBe(1);
    expect(
      value(
        after,
        'chargegate_decisions_total{status="invalid",source="acl",reason="unknown_driver"}',
      ),
    ).toBe(1);
    expect(value(after, 'chargegate_callback_attempts_total{outcome="5xx"}')).toBe(1);
    expect(value(after, 'chargegate_callback_attempts_total{outcome="2xx"}')).toBe(2);
    expect(value(after, 'chargegate_callbacks_finished_total{state="delivered"}')).toBe(2);
    expect(value(after, 'chargegate_callbacks_pending')).toBe(0);
    expect(value(after, 'chargegate_ack_to_delivered_seconds_count')).toBe(2);
    expect(value(after, 'chargegate_worker_claim_batch_size_count')).toBeGreaterThan(0);
    expect(value(after, 'chargegate_commit_batch_size_count')).toBeGreaterThan(0);
    expect(
      value(
        after,
        'chargegate_http_requests_total{method="POST",route="/api/charging-session-requests",status="200"}',
      ),
    ).toBe(2);
    expect(after).toContain(
      'chargegate_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/api/charging-session-requests"}',
    );
    expect(first).toBeTruthy();
  });

  it('counts refused destinations and timeouts by their own outcome', async () => {
    service = await buildService({
      env: { CALLBACK_ALLOWED_CIDRS: '', CALLBACK_RETRY_SCHEDULE: 'none' },
    });
    service.worker.start();
    await submit('http://10.0.0.1/cb');
    await waitFor(async () => (await service.services.requests.pendingSummary()).count === 0);
    // Counted once the record's commit is reported (see above).
    await waitFor(
      async () => value(await scrape(), 'chargegate_callbacks_finished_total{state="failed"}') > 0,
    );
    expect(value(await scrape(), 'chargegate_callback_attempts_total{outcome="refused"}')).toBe(1);
    expect(value(await scrape(), 'chargegate_callbacks_finished_total{state="failed"}')).toBe(1);
  });

  it('includes the default process metrics', async () => {
    service = await buildService({ processMetrics: true });
    const text = await scrape();
    expect(text).toContain('chargegate_process_cpu_seconds_total');
    expect(text).toContain('chargegate_nodejs_eventloop_lag_seconds');
  });

  it('asks for METRICS_TOKEN when one is set', async () => {
    service = await buildService({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
    expect((await service.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (
        await service.app.inject({
          method: 'GET',
          url: '/metrics',
          headers: { authorization: 'Bearer wrong' },
        })
      ).statusCode,
    ).toBe(401);
    expect(await scrape({ authorization: 'Bearer scrape-token-0123456789' })).toContain(
      'chargegate_requests_created_total',
    );
  });
});

describe('logs', () => {
  it('write one line per request with its request id, and never a full driver id at info', async () => {
    const { log, lines } = capturingLogger('info');
    receiver = await startReceiver(answer(500));
    service = await buildService({ log, env: { CALLBACK_RETRY_SCHEDULE: 'none' } });
    service.worker.start();
    const driverId = validRequest().driverId;
    const created = await postCreate(service, validRequest({ callbackUrl: receiver.url }), {
      'x-request-id': 'trace-1',
    });
    expect(created.headers['x-request-id']).toBe('trace-1');
    await service.app.inject({
      method: 'PUT',
      url: `/api/drivers/${driverId}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: JSON.stringify({ status: 'active' }),
    });
    const requestId = created.json().requestId;
    await waitFor(
      async () => (await service.services.requests.find(requestId))?.callbackState === 'failed',
    );
    // The worker logs the attempt once its record's commit is reported back to it, a moment after
    // another connection can see the commit.
    await waitFor(() => lines.some((l) => l.msg === 'callback failed for good'));

    const requestLines = lines.filter((l) => l.msg === 'request');
    expect(requestLines.filter((l) => l.reqId === 'trace-1')).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      method: 'POST',
      url: '/api/charging-session-requests',
      statusCode: 200,
    });
    const failure = lines.find((l) => l.msg === 'callback failed for good');
    expect(failure).toMatchObject({ requestId, webhookId: `msg_${requestId}`, level: 40 });
    expect(JSON.stringify(lines)).not.toContain(driverId);
    expect(JSON.stringify(lines)).toContain('DRV-…23');
    expect(JSON.stringify(lines)).not.toContain(ADMIN_TOKEN);
  });
});
