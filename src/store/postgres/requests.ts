import { and, asc, desc, eq, gte, lt, or, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { CallbackState } from '../../domain/charging-session-request.ts';
import type { AttemptRecord, ListCursor, RequestRecord } from '../../domain/request-record.ts';
import type { RequestStore } from '../store.ts';
import { toRecord } from './rows.ts';
import type * as schema from './schema.ts';
import { callbackAttempts, requests } from './schema.ts';

/** Reads and admin writes on `charging_session_requests` (intake and the queue live apart). */

export type PgDatabase = NodePgDatabase<typeof schema>;

export function createRequestQueries(
  db: PgDatabase,
  now: () => number,
): Omit<RequestStore, 'create' | 'stats'> {
  return {
    async find(id) {
      const [row] = await db.select().from(requests).where(eq(requests.id, id));
      return row && toRecord(row);
    },

    async list(state: CallbackState | undefined, limit: number, cursor: ListCursor | undefined) {
      const after = cursor
        ? or(
            lt(requests.createdAt, cursor.createdAt),
            and(eq(requests.createdAt, cursor.createdAt), lt(requests.id, cursor.id)),
          )
        : undefined;
      const rows = await db
        .select()
        .from(requests)
        .where(and(state ? eq(requests.callbackState, state) : undefined, after))
        .orderBy(desc(requests.createdAt), desc(requests.id))
        .limit(limit);
      return rows.map(toRecord);
    },

    async attempts(id): Promise<AttemptRecord[]> {
      return db
        .select({
          requestId: callbackAttempts.requestId,
          attempt: callbackAttempts.attempt,
          startedAt: callbackAttempts.startedAt,
          durationMs: callbackAttempts.durationMs,
          outcome: callbackAttempts.outcome,
          responseStatus: callbackAttempts.responseStatus,
          error: callbackAttempts.error,
          responseBody: callbackAttempts.responseBody,
        })
        .from(callbackAttempts)
        .where(eq(callbackAttempts.requestId, id))
        .orderBy(asc(callbackAttempts.id));
    },

    async requeue(id): Promise<RequestRecord | undefined> {
      const [row] = await db
        .update(requests)
        .set({
          callbackState: 'pending',
          cycleAttempts: 0,
          nextAttemptAt: now(),
          completedAt: null,
          lockedBy: null,
          lockedUntil: null,
        })
        .where(eq(requests.id, id))
        .returning();
      return row && toRecord(row);
    },

    async requeueFailed(since, until) {
      const result = await db
        .update(requests)
        .set({
          callbackState: 'pending',
          cycleAttempts: 0,
          nextAttemptAt: now(),
          completedAt: null,
        })
        .where(
          and(
            eq(requests.callbackState, 'failed'),
            gte(requests.createdAt, since),
            lt(requests.createdAt, until),
          ),
        );
      return result.rowCount ?? 0;
    },

    async pendingSummary() {
      const [row] = await db
        .select({
          count: sql<number>`count(*)::int`,
          oldest: sql<number | null>`min(${requests.createdAt})`.mapWith(Number),
        })
        .from(requests)
        .where(eq(requests.callbackState, 'pending'));
      return { count: row?.count ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },
  };
}
