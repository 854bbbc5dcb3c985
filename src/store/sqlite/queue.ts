import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { requests } from './schema.ts';

/**
 * What the worker reads of the queue on SQLite, on the main thread's connection. Its writes
 * (claims, decisions, attempts, releases) run in the writer thread: `writes.ts`.
 */
export function createQueueReads(db: Database) {
  const nextDue = db
    .select({ at: requests.nextAttemptAt })
    .from(requests)
    .where(
      and(
        eq(requests.callbackState, 'pending'),
        gt(requests.nextAttemptAt, sql.placeholder('now')),
      ),
    )
    .orderBy(asc(requests.nextAttemptAt))
    .limit(1)
    .prepare();

  return {
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
