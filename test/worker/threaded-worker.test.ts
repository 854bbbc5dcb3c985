import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
} from '../helpers/app.ts';
import { sqliteTestDatabase } from '../helpers/database.ts';
import { tempDir, threadNiceValues } from '../helpers/process.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The callback worker in its own thread, as `npm start` runs it on a SQLite file: its claims and
 * records go through the writer thread's port, its log lines and metrics reach the main thread.
 */

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let service: TestService | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await service?.close();
  await receiver?.close();
  service = undefined;
  receiver = undefined;
});

async function migratedFile() {
  const database = sqliteTestDatabase(`${tempDir()}/cg.db`);
  const store = database.openStore();
  await store.migrate();
  await store.close();
  return database;
}

async function threaded(env: Record<string, string> = {}, lowPriorityWorker = false) {
  const { log, lines } = capturingLogger('info');
  const target = await buildService({
    database: await migratedFile(),
    env: { WEBHOOK_SECRET: SECRET, ...env },
    log,
    workerThread: true,
    lowPriorityWorker,
    processMetrics: false,
  });
  return { target, lines };
}

const stateOf = async (target: TestService, id: string) =>
  (await target.services.requests.find(id))?.callbackState;

describe('the worker in its own thread', () => {
  it('delivers signed callbacks at once after the commit, not at the next poll', async () => {
    receiver = await startReceiver(answer(204));
    // A poll interval far longer than the test: only the wake-up can explain a quick delivery.
    ({ target: service } = await threaded({ WORKER_POLL_INTERVAL_MS: '60000' }));
    service.worker.start();
    expect(service.worker.running).toBe(true);
    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await postCreate(
          service as TestService,
          validRequest({ callbackUrl: receiver?.url }),
        );
        return response.json().requestId as string;
      }),
    );
    await waitFor(async () => receiver && receiver.received.length >= 20);
    expect(Date.now() - started).toBeLessThan(5_000);
    const webhook = new Webhook(SECRET);
    for (const received of receiver.received) {
      expect(() =>
        webhook.verify(received.body, received.headers as Record<string, string>),
      ).not.toThrow();
    }
    expect(new Set(receiver.received.map((r) => JSON.parse(r.body).requestId))).toEqual(
      new Set(ids),
    );
    await waitFor(
      async () => (await stateOf(service as TestService, ids[0] as string)) === 'delivered',
    );
  });

  it.runIf(process.platform === 'linux')(
    'runs at WORKER_NICE where the process serves HTTP too, as npm start does, and unchanged otherwise',
    async () => {
      // A nice value no other thread of this process has.
      const atThirteen = () => threadNiceValues(process.pid).filter((nice) => nice === 13).length;
      const before = atThirteen();
      ({ target: service } = await threaded({ WORKER_NICE: '13' }));
      expect(atThirteen()).toBe(before);
      await service.close();
      ({ target: service } = await threaded({ WORKER_NICE: '13' }, true));
      expect(atThirteen()).toBe(before + 1);
      // It still delivers.
      receiver = await startReceiver(answer(204));
      service.worker.start();
      await postCreate(service, validRequest({ callbackUrl: receiver.url }));
      await waitFor(async () => receiver && receiver.received.length === 1);
    },
  );

  it("reports the thread's attempts and decisions in /metrics and its log lines in the log", async () => {
    receiver = await startReceiver(answer(503));
    const built = await threaded({ CALLBACK_RETRY_SCHEDULE: '1h' });
    service = built.target;
    service.worker.start();
    const response = await postCreate(service, validRequest({ callbackUrl: receiver.url }));
    const { requestId } = response.json();
    await waitFor(() => built.lines.some((line) => line.msg === 'callback attempt failed'));
    const failure = built.lines.find((line) => line.msg === 'callback attempt failed');
    expect(failure).toMatchObject({ component: 'worker', requestId, status: 503, attempt: 1 });
    await waitFor(async () => {
      const metrics = await service?.app.inject({ method: 'GET', url: '/metrics' });
      return metrics?.body.includes('chargegate_callback_attempts_total{outcome="5xx"} 1');
    });
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /chargegate_decisions_total\{status="invalid",source="acl",reason="unknown_driver"\} 1/,
    );
    expect(metrics).toMatch(/chargegate_worker_claim_batch_size_count [1-9]/);
  });

  it('on stop, lets the attempt in flight finish, records it, and leaves nothing claimed', async () => {
    let release: (() => void) | undefined;
    receiver = await startReceiver((_received, _index, res) => {
      release = () => res.writeHead(204).end();
    });
    ({ target: service } = await threaded());
    service.worker.start();
    const { requestId } = (
      await postCreate(service, validRequest({ callbackUrl: receiver.url }))
    ).json();
    await waitFor(() => release !== undefined);
    const stopping = service.worker.stop(5_000);
    expect(service.worker.running).toBe(false);
    release?.();
    await stopping;
    expect(await stateOf(service, requestId)).toBe('delivered');
    const claimed = await service.sql.value<number>(
      'select count(*) from charging_session_requests where locked_by is not null',
    );
    expect(claimed).toBe(0);
  });

  it('fails, and says so, when the writer thread stops under it', async () => {
    const { target, lines } = await threaded();
    service = target;
    service.worker.start();
    expect(service.worker.running).toBe(true);
    // Closing the store stops the writer thread, which closes every port attached to it.
    await service.store.close();
    await waitFor(() => lines.some((line) => line.msg === 'the callback worker failed'));
    const failure = lines.find((line) => line.msg === 'the callback worker failed');
    expect(failure?.level).toBe(60);
    expect(JSON.stringify(failure?.err)).toContain('the writer thread stopped');
    expect(service.worker.running).toBe(false);
  });

  it('is offered a share of the queue by a SQLite file, not by an in-memory database', async () => {
    const memory = createSqliteStore({ path: ':memory:', sync: 'normal', now: Date.now });
    expect(memory.shareQueue()).toBeUndefined();
    await memory.close();
    const database = await migratedFile();
    const file = database.openStore();
    const share = file.shareQueue();
    expect(share?.kind).toBe('sqlite');
    share?.port.close();
    await file.close();
    await database.drop();
  });
});
