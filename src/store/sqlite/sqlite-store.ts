import { guardMethods, StoreUnavailableError } from '../errors.ts';
import type { Store } from '../store.ts';
import { createWriteHealth } from '../write-health.ts';
import {
  appliedMigrationCount,
  isDatabaseOpen,
  migrateDatabase,
  openDatabase,
  shippedMigrations,
} from './database.ts';
import { createDriverQueries } from './drivers.ts';
import { FILE_GONE, fileIdentity } from './file-identity.ts';
import { createIdempotencyKeyQueries } from './idempotency-keys.ts';
import { createIntake } from './intake.ts';
import { createRequestQueries } from './requests.ts';
import { storedWebhookSecret } from './settings.ts';
import { createSqliteQueue } from './sqlite-queue.ts';
import { createStatsQueries } from './stats.ts';
import { isTransientSqliteError } from './transient-errors.ts';
import { createWriter } from './writer.ts';

export type SqliteStoreOptions = {
  /** A file path, or `:memory:`. The file's folder is created when missing. */
  path: string;
  /** `full`: a commit survives power loss; `normal`: it survives a crash of the process. */
  sync: 'full' | 'normal';
  now: () => number;
  /** Called with the size of each group commit. */
  onCommitBatch?: (size: number) => void;
  /** Faults no caller awaited, reported once: the database file deleted or replaced. */
  onError?: (error: Error) => void;
};

/**
 * The embedded store: one SQLite file in WAL mode, opened by better-sqlite3. The writes of the
 * hot path (intake, claims, decisions, attempts, releases) go to the writer thread, batched per
 * turn of the event loop into one commit each (`writer.ts`); reads, and the rare writes of
 * operators and maintenance, run on the main thread's own connection.
 */
export function createSqliteStore({
  path,
  sync,
  now,
  onCommitBatch,
  onError = () => {},
}: SqliteStoreOptions): Store {
  const db = openDatabase({ path, sync });
  const file = fileIdentity(path);
  const writes = createWriteHealth(
    () => writer.run('probe', { now: now() }),
    isTransientSqliteError,
  );
  const writer = createWriter({
    path,
    sync,
    client: db.$client,
    // The thread checks the file before each commit: once per transaction, not once per request.
    file,
    onCommit: (size) => {
      writes.succeeded();
      onCommitBatch?.(size);
    },
    onFailure: (error) => {
      writes.failed(error);
      if ((error as { code?: unknown }).code === FILE_GONE) report(error);
    },
  });
  const listeners = new Set<() => void>();
  let reported = false;
  function report(error: Error): void {
    if (!reported) onError(error);
    reported = true;
  }
  /** Refuses reads too once the path no longer names the file opened (see file-identity.ts). */
  function checkFile(): void {
    const problem = file.problem();
    if (problem === undefined) return;
    const error = new StoreUnavailableError(
      new Error(`${problem}; restart chargegate on the right file`),
    );
    report(error);
    throw error;
  }
  // Statements are prepared on first use, once `migrate()` has made the tables.
  let prepared: ReturnType<typeof prepare> | undefined;
  const statements = () => {
    prepared ??= prepare();
    return prepared;
  };
  const q = () => {
    checkFile();
    return statements();
  };
  function prepare() {
    const requests = createRequestQueries(db);
    const idempotencyKeys = createIdempotencyKeyQueries(db);
    const intake = createIntake({
      writer,
      idempotencyKeys,
      now,
      onCreated: () => {
        for (const listener of listeners) listener();
      },
    });
    return {
      requests,
      idempotencyKeys,
      intake,
      drivers: createDriverQueries(db),
      stats: createStatsQueries(db),
    };
  }
  const shipped = shippedMigrations();
  let closed: Promise<void> | undefined;

  return {
    kind: 'sqlite',
    location: path,
    requests: guardMethods(
      {
        create: (input, idempotency) => statements().intake.create(input, idempotency),
        find: async (id) => q().requests.find(id),
        list: async (state, limit, cursor) => q().requests.list(state, limit, cursor),
        attempts: async (id) => q().requests.attempts(id),
        requeue: async (id) => q().requests.requeue(id, now()),
        requeueFailed: async (since, until) => q().requests.requeueFailed(since, until, now()),
        pendingSummary: async () => q().requests.pendingSummary(),
        stats: async (since) => q().stats.snapshot(since),
      },
      isTransientSqliteError,
    ),
    queue: createSqliteQueue(writer, now),
    drivers: guardMethods(
      {
        find: async (driverId) => q().drivers.find(driverId),
        upsert: async (driverId, changes) => q().drivers.upsert(driverId, changes, now()),
        remove: async (driverId) => q().drivers.remove(driverId),
        grant: async (driverId, stationId) => q().drivers.grant(driverId, stationId),
        revoke: async (driverId, stationId) => q().drivers.revoke(driverId, stationId),
        importBatch: async (records) => q().drivers.replaceMany(records, now()),
        async *exportAll() {
          yield* q().drivers.iterate();
        },
      },
      isTransientSqliteError,
    ),
    retention: guardMethods(
      {
        sweep: async (finishedBefore, limit) =>
          q().requests.deleteFinishedBefore(finishedBefore, limit) +
          q().idempotencyKeys.deleteExpired(now(), limit),
      },
      isTransientSqliteError,
    ),
    async migrate() {
      const before = appliedMigrationCount(db);
      migrateDatabase(db);
      return shipped.slice(before, appliedMigrationCount(db));
    },
    async migrations() {
      return { applied: appliedMigrationCount(db), shipped };
    },
    webhookSecret: async () => storedWebhookSecret(db),
    async health() {
      const open = isDatabaseOpen(db) && file.problem() === undefined;
      return {
        database: open,
        migrations: open && appliedMigrationCount(db) >= shipped.length,
        writable: open && (await writes.writable()),
      };
    },
    shareQueue() {
      const port = writer.attach();
      return port && { kind: 'sqlite', port };
    },
    onCommitted(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed ??= (async () => {
        await writer.close();
        db.$client.close();
      })();
      return closed;
    },
  };
}
