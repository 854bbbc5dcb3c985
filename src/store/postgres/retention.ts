import type pg from 'pg';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../domain/idempotency.ts';

/**
 * Retention on PostgreSQL. Every instance sweeps; `FOR UPDATE SKIP LOCKED` makes two sweeps that
 * overlap take different rows, so none is deleted twice and neither waits for the other.
 */
const DELETE_FINISHED = `
  WITH doomed AS (
    SELECT id FROM charging_session_requests
    WHERE callback_state IN ('delivered', 'failed') AND created_at < $1 AND completed_at < $1
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  DELETE FROM charging_session_requests AS r USING doomed WHERE r.id = doomed.id`;

const DELETE_EXPIRED_KEYS = `
  WITH doomed AS (
    SELECT key FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  DELETE FROM idempotency_keys AS k USING doomed WHERE k.key = doomed.key`;

export async function sweep(
  pool: pg.Pool,
  finishedBefore: number,
  limit: number,
  now: number,
): Promise<number> {
  const requests = await pool.query(DELETE_FINISHED, [finishedBefore, limit]);
  const keys = await pool.query(DELETE_EXPIRED_KEYS, [now - IDEMPOTENCY_KEY_TTL_MS, limit]);
  return (requests.rowCount ?? 0) + (keys.rowCount ?? 0);
}
