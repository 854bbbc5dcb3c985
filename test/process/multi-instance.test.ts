import { afterEach, describe, expect, it } from 'vitest';
import { validRequest } from '../helpers/app.ts';
import { type TestDatabase, testDatabase } from '../helpers/database.ts';
import { type RunningService, startService } from '../helpers/process.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Several real `npm start` processes on one database: on PostgreSQL as the contract's "several
 * instances" section says, and on one SQLite file (claims are exclusive there too; wake-ups
 * across processes come from polling).
 */

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LEASE_MS = 3_000;
/** For tests where a retry would hide a double delivery: no attempt times out on a busy machine. */
const ROOMY = { CALLBACK_TIMEOUT_MS: '10000', WORKER_LEASE_MS: '30000' };

let database: TestDatabase | undefined;
let services: RunningService[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  await Promise.all(services.map((service) => service.kill9()));
  services = [];
  await receiver?.close();
  receiver = undefined;
  await database?.drop();
  database = undefined;
});

async function startInstances(count: number, env: Record<string, string> = {}) {
  database ??= await testDatabase();
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      startService({
        ...(database as TestDatabase).env,
        WEBHOOK_SECRET: SECRET,
        WORKER_POLL_INTERVAL_MS: '100',
        WORKER_LEASE_MS: String(LEASE_MS),
        CALLBACK_TIMEOUT_MS: '1000',
        AUTHORIZER_TIMEOUT_MS: '1000',
        CALLBACK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms',
        ...env,
      }),
    ),
  );
  services.push(...started);
  return started;
}

async function create(
  url: string,
  callbackUrl: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; requestId: string }> {
  const response = await fetch(`${url}/api/charging-session-requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(validRequest({ callbackUrl })),
  });
  const body = (await response.json()) as { requestId: string };
  return { status: response.status, requestId: body.requestId };
}

const webhookIds = (target: Receiver) => target.received.map((r) => r.headers['webhook-id']);

function duplicates(ids: unknown[]): number {
  return ids.length - new Set(ids).size;
}

async function states(url: string, ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map(async (id) => {
      const response = await fetch(`${url}/api/charging-session-requests/${id}`);
      return ((await response.json()) as { callback: { state: string } }).callback.state;
    }),
  );
}

describe('several instances on one database', () => {
  it('start at once on an empty database, migrate it once, and all become ready', async () => {
    database = await testDatabase({ empty: true });
    const instances = await startInstances(3);
    for (const instance of instances) {
      const ready = await fetch(`${instance.url}/readyz`);
      expect(ready.status).toBe(200);
    }
    const applied =
      database.kind === 'postgres'
        ? await database.sql.value<number>('select count(*)::int from drizzle.__drizzle_migrations')
        : await database.sql.value<number>('select count(*) from __drizzle_migrations');
    for (const instance of instances) expect(instance.output()).not.toContain('migration failed');
    expect(applied).toBeGreaterThan(0);
    // Every migration once: no duplicate rows from instances racing.
    const hashes = await database.sql.rows<{ hash: string }>(
      database.kind === 'postgres'
        ? 'select hash from drizzle.__drizzle_migrations'
        : 'select hash from __drizzle_migrations',
    );
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(hashes.length);
  });

  it('deliver 1,500 requests spread over three instances, each once, signed with one secret', async () => {
    receiver = await startReceiver(answer(204));
    // Timeouts roomy enough for a loaded machine: any duplicate here would be a double claim.
    const instances = await startInstances(3, ROOMY);
    const target = receiver;
    const ids: string[] = [];
    for (let batch = 0; batch < 15; batch++) {
      const created = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          create((instances[(batch * 100 + i) % 3] as RunningService).url, target.url),
        ),
      );
      expect(created.every((c) => c.status === 200)).toBe(true);
      ids.push(...created.map((c) => c.requestId));
    }
    await waitFor(() => target.received.length >= ids.length, {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: '1,500 callbacks',
    });
    // A moment for any late duplicate to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(duplicates(webhookIds(target))).toBe(0);
    expect(await database?.sql.count('callback_attempts')).toBe(ids.length);
    expect(new Set(target.received.map((r) => JSON.parse(r.body).requestId))).toEqual(new Set(ids));
    const { Webhook } = await import('standardwebhooks');
    for (const delivery of target.received.slice(0, 50)) {
      expect(() =>
        new Webhook(SECRET).verify(delivery.body, delivery.headers as Record<string, string>),
      ).not.toThrow();
    }
  });

  it('answer the same requestId when one Idempotency-Key reaches two instances at once', async () => {
    receiver = await startReceiver(answer(204));
    const [a, b] = (await startInstances(2)) as [RunningService, RunningService];
    const target = receiver;
    for (let round = 0; round < 10; round++) {
      const headers = { 'idempotency-key': `same-key-${round}` };
      const [first, second] = await Promise.all([
        create(a.url, target.url, headers),
        create(b.url, target.url, headers),
      ]);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(second.requestId).toBe(first.requestId);
    }
    const stored = await database?.sql.count('charging_session_requests');
    expect(stored).toBe(10);
  });

  it('take over the work of a killed instance after its lease; duplicates carry one webhook-id', async () => {
    let hang = true;
    receiver = await startReceiver((_request, _index, response) => {
      if (!hang) response.writeHead(204).end();
    });
    const [doomed, survivor] = (await startInstances(2)) as [RunningService, RunningService];
    const target = receiver;
    const created = await Promise.all(
      Array.from({ length: 20 }, () => create(doomed.url, target.url)),
    );
    const ids = created.map((c) => c.requestId);
    // Wait until the doomed instance holds claims of its own.
    const doomedPid = Number(/"pid":(\d+)/.exec(doomed.output())?.[1] ?? 0);
    const held = await waitFor(
      async () => {
        const rows = await (database as TestDatabase).sql.rows<{ id: string; owner: string }>(
          'select id, locked_by as owner from charging_session_requests where locked_by is not null',
        );
        const mine = rows.filter((row) => row.owner.split(':')[1] === String(doomedPid));
        // Its attempts for them have reached the receiver, which holds them unanswered: a
        // callback sent just before the kill but read after it would pass for the survivor's.
        const arrived = new Set(target.received.map((r) => JSON.parse(r.body).requestId));
        return mine.length > 0 && mine.every((row) => arrived.has(row.id)) ? mine : undefined;
      },
      { what: 'claims held by the instance to be killed, their attempts at the receiver' },
    );
    const killedAt = Date.now();
    expect(await doomed.kill9()).toBe('SIGKILL');
    hang = false;

    await waitFor(async () => (await states(survivor.url, ids)).every((s) => s === 'delivered'), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'every callback delivered by the survivor',
    });
    // What the killed instance held was delivered again only once its lease had expired: the last
    // arrival of each of its requests is the survivor's (the killed one's own sends arrived before
    // or just as it died).
    const lastArrival = new Map<string, number>();
    for (const delivery of target.received) {
      lastArrival.set(JSON.parse(delivery.body).requestId, delivery.at);
    }
    for (const { id } of held) {
      expect((lastArrival.get(id) ?? 0) - killedAt).toBeGreaterThanOrEqual(LEASE_MS - 1_100);
    }
    // At least once: every duplicate repeats a webhook-id, and no id is missing.
    const deliveredIds = new Set(target.received.map((r) => JSON.parse(r.body).requestId));
    for (const id of ids) expect(deliveredIds.has(id)).toBe(true);
    for (const delivery of target.received) {
      expect(delivery.headers['webhook-id']).toBe(`msg_${JSON.parse(delivery.body).requestId}`);
    }
  });

  it('let one instance stop with SIGTERM during a stream: it exits 0 and nothing is sent twice', async () => {
    receiver = await startReceiver(answer(204));
    const [leaving, staying] = (await startInstances(2, ROOMY)) as [RunningService, RunningService];
    const target = receiver;
    const ids: string[] = [];
    const stream = (async () => {
      for (let i = 0; i < 40; i++) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, () => create(staying.url, target.url)),
        );
        ids.push(...batch.map((c) => c.requestId));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(() => target.received.length >= 50, { what: 'deliveries to begin' });
    leaving.signal('SIGTERM');
    expect(await leaving.exited).toBe(0);
    await stream;
    await waitFor(() => target.received.length >= ids.length, {
      timeoutMs: 30_000,
      what: 'every callback',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(duplicates(webhookIds(target))).toBe(0);
    expect(target.received).toHaveLength(ids.length);
  });
});

describe.runIf(process.env.CHARGEGATE_TEST_BACKEND === 'postgres')('on PostgreSQL', () => {
  it('a request created on one instance is delivered by another without waiting for a poll', async () => {
    receiver = await startReceiver(answer(204));
    database = await testDatabase();
    const env = { ...database.env, WORKER_POLL_INTERVAL_MS: '60000' };
    // One instance takes requests only; the other only delivers, polling once a minute.
    const front = await startService(env, { args: ['serve', '--no-worker'] });
    services.push(front);
    const back = await startService(
      { ...env, LOG_LEVEL: 'info' },
      { args: ['worker'], ready: false },
    );
    services.push(back);
    await waitFor(() => back.output().includes('chargegate ready'), { what: 'the worker' });
    // Past the worker's first poll, only a wake-up can find the next request in time.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sentAt = Date.now();
    expect((await create(front.url, receiver.url)).status).toBe(200);
    await waitFor(() => receiver?.received.length === 1, { timeoutMs: 5_000 });
    expect((receiver.received[0]?.at ?? 0) - sentAt).toBeLessThan(2_000);
  });

  it('answers 503 with Retry-After while the database refuses connections, then recovers by itself', async () => {
    let answering = false;
    receiver = await startReceiver((_request, _index, response) => {
      response.writeHead(answering ? 204 : 503).end();
    });
    const [instance] = (await startInstances(1)) as [RunningService];
    const target = receiver;
    const db = database as TestDatabase;
    const name = new URL(db.env.DATABASE_URL as string).pathname.slice(1);
    const pending = await create(instance.url, target.url);
    expect(pending.status).toBe(200);

    const { withAdmin } = await import('../helpers/postgres.ts');
    await withAdmin(async (client) => {
      await client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
    });
    try {
      const refused = await fetch(`${instance.url}/api/charging-session-requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(validRequest({ callbackUrl: target.url })),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'the database is unavailable; try again shortly',
      });
      const ready = await fetch(`${instance.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { message: string }).message).toContain('database');
      expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
      // Metrics still answer: an outage is when they are needed.
      const scrape = await fetch(`${instance.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('chargegate_callbacks_pending');
    } finally {
      await withAdmin((client) => client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
    }
    answering = true;
    await waitFor(
      async () => (await fetch(`${instance.url}/readyz`).catch(() => undefined))?.status === 200,
      { what: 'readiness after the outage' },
    );
    const after = await create(instance.url, target.url);
    expect(after.status).toBe(200);
    await waitFor(
      async () =>
        (await states(instance.url, [pending.requestId, after.requestId])).every(
          (s) => s === 'delivered',
        ),
      { timeoutMs: 20_000, what: 'the callbacks pending through the outage' },
    );
    expect(instance.child.exitCode).toBeNull();
  });
});
