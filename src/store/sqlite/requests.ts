import { and, asc, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type { CallbackState } from '../../domain/charging-session-request.ts';
import type { AttemptRecord, ListCursor, RequestRecord } from '../../domain/request-record.ts';
import type { Database } from './database.ts';
import { callbackAttempts, requests } from './schema.ts';

/** Queries on `charging_session_requests` outside the queue: intake, reads and admin. */

export type RequestRow = typeof requests.$inferSelect;

/** A stored row without its claim and origin columns, which never leave the adapter. */
export function toRecord(row: RequestRow): RequestRecord {
  const {
    lockedBy: _by,
    lockedUntil: _until,
    claimToken: _token,
    callbackOrigin: _origin,
    ...record
  } = row;
  return record;
}

export function createRequestQueries(db: Database) {
  const p = sql.placeholder;

  const byId = db
    .select()
    .from(requests)
    .where(eq(requests.id, p('id')))
    .prepare();

  return {
    find(id: string): RequestRecord | undefined {
      const row = byId.get({ id });
      return row && toRecord(row);
    },

    list(
      state: CallbackState | undefined,
      limit: number,
      cursor: ListCursor | undefined,
    ): RequestRecord[] {
      const after = cursor
        ? or(
            lt(requests.createdAt, cursor.createdAt),
            and(eq(requests.createdAt, cursor.createdAt), lt(requests.id, cursor.id)),
          )
        : undefined;
      return db
        .select()
        .from(requests)
        .where(and(state ? eq(requests.callbackState, state) : undefined, after))
        .orderBy(desc(requests.createdAt), desc(requests.id))
        .limit(limit)
        .all()
        .map(toRecord);
    },

    requeue(id: string, now: number): RequestRecord | undefined {
      const row = db
        .update(requests)
        .set({
          callbackState: 'pending',
          cycleAttempts: 0,
          nextAttemptAt: now,
          completedAt: null,
          lockedBy: null,
          lockedUntil: null,
        })
        .where(eq(requests.id, id))
        .returning()
        .get();
      return row && toRecord(row);
    },

    requeueFailed(since: number, until: number, now: number): number {
      return db
        .update(requests)
        .set({ callbackState: 'pending', cycleAttempts: 0, nextAttemptAt: now, completedAt: null })
        .where(
          and(
            eq(requests.callbackState, 'failed'),
            gte(requests.createdAt, since),
            lt(requests.createdAt, until),
          ),
        )
        .run().changes;
    },

    attempts(requestId: string): AttemptRecord[] {
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
        .where(eq(callbackAttempts.requestId, requestId))
        .orderBy(asc(callbackAttempts.id))
        .all();
    },

    pendingSummary(): { count: number; oldestCreatedAt: number | null } {
      const row = db
        .select({
          count: sql<number>`count(*)`,
          oldest: sql<number | null>`min(${requests.createdAt})`,
        })
        .from(requests)
        .where(eq(requests.callbackState, 'pending'))
        .get();
      return { count: row?.count ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },

    /** Deletes up to `limit` delivered or failed requests created and finished before `before`. */
    deleteFinishedBefore(before: number, limit: number): number {
      return db
        .delete(requests)
        .where(
          inArray(
            requests.id,
            db
              .select({ id: requests.id })
              .from(requests)
              .where(
                and(
                  inArray(requests.callbackState, ['delivered', 'failed']),
                  lt(requests.createdAt, before),
                  // A request re-sent recently (redeliver, recover) is kept as long as a new one.
                  lt(requests.completedAt, before),
                ),
              )
              .limit(limit),
          ),
        )
        .run().changes;
    },
  };
}

export type RequestQueries = ReturnType<typeof createRequestQueries>;
