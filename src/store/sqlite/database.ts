import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MigrationError } from '../migration-error.ts';
import { type ConnectionOptions, openConnection } from './connection.ts';
import * as schema from './schema.ts';

export type Database = BetterSQLite3Database<typeof schema> & { $client: BetterSqlite3.Database };

export const MIGRATIONS_FOLDER = fileURLToPath(
  new URL('../../../migrations/sqlite', import.meta.url),
);

export type OpenDatabaseOptions = ConnectionOptions;

/** Opens the database (see `openConnection`) for drizzle. Does not migrate. */
export function openDatabase(options: OpenDatabaseOptions): Database {
  return drizzle({ client: openConnection(options), schema });
}

/** Applies pending migrations from `migrations/`; throws a MigrationError naming the cause. */
export function migrateDatabase(db: Database): void {
  try {
    applyMigrations(db);
  } catch (error) {
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new MigrationError(`database migration failed: ${detail}`, { cause: error });
  }
}

/**
 * drizzle's migrator, made safe for several processes starting at once on one file: it reads
 * which migrations were applied before it begins its transaction, so two processes could both
 * apply the same one. Here the check and the migrations share one IMMEDIATE transaction: the
 * second process waits for the first (busy_timeout), then finds nothing pending. The rows written
 * to __drizzle_migrations are drizzle's own, so either migrator can take over.
 */
function applyMigrations(db: Database): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const client = db.$client;
  client
    .transaction(() => {
      client.exec(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      );
      const last = client
        .prepare(`SELECT created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at DESC LIMIT 1`)
        .pluck()
        .get() as number | string | undefined;
      const record = client.prepare(
        `INSERT INTO ${MIGRATIONS_TABLE} ("hash", "created_at") VALUES (?, ?)`,
      );
      for (const migration of migrations) {
        if (last !== undefined && Number(last) >= migration.folderMillis) continue;
        for (const statement of migration.sql) client.exec(statement);
        record.run(migration.hash, migration.folderMillis);
      }
    })
    .immediate();
}

/** Whether the database answers a trivial query. */
export function isDatabaseOpen(db: Database): boolean {
  try {
    return db.$client.open && db.$client.prepare('select 1').pluck().get() === 1;
  } catch {
    return false;
  }
}

/** Where drizzle's migrator records each migration it applied, one row per migration. */
const MIGRATIONS_TABLE = '__drizzle_migrations';

/** How many migrations this database has applied. */
export function appliedMigrationCount(db: Database): number {
  const exists = db.$client
    .prepare("select 1 from sqlite_master where type = 'table' and name = ?")
    .get(MIGRATIONS_TABLE);
  if (!exists) return 0;
  return db.$client.prepare(`select count(*) from ${MIGRATIONS_TABLE}`).pluck().get() as number;
}

/** The migrations shipped with this version, oldest first. */
export function shippedMigrations(): string[] {
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as {
    entries: Array<{ tag: string }>;
  };
  return journal.entries.map((entry) => entry.tag);
}
