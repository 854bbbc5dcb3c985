import type pg from 'pg';
import type { NextStep } from '../../../domain/attempt.ts';
import type { AttemptRecord, Claim } from '../../../domain/request-record.ts';

export type FinishedAttempt = { claim: Claim; record: AttemptRecord; step: NextStep };

/**
 * Records attempts and what follows each, for a batch of claims, in one statement: its own
 * transaction, so a batch costs one round trip and one commit. Every attempt is kept in the
 * delivery log; a request moves on (and its claim is released) only while its claim holds: same
 * owner, same token. A worker whose lease expired and whose row was claimed again by another
 * instance therefore cannot overwrite the newer claim's work. Answers the ids that moved on.
 *
 * The attempt rows share the request's id, start and response status with the update ($1, $5,
 * $6): an attempt record is made from its claim.
 */
const FINISH = `
  WITH attempts AS (
    INSERT INTO callback_attempts
      (request_id, attempt, started_at, duration_ms, outcome, response_status, error, response_body)
    SELECT * FROM unnest($1::text[], $10::int[], $5::bigint[], $11::int[], $12::text[], $6::int[],
                         $13::text[], $14::text[])
  )
  UPDATE charging_session_requests AS r
  SET callback_state = u.state, attempts = r.attempts + 1, cycle_attempts = r.cycle_attempts + 1,
      last_attempt_at = u.started_at, last_response_status = u.response_status,
      last_error = u.error, next_attempt_at = u.next_attempt_at, completed_at = u.completed_at,
      locked_by = NULL, locked_until = NULL
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::int[],
              $7::text[], $8::bigint[], $9::bigint[])
    AS u(id, owner, token, state, started_at, response_status, error, next_attempt_at, completed_at)
  WHERE r.id = u.id AND r.locked_by = u.owner AND r.claim_token = u.token
  RETURNING r.id`;

export async function finishAttempts(
  pool: pg.Pool,
  finished: readonly FinishedAttempt[],
): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(FINISH, [
    finished.map((f) => f.claim.id),
    finished.map((f) => f.claim.owner),
    finished.map((f) => f.claim.token),
    finished.map((f) => f.step.state),
    finished.map((f) => f.record.startedAt),
    finished.map((f) => f.record.responseStatus),
    finished.map((f) => f.step.error),
    finished.map((f) => (f.step.state === 'pending' ? f.step.nextAttemptAt : null)),
    finished.map((f) => (f.step.state === 'pending' ? null : f.step.completedAt)),
    finished.map((f) => f.record.attempt),
    finished.map((f) => f.record.durationMs),
    finished.map((f) => f.record.outcome),
    finished.map((f) => f.record.error),
    finished.map((f) => f.record.responseBody),
  ]);
  return new Set(rows.map((row) => row.id));
}
