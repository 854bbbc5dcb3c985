import type pg from 'pg';
import { callbackOriginOf } from '../../../domain/callback-origin.ts';
import { type AclDriver, type Decision, decideWithAcl } from '../../../domain/decision.ts';
import type { RequestRecord } from '../../../domain/request-record.ts';
import { aclFactsOf, markDecided } from '../../acl-at-claim.ts';
import type { ClaimOptions, ClaimResult } from '../../store.ts';
import { inTransaction } from '../pool.ts';
import { requestColumns, toRecord } from '../rows.ts';

/**
 * Claims due callbacks for one worker, and has the built-in ACL decide those without a decision
 * from the facts read with the claim. Two statements in one transaction: one locks and reads the
 * due rows with their ACL facts, the other takes the lease and stores, in the same row version,
 * the decisions made in between and any missing origin. Each row is updated once per claim,
 * decided or not.
 *
 * Exclusivity: `FOR UPDATE SKIP LOCKED` locks the `limit` oldest due rows this transaction looks
 * at and skips those another transaction is claiming, so two instances never claim the same row,
 * and one claiming meanwhile takes the next rows; a row whose lease has not expired is not due.
 * Rows of the window left unclaimed (past their origin's room) are locked only until COMMIT.
 * The locking CTE is MATERIALIZED so that PostgreSQL evaluates it once: inlined into the join,
 * the planner may re-run it and lock more rows than LIMIT. Every column comes from the locking
 * scan itself, so it is the row's newest version (the one locked, not the statement's snapshot),
 * and the rows stay locked until COMMIT: what the first statement read is what the second one
 * updates. Each claim increments `claim_token`: the token fences every later write made under
 * the claim.
 *
 * Fairness: the window is the `limit` oldest due rows of origins not excluded (held origins are
 * passed over by reading on along the due index: the claim costs more the more due rows of held
 * origins come first, but it never waits behind them); of those, a row is claimed while its rank
 * within its origin is within the origin's room. A row without its origin yet (stored before the
 * column existed) is not limited, and gets its origin with its claim.
 */
const LOCK_DUE = `
  WITH oldest AS MATERIALIZED (
    SELECT *
    FROM charging_session_requests
    WHERE callback_state = 'pending' AND next_attempt_at <= $1
      AND (locked_until IS NULL OR locked_until <= $1)
      AND (callback_origin IS NULL OR callback_origin <> ALL($3::text[]))
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ),
  ranked AS (
    SELECT oldest.*,
      row_number() OVER (PARTITION BY callback_origin ORDER BY next_attempt_at) AS place
    FROM oldest
  ),
  due AS (
    SELECT ranked.* FROM ranked
    LEFT JOIN unnest($4::text[], $5::int[]) AS room(origin, room)
      ON room.origin = ranked.callback_origin
    WHERE ranked.callback_origin IS NULL OR ranked.place <= coalesce(room.room, $6)
  )
  SELECT ${requestColumns('due')}, due.claim_token + 1 AS token,
    due.callback_origin AS "callbackOrigin",
    d.status AS "aclStatus", d.expires_at AS "aclExpiresAt", d.all_stations AS "aclAllStations",
    s.driver_id IS NOT NULL AS "aclGranted"
  FROM due
  LEFT JOIN drivers AS d ON d.driver_id = due.driver_id
  LEFT JOIN driver_stations AS s
    ON s.driver_id = due.driver_id AND s.station_id = lower(due.station_id)
  ORDER BY due.next_attempt_at`;

/**
 * The lease, and per row its missing origin and the decision made now (null: none, the stored
 * one stays). The token is the one the first statement read plus one: the rows are locked.
 */
const TAKE = `
  UPDATE charging_session_requests AS r
  SET locked_by = $1, locked_until = $2, claim_token = r.claim_token + 1,
      callback_origin = coalesce(r.callback_origin, u.origin),
      decision_status = coalesce(u.status, r.decision_status),
      decision_source = CASE WHEN u.status IS NULL THEN r.decision_source ELSE u.source END,
      decision_reason = CASE WHEN u.status IS NULL THEN r.decision_reason ELSE u.reason END,
      authorization_reference =
        CASE WHEN u.status IS NULL THEN r.authorization_reference ELSE u.reference END,
      decided_at = CASE WHEN u.status IS NULL THEN r.decided_at ELSE $3 END
  FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS u(id, origin, status, source, reason, reference)
  WHERE r.id = u.id`;

type DueRow = RequestRecord & {
  token: number;
  callbackOrigin: string | null;
  aclStatus: AclDriver['status'] | null;
  aclExpiresAt: number | null;
  aclAllStations: boolean | null;
  aclGranted: boolean;
};

export async function claimDue(
  pool: pg.Pool,
  { owner, limit, leaseMs, decideByAcl, excludeOrigins = [], roomPerOrigin }: ClaimOptions,
  now: number,
): Promise<ClaimResult[]> {
  const lockedUntil = now + leaseMs;
  const rooms = Object.entries(roomPerOrigin?.byOrigin ?? {});
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<DueRow>(LOCK_DUE, [
      now,
      limit,
      excludeOrigins,
      rooms.map(([origin]) => origin),
      rooms.map(([, room]) => room),
      roomPerOrigin?.default ?? limit,
    ]);
    if (rows.length === 0) return [];
    const decisions = rows.map((row): Decision | null => {
      if (!decideByAcl || row.decisionStatus !== null) return null;
      const { driver, granted } = aclFactsOf({
        status: row.aclStatus,
        expiresAt: row.aclExpiresAt,
        allStations: row.aclAllStations,
        granted: row.aclGranted,
      });
      return decideWithAcl(driver, granted, now);
    });
    await client.query(TAKE, [
      owner,
      lockedUntil,
      now,
      rows.map((row) => row.id),
      rows.map((row) => (row.callbackOrigin === null ? callbackOriginOf(row.callbackUrl) : null)),
      decisions.map((decision) => decision?.status ?? null),
      decisions.map((decision) => decision?.source ?? null),
      decisions.map((decision) => decision?.reason ?? null),
      decisions.map((decision) => decision?.authorizationReference ?? null),
    ]);
    return rows.map((row, index): ClaimResult => {
      const result: ClaimResult = {
        claim: { ...toRecord(row), owner, token: row.token },
        decidedNow: false,
      };
      const decision = decisions[index];
      if (decision) markDecided(result, decision, now);
      return result;
    });
  });
}
