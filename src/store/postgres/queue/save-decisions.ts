import type pg from 'pg';
import type { Decision } from '../../../domain/decision.ts';
import type { Claim } from '../../../domain/request-record.ts';

/** A decision to store under its claim, renewing the claim's lease until `lockedUntil`. */
export type DecisionToSave = {
  claim: Claim;
  decision: Decision;
  decidedAt: number;
  lockedUntil: number;
};

/**
 * Stores decisions under their claims and renews their leases, in one statement. A row whose
 * claim no longer holds (owner or token changed) is not touched. Answers the ids that were stored.
 */
const SAVE = `
  UPDATE charging_session_requests AS r
  SET decision_status = u.status, decision_source = u.source, decision_reason = u.reason,
      authorization_reference = u.reference, decided_at = u.decided_at, locked_until = u.locked_until
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
              $8::bigint[], $9::bigint[])
    AS u(id, owner, token, status, source, reason, reference, decided_at, locked_until)
  WHERE r.id = u.id AND r.locked_by = u.owner AND r.claim_token = u.token
  RETURNING r.id`;

export async function saveDecisions(
  pool: pg.Pool,
  decisions: readonly DecisionToSave[],
): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(SAVE, [
    decisions.map((d) => d.claim.id),
    decisions.map((d) => d.claim.owner),
    decisions.map((d) => d.claim.token),
    decisions.map((d) => d.decision.status),
    decisions.map((d) => d.decision.source),
    decisions.map((d) => d.decision.reason),
    decisions.map((d) => d.decision.authorizationReference ?? null),
    decisions.map((d) => d.decidedAt),
    decisions.map((d) => d.lockedUntil),
  ]);
  return new Set(rows.map((row) => row.id));
}
