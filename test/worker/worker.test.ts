import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { isDeadLocalOwner, pidSpace } from '../../src/worker/worker.ts';
import {
  buildService,
  capturingLogger,
  migratedDatabase,
  postCreate,
  type TestService,
  validRequest,
} from '../helpers/app.ts';
import { tempDir } from '../helpers/process.ts';
import {
  answer,
  type Received,
  type Receiver,
  slowReceiver,
  startReceiver,
} from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

let service: TestService | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
  service = undefined;
  receiver = undefined;
});

async function submit(target: TestService, callbackUrl: string): Promise<string> {
  const response = await postCreate(target, validRequest({ callbackUrl }));
  return response.json().requestId;
}

const row = (target: TestService, id: string) => target.services.requests.find(id);

describe('the worker', () => {
  it('never has more than WORKER_CONCURRENCY callbacks in flight', async () => {
    const slow = await slowReceiver(50);
    receiver = slow;
    service = await buildService({ env: { WORKER_CONCURRENCY: '3' } });
    service.worker.start();
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 12 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => ids.every((id) => row(target, id)?.callbackState === 'delivered'));
    expect(slow.peak()).toBe(3);
    expect(slow.received).toHaveLength(12);
  });

  it('under HTTP pressure keeps 1/8 of its concurrency in flight, and still delivers everything', async () => {
    const slow = await slowReceiver(20);
    receiver = slow;
    let pressed = true;
    service = await buildService({
      env: { WORKER_CONCURRENCY: '16' },
      underPressure: () => pressed,
    });
    service.worker.start();
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 12 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => ids.every((id) => row(target, id)?.callbackState === 'delivered'));
    expect(slow.peak()).toBe(2);
    pressed = false;
    const more = await Promise.all(
      Array.from({ length: 16 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => more.every((id) => row(target, id)?.callbackState === 'delivered'));
    expect(slow.peak()).toBeGreaterThan(2);
  });

  it('claims and decides a new request in the very commit that stores it', async () => {
    receiver = await startReceiver(() => {});
    service = await buildService({ env: { WORKER_POLL_INTERVAL_MS: '60000' } });
    const unclaimed = await submit(service, receiver.url);
    expect(row(service, unclaimed)).toMatchObject({ lockedBy: null, decisionStatus: null });

    service.worker.start();
    // The loop's first claim takes the older request; then it sleeps.
    await waitFor(() => row(service as TestService, unclaimed)?.lockedBy !== null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const id = await submit(service, receiver.url);
    const stored = row(service, id);
    expect(stored?.lockedBy).not.toBeNull();
    expect(stored?.decisionStatus).toBe('invalid');
    expect(stored?.decidedAt).toBeGreaterThanOrEqual(stored?.createdAt as number);
  });

  it('a claim that fails does not fail the acknowledgements committed with it', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService();
    service.db.$client.exec(`
      CREATE TRIGGER refuse_claims BEFORE UPDATE OF locked_by ON charging_session_requests
      WHEN NEW.locked_by IS NOT NULL BEGIN SELECT RAISE(ABORT, 'claims refused'); END;
    `);
    service.worker.start();
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => submit(target, receiver?.url as string)),
    );
    expect(
      ids.every((id) => typeof id === 'string' && row(target, id)?.callbackState === 'pending'),
    ).toBe(true);

    service.db.$client.exec('DROP TRIGGER refuse_claims');
    await waitFor(() => ids.every((id) => row(target, id)?.callbackState === 'delivered'));
  });

  it('on stop, lets an attempt in flight finish and records it', async () => {
    receiver = await startReceiver((_r, _i, response) =>
      setTimeout(() => response.writeHead(200).end(), 300),
    );
    service = await buildService();
    service.worker.start();
    const id = await submit(service, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    await service.worker.stop(5_000);
    expect(row(service, id)).toMatchObject({
      callbackState: 'delivered',
      lockedBy: null,
      lockedUntil: null,
    });
  });

  it('on stop, aborts an attempt past the grace period and releases its claim without recording it', async () => {
    receiver = await startReceiver(() => {});
    service = await buildService({ env: { CALLBACK_TIMEOUT_MS: '20000' } });
    service.worker.start();
    const id = await submit(service, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    expect(row(service, id)?.lockedBy).not.toBeNull();
    await service.worker.stop(100);
    expect(row(service, id)).toMatchObject({
      callbackState: 'pending',
      attempts: 0,
      lockedBy: null,
      lockedUntil: null,
    });
    expect(service.services.requests.attempts(id)).toEqual([]);
    await service.worker.stop(100); // idempotent
  });

  it("picks up another process's work once its lease has expired, not before", async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    receiver = await startReceiver(answer(204));
    service = await buildService({ now: () => now });
    const id = await submit(service, receiver.url);
    // Another (live, remote) process claimed it a moment ago.
    service.db.$client
      .prepare('update charging_session_requests set locked_by = ?, locked_until = ? where id = ?')
      .run('other-host:4242:abcd', now + 60_000, id);
    service.worker.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(0);
    now += 60_001;
    await waitFor(() => row(service as TestService, id)?.callbackState === 'delivered');
    expect(receiver.received).toHaveLength(1);
  });

  it('at start, releases the claims of a process on this machine that is gone', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService();
    const id = await submit(service, receiver.url);
    service.db.$client
      .prepare('update charging_session_requests set locked_by = ?, locked_until = ? where id = ?')
      .run(`${pidSpace()}:999999:dead`, Date.now() + 60_000, id);
    service.worker.start();
    await waitFor(() => row(service as TestService, id)?.callbackState === 'delivered', {
      timeoutMs: 3_000,
    });
  });
});

describe('isDeadLocalOwner', () => {
  const here = pidSpace();
  const self = `${here}:${process.pid}:self`;
  it.each([
    [`${here}:999999:x`, true],
    [`${here}:${process.pid}:earlier`, true],
    [self, false],
    [`${here}:1:x`, false],
    [`${hostname()}/4026599999:999999:x`, false], // same host name, another pid namespace
    ['another-host/1:999999:x', false],
    ['garbage', false],
  ])('%s → %s', (owner, dead) => {
    expect(isDeadLocalOwner(owner, self)).toBe(dead);
  });
});

describe('the webhook secret', () => {
  it('is generated once, kept in the database across restarts, and never logged', async () => {
    const path = `${tempDir()}/cg.db`;
    const { log, lines } = capturingLogger('trace');
    receiver = await startReceiver(answer(204));
    const first = await buildService({
      db: migratedDatabase(path),
      env: { WEBHOOK_SECRET: '' },
      log,
    });
    const stored = first.db.$client
      .prepare("select value from settings where key = 'webhook_secret'")
      .pluck()
      .get() as string;
    expect(stored).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    first.worker.start();
    const id = await submit(first, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    await first.close();

    const second = await buildService({
      db: migratedDatabase(path),
      env: { WEBHOOK_SECRET: '' },
      log,
    });
    expect(
      second.db.$client
        .prepare("select value from settings where key = 'webhook_secret'")
        .pluck()
        .get(),
    ).toBe(stored);
    await second.close();

    const { Webhook } = await import('standardwebhooks');
    const delivery = receiver.received[0] as Received;
    expect(
      new Webhook(stored).verify(delivery.body, delivery.headers as Record<string, string>),
    ).toMatchObject({ requestId: id });
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(stored.slice(6));
  });
});

describe('with AUTHORIZER_URL', () => {
  it('asks the remote authorizer and sends its answer', async () => {
    const authorizer = await startReceiver(
      answer(200, { 'content-type': 'application/json' }, '{"status":"not_allowed"}'),
    );
    receiver = await startReceiver(answer(204));
    service = await buildService({ env: { AUTHORIZER_URL: authorizer.url } });
    service.worker.start();
    const id = await submit(service, receiver.url);
    await waitFor(() => row(service as TestService, id)?.callbackState === 'delivered');
    expect(row(service, id)).toMatchObject({
      decisionStatus: 'not_allowed',
      decisionSource: 'authorizer',
    });
    expect(JSON.parse(receiver.received[0]?.body ?? '{}').status).toBe('not_allowed');
    expect(JSON.parse(authorizer.received[0]?.body ?? '{}')).toEqual({
      stationId: validRequest().stationId,
      driverId: validRequest().driverId,
    });
    await authorizer.close();
  });
});
