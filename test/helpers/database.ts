import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach } from 'vitest';
import { type OpenStoreOptions, openStore } from '../../src/store/open-store.ts';
import { types } from '../../src/store/postgres/pool.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase, databaseUrl, dropTestDatabase } from './postgres.ts';
import { tempDir } from './process.ts';

/** The backend under test: the vitest project sets it. */
export const BACKEND: 'sqlite' | 'postgres' =
  process.env.CHARGEGATE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

/**
 * A fresh, migrated database for one test, on the backend under test, with a side connection
 * for the SQL a test uses to look underneath the store (claims, triggers that force faults).
 */

export type TestSql = {
  exec(text: string): Promise<void>;
  /** `?` placeholders, on either backend; a statement that returns no rows answers []. */
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  value<T = unknown>(text: string, params?: unknown[]): Promise<T>;
  /** How many rows `table` holds. */
  count(table: string): Promise<number>;
  close(): Promise<void>;
};

export type TestDatabase = {
  kind: 'sqlite' | 'postgres';
  /** The variables that point chargegate (a process, the CLI) at this database. */
  env: Record<string, string>;
  sql: TestSql;
  /** A store on this database (migrated); several may be open at once. */
  openStore(options?: OpenStoreOptions): Store;
  drop(): Promise<void>;
};

function sqliteSql(path: string): TestSql {
  const client = new BetterSqlite3(path);
  client.pragma('busy_timeout = 5000');
  return {
    async exec(text) {
      client.exec(text);
    },
    async rows<T>(text: string, params: unknown[] = []) {
      const statement = client.prepare(text);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    },
    async value<T>(text: string, params: unknown[] = []) {
      return client
        .prepare(text)
        .pluck()
        .get(...params) as T;
    },
    async count(table) {
      return client.prepare(`select count(*) from ${table}`).pluck().get() as number;
    },
    async close() {
      client.close();
    },
  };
}

/** The SQLite file at `path` (already migrated, or migrated by the test) as a TestDatabase. */
export function sqliteTestDatabase(path: string): TestDatabase {
  const sql = sqliteSql(path);
  const config = { databasePath: path, databaseSync: 'normal' } as const;
  return {
    kind: 'sqlite',
    env: { DATABASE_PATH: path, DATABASE_SYNC: 'normal' },
    sql,
    openStore: (options) => openStore(config, options),
    drop: () => sql.close(),
  };
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the tests' SQL has no `?` in strings). */
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

function postgresSql(url: string): TestSql {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    types,
  });
  pool.on('error', () => {});
  const query = (text: string, params: unknown[] = []) => pool.query(numbered(text), params);
  return {
    async exec(text) {
      await pool.query(text);
    },
    async rows<T>(text: string, params: unknown[] = []) {
      return (await query(text, params)).rows as T[];
    },
    async value<T>(text: string, params: unknown[] = []) {
      const row = (await query(text, params)).rows[0] as Record<string, unknown> | undefined;
      return (row === undefined ? undefined : Object.values(row)[0]) as T;
    },
    async count(table) {
      return Number((await pool.query(`select count(*) as n from ${table}`)).rows[0]?.n);
    },
    async close() {
      await pool.end();
    },
  };
}

async function postgresTestDatabase(empty: boolean): Promise<TestDatabase> {
  const name = await createTestDatabase({ empty });
  const url = databaseUrl(name);
  const sql = postgresSql(url);
  const config = { databaseUrl: url, databasePath: '', databaseSync: 'normal' } as const;
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url },
    sql,
    openStore: (options) => openStore(config, options),
    async drop() {
      await sql.close();
      await dropTestDatabase(name);
    },
  };
}

/** A fresh database on the backend under test: migrated, unless `empty`. */
export async function testDatabase({ empty = false } = {}): Promise<TestDatabase> {
  if (BACKEND === 'postgres') return postgresTestDatabase(empty);
  const database = sqliteTestDatabase(`${tempDir()}/cg.db`);
  if (empty) return database;
  const first = database.openStore();
  await first.migrate();
  await first.close();
  return database;
}

export type FailingTrigger = {
  name: string;
  table: string;
  /** `INSERT` or `UPDATE OF <column>`. */
  event: string;
  /** A condition on NEW, or none: every row. */
  when?: string;
  message: string;
};

/** Makes the database refuse some writes, as a fault inside it would. */
export async function addFailingTrigger(database: TestDatabase, t: FailingTrigger): Promise<void> {
  const message = t.message.replaceAll("'", "''");
  await database.sql.exec(
    database.kind === 'sqlite'
      ? `CREATE TRIGGER ${t.name} BEFORE ${t.event} ON ${t.table}
         ${t.when ? `WHEN ${t.when}` : ''} BEGIN SELECT RAISE(ABORT, '${message}'); END;`
      : `CREATE FUNCTION ${t.name}() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION '${message}'; END $$;
         CREATE TRIGGER ${t.name} BEFORE ${t.event} ON ${t.table} FOR EACH ROW
           ${t.when ? `WHEN (${t.when})` : ''} EXECUTE FUNCTION ${t.name}();`,
  );
}

export async function dropFailingTrigger(database: TestDatabase, t: FailingTrigger): Promise<void> {
  await database.sql.exec(
    database.kind === 'sqlite'
      ? `DROP TRIGGER ${t.name}`
      : `DROP TRIGGER ${t.name} ON ${t.table}; DROP FUNCTION ${t.name}();`,
  );
}

export type SeededRequest = {
  id: string;
  createdAt: number;
  state?: 'pending' | 'delivered' | 'failed';
  completedAt?: number;
  cycleAttempts?: number;
  callbackUrl?: string;
};

/** Stores a request as it would be after its callback reached `state`, without the API. */
export async function seedRequest(sql: TestSql, r: SeededRequest): Promise<void> {
  const state = r.state ?? 'pending';
  await sql.rows(
    `insert into charging_session_requests
       (id, station_id, driver_id, callback_url, created_at, callback_state, next_attempt_at,
        completed_at, cycle_attempts)
     values (?, '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50', 'DRV-0001-ab.cd_ef~0123', ?, ?, ?, ?, ?, ?)`,
    [
      r.id,
      r.callbackUrl ?? 'https://backend.example.com/hooks',
      r.createdAt,
      state,
      state === 'pending' ? r.createdAt : null,
      state === 'pending' ? null : (r.completedAt ?? r.createdAt),
      r.cycleAttempts ?? 0,
    ],
  );
}

/**
 * For tests of real processes: fresh databases, dropped after each test (with whatever processes
 * still hold them). Answers a function that makes one and gives the variables that point at it.
 */
export function databasesDroppedAfterEach(): (options?: {
  empty?: boolean;
}) => Promise<Record<string, string>> {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((database) => database.drop()));
  });
  return async (options) => {
    const database = await testDatabase(options);
    made.push(database);
    return database.env;
  };
}
