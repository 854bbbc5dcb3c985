import type { RequestRecord } from '../../domain/request-record.ts';

/** Every column of a request as RequestRecord names it, for raw SQL: `SELECT ${REQUEST_COLUMNS}`. */
export const requestColumns = (table: string) => `
  ${table}.id, ${table}.station_id AS "stationId", ${table}.driver_id AS "driverId",
  ${table}.callback_url AS "callbackUrl", ${table}.created_at AS "createdAt",
  ${table}.decision_status AS "decisionStatus", ${table}.decision_source AS "decisionSource",
  ${table}.decision_reason AS "decisionReason",
  ${table}.authorization_reference AS "authorizationReference",
  ${table}.decided_at AS "decidedAt", ${table}.callback_state AS "callbackState",
  ${table}.attempts, ${table}.cycle_attempts AS "cycleAttempts",
  ${table}.last_attempt_at AS "lastAttemptAt",
  ${table}.last_response_status AS "lastResponseStatus", ${table}.last_error AS "lastError",
  ${table}.next_attempt_at AS "nextAttemptAt", ${table}.completed_at AS "completedAt"`;

/** A row selected with `requestColumns`, as the domain type (extra columns left out). */
export function toRecord(row: RequestRecord): RequestRecord {
  return {
    id: row.id,
    stationId: row.stationId,
    driverId: row.driverId,
    callbackUrl: row.callbackUrl,
    createdAt: row.createdAt,
    decisionStatus: row.decisionStatus,
    decisionSource: row.decisionSource,
    decisionReason: row.decisionReason,
    authorizationReference: row.authorizationReference,
    decidedAt: row.decidedAt,
    callbackState: row.callbackState,
    attempts: row.attempts,
    cycleAttempts: row.cycleAttempts,
    lastAttemptAt: row.lastAttemptAt,
    lastResponseStatus: row.lastResponseStatus,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt,
    completedAt: row.completedAt,
  };
}
