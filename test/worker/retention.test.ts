import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { createRetention, RETENTION_BATCH } from '../../src/worker/retention.ts';
import { seedRequest, type TestDatabase, testDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = Date.parse('2026-09-01T00:00:00Z');

let database: TestDatabase | undefined;
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  await database?.drop();
  store = undefined;
  database = undefined;
});

async function setUp() {
  database = await testDatabase();
  store = database.openStore({ now: () => now });
  const { sql } = database;
  const add = async (
    id: string,
    createdAt: number,
    state: 'pending' | 'delivered' | 'failed',
    completedAt = createdAt,
  ) => {
    await seedRequest(sql, { id, createdAt, state, completedAt });
    await sql.rows(
      "insert into callback_attempts (request_id, attempt, started_at, duration_ms, outcome) values (?, 1, ?, 1, 'network')",
      [id, createdAt],
    );
  };
  const addKey = (key: string, requestId: string, createdAt: number) =>
    sql.rows(
      "insert into idempotency_keys (key, fingerprint, request_id, created_at) values (?, 'f', ?, ?)",
      [key, requestId, createdAt],
    );
  const retention = createRetention({
    store: store.retention,
    retentionDays: 30,
    now: () => now,
    log: pino({ level: 'silent' }),
  });
  const ids = async () =>
    (await sql.rows<{ id: string }>('select id from charging_session_requests order by id')).map(
      (row) => row.id,
    );
  const keys = async () =>
    (await sql.rows<{ key: string }>('select key from idempotency_keys order by key')).map(
      (row) => row.key,
    );
  return { sql, add, addKey, retention, ids, keys };
}

describe('retention', () => {
  it('deletes delivered and failed requests older than RETENTION_DAYS, with their attempts, and nothing else', async () => {
    const { sql, add, retention, ids } = await setUp();
    await add('old-delivered', now - 31 * DAY, 'delivered');
    await add('old-failed', now - 30 * DAY - 1, 'failed');
    await add('old-pending', now - 90 * DAY, 'pending');
    await add('edge-delivered', now - 30 * DAY, 'delivered');
    await add('new-failed', now - DAY, 'failed');
    await add('old-redelivered-yesterday', now - 40 * DAY, 'delivered', now - DAY);
    expect(await retention.sweepBatch()).toBe(2);
    expect(await ids()).toEqual([
      'edge-delivered',
      'new-failed',
      'old-pending',
      'old-redelivered-yesterday',
    ]);
    expect(await sql.count('callback_attempts')).toBe(4);
  });

  it('expires idempotency keys after 24 hours', async () => {
    const { add, addKey, retention, ids, keys } = await setUp();
    await add('r1', now - 2 * DAY, 'pending');
    await add('r2', now - DAY + 1, 'pending');
    await addKey('old-key', 'r1', now - DAY - 1);
    await addKey('live-key', 'r2', now - DAY + 1);
    expect(await retention.sweepBatch()).toBe(1);
    expect(await keys()).toEqual(['live-key']);
    expect(await ids()).toEqual(['r1', 'r2']);
  });

  it('works through a large backlog in batches of RETENTION_BATCH, in the background', async () => {
    const { add, retention, ids } = await setUp();
    for (let i = 0; i < RETENTION_BATCH * 2 + 10; i++) {
      await add(`old-${String(i).padStart(5, '0')}`, now - 40 * DAY, 'delivered');
    }
    await add('keep', now, 'delivered');
    expect(await retention.sweepBatch()).toBe(RETENTION_BATCH);
    retention.start();
    await waitFor(async () => (await ids()).length === 1);
    retention.stop();
    expect(await ids()).toEqual(['keep']);
  });
});
