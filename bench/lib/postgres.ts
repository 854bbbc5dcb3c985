import { randomBytes } from 'node:crypto';
import { databaseUrl, withAdmin } from '../../test/helpers/postgres.ts';

/**
 * A fresh, empty PostgreSQL database per bench phase: the chargegate instances started on it
 * apply the migrations themselves, as a deployment's first start would.
 */

export async function freshBenchDatabase(adminUrl: string): Promise<{ name: string; url: string }> {
  const name = `chargegate_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`), adminUrl);
  return { name, url: databaseUrl(name, adminUrl) };
}

export async function dropBenchDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(
    (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    adminUrl,
  );
}
