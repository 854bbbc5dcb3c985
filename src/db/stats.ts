import { and, asc, count, eq, gte, max, min, sql } from 'drizzle-orm';
import type { CallbackState } from '../domain/charging-session-request.ts';
import type { Database } from './database.ts';
import { callbackAttempts, requests } from './schema.ts';

/** Read-only queries behind the operator overview. */

export const MINUTE_MS = 60_000;

/** Per-minute counts keyed by the start of the minute (epoch ms); minutes without any are absent. */
export type MinuteCounts = Map<number, number>;

export type StatsSnapshot = {
  callbacks: Record<CallbackState, number>;
  oldestPendingCreatedAt: number | null;
  acknowledgedPerMinute: MinuteCounts;
  deliveredPerMinute: MinuteCounts;
};

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

  const lastAttemptId = db
    .select({ id: max(callbackAttempts.id) })
    .from(callbackAttempts)
    .prepare();

  const firstAttemptFrom = db
    .select({
      id: callbackAttempts.id,
      finishedAt: sql<number>`${callbackAttempts.startedAt} + ${callbackAttempts.durationMs}`,
    })
    .from(callbackAttempts)
    .where(gte(callbackAttempts.id, p('id')))
    .orderBy(asc(callbackAttempts.id))
    .limit(1)
    .prepare();

  // A rowid range: reads only the attempts from `fromId` on.
  const delivered = db
    .select({ minute: minuteOf(callbackAttempts.startedAt), count: count() })
    .from(callbackAttempts)
    .where(
      and(
        gte(callbackAttempts.id, p('fromId')),
        eq(callbackAttempts.outcome, 'delivered'),
        gte(callbackAttempts.startedAt, p('since')),
      ),
    )
    .groupBy(sql`1`)
    .prepare();

  /**
   * The first attempt id that can have started at or after `since`. callback_attempts has no
   * index on started_at; instead this relies on an attempt's row being written when the attempt
   * finishes, so finish times (started_at + duration_ms) grow with the id, and an attempt that
   * started at or after `since` also finished then. A binary search over ids (each step one
   * rowid seek, gaps left by retention included) finds where that suffix begins. A clock stepped
   * back can misplace a few attempts at the edge of the window; the overview tolerates that.
   */
  function firstAttemptIdSince(since: number): number | null {
    const last = lastAttemptId.get()?.id ?? null;
    if (last === null) return null;
    let low = 0;
    let high = last + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const row = firstAttemptFrom.get({ id: middle });
      if (row !== undefined && row.finishedAt < since) low = row.id + 1;
      else high = middle;
    }
    return low > last ? null : low;
  }

  const toMap = (rows: Array<{ minute: number; count: number }>): MinuteCounts =>
    new Map(rows.map((row) => [row.minute, row.count]));

  return {
    /** Callbacks by state, the oldest pending one, and per-minute activity from `since` on. */
    snapshot(since: number): StatsSnapshot {
      const callbacks = { pending: 0, delivered: 0, failed: 0 };
      for (const row of byState.all()) callbacks[row.state] = row.count;
      const fromId = firstAttemptIdSince(since);
      return {
        callbacks,
        oldestPendingCreatedAt: oldestPending.get()?.at ?? null,
        acknowledgedPerMinute: toMap(acknowledged.all({ since })),
        deliveredPerMinute: fromId === null ? new Map() : toMap(delivered.all({ fromId, since })),
      };
    },
  };
}

export type StatsQueries = ReturnType<typeof createStatsQueries>;
