import type pg from 'pg';
import type { NextStep } from '../../../domain/attempt.ts';
import type { AttemptRecord, Claim } from '../../../domain/request-record.ts';

export type FinishedAttempt = { claim: Claim; record: AttemptRecord; step: NextStep };

/**
 * Records attempts and what follows each, for a batch of claims, in the caller's transaction.
 * Every attempt is kept in the delivery log; a request moves on (and its claim is released) only
 * while its claim holds: same owner, same token. A worker whose lease expired and whose row was
 * claimed again by another instance therefore cannot overwrite the newer claim's work. Answers
 * the ids that moved on.
 */
const INSERT_ATTEMPTS = `
  INSERT INTO callback_attempts
    (request_id, attempt, started_at, duration_ms, outcome, response_status, error, response_body)
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::text[], $6::int[],
                       $7::text[], $8::text[])`;

const FINISH = `
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
  client: pg.ClientBase,
  finished: readonly FinishedAttempt[],
): Promise<Set<string>> {
  const records = finished.map((f) => f.record);
  await client.query(INSERT_ATTEMPTS, [
    records.map((r) => r.requestId),
    records.map((r) => r.attempt),
    records.map((r) => r.startedAt),
    records.map((r) => r.durationMs),
    records.map((r) => r.outcome),
    records.map((r) => r.responseStatus),
    records.map((r) => r.error),
    records.map((r) => r.responseBody),
  ]);
  const { rows } = await client.query<{ id: string }>(FINISH, [
    finished.map((f) => f.claim.id),
    finished.map((f) => f.claim.owner),
    finished.map((f) => f.claim.token),
    finished.map((f) => f.step.state),
    finished.map((f) => f.record.startedAt),
    finished.map((f) => f.record.responseStatus),
    finished.map((f) => f.step.error),
    finished.map((f) => (f.step.state === 'pending' ? f.step.nextAttemptAt : null)),
    finished.map((f) => (f.step.state === 'pending' ? null : f.step.completedAt)),
  ]);
  return new Set(rows.map((row) => row.id));
}
