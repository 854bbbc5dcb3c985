import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../domain/idempotency.ts';
import type { Database } from './database.ts';
import { idempotencyKeys } from './schema.ts';

/** Queries on `idempotency_keys`. A key is live for `IDEMPOTENCY_KEY_TTL_MS` after first use. */

export type StoredKey = { requestId: string; fingerprint: string };

export function createIdempotencyKeyQueries(db: Database) {
  const p = sql.placeholder;
  const live = db
    .select({ requestId: idempotencyKeys.requestId, fingerprint: idempotencyKeys.fingerprint })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.key, p('key')), gte(idempotencyKeys.createdAt, p('since'))))
    .prepare();

  return {
    /** The live use of `key` at `now`, if any. */
    findLive(key: string, now: number): StoredKey | undefined {
      return live.get({ key, since: now - IDEMPOTENCY_KEY_TTL_MS });
    },

    /** Deletes up to `limit` keys that expired before `now`. */
    deleteExpired(now: number, limit: number): number {
      return db
        .delete(idempotencyKeys)
        .where(
          inArray(
            idempotencyKeys.key,
            db
              .select({ key: idempotencyKeys.key })
              .from(idempotencyKeys)
              .where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_KEY_TTL_MS))
              .limit(limit),
          ),
        )
        .run().changes;
    },
  };
}

export type IdempotencyKeyQueries = ReturnType<typeof createIdempotencyKeyQueries>;
