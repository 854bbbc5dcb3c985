import { and, asc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { NextStep } from '../../domain/attempt.ts';
import { callbackOriginOf } from '../../domain/callback-origin.ts';
import { type AclFacts, type Decision, decideWithAcl } from '../../domain/decision.ts';
import type { AttemptRecord, Claim } from '../../domain/request-record.ts';
import { aclFactsOf, markDecided } from '../acl-at-claim.ts';
import type { ClaimOptions, ClaimResult } from '../store.ts';
import type { Database } from './database.ts';
import { toRecord } from './requests.ts';
import { callbackAttempts, driverStations, drivers, requests } from './schema.ts';

/**
 * The queue on SQLite: claims, decisions, attempts and releases. Every write here runs inside
 * the group commit's IMMEDIATE transaction or its own, so SQLite's single writer makes
 * each claim exclusive: two processes on one file never claim the same row, because the second
 * claim's UPDATE runs only after the first committed and then finds the row locked.
 */

const UNKNOWN_DRIVER = { status: null, expiresAt: null, allStations: null, granted: false };

/**
 * How many due rows, oldest first, a claim looks at to share its batch out between origins: a
 * bounded read however large the backlog. An origin whose rows crowd this window gets its room
 * now; the next claim passes over it once it is full.
 */
const claimWindow = (limit: number) => Math.max(64, limit * 4);

export function createQueueQueries(db: Database) {
  const p = sql.placeholder;

  const isDue = and(
    eq(requests.callbackState, 'pending'),
    lte(requests.nextAttemptAt, p('now')),
    or(isNull(requests.lockedUntil), lte(requests.lockedUntil, p('now'))),
  );
  // Held origins are passed over by reading on along the due index: the claim costs more the
  // more due rows of held origins come first, but it never waits behind them. A row without
  // its origin yet (stored before the column existed) is claimed and gets it below.
  const notExcluded = or(
    isNull(requests.callbackOrigin),
    sql`${requests.callbackOrigin} not in (select value from json_each(${p('excluded')}))`,
  );

  // The oldest due rows of the window, ranked within their origin: a row is claimed while its
  // rank is within its origin's room. Rows without an origin are not limited.
  const fairShare = sql`
    select ranked.id from (
      select oldest.id, oldest.due_at, oldest.origin,
        row_number() over (partition by oldest.origin order by oldest.due_at) as place
      from (
        select ${requests.id} as id, ${requests.nextAttemptAt} as due_at,
          ${requests.callbackOrigin} as origin
        from ${requests} where ${and(isDue, notExcluded)}
        order by ${requests.nextAttemptAt} limit ${p('window')}
      ) as oldest
    ) as ranked
    left join json_each(${p('rooms')}) as room on room.key = ranked.origin
    where ranked.origin is null or ranked.place <= coalesce(room.value, ${p('defaultRoom')})
    order by ranked.due_at limit ${p('limit')}`;

  // The token increases with every claim of a row, so a write made under an earlier claim of it
  // (a lease that expired while its attempt hung) no longer matches and is refused.
  const claim = db
    .update(requests)
    .set({
      lockedBy: sql`${p('owner')}`,
      lockedUntil: sql`${p('lockedUntil')}`,
      claimToken: sql`${requests.claimToken} + 1`,
    })
    .where(sql`${requests.id} in (${fairShare})`)
    .returning()
    .prepare();

  const setOrigin = db
    .update(requests)
    .set({ callbackOrigin: sql`${p('origin')}` })
    .where(eq(requests.id, p('id')))
    .prepare();

  const aclFacts = db
    .select({
      id: requests.id,
      status: drivers.status,
      expiresAt: drivers.expiresAt,
      allStations: drivers.allStations,
      granted: sql<number>`${driverStations.driverId} is not null`,
    })
    .from(requests)
    .leftJoin(drivers, eq(drivers.driverId, requests.driverId))
    .leftJoin(
      driverStations,
      and(
        eq(driverStations.driverId, requests.driverId),
        eq(driverStations.stationId, sql`lower(${requests.stationId})`),
      ),
    )
    .where(sql`${requests.id} in (select value from json_each(${p('ids')}))`)
    .prepare();

  const holds = (claimOf: Claim) =>
    and(
      eq(requests.id, claimOf.id),
      eq(requests.lockedBy, claimOf.owner),
      eq(requests.claimToken, claimOf.token),
    );

  const nextDue = db
    .select({ at: requests.nextAttemptAt })
    .from(requests)
    .where(and(eq(requests.callbackState, 'pending'), gt(requests.nextAttemptAt, p('now'))))
    .orderBy(asc(requests.nextAttemptAt))
    .limit(1)
    .prepare();

  function saveDecision(
    claimOf: Claim,
    decision: Decision,
    decidedAt: number,
    lockedUntil: number,
  ) {
    return (
      db
        .update(requests)
        .set({
          decisionStatus: decision.status,
          decisionSource: decision.source,
          decisionReason: decision.reason,
          authorizationReference: decision.authorizationReference ?? null,
          decidedAt,
          lockedUntil,
        })
        .where(holds(claimOf))
        .run().changes === 1
    );
  }

  return {
    /** Runs inside the group commit; decisions made here share the claim's commit. */
    claimDue(
      { owner, limit, leaseMs, decideByAcl, excludeOrigins = [], roomPerOrigin }: ClaimOptions,
      now: number,
    ): ClaimResult[] {
      const lockedUntil = now + leaseMs;
      const rows = claim.all({
        owner,
        now,
        lockedUntil,
        limit,
        excluded: JSON.stringify(excludeOrigins),
        window: claimWindow(limit),
        rooms: JSON.stringify(roomPerOrigin?.byOrigin ?? {}),
        defaultRoom: roomPerOrigin?.default ?? limit,
      });
      for (const row of rows) {
        if (row.callbackOrigin === null) {
          setOrigin.run({ id: row.id, origin: callbackOriginOf(row.callbackUrl) });
        }
      }
      const claimed = rows.map(
        (row): ClaimResult => ({
          claim: { ...toRecord(row), owner, token: row.claimToken },
          decidedNow: false,
        }),
      );
      const undecided = claimed.filter(({ claim }) => claim.decisionStatus === null);
      if (!decideByAcl || undecided.length === 0) return claimed;

      const facts = new Map<string, AclFacts>();
      const ids = JSON.stringify(undecided.map(({ claim }) => claim.id));
      for (const row of aclFacts.all({ ids })) facts.set(row.id, aclFactsOf(row));
      for (const result of undecided) {
        const { driver, granted } = facts.get(result.claim.id) ?? aclFactsOf(UNKNOWN_DRIVER);
        const decision = decideWithAcl(driver, granted, now);
        saveDecision(result.claim, decision, now, lockedUntil);
        markDecided(result, decision, now);
      }
      return claimed;
    },

    saveDecision,

    /** The attempt is always recorded; the request moves on only while the claim holds. */
    finishAttempt(claimOf: Claim, record: AttemptRecord, step: NextStep): boolean {
      db.insert(callbackAttempts).values(record).run();
      return (
        db
          .update(requests)
          .set({
            callbackState: step.state,
            attempts: sql`${requests.attempts} + 1`,
            cycleAttempts: sql`${requests.cycleAttempts} + 1`,
            lastAttemptAt: record.startedAt,
            lastResponseStatus: record.responseStatus,
            lastError: step.error,
            nextAttemptAt: step.state === 'pending' ? step.nextAttemptAt : null,
            completedAt: step.state === 'pending' ? null : step.completedAt,
            lockedBy: null,
            lockedUntil: null,
          })
          .where(holds(claimOf))
          .run().changes === 1
      );
    },

    release(claimOf: Claim): void {
      db.update(requests).set({ lockedBy: null, lockedUntil: null }).where(holds(claimOf)).run();
    },

    releaseAll(owner: string): number {
      return db
        .update(requests)
        .set({ lockedBy: null, lockedUntil: null })
        .where(eq(requests.lockedBy, owner))
        .run().changes;
    },

    claimOwners(now: number): string[] {
      return db
        .selectDistinct({ owner: requests.lockedBy })
        .from(requests)
        .where(and(eq(requests.callbackState, 'pending'), gt(requests.lockedUntil, now)))
        .all()
        .flatMap((row) => (row.owner === null ? [] : [row.owner]));
    },

    nextDueAfter(now: number): number | null {
      return nextDue.get({ now })?.at ?? null;
    },
  };
}
