import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for the tests: the server on 127.0.0.1:5432 (CI and every development machine run
 * one; `TEST_DATABASE_URL` points elsewhere). A migrated template is made once per run by the
 * global setup; every test database is a copy of it (`CREATE DATABASE … TEMPLATE`), so test files
 * run in parallel, each on databases of its own.
 */

export const ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The template of this run: named by the global setup, so that runs sharing one server (two
 * checkouts, two terminals) never drop each other's template.
 */
export const templateName = () => {
  const name = process.env.CHARGEGATE_TEST_TEMPLATE;
  if (!name)
    throw new Error('no template database: the global setup of the postgres project names it');
  return name;
};

export function databaseUrl(name: string, adminUrl = ADMIN_URL): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(
  use: (client: pg.Client) => Promise<T>,
  adminUrl = ADMIN_URL,
): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A new database copied from the migrated template (or empty); answers its name. */
export async function createTestDatabase({ empty = false } = {}): Promise<string> {
  const name = `chargegate_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (client) => {
    if (empty) {
      await client.query(`CREATE DATABASE ${name}`);
      return;
    }
    // Two copies of one template at the same moment can collide on its lock: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${templateName()}`);
        return;
      } catch (error) {
        if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  });
  return name;
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
