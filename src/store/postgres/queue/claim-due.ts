import type pg from 'pg';
import { callbackOriginOf } from '../../../domain/callback-origin.ts';
import { type AclDriver, type Decision, decideWithAcl } from '../../../domain/decision.ts';
import type { RequestRecord } from '../../../domain/request-record.ts';
import { aclFactsOf, markDecided } from '../../acl-at-claim.ts';
import type { ClaimOptions, ClaimResult } from '../../store.ts';
import { inTransaction } from '../pool.ts';
import { requestColumns, toRecord } from '../rows.ts';
import { saveDecisions } from './save-decisions.ts';

/**
 * Claims due callbacks for one worker, and has the built-in ACL decide those without a decision
 * from the facts read with the claim (one statement), storing the decisions in the same
 * transaction.
 *
 * Exclusivity: `FOR UPDATE SKIP LOCKED` locks the `limit` oldest due rows this transaction looks
 * at and skips those another transaction is claiming, so two instances never claim the same row,
 * and one claiming meanwhile takes the next rows; a row whose lease has not expired is not due.
 * Rows of the window left unclaimed (past their origin's room) are locked only until COMMIT.
 * The CTEs are MATERIALIZED so that
 * PostgreSQL evaluates the locking subquery once: inlined into the UPDATE, the planner may re-run
 * it (as a join or after a concurrent update) and lock, or claim, more rows than LIMIT. Each
 * claim increments `claim_token`: the token fences every later write made under the claim.
 *
 * Fairness: the window is the `limit` oldest due rows of origins not excluded (held origins are passed
 * over by reading on along the due index: the claim costs more the more due rows of held origins
 * come first, but it never waits behind them); of those, a row is claimed while its rank within
 * its origin is within the origin's room. A row without its origin yet (stored before the column
 * existed) is not limited, and gets its origin in the same transaction.
 */
const CLAIM = `
  WITH oldest AS MATERIALIZED (
    SELECT id, driver_id, station_id, next_attempt_at, callback_origin
    FROM charging_session_requests
    WHERE callback_state = 'pending' AND next_attempt_at <= $1
      AND (locked_until IS NULL OR locked_until <= $1)
      AND (callback_origin IS NULL OR callback_origin <> ALL($5::text[]))
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ),
  ranked AS (
    SELECT oldest.*,
      row_number() OVER (PARTITION BY callback_origin ORDER BY next_attempt_at) AS place
    FROM oldest
  ),
  due AS MATERIALIZED (
    SELECT ranked.id, ranked.driver_id, ranked.station_id FROM ranked
    LEFT JOIN unnest($6::text[], $7::int[]) AS room(origin, room)
      ON room.origin = ranked.callback_origin
    WHERE ranked.callback_origin IS NULL OR ranked.place <= coalesce(room.room, $8)
  )
  UPDATE charging_session_requests AS r
  SET locked_by = $3, locked_until = $4, claim_token = r.claim_token + 1
  FROM due
  LEFT JOIN drivers AS d ON d.driver_id = due.driver_id
  LEFT JOIN driver_stations AS s
    ON s.driver_id = due.driver_id AND s.station_id = lower(due.station_id)
  WHERE r.id = due.id
  RETURNING ${requestColumns('r')}, r.claim_token AS token, r.callback_origin AS "callbackOrigin",
    d.status AS "aclStatus", d.expires_at AS "aclExpiresAt", d.all_stations AS "aclAllStations",
    s.driver_id IS NOT NULL AS "aclGranted"`;

const SET_ORIGINS = `
  UPDATE charging_session_requests AS r SET callback_origin = t.origin
  FROM unnest($1::text[], $2::text[]) AS t(id, origin)
  WHERE r.id = t.id`;

type ClaimedRow = RequestRecord & {
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
    const { rows } = await client.query<ClaimedRow>(CLAIM, [
      now,
      limit,
      owner,
      lockedUntil,
      excludeOrigins,
      rooms.map(([origin]) => origin),
      rooms.map(([, room]) => room),
      roomPerOrigin?.default ?? limit,
    ]);
    const unstamped = rows.filter((row) => row.callbackOrigin === null);
    if (unstamped.length > 0) {
      await client.query(SET_ORIGINS, [
        unstamped.map((row) => row.id),
        unstamped.map((row) => callbackOriginOf(row.callbackUrl)),
      ]);
    }
    const results = rows.map(
      (row): ClaimResult => ({
        claim: { ...toRecord(row), owner, token: row.token },
        decidedNow: false,
      }),
    );
    if (!decideByAcl) return results;

    const decided: Array<{ result: ClaimResult; decision: Decision }> = [];
    rows.forEach((row, index) => {
      if (row.decisionStatus !== null) return;
      const { driver, granted } = aclFactsOf({
        status: row.aclStatus,
        expiresAt: row.aclExpiresAt,
        allStations: row.aclAllStations,
        granted: row.aclGranted,
      });
      const result = results[index] as ClaimResult;
      decided.push({ result, decision: decideWithAcl(driver, granted, now) });
    });
    if (decided.length === 0) return results;
    await saveDecisions(
      client,
      decided.map(({ result, decision }) => ({
        claim: result.claim,
        decision,
        decidedAt: now,
        lockedUntil,
      })),
    );
    for (const { result, decision } of decided) markDecided(result, decision, now);
    return results;
  });
}
