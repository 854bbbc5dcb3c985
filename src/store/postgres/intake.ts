import type pg from 'pg';
import { callbackOriginOf } from '../../domain/callback-origin.ts';
import type { CreateRequestInput } from '../../domain/charging-session-request.ts';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../domain/idempotency.ts';
import { newRequestId } from '../../domain/request-ids.ts';
import { oneCreatePerKey } from '../in-flight-keys.ts';
import type { CreateOutcome, IdempotencyClaim } from '../store.ts';
import { createBatch } from './batch.ts';
import { inTransaction, isTransientPgError } from './pool.ts';

/**
 * Taking in requests on PostgreSQL. Creates submitted in one turn of the event loop are stored by
 * one transaction: one multi-row INSERT over arrays for the requests, one for their idempotency
 * keys; the promise of each resolves only after COMMIT.
 *
 * Idempotency across instances rests on the primary key of `idempotency_keys`: `INSERT … ON
 * CONFLICT DO UPDATE … WHERE <expired>` either takes the key (it returns the row) or finds it
 * live, possibly held by a concurrent transaction of another instance, in which case it waits
 * for that one to commit and then does nothing. The loser's request row, inserted in the same
 * transaction, is deleted before COMMIT and never seen by anyone.
 */

type Item = { id: string; input: CreateRequestInput; idempotency: IdempotencyClaim | undefined };

const INSERT_REQUESTS = `
  INSERT INTO charging_session_requests
    (id, station_id, driver_id, callback_url, callback_origin, created_at, next_attempt_at)
  SELECT id, station_id, driver_id, callback_url, callback_origin, $5, $5
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::text[])
    AS t(id, station_id, driver_id, callback_url, callback_origin)`;

const TAKE_KEYS = `
  INSERT INTO idempotency_keys (key, fingerprint, request_id, created_at)
  SELECT key, fingerprint, request_id, $4
  FROM unnest($1::text[], $2::text[], $3::text[]) AS t(key, fingerprint, request_id)
  ON CONFLICT (key) DO UPDATE
    SET fingerprint = excluded.fingerprint, request_id = excluded.request_id,
        created_at = excluded.created_at
    WHERE idempotency_keys.created_at < $5
  RETURNING key`;

const LIVE_KEYS = `
  SELECT key, request_id AS "requestId", fingerprint FROM idempotency_keys WHERE key = ANY($1::text[])`;

export type IntakeDeps = {
  pool: pg.Pool;
  now: () => number;
  onCommitBatch?: (size: number) => void;
  onFailure?: (error: unknown) => void;
  /** Called after each commit that stored new requests. */
  onCreated: () => void;
};

export function createIntake({ pool, now, onCommitBatch, onFailure, onCreated }: IntakeDeps) {
  async function store(items: Item[]): Promise<CreateOutcome[]> {
    const createdAt = now();
    const insert = {
      text: INSERT_REQUESTS,
      values: [
        items.map((item) => item.id),
        items.map((item) => item.input.stationId),
        items.map((item) => item.input.driverId),
        items.map((item) => item.input.callbackUrl),
        createdAt,
        items.map((item) => callbackOriginOf(item.input.callbackUrl)),
      ],
    };
    const outcomes = items.map((item): CreateOutcome => ({ created: true, requestId: item.id }));
    const keyed = items.filter((item) => item.idempotency !== undefined);
    // Without idempotency keys the batch is one statement, committed on its own.
    if (keyed.length === 0) {
      await pool.query(insert);
      return outcomes;
    }
    return inTransaction(pool, async (client) => {
      await client.query(insert);

      const taken = await client.query<{ key: string }>(TAKE_KEYS, [
        keyed.map((item) => item.idempotency?.key),
        keyed.map((item) => item.idempotency?.fingerprint),
        keyed.map((item) => item.id),
        createdAt,
        createdAt - IDEMPOTENCY_KEY_TTL_MS,
      ]);
      const won = new Set(taken.rows.map((row) => row.key));
      const lost = keyed.filter((item) => !won.has(item.idempotency?.key as string));
      if (lost.length === 0) return outcomes;

      await client.query('DELETE FROM charging_session_requests WHERE id = ANY($1::text[])', [
        lost.map((item) => item.id),
      ]);
      const live = await client.query<{ key: string; requestId: string; fingerprint: string }>(
        LIVE_KEYS,
        [lost.map((item) => item.idempotency?.key)],
      );
      const byKey = new Map(live.rows.map((row) => [row.key, row]));
      return items.map((item, index) => {
        const key = item.idempotency?.key;
        const stored = key === undefined || won.has(key) ? undefined : byKey.get(key);
        if (!stored) return outcomes[index] as CreateOutcome;
        return { created: false, requestId: stored.requestId, fingerprint: stored.fingerprint };
      });
    });
  }

  /**
   * One batch; if a statement of it failed (a row the database refused), each of its creates
   * again on its own, so that one bad row does not fail the others. Not after a failed COMMIT or
   * a lost connection: whether that batch committed is unknown, so it is not sent twice.
   */
  async function storeBatch(items: Item[]): Promise<Array<CreateOutcome | Error>> {
    try {
      return await store(items);
    } catch (error) {
      if (items.length === 1 || isTransientPgError(error)) throw error;
      return Promise.all(
        items.map((item) =>
          store([item]).then(
            ([outcome]) => outcome as CreateOutcome,
            (itemError: unknown) => itemError as Error,
          ),
        ),
      );
    }
  }

  const batch = createBatch(storeBatch, onCommitBatch, onFailure);

  async function create(
    input: CreateRequestInput,
    idempotency?: IdempotencyClaim,
  ): Promise<CreateOutcome> {
    const outcome = await batch.submit({ id: newRequestId(), input, idempotency });
    if (outcome instanceof Error) throw outcome;
    if (outcome.created) onCreated();
    return outcome;
  }

  return { create: oneCreatePerKey(create), flush: batch.flush };
}
