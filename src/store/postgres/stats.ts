import type pg from 'pg';
import type { CallbackState } from '../../domain/charging-session-request.ts';
import { MINUTE_MS, type MinuteCounts, type StatsSnapshot } from '../../domain/stats.ts';

/**
 * The operator overview on PostgreSQL, in two queries run together: callbacks by state, the oldest pending
 * request (a seek into requests_state_created_idx), and per-minute acknowledgements and
 * deliveries from ranges of requests_created_idx and callback_attempts_delivered_idx.
 */
const SNAPSHOT = `
  SELECT 'state' AS kind, callback_state AS key, count(*)::int AS count
    FROM charging_session_requests GROUP BY callback_state
  UNION ALL
  SELECT 'acknowledged', ((created_at / ${MINUTE_MS}) * ${MINUTE_MS})::text, count(*)::int
    FROM charging_session_requests WHERE created_at >= $1 GROUP BY 2
  UNION ALL
  SELECT 'delivered', ((started_at / ${MINUTE_MS}) * ${MINUTE_MS})::text, count(*)::int
    FROM callback_attempts WHERE outcome = 'delivered' AND started_at >= $1 GROUP BY 2`;

const OLDEST_PENDING = `
  SELECT min(created_at) AS at FROM charging_session_requests WHERE callback_state = 'pending'`;

export async function statsSnapshot(pool: pg.Pool, since: number): Promise<StatsSnapshot> {
  const [rows, oldest] = await Promise.all([
    pool.query<{ kind: string; key: string; count: number }>(SNAPSHOT, [since]),
    pool.query<{ at: number | null }>(OLDEST_PENDING),
  ]);
  const callbacks: Record<CallbackState, number> = { pending: 0, delivered: 0, failed: 0 };
  const acknowledgedPerMinute: MinuteCounts = new Map();
  const deliveredPerMinute: MinuteCounts = new Map();
  for (const row of rows.rows) {
    if (row.kind === 'state') callbacks[row.key as CallbackState] = row.count;
    else if (row.kind === 'acknowledged') acknowledgedPerMinute.set(Number(row.key), row.count);
    else if (row.kind === 'delivered') deliveredPerMinute.set(Number(row.key), row.count);
  }
  return {
    callbacks,
    oldestPendingCreatedAt: oldest.rows[0]?.at ?? null,
    acknowledgedPerMinute,
    deliveredPerMinute,
  };
}
