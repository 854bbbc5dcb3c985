import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { MigrationError } from '../migration-error.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(
  new URL('../../../migrations/postgres', import.meta.url),
);

/** Where drizzle's migrator records each migration it applied. */
const MIGRATIONS_TABLE = 'drizzle.__drizzle_migrations';

/**
 * Any number of instances may start at once on an empty database: each takes this session-level
 * advisory lock before migrating, so the first applies the migrations and the others, once they
 * get the lock, find nothing pending. The key is fixed: it names chargegate's migrations in any
 * database.
 */
const MIGRATION_LOCK = 7_415_229_861_337_001;

/** The migrations shipped with this version, oldest first. */
export function shippedMigrations(): string[] {
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: Array<{ tag: string }> };
  return journal.entries.map((entry) => entry.tag);
}

export async function appliedMigrationCount(client: pg.Pool | pg.ClientBase): Promise<number> {
  const exists = await client.query<{ table: string | null }>(
    `SELECT to_regclass('${MIGRATIONS_TABLE}')::text AS table`,
  );
  if (exists.rows[0]?.table == null) return 0;
  const { rows } = await client.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM ${MIGRATIONS_TABLE}`,
  );
  return rows[0]?.count ?? 0;
}

/** Applies pending migrations under the advisory lock; answers how many were applied. */
export async function migrateDatabase(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const before = await appliedMigrationCount(client);
      try {
        await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
      } catch (error) {
        const cause = error instanceof Error ? (error.cause ?? error) : error;
        const detail = cause instanceof Error ? cause.message : String(cause);
        throw new MigrationError(`database migration failed: ${detail}`, { cause: error });
      }
      return (await appliedMigrationCount(client)) - before;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
