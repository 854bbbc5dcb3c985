import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { NextStep } from '../domain/attempt.ts';
import type { CallbackState } from '../domain/charging-session-request.ts';
import type { Decision } from '../domain/decision.ts';
import type { Database } from './database.ts';
import { callbackAttempts, requests } from './schema.ts';

/** Queries on `charging_session_requests` (and the attempts recorded against them). */

export type RequestRow = typeof requests.$inferSelect;
export type NewRequest = Pick<
  typeof requests.$inferInsert,
  'id' | 'stationId' | 'driverId' | 'callbackUrl' | 'createdAt'
>;

export type AttemptRecord = {
  requestId: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: (typeof callbackAttempts.$inferInsert)['outcome'];
  responseStatus: number | null;
  error: string | null;
  responseBody: string | null;
};

/** A decision as statement parameters: every placeholder gets a value, null when absent. */
const decisionParams = (decision: Decision) => ({
  status: decision.status,
  source: decision.source,
  reason: decision.reason,
  authorizationReference: decision.authorizationReference ?? null,
});

export type ListCursor = { createdAt: number; id: string };

export function createRequestQueries(db: Database) {
  const p = sql.placeholder;

  const insert = db
    .insert(requests)
    .values({
      id: p('id'),
      stationId: p('stationId'),
      driverId: p('driverId'),
      callbackUrl: p('callbackUrl'),
      createdAt: p('createdAt'),
      nextAttemptAt: p('createdAt'),
    })
    .prepare();

  const byId = db
    .select()
    .from(requests)
    .where(eq(requests.id, p('id')))
    .prepare();

  const isDue = and(
    eq(requests.callbackState, 'pending'),
    lte(requests.nextAttemptAt, p('now')),
    or(isNull(requests.lockedUntil), lte(requests.lockedUntil, p('now'))),
  );

  const claim = db
    .update(requests)
    .set({ lockedBy: sql`${p('owner')}`, lockedUntil: sql`${p('lockedUntil')}` })
    .where(
      inArray(
        requests.id,
        db
          .select({ id: requests.id })
          .from(requests)
          .where(isDue)
          .orderBy(asc(requests.nextAttemptAt))
          .limit(p('limit')),
      ),
    )
    .returning()
    .prepare();

  const nextDue = db
    .select({ at: requests.nextAttemptAt })
    .from(requests)
    .where(and(eq(requests.callbackState, 'pending'), gt(requests.nextAttemptAt, p('now'))))
    .orderBy(asc(requests.nextAttemptAt))
    .limit(1)
    .prepare();

  const saveDecision = db
    .update(requests)
    .set({
      decisionStatus: sql`${p('status')}`,
      decisionSource: sql`${p('source')}`,
      decisionReason: sql`${p('reason')}`,
      authorizationReference: sql`${p('authorizationReference')}`,
      decidedAt: sql`${p('decidedAt')}`,
      lockedUntil: sql`${p('lockedUntil')}`,
    })
    .where(and(eq(requests.id, p('id')), eq(requests.lockedBy, p('owner'))))
    .prepare();

  const insertAttempt = db
    .insert(callbackAttempts)
    .values({
      requestId: p('requestId'),
      attempt: p('attempt'),
      startedAt: p('startedAt'),
      durationMs: p('durationMs'),
      outcome: p('outcome'),
      responseStatus: p('responseStatus'),
      error: p('error'),
      responseBody: p('responseBody'),
    })
    .prepare();

  const finishAttempt = db
    .update(requests)
    .set({
      callbackState: sql`${p('state')}`,
      attempts: sql`${requests.attempts} + 1`,
      cycleAttempts: sql`${requests.cycleAttempts} + 1`,
      lastAttemptAt: sql`${p('startedAt')}`,
      lastResponseStatus: sql`${p('responseStatus')}`,
      lastError: sql`${p('error')}`,
      nextAttemptAt: sql`${p('nextAttemptAt')}`,
      completedAt: sql`${p('completedAt')}`,
      lockedBy: null,
      lockedUntil: null,
    })
    .where(and(eq(requests.id, p('id')), eq(requests.lockedBy, p('owner'))))
    .prepare();

  const release = db
    .update(requests)
    .set({ lockedBy: null, lockedUntil: null })
    .where(and(eq(requests.id, p('id')), eq(requests.lockedBy, p('owner'))))
    .prepare();

  return {
    /** Stores a new request; its callback is due at once. */
    insert(row: NewRequest): void {
      insert.run(row);
    },

    find(id: string): RequestRow | undefined {
      return byId.get({ id });
    },

    /**
     * Claims up to `limit` due callbacks for `owner` until `lockedUntil`, oldest due first.
     * Runs in an IMMEDIATE transaction so that two processes never claim the same row. When
     * `decide` is given, rows without a decision get one in the same transaction (one commit
     * instead of two for the built-in ACL, whose decisions need no I/O).
     */
    claimDue(
      owner: string,
      now: number,
      lockedUntil: number,
      limit: number,
      decide?: (row: RequestRow) => Decision,
    ): RequestRow[] {
      return db.transaction(
        () => {
          const rows = claim.all({ owner, now, lockedUntil, limit });
          if (decide) {
            for (const row of rows) {
              if (row.decisionStatus !== null) continue;
              const decision = decide(row);
              saveDecision.run({
                id: row.id,
                owner,
                ...decisionParams(decision),
                decidedAt: now,
                lockedUntil,
              });
              row.decisionStatus = decision.status;
              row.decisionSource = decision.source;
              row.decisionReason = decision.reason;
              row.authorizationReference = decision.authorizationReference ?? null;
              row.decidedAt = now;
            }
          }
          return rows;
        },
        { behavior: 'immediate' },
      );
    },

    /**
     * When the next pending callback not yet due becomes due, or null when none is scheduled.
     * Claims held past their lease are found by the periodic poll, not by this.
     */
    nextDueAfter(now: number): number | null {
      return nextDue.get({ now })?.at ?? null;
    },

    /**
     * Stores the decision for a claimed request and renews the claim until `lockedUntil`.
     * Answers false when the claim was lost.
     */
    saveDecision(
      id: string,
      owner: string,
      decision: Decision,
      decidedAt: number,
      lockedUntil: number,
    ): boolean {
      return (
        saveDecision.run({ id, owner, ...decisionParams(decision), decidedAt, lockedUntil })
          .changes === 1
      );
    },

    /**
     * Records an attempt and what follows it. The attempt is always kept; the request moves on
     * only while `owner` still holds the claim. Answers whether it did.
     */
    finishAttempt(owner: string, record: AttemptRecord, result: NextStep): boolean {
      insertAttempt.run(record);
      return (
        finishAttempt.run({
          id: record.requestId,
          owner,
          state: result.state,
          startedAt: record.startedAt,
          responseStatus: record.responseStatus,
          error: record.error,
          nextAttemptAt: result.state === 'pending' ? result.nextAttemptAt : null,
          completedAt: result.state === 'pending' ? null : result.completedAt,
        }).changes === 1
      );
    },

    /** Gives back a claim without recording an attempt, so the callback is due again at once. */
    release(id: string, owner: string): void {
      release.run({ id, owner });
    },

    /** The owners of claims that have not expired at `now`. */
    claimOwners(now: number): string[] {
      return db
        .selectDistinct({ owner: requests.lockedBy })
        .from(requests)
        .where(and(eq(requests.callbackState, 'pending'), gt(requests.lockedUntil, now)))
        .all()
        .flatMap((row) => (row.owner === null ? [] : [row.owner]));
    },

    /** Gives back every claim `owner` still holds. */
    releaseAll(owner: string): number {
      return db
        .update(requests)
        .set({ lockedBy: null, lockedUntil: null })
        .where(eq(requests.lockedBy, owner))
        .run().changes;
    },

    /** Newest first; `cursor` continues after the last row of the previous page. */
    list(
      state: CallbackState | undefined,
      limit: number,
      cursor: ListCursor | undefined,
    ): RequestRow[] {
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
        .all();
    },

    /** Sends the callback again now with a fresh retry schedule, whatever its state. */
    requeue(id: string, now: number): RequestRow | undefined {
      return db
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
    },

    /** Re-queues every failed callback of a request created in [since, until). */
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

    attempts(requestId: string) {
      return db
        .select()
        .from(callbackAttempts)
        .where(eq(callbackAttempts.requestId, requestId))
        .orderBy(asc(callbackAttempts.id))
        .all();
    },

    /** Pending callbacks, and when the oldest of them was created. */
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
