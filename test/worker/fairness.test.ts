import { afterEach, describe, expect, it } from 'vitest';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
  watchClaims,
} from '../helpers/app.ts';
import { answer, type Receiver, slowReceiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Fair delivery across callback origins, with real receivers on loopback: a per-origin cap on
 * attempts in flight, and a per-origin circuit breaker that holds a failing origin without
 * costing its callbacks any retries.
 */

let service: TestService | undefined;
let receivers: Receiver[] = [];
afterEach(async () => {
  await service?.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
  service = undefined;
  receivers = [];
});

async function submit(target: TestService, callbackUrl: string): Promise<string> {
  const response = await postCreate(target, validRequest({ callbackUrl }));
  expect(response.statusCode).toBe(200);
  return response.json().requestId;
}

const submitMany = (target: TestService, callbackUrl: string, count: number) =>
  Promise.all(Array.from({ length: count }, () => submit(target, callbackUrl)));

const stateOf = async (target: TestService, id: string) =>
  (await target.services.requests.find(id))?.callbackState;
const allDelivered = async (target: TestService, ids: string[]) =>
  (await Promise.all(ids.map((id) => stateOf(target, id)))).every((s) => s === 'delivered');

describe('fair delivery', () => {
  it('callbacks to a healthy origin start within seconds while hundreds wait on one that never answers', async () => {
    const hanging = await startReceiver(() => {});
    const healthy = await startReceiver(answer(204));
    receivers = [hanging, healthy];
    // Attempts to the hanging receiver outlast the test: only the cap keeps the worker free.
    service = await buildService({ env: { CALLBACK_TIMEOUT_MS: '30000' } });
    const target = service;
    await submitMany(target, hanging.url, 300);
    service.worker.start();
    await waitFor(() => hanging.received.length >= 32, { what: 'the hanging origin at its cap' });

    const created = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const id = await submit(target, healthy.url);
        created.set(id, Date.now());
      }),
    );
    await waitFor(() => healthy.received.length === 30, {
      timeoutMs: 15_000,
      what: 'the healthy callbacks',
    });
    const waited = healthy.received.map(
      (arrival) => arrival.at - (created.get(JSON.parse(arrival.body).requestId) ?? 0),
    );
    expect(Math.max(...waited)).toBeLessThan(3_000);
    // The default cap: half of WORKER_CONCURRENCY (64), never more.
    expect(hanging.received).toHaveLength(32);
  });

  it('reads past an origin at its cap once per pause, not for every commit of new requests', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    const hanging = await startReceiver(() => {});
    const healthy = await startReceiver(answer(204));
    receivers = [hanging, healthy];
    service = await buildService({
      now: () => now,
      env: {
        WORKER_CONCURRENCY: '8',
        CALLBACK_CONCURRENCY_PER_ORIGIN: '2',
        CALLBACK_TIMEOUT_MS: '30000',
        WORKER_POLL_INTERVAL_MS: '60000',
      },
    });
    const target = service;
    /** Claims that read past origins without room: how many rows each took. */
    const passingOver: number[] = [];
    watchClaims(service, (options, claimed) => {
      if ((options.excludeOrigins ?? []).length > 0) passingOver.push(claimed.length);
    });
    await submitMany(target, hanging.url, 20);
    service.worker.start();
    // Two in flight that never end and four claimed behind them: the origin has no room.
    await waitFor(() => hanging.received.length === 2, { what: 'the hanging origin at its cap' });
    await submit(target, hanging.url);
    await waitFor(() => passingOver.length === 1, { what: 'a claim that reads past it' });
    expect(passingOver).toEqual([0]);

    // The clock stands still, so the pause after that claim does not end: commits wake the loop
    // and it reads past the origin no more.
    for (let i = 0; i < 10; i++) await submit(target, hanging.url);
    const other = await submit(target, healthy.url);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passingOver).toEqual([0]);
    expect(healthy.received).toHaveLength(0);

    // Past the longest pause (the poll interval), the next claim reads past the origin to the
    // healthy callback.
    now += 60_000;
    await waitFor(() => allDelivered(target, [other]), { what: 'the healthy callback' });
    expect(passingOver).toEqual([0, 1]);
    expect(hanging.received).toHaveLength(2);
  });

  it('never has more than CALLBACK_CONCURRENCY_PER_ORIGIN attempts in flight to one origin', async () => {
    const a = await slowReceiver(40);
    const b = await slowReceiver(40);
    receivers = [a, b];
    service = await buildService({
      env: { WORKER_CONCURRENCY: '8', CALLBACK_CONCURRENCY_PER_ORIGIN: '3' },
    });
    service.worker.start();
    const target = service;
    const ids = (
      await Promise.all([submitMany(target, a.url, 20), submitMany(target, b.url, 20)])
    ).flat();
    await waitFor(() => allDelivered(target, ids));
    expect(a.peak()).toBe(3);
    expect(b.peak()).toBe(3);
    expect(a.received).toHaveLength(20);
    expect(b.received).toHaveLength(20);
  });

  it('a failing origin trips its breaker: attempts stop for the cool-down, one probe goes, held callbacks keep their retries', async () => {
    // 500 to the first four attempts (three that open the breaker, then the first probe).
    const failing = await startReceiver((_received, index, response) => {
      response.writeHead(index < 4 ? 500 : 204).end();
    });
    receivers = [failing];
    const { log, lines } = capturingLogger();
    service = await buildService({
      env: { CALLBACK_CONCURRENCY_PER_ORIGIN: '1', CALLBACK_RETRY_SCHEDULE: '50ms,50ms,50ms' },
      breaker: { threshold: 3, cooldownMs: 800, maxCooldownMs: 10_000 },
      log,
    });
    const target = service;
    const ids = await submitMany(target, failing.url, 10);
    service.worker.start();

    const origin = new URL(failing.url).origin;
    const changes = () =>
      lines.filter((line) => line.origin === origin && line.component === 'worker');
    await waitFor(() => changes().length >= 1, { what: 'the breaker to open' });
    const held = await target.metrics.registry.metrics();
    expect(held).toContain('chargegate_origin_breakers_open 1');
    expect(held).toContain(`chargegate_origin_breaker_open{origin="${origin}"} 1`);

    await waitFor(() => allDelivered(target, ids), { what: 'every callback delivered' });
    const [opened, probing, reopened, probingAgain, closed] = changes() as Array<{
      time: number;
      msg: string;
      cooldownMs?: number;
      heldUntil?: string;
    }>;
    const heldUntil = (line: { heldUntil?: string } | undefined) =>
      Date.parse(line?.heldUntil ?? '');
    expect(changes().map((line) => line.msg)).toEqual([
      'callback origin failing: its callbacks are held for a cool-down, their retries kept',
      'callback origin cool-down over: probing it with one attempt',
      'callback origin still failing: its callbacks stay held for a longer cool-down',
      'callback origin cool-down over: probing it with one attempt',
      'callback origin answers again: its callbacks are sent',
    ]);
    expect(opened?.cooldownMs).toBe(800);
    expect(reopened?.cooldownMs).toBe(1_600);
    // Log lines and arrivals are stamped to the millisecond: a window with no arrivals leaves
    // its ends out, a window with the probe takes them in.
    const arrivalsBetween = (from: number, to: number) =>
      failing.received.filter((arrival) => arrival.at > from && arrival.at < to).length;
    const arrivalsWithin = (from: number, to: number) =>
      failing.received.filter((arrival) => arrival.at >= from && arrival.at <= to).length;
    // Nothing is sent while the breaker is open, and exactly the probe while it is half open.
    // The breaker's own clock says when it opened; a log line is stamped a moment after.
    expect(heldUntil(opened) - (opened?.time ?? 0)).toBeGreaterThan(800 - 50);
    expect(probing?.time).toBeGreaterThanOrEqual(heldUntil(opened));
    expect(arrivalsBetween(opened?.time ?? 0, probing?.time ?? 0)).toBe(0);
    expect(arrivalsWithin(probing?.time ?? 0, reopened?.time ?? 0)).toBe(1);
    expect(heldUntil(reopened) - (reopened?.time ?? 0)).toBeGreaterThan(1_600 - 50);
    expect(probingAgain?.time).toBeGreaterThanOrEqual(heldUntil(reopened));
    expect(arrivalsBetween(reopened?.time ?? 0, probingAgain?.time ?? 0)).toBe(0);
    expect(arrivalsWithin(probingAgain?.time ?? 0, closed?.time ?? 0)).toBe(1);

    // 3 failures, 1 failed probe, then one delivery each: no held callback lost a retry.
    const logs = await Promise.all(ids.map((id) => target.services.requests.attempts(id)));
    expect(logs.flat()).toHaveLength(14);
    expect(logs.flat().filter((a) => a.outcome === 'http_error')).toHaveLength(4);
    expect(failing.received).toHaveLength(14);
    expect(logs.every((attempts) => attempts.at(-1)?.outcome === 'delivered')).toBe(true);

    const after = await target.metrics.registry.metrics();
    expect(after).toContain('chargegate_origin_breakers_open 0');
    expect(after).not.toContain(`origin="${origin}"`);
  });
});
