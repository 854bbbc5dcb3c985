import type BetterSqlite3 from 'better-sqlite3';
import type { NextStep } from '../../domain/attempt.ts';
import { callbackOriginOf } from '../../domain/callback-origin.ts';
import type { CreateRequestInput } from '../../domain/charging-session-request.ts';
import { type Decision, decideWithAcl } from '../../domain/decision.ts';
import type { AttemptRecord, Claim } from '../../domain/request-record.ts';
import { aclFactsOf, type JoinedAcl } from '../acl-at-claim.ts';
import type { ClaimOptions, ClaimResult, CreateOutcome, IdempotencyClaim } from '../store.ts';
import { FILE_GONE } from './file-identity.ts';

/**
 * The writes of the hot path on SQLite — intake, claims, decisions, attempt records, releases —
 * and the two reads of the worker's loop, as plain prepared statements on one better-sqlite3
 * connection. They run in the writer thread (`writer-thread.ts`), which owns that connection so
 * that commits and their fsync never block an event loop; on an in-memory database, which no
 * second connection can see, they run on the main connection instead (`writer.ts`). Either way
 * each runs inside a batch's IMMEDIATE transaction, in a savepoint of its own.
 *
 * This module imports no ORM and no validation library: it is all the writer thread loads.
 * Its arguments and results are plain data, because they cross threads by structured clone.
 */

/** What a write under a claim names: the row, and which claim of it (see `claim_token`). */
export type ClaimRef = { id: string; owner: string; token: number };

/**
 * The hot writes' arguments and results are flat arrays rather than objects: structured clone
 * copies an array of plain values at a fraction of the cost of an object, whose every key it
 * writes and reads again (several µs per write on a 2-core VM, on both threads).
 */

/**
 * A new request: its id, the input's three fields, when it was made, since when idempotency keys
 * are live, and the key and body fingerprint (null without a key).
 */
export type CreateArgs = [
  id: string,
  stationId: string,
  driverId: string,
  callbackUrl: string,
  createdAt: number,
  liveSince: number,
  key: string | null,
  fingerprint: string | null,
];

export function createArgs(
  id: string,
  input: CreateRequestInput,
  createdAt: number,
  liveSince: number,
  idempotency: IdempotencyClaim | undefined,
): CreateArgs {
  return [
    id,
    input.stationId,
    input.driverId,
    input.callbackUrl,
    createdAt,
    liveSince,
    idempotency?.key ?? null,
    idempotency?.fingerprint ?? null,
  ];
}

/** An attempt's record and its request's next step, under a claim (see `finishArgs`). */
export type FinishArgs = [
  ...[id: string, owner: string, token: number],
  ...[attempt: number, startedAt: number, durationMs: number, outcome: AttemptRecord['outcome']],
  ...[responseStatus: number | null, error: string | null, responseBody: string | null],
  ...[state: NextStep['state'], stepError: string | null, nextAttemptAt: number | null],
  completedAt: number | null,
];

export function finishArgs(claim: ClaimRef, record: AttemptRecord, step: NextStep): FinishArgs {
  return [
    claim.id,
    claim.owner,
    claim.token,
    record.attempt,
    record.startedAt,
    record.durationMs,
    record.outcome,
    record.responseStatus,
    record.error,
    record.responseBody,
    step.state,
    step.error,
    step.state === 'pending' ? step.nextAttemptAt : null,
    step.state === 'pending' ? null : step.completedAt,
  ];
}

/**
 * What a claim took: the owner, and per row its columns (`CLAIM_COLUMNS`, the decision columns
 * filled in for the rows the built-in ACL decided in the claim) and whether it was decided now.
 * `claimResults` turns it into claims on the receiving side.
 */
export type ClaimedRows = { owner: string; rows: ClaimRow[]; decidedNow: boolean[] };

export function claimResults({ owner, rows, decidedNow }: ClaimedRows): ClaimResult[] {
  return rows.map((row, index) => ({
    claim: claimOf(row, owner),
    decidedNow: decidedNow[index] === true,
  }));
}

/**
 * The columns a claim returns, as an array per row (better-sqlite3's raw mode): building one
 * object literal of a fixed shape from it (`claimOf`) costs a fraction of letting the driver make
 * an object per row. The two must list the columns in the same order.
 */
const CLAIM_COLUMNS = `id, station_id, driver_id, callback_url, created_at, decision_status,
  decision_source, decision_reason, authorization_reference, decided_at, attempts, cycle_attempts,
  next_attempt_at, claim_token, callback_origin`;

export type ClaimRow = [
  ...[id: string, stationId: string, driverId: string, callbackUrl: string, createdAt: number],
  ...[status: string | null, source: string | null, reason: string | null],
  ...[authorizationReference: string | null, decidedAt: number | null, attempts: number],
  ...[cycleAttempts: number, nextAttemptAt: number | null, token: number, origin: string | null],
];

function claimOf(row: ClaimRow, owner: string): Claim {
  return {
    id: row[0],
    stationId: row[1],
    driverId: row[2],
    callbackUrl: row[3],
    createdAt: row[4],
    decisionStatus: row[5] as Claim['decisionStatus'],
    decisionSource: row[6] as Claim['decisionSource'],
    decisionReason: row[7] as Claim['decisionReason'],
    authorizationReference: row[8],
    decidedAt: row[9],
    attempts: row[10],
    cycleAttempts: row[11],
    nextAttemptAt: row[12],
    owner,
    token: row[13],
  };
}

/**
 * How many due rows, oldest first, a claim looks at to share its batch out between origins: a
 * bounded read however large the backlog. An origin whose rows crowd this window gets its room
 * now; the next claim passes over it once it is full.
 */
const claimWindow = (limit: number) => Math.max(64, limit * 4);

const HOLDS = 'id = @id AND locked_by = @owner AND claim_token = @token';

/**
 * The ids a claim takes from due rows read oldest first: at most `limit`, and of each origin no
 * more than its room (`byOrigin[origin]`, else `defaultRoom`). Rows stored before origins were
 * (no origin) are not limited.
 */
function pick(
  due: readonly (readonly [id: string, origin: string | null])[],
  limit: number,
  byOrigin: Readonly<Record<string, number>>,
  defaultRoom: number,
): string[] {
  const taken = new Map<string, number>();
  const ids: string[] = [];
  for (const [id, origin] of due) {
    if (ids.length === limit) break;
    if (origin !== null) {
      const count = (taken.get(origin) ?? 0) + 1;
      if (count > (byOrigin[origin] ?? defaultRoom)) continue;
      taken.set(origin, count);
    }
    ids.push(id);
  }
  return ids;
}

export function createWrites(client: BetterSqlite3.Database) {
  const findLiveKey = client.prepare<
    { key: string; since: number },
    { requestId: string; fingerprint: string }
  >(
    `SELECT request_id AS requestId, fingerprint FROM idempotency_keys
     WHERE key = @key AND created_at >= @since`,
  );
  const insertRequest = client.prepare(
    `INSERT INTO charging_session_requests
       (id, station_id, driver_id, callback_url, callback_origin, created_at, next_attempt_at)
     VALUES (@id, @stationId, @driverId, @callbackUrl, @callbackOrigin, @createdAt, @createdAt)`,
  );
  // Replaces an expired use of the key: the live one was looked for just before.
  const saveKey = client.prepare(
    `INSERT INTO idempotency_keys (key, fingerprint, request_id, created_at)
     VALUES (@key, @fingerprint, @requestId, @createdAt)
     ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,
       request_id = excluded.request_id, created_at = excluded.created_at`,
  );

  // The oldest due rows, passing over held origins by reading on along the due index; which of
  // them a claim takes is decided in `pick` below. Inside the claim's IMMEDIATE transaction no
  // other writer runs (SQLite has one), so the rows read here are still unclaimed when they are
  // updated. The token increases with every claim of a row, so a write made under an earlier
  // claim of it (a lease that expired while its attempt hung) no longer matches.
  const dueRows = client.prepare<Record<string, unknown>, [id: string, origin: string | null]>(
    `SELECT id, callback_origin FROM charging_session_requests
     WHERE callback_state = 'pending' AND next_attempt_at <= @now
       AND (locked_until IS NULL OR locked_until <= @now)
       AND (callback_origin IS NULL
         OR callback_origin NOT IN (SELECT value FROM json_each(@excluded)))
     ORDER BY next_attempt_at LIMIT @window`,
  );
  dueRows.raw(true);
  const claim = client.prepare<Record<string, unknown>, ClaimRow>(
    `UPDATE charging_session_requests
     SET locked_by = @owner, locked_until = @lockedUntil, claim_token = claim_token + 1
     WHERE id IN (SELECT value FROM json_each(@ids))
     RETURNING ${CLAIM_COLUMNS}`,
  );
  claim.raw(true);
  const setOrigin = client.prepare(
    'UPDATE charging_session_requests SET callback_origin = @origin WHERE id = @id',
  );
  const aclFacts = client.prepare<{ ids: string }, JoinedAcl & { id: string }>(
    `SELECT r.id, d.status, d.expires_at AS expiresAt, d.all_stations AS allStations,
       s.driver_id IS NOT NULL AS granted
     FROM charging_session_requests r
     LEFT JOIN drivers d ON d.driver_id = r.driver_id
     LEFT JOIN driver_stations s ON s.driver_id = r.driver_id AND s.station_id = lower(r.station_id)
     WHERE r.id IN (SELECT value FROM json_each(@ids))`,
  );
  const decide = client.prepare(
    `UPDATE charging_session_requests
     SET decision_status = @status, decision_source = @source, decision_reason = @reason,
       authorization_reference = @authorizationReference, decided_at = @decidedAt,
       locked_until = @lockedUntil
     WHERE ${HOLDS}`,
  );
  const recordAttempt = client.prepare(
    `INSERT INTO callback_attempts
       (request_id, attempt, started_at, duration_ms, outcome, response_status, error, response_body)
     VALUES (@requestId, @attempt, @startedAt, @durationMs, @outcome, @responseStatus, @error,
       @responseBody)`,
  );
  const moveOn = client.prepare(
    `UPDATE charging_session_requests
     SET callback_state = @state, attempts = attempts + 1, cycle_attempts = cycle_attempts + 1,
       last_attempt_at = @startedAt, last_response_status = @responseStatus, last_error = @error,
       next_attempt_at = @nextAttemptAt, completed_at = @completedAt,
       locked_by = NULL, locked_until = NULL
     WHERE ${HOLDS}`,
  );
  const release = client.prepare(
    `UPDATE charging_session_requests SET locked_by = NULL, locked_until = NULL WHERE ${HOLDS}`,
  );
  const releaseAll = client.prepare(
    'UPDATE charging_session_requests SET locked_by = NULL, locked_until = NULL WHERE locked_by = ?',
  );
  const owners = client.prepare<{ now: number }, { owner: string }>(
    `SELECT DISTINCT locked_by AS owner FROM charging_session_requests
     WHERE callback_state = 'pending' AND locked_until > @now AND locked_by IS NOT NULL`,
  );
  const nextDue = client.prepare<{ at: number }, { at: number }>(
    `SELECT next_attempt_at AS at FROM charging_session_requests
     WHERE callback_state = 'pending' AND next_attempt_at > @at
     ORDER BY next_attempt_at LIMIT 1`,
  );
  const probe = client.prepare(
    `INSERT INTO settings (key, value) VALUES ('health_probe', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );

  function saveDecision({
    claim: { id, owner, token },
    decision,
    decidedAt,
    lockedUntil,
  }: {
    claim: ClaimRef;
    decision: Decision;
    decidedAt: number;
    lockedUntil: number;
  }): boolean {
    return (
      decide.run({
        id,
        owner,
        token,
        status: decision.status,
        source: decision.source,
        reason: decision.reason,
        authorizationReference: decision.authorizationReference ?? null,
        decidedAt,
        lockedUntil,
      }).changes === 1
    );
  }

  return {
    /**
     * Stores a new request and its idempotency key. Inside the IMMEDIATE transaction no other
     * writer runs, so checking the key and then inserting is safe.
     */
    create([
      id,
      stationId,
      driverId,
      callbackUrl,
      createdAt,
      liveSince,
      key,
      fingerprint,
    ]: CreateArgs): CreateOutcome {
      if (key !== null) {
        const live = findLiveKey.get({ key, since: liveSince });
        if (live) return { created: false, ...live };
      }
      insertRequest.run({
        id,
        stationId,
        driverId,
        callbackUrl,
        callbackOrigin: callbackOriginOf(callbackUrl),
        createdAt,
      });
      if (key !== null) saveKey.run({ key, fingerprint, requestId: id, createdAt });
      return { created: true, requestId: id };
    },

    /** Claims due callbacks; with `decideByAcl`, decisions made here share the claim's commit. */
    claimDue({ options, now }: { options: ClaimOptions; now: number }): ClaimedRows {
      const { owner, limit, leaseMs, decideByAcl, excludeOrigins = [], roomPerOrigin } = options;
      const lockedUntil = now + leaseMs;
      const byOrigin = roomPerOrigin?.byOrigin ?? {};
      const defaultRoom = roomPerOrigin?.default ?? limit;
      // Without limits per origin the oldest `limit` rows are the claim; with them, a window of
      // rows is shared out so that no origin gets more than its room.
      const limited = Object.keys(byOrigin).length > 0 || defaultRoom < limit;
      const due = dueRows.all({
        now,
        excluded: JSON.stringify(excludeOrigins),
        window: limited ? claimWindow(limit) : limit,
      });
      const ids = limited ? pick(due, limit, byOrigin, defaultRoom) : due.map(([id]) => id);
      const claimed: ClaimedRows = { owner, rows: [], decidedNow: [] };
      if (ids.length === 0) return claimed;
      claimed.rows = claim
        .all({ owner, lockedUntil, ids: JSON.stringify(ids) })
        // Oldest due first, as the rows were read.
        .sort((a, b) => (a[12] ?? 0) - (b[12] ?? 0));
      for (const row of claimed.rows) {
        if (row[14] === null) setOrigin.run({ id: row[0], origin: callbackOriginOf(row[3]) });
      }
      const undecided = claimed.rows.filter((row) => row[5] === null);
      if (!decideByAcl || undecided.length === 0) return claimed;

      const facts = new Map(
        aclFacts
          .all({ ids: JSON.stringify(undecided.map((row) => row[0])) })
          .map((row) => [row.id, aclFactsOf(row)]),
      );
      claimed.rows.forEach((row, index) => {
        if (row[5] !== null) return;
        const { driver, granted } = facts.get(row[0]) ?? { driver: undefined, granted: false };
        const decision = decideWithAcl(driver, granted, now);
        saveDecision({
          claim: { id: row[0], owner, token: row[13] },
          decision,
          decidedAt: now,
          lockedUntil,
        });
        row[5] = decision.status;
        row[6] = decision.source;
        row[7] = decision.reason;
        row[8] = decision.authorizationReference ?? null;
        row[9] = now;
        claimed.decidedNow[index] = true;
      });
      return claimed;
    },

    /** Stores a decision and renews the lease. False when the claim was lost. */
    saveDecision,

    /** The attempt is always recorded; the request moves on only while the claim holds. */
    finishAttempt([
      id,
      owner,
      token,
      attempt,
      startedAt,
      durationMs,
      outcome,
      responseStatus,
      error,
      responseBody,
      state,
      stepError,
      nextAttemptAt,
      completedAt,
    ]: FinishArgs): boolean {
      recordAttempt.run({
        requestId: id,
        attempt,
        startedAt,
        durationMs,
        outcome,
        responseStatus,
        error,
        responseBody,
      });
      return (
        moveOn.run({
          id,
          owner,
          token,
          state,
          startedAt,
          responseStatus,
          error: stepError,
          nextAttemptAt,
          completedAt,
        }).changes === 1
      );
    },

    release({ claim: { id, owner, token } }: { claim: ClaimRef }): boolean {
      return release.run({ id, owner, token }).changes === 1;
    },

    releaseAll({ owner }: { owner: string }): number {
      return releaseAll.run(owner).changes;
    },

    /** The owners of claims that have not expired. A read, run with the writes of its batch. */
    claimOwners({ now }: { now: number }): string[] {
      return owners.all({ now }).map((row) => row.owner);
    },

    /** When the next pending callback not yet due becomes due. A read, like `claimOwners`. */
    nextDueAfter({ at }: { at: number }): number | null {
      return nextDue.get({ at })?.at ?? null;
    },

    /** A write that changes nothing that matters: whether the database takes writes. */
    probe({ now }: { now: number }): true {
      probe.run(String(now));
      return true;
    },
  };
}

export type Writes = ReturnType<typeof createWrites>;
export type WriteKind = keyof Writes;
export type WriteArgs<K extends WriteKind> = Parameters<Writes[K]>[0];
export type WriteResult<K extends WriteKind> = ReturnType<Writes[K]>;
/** One piece of work for a batch, as it crosses to the writer thread. */
export type WriteOp = { [K in WriteKind]: { kind: K; args: WriteArgs<K> } }[WriteKind];

/** The outcome of one piece of work, or of a whole batch, as it crosses back. */
export type Settled = { ok: true; value: unknown } | { ok: false; error: SerializedError };
export type BatchOutcome = { ok: true; results: Settled[] } | { ok: false; error: SerializedError };

/** An error as it crosses threads: better-sqlite3's `code` is what callers classify it by. */
export type SerializedError = { name: string; message: string; code?: string };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code } = error as { code?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/** Thrown by a piece of work in the optimistic pass: the transaction runs again, in savepoints. */
class WorkFailed extends Error {}

/**
 * Runs batches in one IMMEDIATE transaction. Each piece of work that throws fails alone, and the
 * others still commit: the transaction first runs every piece directly, and only if one of them
 * throws is it rolled back and run again with each piece in a savepoint of its own, so a piece
 * is isolated without paying for two savepoint statements each time. (Running again is safe: the
 * rollback left the database as it was, and every piece is a function of its arguments and the
 * database.) If the commit itself fails, every batch fails and none of it is kept. Before each
 * transaction `fileProblem` says whether the path still names the file opened: once it does not,
 * nothing more is written.
 */
export function createBatchRunner(
  client: BetterSqlite3.Database,
  fileProblem: () => string | undefined = () => undefined,
) {
  // Prepared on the first batch, once the database has been migrated.
  let prepared: Writes | undefined;
  const run = (op: WriteOp): unknown => {
    prepared ??= createWrites(client);
    return (prepared[op.kind] as (args: unknown) => unknown)(op.args);
  };
  const direct = client.transaction((ops: readonly WriteOp[]): Settled[] =>
    ops.map((op) => {
      try {
        return { ok: true, value: run(op) };
      } catch (error) {
        throw new WorkFailed('a piece of work failed', { cause: error });
      }
    }),
  );
  const inSavepoint = client.transaction(run);
  const isolated = client.transaction((ops: readonly WriteOp[]): Settled[] =>
    ops.map((op) => {
      try {
        return { ok: true, value: inSavepoint(op) };
      } catch (error) {
        return { ok: false, error: serializeError(error) };
      }
    }),
  );
  const failAll = (batches: readonly unknown[], error: SerializedError): BatchOutcome[] =>
    batches.map(() => ({ ok: false, error }));

  return (batches: readonly (readonly WriteOp[])[]): BatchOutcome[] => {
    const problem = fileProblem();
    if (problem !== undefined) {
      return failAll(batches, {
        name: 'StoreUnavailableError',
        message: `${problem}; restart chargegate on the right file`,
        code: FILE_GONE,
      });
    }
    const ops = batches.length === 1 ? (batches[0] ?? []) : batches.flat();
    let results: Settled[];
    try {
      results = direct.immediate(ops);
    } catch (error) {
      if (!(error instanceof WorkFailed)) return failAll(batches, serializeError(error));
      try {
        results = isolated.immediate(ops);
      } catch (again) {
        return failAll(batches, serializeError(again));
      }
    }
    let at = 0;
    return batches.map((part) => {
      const slice = results.slice(at, at + part.length);
      at += part.length;
      return { ok: true, results: slice };
    });
  };
}

export type BatchRunner = ReturnType<typeof createBatchRunner>;
