import { afterEach, describe, expect, it } from 'vitest';
import { buildService, postCreate, type TestService, validRequest } from '../helpers/app.ts';
import { BACKEND } from '../helpers/database.ts';
import { withAdmin } from '../helpers/postgres.ts';

/**
 * PostgreSQL that answers reads but refuses writes (a replica after a failover, a database set
 * read-only): creates answer 503 with Retry-After, /readyz fails `writable`, and both recover
 * without a restart once writes are accepted again.
 */

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function readOnly(name: string, on: boolean) {
  await withAdmin(async (client) => {
    await client.query(`ALTER DATABASE ${name} SET default_transaction_read_only = ${on}`);
    // Sessions take the setting when they start: end the ones that exist.
    await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
  });
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
