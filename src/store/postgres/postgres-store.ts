import { drizzle } from 'drizzle-orm/node-postgres';
import { generateWebhookSecret } from '../../domain/webhook-secret.ts';
import { guardMethods } from '../errors.ts';
import type { Store } from '../store.ts';
import { createWriteHealth } from '../write-health.ts';
import { createBatch } from './batch.ts';
import { createDriverQueries } from './drivers.ts';
import { createIntake } from './intake.ts';
import { appliedMigrationCount, migrateDatabase, shippedMigrations } from './migrate.ts';
import { createNotifier } from './notifier.ts';
import { createPool, isTransientPgError, onLiveConnection } from './pool.ts';
import { claimDue } from './queue/claim-due.ts';
import { type FinishedAttempt, finishAttempts } from './queue/finish-attempts.ts';
import { nextDueAfter } from './queue/next-due.ts';
import { claimOwners, release, releaseAll } from './queue/release.ts';
import { type DecisionToSave, saveDecisions } from './queue/save-decisions.ts';
import { createRequestQueries } from './requests.ts';
import { sweep } from './retention.ts';
import * as schema from './schema.ts';
import { statsSnapshot } from './stats.ts';

export type PostgresStoreOptions = {
  /** `postgres://…` or `postgresql://…`, libpq URL form (`?sslmode=` honoured). */
  url: string;
  poolSize: number;
  /** LISTEN/NOTIFY for wake-ups across instances; off behind a transaction-mode pooler. */
  listen: boolean;
  now: () => number;
  onCommitBatch?: (size: number) => void;
  /** Connection errors that nothing awaited (an idle connection broke; the listener lost). */
  onError?: (error: Error) => void;
};

/** `postgres://user:secret@host:5432/db?…` → `host:5432/db`: for logs, never with credentials. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres';
  }
}

/**
 * The shared store: any number of instances on one PostgreSQL database. Writes of one turn of the
 * event loop share a transaction (intake; attempt records; decisions), claims are exclusive by
 * row locks, and NOTIFY wakes the other instances.
 */
export function createPostgresStore({
  url,
  poolSize,
  listen,
  now,
  onCommitBatch,
  onError = () => {},
}: PostgresStoreOptions): Store {
  const pool = createPool({ url, size: poolSize, onError });
  const db = drizzle({ client: pool, schema });
  const notifier = createNotifier({ url, pool, onError });
  const writes = createWriteHealth(
    () =>
      onLiveConnection(pool, (client) =>
        client.query(
          `INSERT INTO settings (key, value) VALUES ('health_probe', $1)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [String(now())],
        ),
      ),
    isTransientPgError,
  );
  /** Every batch's outcome tells readiness whether the database takes writes. */
  const committed = (size: number) => {
    writes.succeeded();
    onCommitBatch?.(size);
  };
  const listeners = new Set<() => void>();
  const wake = () => {
    for (const listener of listeners) listener();
  };
  const intake = createIntake({
    pool,
    now,
    onCommitBatch: committed,
    onFailure: writes.failed,
    onCreated: () => {
      wake();
      notifier.committed();
    },
  });
  const decisions = createBatch(
    async (items: DecisionToSave[]) => {
      const kept = await saveDecisions(pool, items);
      return items.map((item) => kept.has(item.claim.id));
    },
    committed,
    writes.failed,
  );
  const finished = createBatch(
    async (items: FinishedAttempt[]) => {
      const kept = await finishAttempts(pool, items);
      return items.map((item) => kept.has(item.claim.id));
    },
    committed,
    writes.failed,
  );
  const shipped = shippedMigrations();
  let closed: Promise<void> | undefined;

  return {
    kind: 'postgres',
    location: describeUrl(url),
    requests: guardMethods(
      {
        ...createRequestQueries(db, now),
        create: intake.create,
        stats: (since) => statsSnapshot(pool, since),
      },
      isTransientPgError,
    ),
    queue: guardMethods(
      {
        claimDue: (options) => claimDue(pool, options, now()),
        saveDecision: (claim, decision, decidedAt, leaseMs) =>
          decisions.submit({ claim, decision, decidedAt, lockedUntil: decidedAt + leaseMs }),
        finishAttempt: (claim, record, step) => finished.submit({ claim, record, step }),
        release: (claim) => release(pool, claim),
        releaseAll: (owner) => releaseAll(pool, owner),
        claimOwners: () => claimOwners(pool, now()),
        nextDueAfter: (at) => nextDueAfter(pool, at),
      },
      isTransientPgError,
    ),
    drivers: guardMethods(createDriverQueries(db, pool, now), isTransientPgError),
    retention: guardMethods(
      { sweep: (finishedBefore, limit) => sweep(pool, finishedBefore, limit, now()) },
      isTransientPgError,
    ),
    async migrate() {
      const before = await appliedMigrationCount(pool);
      const applied = await migrateDatabase(pool);
      return shipped.slice(before, before + applied);
    },
    async migrations() {
      return { applied: await appliedMigrationCount(pool), shipped };
    },
    async webhookSecret() {
      // Created once, whichever instance comes first; every instance then reads the same one.
      await pool.query(
        `INSERT INTO settings (key, value) VALUES ('webhook_secret', $1) ON CONFLICT (key) DO NOTHING`,
        [generateWebhookSecret()],
      );
      const { rows } = await pool.query<{ value: string }>(
        `SELECT value FROM settings WHERE key = 'webhook_secret'`,
      );
      return rows[0]?.value as string;
    },
    async health() {
      try {
        const applied = await onLiveConnection(pool, appliedMigrationCount);
        return {
          database: true,
          migrations: applied >= shipped.length,
          writable: await writes.writable(),
        };
      } catch {
        return { database: false, migrations: false, writable: false };
      }
    },
    shareQueue: () => undefined,
    onCommitted(listener) {
      listeners.add(listener);
      if (listen) notifier.listen(wake);
      return () => listeners.delete(listener);
    },
    close() {
      closed ??= (async () => {
        await Promise.all([intake.flush(), decisions.flush(), finished.flush()]);
        await notifier.close();
        await pool.end();
      })();
      return closed;
    },
  };
}
