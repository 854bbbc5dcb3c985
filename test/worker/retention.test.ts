import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createIdempotencyKeyQueries } from '../../src/db/idempotency-keys.ts';
import { createRequestQueries } from '../../src/db/requests.ts';
import { createRetention, RETENTION_BATCH } from '../../src/worker/retention.ts';
import { migratedDatabase } from '../helpers/app.ts';
import { waitFor } from '../helpers/wait.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = Date.parse('2026-09-01T00:00:00Z');

function setUp() {
  const db = migratedDatabase();
  const requests = createRequestQueries(db);
  const idempotencyKeys = createIdempotencyKeyQueries(db);
  const add = (
    id: string,
    createdAt: number,
    state: 'pending' | 'delivered' | 'failed',
    completedAt = createdAt,
  ) => {
    requests.insert({
      id,
      stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
      driverId: 'DRV-0001-ab.cd_ef~0123',
      callbackUrl: 'https://example.com/cb',
      createdAt,
    });
    if (state !== 'pending') {
      db.$client
        .prepare(
          'update charging_session_requests set callback_state = ?, next_attempt_at = null, completed_at = ? where id = ?',
        )
        .run(state, completedAt, id);
    }
    db.$client
      .prepare(
        "insert into callback_attempts (request_id, attempt, started_at, duration_ms, outcome) values (?, 1, ?, 1, 'network')",
      )
      .run(id, createdAt);
  };
  const retention = createRetention({
    requests,
    idempotencyKeys,
    retentionDays: 30,
    now: () => now,
    log: pino({ level: 'silent' }),
  });
  const ids = () =>
    db.$client.prepare('select id from charging_session_requests order by id').pluck().all();
  return { db, add, retention, ids, idempotencyKeys };
}

describe('retention', () => {
  it('deletes delivered and failed requests older than RETENTION_DAYS, with their attempts, and nothing else', () => {
    const { db, add, retention, ids } = setUp();
    add('old-delivered', now - 31 * DAY, 'delivered');
    add('old-failed', now - 30 * DAY - 1, 'failed');
    add('old-pending', now - 90 * DAY, 'pending');
    add('edge-delivered', now - 30 * DAY, 'delivered');
    add('new-failed', now - DAY, 'failed');
    add('old-redelivered-yesterday', now - 40 * DAY, 'delivered', now - DAY);
    expect(retention.sweepBatch()).toBe(2);
    expect(ids()).toEqual([
      'edge-delivered',
      'new-failed',
      'old-pending',
      'old-redelivered-yesterday',
    ]);
    expect(db.$client.prepare('select count(*) from callback_attempts').pluck().get()).toBe(4);
  });

  it('expires idempotency keys after 24 hours', () => {
    const { add, retention, idempotencyKeys, ids } = setUp();
    add('r1', now - 2 * DAY, 'pending');
    add('r2', now - DAY + 1, 'pending');
    idempotencyKeys.save('old-key', 'f', 'r1', now - DAY - 1);
    idempotencyKeys.save('live-key', 'f', 'r2', now - DAY + 1);
    expect(retention.sweepBatch()).toBe(1);
    expect(idempotencyKeys.findLive('live-key', now)).toBeDefined();
    expect(idempotencyKeys.findLive('old-key', now - DAY)).toBeUndefined();
    expect(ids()).toEqual(['r1', 'r2']);
  });

  it('works through a large backlog in batches of RETENTION_BATCH, in the background', async () => {
    const { add, retention, ids, db } = setUp();
    db.$client.transaction(() => {
      for (let i = 0; i < RETENTION_BATCH * 2 + 10; i++)
        add(`old-${String(i).padStart(5, '0')}`, now - 40 * DAY, 'delivered');
    })();
    add('keep', now, 'delivered');
    expect(retention.sweepBatch()).toBe(RETENTION_BATCH);
    retention.start();
    await waitFor(() => ids().length === 1);
    retention.stop();
    expect(ids()).toEqual(['keep']);
  });
});
