import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, onLiveConnection } from '../../src/store/postgres/pool.ts';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';
import { BACKEND } from '../helpers/database.ts';
import {
  ADMIN_URL,
  createTestDatabase,
  databaseUrl,
  dropTestDatabase,
  withAdmin,
} from '../helpers/postgres.ts';

/**
 * PostgreSQL that answers reads but refuses writes (a replica after a failover, a database set
 * read-only): creates answer 503 with Retry-After, /readyz fails `writable`, and both recover
 * without a restart once writes are accepted again. And a server that closed the sessions behind
 * the pool's idle connections: readiness answers for the database, not for those connections.
 */

let service: TestService | undefined;
let pool: pg.Pool | undefined;
let database: string | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
  await pool?.end();
  pool = undefined;
  if (database) await dropTestDatabase(database);
  database = undefined;
});

async function readOnly(name: string, on: boolean) {
  await withAdmin((client) =>
    client.query(`ALTER DATABASE ${name} SET default_transaction_read_only = ${on}`),
  );
  // Sessions take the setting when they start: end the ones that exist.
  endSessions(name);
}

/**
 * Ends every session on database `name` and waits until their backends are gone, from another
 * process and without yielding: when it returns, the pool's idle connections are closed by the
 * server but the pool has not heard of it yet, as after a failover between two checks. Answers how
 * many it ended.
 */
function endSessions(name: string): number {
  const script = `
    import pg from 'pg';
    const client = new pg.Client({ connectionString: process.env.ADMIN_URL });
    await client.connect();
    const { rows } = await client.query(
      'SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [process.env.NAME],
    );
    await client.end();
    process.stdout.write(String(rows.filter((row) => row.ended).length));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ADMIN_URL, NAME: name },
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (run.error || run.status !== 0) {
    throw new Error(`ending the sessions failed: ${run.error?.message ?? run.stderr}`);
  }
  return Number(run.stdout);
}

describe.runIf(BACKEND === 'postgres')('a PostgreSQL database that refuses writes', () => {
  it('answers 503 and fails readiness on writes, then recovers by itself', async () => {
    service = await buildService();
    const target = service;
    target.worker.start();
    const name = new URL(target.database.env.DATABASE_URL as string).pathname.slice(1);
    expect((await postCreate(target, validRequest())).statusCode).toBe(200);

    await readOnly(name, true);
    // The first statement on a terminated connection may fail on its own; then read-only.
    let refused = await postCreate(target, validRequest());
    if (refused.statusCode === 503) refused = await postCreate(target, validRequest());
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const notReady = await target.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().message).toBe('not ready: writable');

    await readOnly(name, false);
    const readyAgain = await target.app.inject({ method: 'GET', url: '/readyz' });
    expect(readyAgain.statusCode).toBe(200);
    expect((await postCreate(target, validRequest())).statusCode).toBe(200);
  });
});

describe.runIf(BACKEND === 'postgres')(
  "a PostgreSQL server that closed the pool's connections",
  () => {
    it('answers readiness from another connection, not 503 from a closed one', async () => {
      service = await buildService();
      const target = service;
      target.worker.start();
      const name = new URL(target.database.env.DATABASE_URL as string).pathname.slice(1);
      expect((await target.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

      expect(endSessions(name)).toBeGreaterThan(0);
      const ready = await target.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode, ready.body).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready' });
    });

    it('runs a check again on another connection while the one it ran on was closed', async () => {
      database = await createTestDatabase({ empty: true });
      pool = createPool({ url: databaseUrl(database), size: 4, onError: () => {} });
      const open = pool;
      // Four idle connections, then all four closed behind the pool.
      await Promise.all(
        Array.from({ length: 4 }, () => open.query('SELECT pg_sleep(0.05)').then(() => undefined)),
      );
      expect(open.idleCount).toBe(4);
      expect(endSessions(database)).toBe(4);

      const errors: unknown[] = [];
      const answer = await onLiveConnection(open, async (client) => {
        try {
          return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one;
        } catch (error) {
          errors.push(error);
          throw error;
        }
      });
      expect(answer).toBe(1);
      // The first try met a closed connection; by the second the pool had dropped all four.
      expect(errors).toHaveLength(1);
      expect((errors[0] as { code?: string }).code).toBe('57P01');
      expect(open.totalCount).toBe(1);
    });

    it('does not retry opening a connection: a database that refuses it fails the check', async () => {
      // A port nothing listens on.
      pool = createPool({
        url: 'postgres://postgres@127.0.0.1:1/none',
        size: 4,
        onError: () => {},
      });
      let tries = 0;
      await expect(
        onLiveConnection(pool, async () => {
          tries++;
        }),
      ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(tries).toBe(0);
    });
  },
);
