import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { isDeadLocalOwner, pidSpace } from '../../src/worker/worker.ts';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
  watchClaims,
} from '../helpers/app.ts';
import {
  addFailingTrigger,
  dropFailingTrigger,
  type FailingTrigger,
  testDatabase,
} from '../helpers/database.ts';
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
const stateOf = async (target: TestService, id: string) => (await row(target, id))?.callbackState;
const allDelivered = async (target: TestService, ids: string[]) =>
  (await Promise.all(ids.map((id) => stateOf(target, id)))).every((s) => s === 'delivered');
/** The claim columns, which the store keeps to itself. */
const claimOf = async (target: TestService, id: string) =>
  (
    await target.sql.rows<{ lockedBy: string | null; lockedUntil: number | null }>(
      'select locked_by as "lockedBy", locked_until as "lockedUntil" from charging_session_requests where id = ?',
      [id],
    )
  )[0];

describe('the worker', () => {
  it('never has more than WORKER_CONCURRENCY callbacks in flight', async () => {
    const slow = await slowReceiver(50);
    receiver = slow;
    service = await buildService({
      env: { WORKER_CONCURRENCY: '3', CALLBACK_CONCURRENCY_PER_ORIGIN: '3' },
    });
    service.worker.start();
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 12 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => allDelivered(target, ids));
    expect(slow.peak()).toBe(3);
    expect(slow.received).toHaveLength(12);
  });

  it('claims twice its free slots ahead, so the next claim commits while those wait', async () => {
    const slow = await slowReceiver(1_000);
    receiver = slow;
    service = await buildService({
      env: { WORKER_CONCURRENCY: '3', CALLBACK_CONCURRENCY_PER_ORIGIN: '3' },
    });
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 20 }, () => submit(target, receiver?.url as string)),
    );
    service.worker.start();
    await waitFor(() => slow.peak() === 3);
    const claimed = () =>
      target.sql.value<number>(
        'select count(*) from charging_session_requests where locked_by is not null',
      );
    // Three in flight and six waiting for a slot, each of them claimed; the rest is left due.
    expect(await claimed()).toBe(9);
    await waitFor(() => allDelivered(target, ids), { timeoutMs: 15_000 });
    expect(slow.peak()).toBe(3);
    expect(await claimed()).toBe(0);
  });

  it('under HTTP pressure on the event loop backs off to one attempt at a time, still delivers everything, and takes more once it ends', async () => {
    const slow = await slowReceiver(20);
    receiver = slow;
    let pressed = true;
    service = await buildService({
      env: { WORKER_CONCURRENCY: '16', CALLBACK_CONCURRENCY_PER_ORIGIN: '16' },
      underPressure: () => pressed,
    });
    service.worker.start();
    // The controller halves the limit every interval under pressure: 16 → 8 → 4 → 2 → 1. It is
    // evaluated at the worker's turns, which on a machine busy with other tests can be a claim's
    // slow round trip apart: four halvings get room to happen.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 12 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => allDelivered(target, ids));
    expect(slow.peak()).toBe(1);
    pressed = false;
    const more = await Promise.all(
      Array.from({ length: 16 }, () => submit(target, receiver?.url as string)),
    );
    await waitFor(() => allDelivered(target, more));
    expect(slow.peak()).toBeGreaterThan(1);
  });

  it('under HTTP pressure still takes its whole concurrency for callbacks running half a minute late', async () => {
    const slow = await slowReceiver(400);
    receiver = slow;
    service = await buildService({
      env: { WORKER_CONCURRENCY: '16', CALLBACK_CONCURRENCY_PER_ORIGIN: '16' },
      underPressure: () => true,
    });
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 40 }, () => submit(target, receiver?.url as string)),
    );
    // A backlog due 40 s ago: delivery runs late, so the backlog must not grow.
    await service.sql.rows('update charging_session_requests set next_attempt_at = ?', [
      Date.now() - 40_000,
    ]);
    service.worker.start();
    await waitFor(() => allDelivered(target, ids));
    expect(slow.peak()).toBe(16);
  });

  it('one request at a time: one claim each, not a second one when its slot frees', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService({ env: { WORKER_POLL_INTERVAL_MS: '60000' } });
    const target = service;
    const claims: number[] = [];
    watchClaims(service, (_options, claimed) => claims.push(claimed.length));
    service.worker.start();
    // Its first claim, and on PostgreSQL the wake once LISTEN is connected.
    await waitFor(() => claims.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = claims.length;
    for (let i = 0; i < 5; i++) {
      const id = await submit(target, receiver.url);
      await waitFor(() => allDelivered(target, [id]));
      // Its record commits after the slot frees; give a claim that would follow time to run.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Each commit wakes the loop for one claim; the callback it took was all there was.
    expect(claims.slice(first)).toEqual([1, 1, 1, 1, 1]);
  });

  it('asks when the next callback falls due with its claim, not a round trip after it', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService({ env: { WORKER_POLL_INTERVAL_MS: '60000' } });
    const target = service;
    const { queue } = service.store;
    const claimDue = queue.claimDue.bind(queue);
    const nextDueAfter = queue.nextDueAfter.bind(queue);
    const events: string[] = [];
    queue.claimDue = async (options) => {
      events.push('claim asked');
      const claimed = await claimDue(options);
      events.push(`claim answered (${claimed.length})`);
      return claimed;
    };
    queue.nextDueAfter = (at) => {
      events.push('next due asked');
      return nextDueAfter(at);
    };
    const id = await submit(service, receiver.url);
    service.worker.start();
    await waitFor(() => allDelivered(target, [id]));
    // The claim took fewer than it asked for, so the loop needed the next due time: it was on its
    // way before the claim's answer came back.
    expect(events.slice(0, 3)).toEqual(['claim asked', 'next due asked', 'claim answered (1)']);
  });

  it('sends a retry at its time, not at the next poll, when nothing else is due', async () => {
    receiver = await startReceiver((_received, index, response) => {
      response.writeHead(index === 0 ? 503 : 204).end();
    });
    service = await buildService({
      env: { WORKER_POLL_INTERVAL_MS: '60000', CALLBACK_RETRY_SCHEDULE: '300ms' },
    });
    service.worker.start();
    const target = service;
    const id = await submit(target, receiver.url);
    await waitFor(() => allDelivered(target, [id]), { timeoutMs: 5_000 });
    expect(receiver.received).toHaveLength(2);
  });

  it('claims and decides a new request as soon as it is committed, not at the next poll', async () => {
    receiver = await startReceiver(() => {});
    service = await buildService({ env: { WORKER_POLL_INTERVAL_MS: '60000' } });
    const target = service;
    const unclaimed = await submit(service, receiver.url);
    expect(await claimOf(service, unclaimed)).toMatchObject({ lockedBy: null });
    expect(await row(service, unclaimed)).toMatchObject({ decisionStatus: null });

    service.worker.start();
    // The loop's first claim takes the older request; then it sleeps for the poll interval.
    await waitFor(async () => (await claimOf(target, unclaimed))?.lockedBy !== null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const id = await submit(service, receiver.url);
    await waitFor(async () => (await claimOf(target, id))?.lockedBy !== null, { timeoutMs: 2_000 });
    const stored = await row(service, id);
    expect(stored?.decisionStatus).toBe('invalid');
    expect(stored?.decidedAt).toBeGreaterThanOrEqual(stored?.createdAt as number);
  });

  it('a claim that fails does not fail the acknowledgements committed with it', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService();
    await addFailingTrigger(service.database, refusedClaims);
    service.worker.start();
    const target = service;
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => submit(target, receiver?.url as string)),
    );
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    for (const id of ids) expect(await stateOf(target, id)).toBe('pending');

    await dropFailingTrigger(service.database, refusedClaims);
    await waitFor(() => allDelivered(target, ids));
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
    expect(await row(service, id)).toMatchObject({ callbackState: 'delivered' });
    expect(await claimOf(service, id)).toEqual({ lockedBy: null, lockedUntil: null });
  });

  it('on stop, aborts an attempt past the grace period and releases its claim without recording it', async () => {
    receiver = await startReceiver(() => {});
    service = await buildService({ env: { CALLBACK_TIMEOUT_MS: '20000' } });
    service.worker.start();
    const id = await submit(service, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    expect((await claimOf(service, id))?.lockedBy).not.toBeNull();
    await service.worker.stop(100);
    expect(await row(service, id)).toMatchObject({ callbackState: 'pending', attempts: 0 });
    expect(await claimOf(service, id)).toEqual({ lockedBy: null, lockedUntil: null });
    expect(await service.services.requests.attempts(id)).toEqual([]);
    await service.worker.stop(100); // idempotent
  });

  it("picks up another process's work once its lease has expired, not before", async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    receiver = await startReceiver(answer(204));
    service = await buildService({ now: () => now });
    const id = await submit(service, receiver.url);
    // Another (live, remote) process claimed it a moment ago.
    await service.sql.rows(
      'update charging_session_requests set locked_by = ?, locked_until = ? where id = ?',
      ['other-host:4242:abcd', now + 60_000, id],
    );
    service.worker.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(0);
    now += 60_001;
    await waitFor(async () => (await stateOf(service as TestService, id)) === 'delivered');
    expect(receiver.received).toHaveLength(1);
  });

  it('at start, releases the claims of a process on this machine that is gone', async () => {
    receiver = await startReceiver(answer(204));
    service = await buildService();
    const id = await submit(service, receiver.url);
    await service.sql.rows(
      'update charging_session_requests set locked_by = ?, locked_until = ? where id = ?',
      [`${pidSpace()}:999999:dead`, Date.now() + 60_000, id],
    );
    service.worker.start();
    await waitFor(async () => (await stateOf(service as TestService, id)) === 'delivered', {
      timeoutMs: 3_000,
    });
  });
});

const refusedClaims: FailingTrigger = {
  name: 'refuse_claims',
  table: 'charging_session_requests',
  event: 'UPDATE OF locked_by',
  when: 'NEW.locked_by IS NOT NULL',
  message: 'claims refused',
};

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
    const database = await testDatabase();
    const storedSecret = () =>
      database.sql.value<string>("select value from settings where key = 'webhook_secret'");
    const { log, lines } = capturingLogger('trace');
    receiver = await startReceiver(answer(204));
    const first = await buildService({ database, env: { WEBHOOK_SECRET: '' }, log });
    const stored = await storedSecret();
    expect(stored).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    first.worker.start();
    const id = await submit(first, receiver.url);
    await waitFor(() => receiver?.received.length === 1);
    await first.close();

    const second = await buildService({ database, env: { WEBHOOK_SECRET: '' }, log });
    expect(await storedSecret()).toBe(stored);
    await second.close();
    await database.drop();

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
    await waitFor(async () => (await stateOf(service as TestService, id)) === 'delivered');
    expect(await row(service, id)).toMatchObject({
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
