import { and, count, eq, gte, min, sql } from 'drizzle-orm';
import { MINUTE_MS, type MinuteCounts, type StatsSnapshot } from '../../domain/stats.ts';
import type { Database } from './database.ts';
import { callbackAttempts, requests } from './schema.ts';

/** Read-only queries behind the operator overview. */

export function createStatsQueries(db: Database) {
  const p = sql.placeholder;
  // A literal, not a parameter: a bound JS number is a REAL, and integer division needs INTEGERs.
  const minute = sql.raw(String(MINUTE_MS));
  const minuteOf = (column: typeof requests.createdAt | typeof callbackAttempts.startedAt) =>
    sql<number>`(${column} / ${minute}) * ${minute}`;

  // Walks an index that starts with callback_state (covering, no table rows read): linear in the
  // requests kept, which retention bounds.
  const byState = db
    .select({ state: requests.callbackState, count: count() })
    .from(requests)
    .groupBy(requests.callbackState)
    .prepare();

  // One seek into requests_state_created_idx.
  const oldestPending = db
    .select({ at: min(requests.createdAt) })
    .from(requests)
    .where(eq(requests.callbackState, 'pending'))
    .prepare();

  // A range of requests_created_idx (covering): reads only the last hour's requests.
  const acknowledged = db
    .select({ minute: minuteOf(requests.createdAt), count: count() })
    .from(requests)
    .where(gte(requests.createdAt, p('since')))
    .groupBy(sql`1`)
    .prepare();

  // A range of callback_attempts_delivered_idx: reads only the last hour's deliveries.
  const delivered = db
    .select({ minute: minuteOf(callbackAttempts.startedAt), count: count() })
    .from(callbackAttempts)
    .where(
      and(eq(callbackAttempts.outcome, 'delivered'), gte(callbackAttempts.startedAt, p('since'))),
    )
    .groupBy(sql`1`)
    .prepare();

  const toMap = (rows: Array<{ minute: number; count: number }>): MinuteCounts =>
    new Map(rows.map((row) => [row.minute, row.count]));

  return {
    /** Callbacks by state, the oldest pending one, and per-minute activity from `since` on. */
    snapshot(since: number): StatsSnapshot {
      const callbacks = { pending: 0, delivered: 0, failed: 0 };
      for (const row of byState.all()) callbacks[row.state] = row.count;
      return {
        callbacks,
        oldestPendingCreatedAt: oldestPending.get()?.at ?? null,
        acknowledgedPerMinute: toMap(acknowledged.all({ since })),
        deliveredPerMinute: toMap(delivered.all({ since })),
      };
    },
  };
}
